import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scishare.accounts.models import OrganisationType, Role

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class OrganisationCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(default="", max_length=200)
    org_type: OrganisationType
    region_code: str = Field(pattern=r"^\d{6}$")
    credit_code: str | None = None
    cma_number: str | None = Field(default=None, max_length=32)
    cnas_number: str | None = Field(default=None, max_length=32)

    @field_validator("credit_code")
    @classmethod
    def _credit_code_shape(cls, value: str | None) -> str | None:
        if value is not None and not CREDIT_CODE.match(value):
            raise ValueError("a unified social credit code has 18 characters (digits and "
                             "capital letters except I, O, Z, S, V)")
        return value


class OrganisationUpdate(BaseModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=200)
    cma_number: str | None = Field(default=None, max_length=32)
    cnas_number: str | None = Field(default=None, max_length=32)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_zh: str
    name_en: str
    org_type: OrganisationType
    region_code: str
    credit_code: str | None
    cma_number: str | None
    cnas_number: str | None


class AccountCreate(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    organisation_id: int


class RoleGrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: Role
    region_code: str | None


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    organisation_id: int
