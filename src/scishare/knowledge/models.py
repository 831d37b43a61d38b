"""Knowledge-graph tables.

Techniques and national classes belong to the catalog (`technique`, `national_class`); the
graph adds what users know about their problem — properties (what they want to know),
materials (what their sample is), industries and standards — plus aliases for every node and
typed, weighted links between them. Links and aliases carry typed foreign keys rather than a
generic (kind, code) pair, so the database itself refuses a link to nothing.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scishare.core.database import Base, UTCDateTime


class NodeKind(StrEnum):
    TECHNIQUE = "technique"
    """测试技术 — what an instrument does (catalog vocabulary)."""
    PROPERTY = "property"
    """检测项目 — what the user wants to know."""
    MATERIAL = "material"
    """样品类型 — what the user's sample is."""
    INDUSTRY = "industry"
    """行业 — where the need comes from."""
    STANDARD = "standard"
    """标准方法 — a test standard that prescribes techniques."""
    NATIONAL_CLASS = "national_class"
    """国家仪器分类 — the class of instruments offering a technique (catalog vocabulary)."""


class LinkKind(StrEnum):
    SUITS = "suits"
    """For a material and a property, a technique that answers it (best first)."""
    MEASURES = "measures"
    """A technique measures a property."""
    PRESCRIBES = "prescribes"
    """A standard prescribes a technique."""
    SERVES = "serves"
    """A material or a standard belongs to an industry."""
    CLASSIFIED_AS = "classified_as"
    """Instruments offering a technique sit in a national class."""


class Origin(StrEnum):
    SEED = "seed"
    """Loaded from the seed CSVs; replaced by the next import."""
    ADMIN = "admin"
    """Added by a platform admin; kept across imports."""


class KnowledgeProperty(Base):
    """A property a user wants to know (crystal structure, trace metals …)."""

    __tablename__ = "kg_property"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32), default="")


class KnowledgeMaterial(Base):
    """A kind of sample (cathode powder, API, soil …)."""

    __tablename__ = "kg_material"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))


class KnowledgeIndustry(Base):
    __tablename__ = "kg_industry"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))


class KnowledgeStandard(Base):
    """A test standard (GB/T, ISO, ASTM, ChP …), keyed by its designation."""

    __tablename__ = "kg_standard"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(256), default="")
    title_en: Mapped[str] = mapped_column(String(400), default="")
    confidence: Mapped[str] = mapped_column(String(16), default="")
    notes: Mapped[str] = mapped_column(String(400), default="")


class TechniqueProfile(Base):
    """What the graph knows about a catalog technique beyond its names."""

    __tablename__ = "kg_technique_profile"

    technique_code: Mapped[str] = mapped_column(
        ForeignKey("technique.code", ondelete="CASCADE"), primary_key=True)
    sample_types: Mapped[str] = mapped_column(String(256), default="")
    typical_fee: Mapped[str] = mapped_column(String(128), default="")
    notes: Mapped[str] = mapped_column(String(400), default="")


class ExampleNeed(Base):
    """需求范例: a need as users phrase it, in both languages, that a technique answers.

    The tacit knowledge of what each technique is for: users rarely name the technique
    (`墨水放两周就沉淀` means zeta potential), so the matcher compares a need with these.
    """

    __tablename__ = "kg_example_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    technique_code: Mapped[str] = mapped_column(
        ForeignKey("technique.code", ondelete="CASCADE"), index=True)
    text_zh: Mapped[str] = mapped_column(String(200))
    text_en: Mapped[str] = mapped_column(String(400))
    origin: Mapped[Origin] = mapped_column(String(8))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


_ONE_NODE = " + ".join(
    f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
    for column in ("technique_code", "property_code", "material_code", "industry_code",
                   "standard_code")) + " = 1"


class KnowledgeAlias(Base):
    """A word users type for a node (`正极粉` for a cathode material, `PXRD` for XRD)."""

    __tablename__ = "kg_alias"
    __table_args__ = (CheckConstraint(_ONE_NODE, name="one_node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technique_code: Mapped[str | None] = mapped_column(
        ForeignKey("technique.code"), index=True)
    property_code: Mapped[str | None] = mapped_column(ForeignKey("kg_property.code"), index=True)
    material_code: Mapped[str | None] = mapped_column(ForeignKey("kg_material.code"), index=True)
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("kg_industry.code"), index=True)
    standard_code: Mapped[str | None] = mapped_column(ForeignKey("kg_standard.code"), index=True)
    text: Mapped[str] = mapped_column(String(128))
    origin: Mapped[Origin] = mapped_column(String(8))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


_LINK_SHAPES = (
    "(kind = 'suits' AND material_code IS NOT NULL AND property_code IS NOT NULL "
    "AND technique_code IS NOT NULL) OR "
    "(kind = 'measures' AND technique_code IS NOT NULL AND property_code IS NOT NULL) OR "
    "(kind = 'prescribes' AND standard_code IS NOT NULL AND technique_code IS NOT NULL) OR "
    "(kind = 'serves' AND industry_code IS NOT NULL "
    "AND (material_code IS NOT NULL OR standard_code IS NOT NULL)) OR "
    "(kind = 'classified_as' AND technique_code IS NOT NULL AND class_code IS NOT NULL)")


class KnowledgeLink(Base):
    """A typed, weighted edge; `kind` says which of the node columns are set.

    `position` keeps the seed's order (best technique first) and `is_core` its mark of the most
    typical answer; `weight` in (0, 1] is what ranking uses. Every link records who added it and
    when: the seed import (origin seed) or a platform admin (origin admin).
    """

    __tablename__ = "kg_link"
    __table_args__ = (
        CheckConstraint(_LINK_SHAPES, name="shape"),
        CheckConstraint("weight > 0 AND weight <= 1", name="weight_range"),
        Index("ix_kg_link_kind_technique", "kind", "technique_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LinkKind] = mapped_column(String(16))
    material_code: Mapped[str | None] = mapped_column(ForeignKey("kg_material.code"), index=True)
    property_code: Mapped[str | None] = mapped_column(ForeignKey("kg_property.code"), index=True)
    technique_code: Mapped[str | None] = mapped_column(ForeignKey("technique.code"))
    standard_code: Mapped[str | None] = mapped_column(ForeignKey("kg_standard.code"), index=True)
    industry_code: Mapped[str | None] = mapped_column(ForeignKey("kg_industry.code"), index=True)
    class_code: Mapped[str | None] = mapped_column(ForeignKey("national_class.code"))
    weight: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_core: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(256), default="")
    origin: Mapped[Origin] = mapped_column(String(8))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeedVersion(Base):
    """One import of the seed: which content (checksum), when, by whom, and what it held."""

    __tablename__ = "kg_seed_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checksum: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(256))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
