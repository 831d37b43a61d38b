"""Tables of the booking domain.

Every period during which an instrument is taken — a reservation (with the buffer after it) or
a blackout — is one row of `occupancy` (reservations and blackouts are its two kinds, by
single-table inheritance). The database refuses two active rows of one instrument whose
half-open ranges `[starts_at, held_until)` overlap: on PostgreSQL an exclusion constraint
(btree_gist), on SQLite triggers that abort the statement. Both are created by the migration
`0003_booking`; the services only map the refusal to `SlotTaken`.
"""

from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scishare.accounts.models import Account
from scishare.catalog.models import Instrument
from scishare.core.database import Base, UTCDateTime

# The name of the guard, in the exclusion constraint (PostgreSQL) and the trigger message
# (SQLite), so that the services can tell it from any other integrity error.
OVERLAP_GUARD = "occupancy_no_overlap"


class OccupancyKind(StrEnum):
    RESERVATION = "reservation"
    """Held by a machine-time reservation (its period plus the instrument's buffer)."""
    BLACKOUT = "blackout"
    """Held by a blackout: maintenance, calibration or internal use."""


class BlackoutKind(StrEnum):
    MAINTENANCE = "maintenance"
    """维护 — maintenance or repair."""
    CALIBRATION = "calibration"
    """校准 — calibration or verification."""
    INTERNAL_USE = "internal_use"
    """内部使用 — reserved for the owner's own work."""


class OperationMode(StrEnum):
    SELF_OPERATED = "self_operated"
    """自主上机 — the user runs the instrument; needs a valid qualification."""
    ASSISTED = "assisted"
    """机组人员操作 — an operator runs it for the user."""


class ReservationStatus(StrEnum):
    PENDING = "pending"
    """待审核 — waiting for the operator's approval; the period is held."""
    CONFIRMED = "confirmed"
    """已确认 — approved (or needing no approval)."""
    IN_PROGRESS = "in_progress"
    """使用中 — the user has started."""
    COMPLETED = "completed"
    """已完成 — used and finished."""
    NO_SHOW = "no_show"
    """爽约 — not started in time; the period is released."""
    REJECTED = "rejected"
    """已拒绝 — refused by the operator, with a reason."""
    CANCELLED = "cancelled"
    """已取消 — withdrawn by the user or cancelled by the operator."""


# Statuses whose period is held in `occupancy`.
HOLDING_STATUSES = frozenset({ReservationStatus.PENDING, ReservationStatus.CONFIRMED,
                              ReservationStatus.IN_PROGRESS, ReservationStatus.COMPLETED})


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    """已提交 — waiting for the provider."""
    ACCEPTED = "accepted"
    """已受理 — accepted; waiting for the samples."""
    REJECTED = "rejected"
    """已拒绝 — refused by the provider, with a reason."""
    SAMPLES_RECEIVED = "samples_received"
    """已收样 — the samples have arrived."""
    TESTING = "testing"
    """检测中 — being tested."""
    REPORT_ISSUED = "report_issued"
    """已出报告 — the report can be downloaded."""
    COMPLETED = "completed"
    """已完成 — closed."""
    CANCELLED = "cancelled"
    """已取消 — withdrawn by the user or cancelled by the provider."""


class PriceCategory(StrEnum):
    INTERNAL = "internal"
    """校内 — a user of the owning organisation."""
    NONPROFIT = "nonprofit"
    """非营利 — an external university, institute, hospital or other public body."""
    ENTERPRISE = "enterprise"
    """企业 — an external company."""


