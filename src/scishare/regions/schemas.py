from pydantic import BaseModel, ConfigDict, Field


class RegionCreate(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    parent_code: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    parent_code: str | None
    latitude: float | None
    longitude: float | None
