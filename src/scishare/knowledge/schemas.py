from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from scishare.knowledge.models import LinkKind, NodeKind, Origin


class NodeKey(BaseModel):
    kind: NodeKind
    code: str = Field(min_length=1, max_length=64)


class NodeRead(BaseModel):
    kind: NodeKind
    code: str
    name_zh: str
    name_en: str
    aliases: list[str]


class NeighbourRead(BaseModel):
    node: NodeRead
    link: LinkKind
    weight: float


class AliasCreate(BaseModel):
    node: NodeKey
    text: str = Field(min_length=1, max_length=128)


class LinkCreate(BaseModel):
    """A link a platform admin adds; set the codes `kind` needs (see KnowledgeLink)."""

    kind: LinkKind
    technique_code: str | None = Field(default=None, max_length=32)
    property_code: str | None = Field(default=None, max_length=32)
    material_code: str | None = Field(default=None, max_length=32)
    standard_code: str | None = Field(default=None, max_length=64)
    industry_code: str | None = Field(default=None, max_length=32)
    class_code: str | None = Field(default=None, max_length=6)
    weight: float = Field(default=1.0, gt=0, le=1)
    position: int = Field(default=0, ge=0, le=100)
    is_core: bool = False
    note: str = Field(default="", max_length=256)


class LinkRead(LinkCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    origin: Origin
    added_by_id: int | None
    added_at: datetime


class SeedVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    checksum: str
    source: str
    loaded_at: datetime
    summary: str
    changed: bool = True