class BookingPolicy(Base):
    """How an instrument may be booked; an instrument without one follows the defaults."""

    __tablename__ = "booking_policy"
    __table_args__ = (
        CheckConstraint("slot_minutes > 0 AND min_minutes >= slot_minutes "
                        "AND max_minutes >= min_minutes", name="durations"),
        CheckConstraint("lead_minutes >= 0 AND horizon_days > 0 AND buffer_minutes >= 0 "
                        "AND cancel_deadline_minutes >= 0 AND no_show_after_minutes > 0",
                        name="limits"),
    )

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), primary_key=True)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    min_minutes: Mapped[int] = mapped_column(Integer)
    max_minutes: Mapped[int] = mapped_column(Integer)
    lead_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    buffer_minutes: Mapped[int] = mapped_column(Integer)
    cancel_deadline_minutes: Mapped[int] = mapped_column(Integer)
    no_show_after_minutes: Mapped[int] = mapped_column(Integer)
    requires_approval: Mapped[bool] = mapped_column(Boolean)
    # Counts the changes of the policy and its opening hours (1 when first set): on
    # PostgreSQL a reservation checked against the rules of one revision is written only
    # while that revision is stored (see `reservations._book`).
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class OpeningPeriod(Base):
    """A weekly opening period in Asia/Shanghai local time, in minutes after midnight."""

    __tablename__ = "opening_period"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("opens_minute >= 0 AND closes_minute > opens_minute "
                        "AND closes_minute <= 1440", name="minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.id", ondelete="CASCADE"), index=True)
    # Monday is 0, as in `date.weekday()`.
    weekday: Mapped[int] = mapped_column(Integer)
    opens_minute: Mapped[int] = mapped_column(Integer)
    closes_minute: Mapped[int] = mapped_column(Integer)


