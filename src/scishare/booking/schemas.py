"""Commands and read models of the booking domain.

Times in and out are ISO 8601 with an offset (`AwareDatetime`); they are stored in UTC and
shown in Asia/Shanghai. Opening hours are local "HH:MM" strings, "24:00" closing at midnight.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# Re-exported: the enums of the commands and read models, for the web layer.
from scishare.booking.models import BlackoutKind as BlackoutKind
from scishare.booking.models import OperationMode as OperationMode
from scishare.booking.models import OrderStatus as OrderStatus
from scishare.booking.models import PriceCategory as PriceCategory
from scishare.booking.models import ReservationStatus as ReservationStatus
from scishare.catalog.models import ServiceUnit

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
IDEMPOTENCY_KEY = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="Any unique string per request, e.g. a UUID; sending the "
                                    "same key twice is refused instead of booking twice.")


def clock_minutes(text: str) -> int:
    """Minutes after midnight of a local "HH:MM" clock reading (up to "24:00")."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"not a clock time HH:MM: {text!r}")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"after 24:00: {text!r}")
    return minutes


def clock_text(minutes: int) -> str:
    """Minutes after midnight as a local "HH:MM" clock reading."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_clock(text: str) -> str:
    clock_minutes(text)
    return text


ClockTime = Annotated[str, AfterValidator(_check_clock)]


# Availability --------------------------------------------------------------------------------

class OpeningPeriodSpec(BaseModel):
    """Open on `weekday` (Monday 0 … Sunday 6) from `opens` to `closes`, Shanghai time."""

    weekday: int = Field(ge=0, le=6)
    opens: ClockTime
    closes: ClockTime


def default_opening_hours() -> list[OpeningPeriodSpec]:
    """Monday to Friday, 08:30–17:30 Shanghai time."""
    return [OpeningPeriodSpec(weekday=day, opens="08:30", closes="17:30") for day in range(5)]


class BookingPolicyUpdate(BaseModel):
    """All booking rules of one instrument at once; what is left out keeps its default."""

    slot_minutes: int = Field(default=30, ge=5, le=1440)
    min_minutes: int = Field(default=30, ge=5)
    max_minutes: int = Field(default=480, ge=5)
    lead_minutes: int = Field(default=60, ge=0)
    horizon_days: int = Field(default=60, ge=1, le=366)
    buffer_minutes: int = Field(default=0, ge=0, le=1440)
    cancel_deadline_minutes: int = Field(default=24 * 60, ge=0)
    no_show_after_minutes: int = Field(default=30, ge=1)
    requires_approval: bool = False
    opening_hours: list[OpeningPeriodSpec] = Field(default_factory=default_opening_hours,
                                                   max_length=70)


class BookingPolicyRead(BookingPolicyUpdate):
    instrument_id: str
    is_default: bool


class HolidayCreate(BaseModel):
    closed_on: date
    name: str = Field(min_length=1, max_length=64)


class HolidayRead(HolidayCreate):
    model_config = ConfigDict(from_attributes=True)


class FreePeriod(BaseModel):
    starts_at: datetime
    ends_at: datetime


class FeedAddress(BaseModel):
    """A private iCalendar address; whoever has it sees the person's reservations."""

    url: str


CalendarState = Literal["free", "booked", "blocked", "closed"]


class CalendarBlock(BaseModel):
    """A stretch of an instrument's calendar: bookable, booked, blocked or closed."""

    starts_at: datetime
    ends_at: datetime
    state: CalendarState


class CalendarRead(BaseModel):
    instrument_id: str
    starts_at: datetime
    ends_at: datetime
    slot_minutes: int
    blocks: list[CalendarBlock]


class BlackoutCreate(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    kind: BlackoutKind
    reason: str = Field(min_length=1, max_length=256)
    displace_reservations: bool = Field(
        default=False, description="Cancel the reservations in the way (giving them the "
                                   "blackout's reason) instead of refusing.")


class BlackoutRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    blackout_kind: BlackoutKind
    starts_at: datetime
    ends_at: datetime
    reason: str
    is_active: bool


# Qualifications ------------------------------------------------------------------------------

class QualificationCreate(BaseModel):
    account_id: int
    trained_on: date
    expires_at: AwareDatetime
    note: str = Field(default="", max_length=256)


class QualificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    trained_on: date
    expires_at: datetime
    granted_at: datetime
    revoked_at: datetime | None


# Reservations --------------------------------------------------------------------------------

class ReservationCreate(BaseModel):
    instrument_id: str = Field(description="The instrument's exchange id, e.g. ZZ-0001234.")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    mode: OperationMode = OperationMode.ASSISTED
    service_item_id: int | None = None
    purpose: str = Field(default="", max_length=2000)
    idempotency_key: str = IDEMPOTENCY_KEY


class ReservationMove(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class Reason(BaseModel):
    reason: str = Field(default="", max_length=500)


class ReservationRead(BaseModel):
    code: str
    instrument_id: str
    instrument_name_zh: str
    instrument_name_en: str
    requester_name: str
    mode: OperationMode
    status: ReservationStatus
    starts_at: datetime
    ends_at: datetime
    purpose: str
    price_category: PriceCategory
    price_estimate_fen: int | None
    created_at: datetime
    reason: str


# Sample-testing orders -----------------------------------------------------------------------

class SampleOrderCreate(BaseModel):
    instrument_id: str = Field(description="The instrument's exchange id, e.g. ZZ-0001234.")
    service_item_id: int
    sample_count: int = Field(ge=1, le=10_000)
    sample_description: str = Field(min_length=1, max_length=2000)
    requested_tests: str = Field(min_length=1, max_length=2000)
    idempotency_key: str = IDEMPOTENCY_KEY


class OrderEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor_name: str
    note: str


class ReportRead(BaseModel):
    filename: str
    sha256: str
    size_bytes: int
    uploaded_at: datetime


class SampleOrderRead(BaseModel):
    code: str
    instrument_id: str
    instrument_name_zh: str
    instrument_name_en: str
    requester_name: str
    service_item_id: int
    service_name_zh: str
    service_name_en: str
    sample_count: int
    sample_description: str
    requested_tests: str
    status: OrderStatus
    price_category: PriceCategory
    price_estimate_fen: int
    submitted_at: datetime
    accepted_at: datetime | None
    samples_received_at: datetime | None
    report_issued_at: datetime | None
    response_seconds: int | None
    turnaround_seconds: int | None
    reason: str
    report: ReportRead | None = None
    history: list[OrderEventRead] = Field(default_factory=list)


class PriceEstimate(BaseModel):
    """The list price of a service item for the user's category (not a settled fee)."""

    service_item_id: int
    unit: ServiceUnit
    category: PriceCategory
    unit_price_fen: int
    quantity: str
    total_fen: int


class QueueRead(BaseModel):
    """What waits for the operator: reservations to approve or run, orders to move."""

    reservations: list[ReservationRead]
    orders: list[SampleOrderRead]
