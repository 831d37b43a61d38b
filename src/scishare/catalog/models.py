from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scishare.core.database import Base, UTCDateTime


class LifecycleState(StrEnum):
    IN_SERVICE = "in_service"
    """在用 — working and bookable."""
    UNDER_MAINTENANCE = "under_maintenance"
    """维修中 — temporarily out of use."""
    IDLE = "idle"
    """闲置 — working but unused; candidate for sharing or transfer."""
    OFFERED_FOR_TRANSFER = "offered_for_transfer"
    """待流转 — offered for licence, lease or transfer."""
    RETIRED = "retired"
    """已报废 — disposed of; terminal."""


class ServiceUnit(StrEnum):
    HOUR = "hour"
    """Priced per machine hour."""
    SAMPLE = "sample"
    """Priced per sample."""


class NationalClass(Base):
    """A major (2-digit) or medium (4-digit) class of the national instrument classification."""

    __tablename__ = "national_class"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("national_class.code"))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    aliases: Mapped[str] = mapped_column(String(256), default="")


class Technique(Base):
    """A test technique (XRD, SEM, ICP-MS…): the vocabulary instruments are tagged with."""

    __tablename__ = "technique"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))


class TechniqueClass(Base):
    """The national classes an instrument offering a technique usually belongs to."""

    __tablename__ = "technique_class"

    technique_code: Mapped[str] = mapped_column(
        ForeignKey("technique.code", ondelete="CASCADE"), primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("national_class.code"), primary_key=True)


class Instrument(Base):
    """A listed instrument (仪器设备), keyed outside by its stable exchange id."""

    __tablename__ = "instrument"
    __table_args__ = (
        CheckConstraint("original_value_fen >= 0", name="value_not_negative"),
        Index("ix_instrument_region_class", "region_code", "class_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[str] = mapped_column(String(24), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    manufacturer: Mapped[str] = mapped_column(String(100), default="")
    country_of_origin: Mapped[str] = mapped_column(String(64), default="")
    class_code: Mapped[str] = mapped_column(ForeignKey("national_class.code"), index=True)
    specifications: Mapped[str] = mapped_column(Text, default="")
    functions: Mapped[str] = mapped_column(Text, default="")
    original_value_fen: Mapped[int] = mapped_column(BigInteger)
    purchased_on: Mapped[date | None] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    address: Mapped[str] = mapped_column(String(256), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    lifecycle_state: Mapped[LifecycleState] = mapped_column(String(24), index=True)
    is_open_external: Mapped[bool] = mapped_column(Boolean, index=True)
    has_cma: Mapped[bool] = mapped_column(Boolean, default=False)
    has_cnas: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_operator_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    techniques: Mapped[list["InstrumentTechnique"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="InstrumentTechnique.position")
    service_items: Mapped[list["ServiceItem"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ServiceItem.position")

    @property
    def technique_codes(self) -> list[str]:
        return [link.technique_code for link in self.techniques]


class InstrumentTechnique(Base):
    """A technique an instrument offers; `position` keeps the provider's order (main first)."""

    __tablename__ = "instrument_technique"
    __table_args__ = (Index("ix_instrument_technique_technique", "technique_code",
                            "instrument_id"),)

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), primary_key=True)
    technique_code: Mapped[str] = mapped_column(ForeignKey("technique.code"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ServiceItem(Base):
    """Something bookable or orderable on an instrument, priced by user category."""

    __tablename__ = "service_item"
    __table_args__ = (
        CheckConstraint("price_internal_fen >= 0 AND price_nonprofit_fen >= 0 "
                        "AND price_enterprise_fen >= 0", name="prices_not_negative"),
        Index("ix_service_item_price", "price_enterprise_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[ServiceUnit] = mapped_column(String(8))
    price_internal_fen: Mapped[int] = mapped_column(BigInteger)
    price_nonprofit_fen: Mapped[int] = mapped_column(BigInteger)
    price_enterprise_fen: Mapped[int] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class LifecycleChange(Base):
    """One move of an instrument between lifecycle states: who, when and why."""

    __tablename__ = "lifecycle_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[LifecycleState | None] = mapped_column(String(24))
    to_state: Mapped[LifecycleState] = mapped_column(String(24))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    reason: Mapped[str] = mapped_column(String(256), default="")