class Holiday(Base):
    """A local (Asia/Shanghai) calendar day on which an instrument is closed."""

    __tablename__ = "holiday"
    __table_args__ = (UniqueConstraint("instrument_id", "closed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    closed_on: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(64))


class Occupancy(Base):
    """A period an instrument is taken — by a reservation or a blackout, one row each
    (single-table inheritance). No two active rows of an instrument overlap.

    `[starts_at, ends_at)` is the period booked; `held_until` is when the instrument is free
    again: `ends_at` plus the instrument's buffer for reservations, `ends_at` for blackouts.
    The guard covers `[starts_at, held_until)`.
    """

    __tablename__ = "occupancy"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at AND held_until >= ends_at", name="period"),
        Index("ix_occupancy_instrument_starts", "instrument_id", "starts_at"),
    )
    __mapper_args__ = MappingProxyType({"polymorphic_on": "kind", "polymorphic_abstract": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    kind: Mapped[OccupancyKind] = mapped_column(String(12))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held_until: Mapped[datetime] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Why a blackout was set, or why a reservation was rejected or cancelled.
    reason: Mapped[str] = mapped_column(String(500), default="")

    instrument: Mapped[Instrument] = relationship(lazy="raise")

    @property
    def period(self) -> tuple[datetime, datetime]:
        return self.starts_at, self.ends_at


# Columns of the subclasses live in the one table, so the database allows them to be NULL;
# the CHECK constraints below require them for their own kind of row.

class Blackout(Occupancy):
    """A period an instrument cannot be booked: maintenance, calibration or internal use."""

    __mapper_args__ = MappingProxyType({"polymorphic_identity": OccupancyKind.BLACKOUT})

    blackout_kind: Mapped[BlackoutKind] = mapped_column(String(16), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class Reservation(Occupancy):
    """Machine time on an instrument for one user (机时预约)."""

    __mapper_args__ = MappingProxyType({"polymorphic_identity": OccupancyKind.RESERVATION})

    requester_id: Mapped[int] = mapped_column(ForeignKey("account.id"), nullable=True)
    service_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    mode: Mapped[OperationMode] = mapped_column(String(16), nullable=True)
    status: Mapped[ReservationStatus] = mapped_column(String(16), nullable=True)
    purpose: Mapped[str] = mapped_column(Text, nullable=True, default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=True)
    price_category: Mapped[PriceCategory] = mapped_column(String(12), nullable=True)
    price_estimate_fen: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    requester: Mapped[Account] = relationship(lazy="raise", foreign_keys=[requester_id])

    @property
    def code(self) -> str:
        return reservation_code(self.id)


_occupancy = cast(Table, Occupancy.__table__)
_occupancy.append_constraint(CheckConstraint(
    "kind <> 'reservation' OR (requester_id IS NOT NULL AND mode IS NOT NULL "
    "AND status IS NOT NULL AND purpose IS NOT NULL AND idempotency_key IS NOT NULL "
    "AND price_category IS NOT NULL)", name="reservation_fields"))
_occupancy.append_constraint(CheckConstraint(
    "kind <> 'blackout' OR blackout_kind IS NOT NULL", name="blackout_fields"))
# The idempotency key: one request per key and person (NULL for blackouts, never equal). Its
# index also finds a person's reservations: a second index on requester_id alone would only
# cost every insert, and it lured PostgreSQL's planner into reading all of a person's rows to
# check one key (while the table's statistics said it was empty).
_occupancy.append_constraint(UniqueConstraint(
    _occupancy.c.requester_id, _occupancy.c.idempotency_key))
Index("ix_occupancy_status_starts", _occupancy.c.status, _occupancy.c.starts_at)


class Qualification(Base):
    """A user's right to operate an instrument themselves, granted by its operator after
    training, until it expires or is revoked."""

    __tablename__ = "qualification"
    __table_args__ = (Index("ix_qualification_account_instrument", "account_id",
                            "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    trained_on: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(256), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SampleOrder(Base):
    """A sample-testing order (送样检测订单): the user sends samples, the provider reports."""

    __tablename__ = "sample_order"
    __table_args__ = (
        CheckConstraint("sample_count > 0", name="sample_count"),
        UniqueConstraint("requester_id", "idempotency_key"),
        Index("ix_sample_order_instrument_status", "instrument_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    # Indexed by the idempotency key's unique constraint (see `Occupancy`).
    requester_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    sample_count: Mapped[int] = mapped_column(Integer)
    sample_description: Mapped[str] = mapped_column(Text)
    requested_tests: Mapped[str] = mapped_column(Text)
    status: Mapped[OrderStatus] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    price_category: Mapped[PriceCategory] = mapped_column(String(12))
    price_estimate_fen: Mapped[int] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    samples_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    testing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Seconds from submitted to accepted, and from samples received to report issued: the
    # bureau's response-time and turnaround indicators, kept as numbers so that averaging
    # them needs no date arithmetic (which SQLite and PostgreSQL spell differently).
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    turnaround_seconds: Mapped[int | None] = mapped_column(Integer)
    # Why it was rejected or cancelled.
    reason: Mapped[str] = mapped_column(String(500), default="")

    instrument: Mapped[Instrument] = relationship(lazy="raise")
    requester: Mapped[Account] = relationship(lazy="raise")

    @property
    def code(self) -> str:
        return order_code(self.id)


class OrderEvent(Base):
    """One move of an order between states: when, by whom, and why."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sample_order.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[OrderStatus | None] = mapped_column(String(20))
    to_status: Mapped[OrderStatus] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    note: Mapped[str] = mapped_column(String(500), default="")

    actor: Mapped[Account | None] = relationship(lazy="raise")


class OrderReport(Base):
    """The test report of an order: a PDF stored on disk under its SHA-256."""

    __tablename__ = "order_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sample_order.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class CalendarFeed(Base):
    """The secret in a person's iCalendar feed address; only its SHA-256 is stored."""

    __tablename__ = "calendar_feed"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def reservation_code(reservation_id: int) -> str:
    """The stable outside name of a reservation, e.g. ``R0000042``."""
    return f"R{reservation_id:07d}"


def order_code(order_id: int) -> str:
    """The stable outside name of a sample-testing order, e.g. ``T0000042``."""
    return f"T{order_id:07d}"
