from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from scishare.catalog.models import LifecycleState, ServiceUnit

EXCHANGE_ID = r"^[A-Z]{2,4}-\d{4,10}$"


class ServiceItemCreate(BaseModel):
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(default="", max_length=200)
    unit: ServiceUnit
    price_internal_fen: int = Field(ge=0)
    price_nonprofit_fen: int = Field(ge=0)
    price_enterprise_fen: int = Field(ge=0)
    is_active: bool = True


class ServiceItemRead(ServiceItemCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int


class InstrumentFields(BaseModel):
    """Fields a provider edits; shared by create and the full-record import."""

    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=100)
    manufacturer: str = Field(default="", max_length=100)
    country_of_origin: str = Field(default="", max_length=64)
    class_code: str = Field(pattern=r"^\d{4}$")
    technique_codes: list[str] = Field(default_factory=list, max_length=12)
    specifications: str = Field(default="", max_length=500)
    functions: str = Field(default="", max_length=300)
    original_value_fen: int = Field(ge=0)
    purchased_on: date | None = None
    region_code: str = Field(pattern=r"^\d{6}$")
    address: str = Field(default="", max_length=256)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    is_open_external: bool = True
    has_cma: bool = False
    has_cnas: bool = False
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str = Field(default="", max_length=32)
    contact_email: str = Field(default="", max_length=254)
    service_items: list[ServiceItemCreate] = Field(default_factory=list, max_length=30)


class InstrumentCreate(InstrumentFields):
    exchange_id: str = Field(pattern=EXCHANGE_ID)
    organisation_id: int
    lifecycle_state: LifecycleState = LifecycleState.IN_SERVICE


class InstrumentUpdate(BaseModel):
    """A partial edit; lifecycle moves go through `change_lifecycle` to keep their history."""

    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    manufacturer: str | None = Field(default=None, max_length=100)
    country_of_origin: str | None = Field(default=None, max_length=64)
    class_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    technique_codes: list[str] | None = Field(default=None, max_length=12)
    specifications: str | None = Field(default=None, max_length=500)
    functions: str | None = Field(default=None, max_length=300)
    original_value_fen: int | None = Field(default=None, ge=0)
    purchased_on: date | None = None
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    address: str | None = Field(default=None, max_length=256)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    is_open_external: bool | None = None
    has_cma: bool | None = None
    has_cnas: bool | None = None
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=32)
    contact_email: str | None = Field(default=None, max_length=254)
    service_items: list[ServiceItemCreate] | None = Field(default=None, max_length=30)


class InstrumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    exchange_id: str
    organisation_id: int
    name_zh: str
    name_en: str
    model: str
    manufacturer: str
    country_of_origin: str
    class_code: str
    technique_codes: list[str]
    specifications: str
    functions: str
    original_value_fen: int
    purchased_on: date | None
    region_code: str
    address: str
    latitude: float | None
    longitude: float | None
    lifecycle_state: LifecycleState
    is_open_external: bool
    has_cma: bool
    has_cnas: bool
    contact_name: str
    contact_phone: str
    contact_email: str
    service_items: list[ServiceItemRead]


class InstrumentSummary(BaseModel):
    """One row of a catalog listing."""

    exchange_id: str
    name_zh: str
    name_en: str
    model: str
    manufacturer: str
    class_code: str
    organisation_code: str
    organisation_name_zh: str
    organisation_name_en: str
    region_code: str
    lifecycle_state: LifecycleState
    is_open_external: bool
    min_price_enterprise_fen: int | None


class InstrumentFilter(BaseModel):
    """Catalog browse filters; every field optional, combined with AND."""

    q: str | None = Field(default=None, max_length=100)
    class_code: str | None = Field(default=None, pattern=r"^\d{2}(\d{2})?$")
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    organisation_code: str | None = Field(default=None, max_length=32)
    technique_code: str | None = Field(default=None, max_length=32)
    is_open_external: bool | None = None
    lifecycle_state: LifecycleState | None = None
    price_min_fen: int | None = Field(default=None, ge=0)
    price_max_fen: int | None = Field(default=None, ge=0)
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=20, ge=1, le=200)


class InstrumentPage(BaseModel):
    items: list[InstrumentSummary]
    total: int
    page: int
    page_size: int


class LifecycleMove(BaseModel):
    """A request to move an instrument to another lifecycle state, with the reason."""

    to_state: LifecycleState
    reason: str = Field(min_length=1, max_length=256)


class LifecycleChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: LifecycleState | None
    to_state: LifecycleState
    changed_at: datetime
    reason: str


class CatalogStats(BaseModel):
    instruments: int
    organisations: int
    instruments_by_org_type: dict[str, int]
    total_value_fen: int
    instruments_by_major_class: dict[str, int]
    instruments_by_region: dict[str, int]


class NationalClassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    level: int
    parent_code: str | None
    name_zh: str
    name_en: str


class TechniqueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
