"""Booking test data, built through the services: people, a bookable instrument, bookings."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation, OrganisationType, Role
from scishare.accounts.service import SYSTEM, Actor, actor_for, get_account
from scishare.booking.models import (
    BookingPolicy,
    Holiday,
    Occupancy,
    OpeningPeriod,
    OperationMode,
    OrderEvent,
    OrderReport,
    Qualification,
    Reservation,
    SampleOrder,
)
from scishare.booking.periods import LOCAL_TZ, TimeRange
from scishare.booking.schemas import BookingPolicyUpdate, OpeningPeriodSpec
from scishare.booking.service import reserve, set_booking_policy
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.catalog.service import get_instrument
from scishare.core.errors import SciShareError
from tests.accounts.factories import an_account, an_organisation
from tests.catalog.factories import a_service_item, an_instrument

HOURLY_PRICES = {"price_internal_fen": 20_000, "price_nonprofit_fen": 40_000,
                 "price_enterprise_fen": 80_000}
SAMPLE_PRICES = {"price_internal_fen": 10_000, "price_nonprofit_fen": 15_000,
                 "price_enterprise_fen": 30_000}


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def local_range(year: int, month: int, day: int, start: str, end: str) -> TimeRange:
    """`start`–`end` ("HH:MM") on a Shanghai calendar day."""
    (h1, m1), (h2, m2) = (map(int, start.split(":")), map(int, end.split(":")))
    return TimeRange(shanghai(year, month, day, h1, m1), shanghai(year, month, day, h2, m2))


def a_key() -> str:
    return uuid.uuid4().hex


def a_policy(**overrides: object) -> BookingPolicyUpdate:
    """Weekdays 08:30–17:30, 30-minute slots, 30 minutes to 8 hours, an hour's notice."""
    values: dict[str, object] = {"slot_minutes": 30, "min_minutes": 30, "max_minutes": 480,
                                 "lead_minutes": 60, "horizon_days": 60, "buffer_minutes": 0,
                                 "cancel_deadline_minutes": 24 * 60,
                                 "no_show_after_minutes": 30, "requires_approval": False}
    values.update(overrides)
    return BookingPolicyUpdate.model_validate(values)


def every_day(opens: str = "00:00", closes: str = "24:00") -> list[OpeningPeriodSpec]:
    return [OpeningPeriodSpec(weekday=day, opens=opens, closes=closes) for day in range(7)]


def a_person(session: Session, *, organisation: Organisation | None = None,
             org_type: OrganisationType = OrganisationType.ENTERPRISE,
             roles: tuple[Role, ...] = (Role.DEMANDER,)) -> Actor:
    organisation = organisation or an_organisation(session, org_type=org_type)
    account = an_account(session, organisation=organisation, roles=roles)
    return actor_for(get_account(session, account.id))


def a_bookable_instrument(session: Session, *, organisation: Organisation | None = None,
                          policy: BookingPolicyUpdate | None = None,
                          **overrides: object) -> Instrument:
    """An instrument in service, open to external users, priced per hour and per sample,
    with `policy` (default `a_policy()`) as its booking rules."""
    values: dict[str, object] = {"service_items": [
        a_service_item(name_zh="机时", name_en="Machine time", unit=ServiceUnit.HOUR,
                       **HOURLY_PRICES),
        a_service_item(name_zh="送样测试", name_en="Sample test", unit=ServiceUnit.SAMPLE,
                       **SAMPLE_PRICES)]}
    values.update(overrides)
    instrument = an_instrument(session, organisation=organisation, **values)
    set_booking_policy(session, instrument=instrument, policy=policy or a_policy(),
                       actor=SYSTEM, now=instrument.created_at)
    return get_instrument(session, instrument.exchange_id)


def item_of(instrument: Instrument, unit: ServiceUnit) -> int:
    return next(item.id for item in instrument.service_items if item.unit == unit)


@dataclass
class World:
    """A provider's instrument, its operator, and an enterprise user."""

    instrument: Instrument
    provider: Organisation
    operator: Actor
    user: Actor


def a_world(session: Session, *, policy: BookingPolicyUpdate | None = None) -> World:
    provider = an_organisation(session, org_type=OrganisationType.UNIVERSITY)
    instrument = a_bookable_instrument(session, organisation=provider, policy=policy)
    operator = a_person(session, organisation=provider, roles=(Role.OPERATOR,))
    user = a_person(session)
    return World(instrument=instrument, provider=provider, operator=operator, user=user)


def a_reservation(session: Session, world: World, period: TimeRange, *, now: datetime,
                  actor: Actor | None = None,
                  mode: OperationMode = OperationMode.ASSISTED) -> Reservation:
    return reserve(session, instrument=world.instrument, period=period, mode=mode,
                   idempotency_key=a_key(), actor=actor or world.user, now=now)


BOOKING_TABLES = (BookingPolicy, OpeningPeriod, Holiday, Occupancy, Qualification, SampleOrder,
                  OrderEvent, OrderReport)


def stored(session: Session) -> dict[str, object]:
    """Row counts of every booking table and the active occupancies, to prove that a refused
    request stored nothing."""
    counts: dict[str, object] = {model.__tablename__: session.scalar(
        select(func.count()).select_from(model)) for model in BOOKING_TABLES}
    counts["active"] = sorted(tuple(row) for row in session.execute(select(
        Occupancy.instrument_id, Occupancy.starts_at, Occupancy.held_until).where(
        Occupancy.is_active.is_(True))))
    counts["reservations"] = sorted(tuple(row) for row in session.execute(select(
        Reservation.id, Reservation.status, Reservation.starts_at, Reservation.ends_at)))
    counts["orders"] = sorted(tuple(row) for row in session.execute(select(
        SampleOrder.id, SampleOrder.status, SampleOrder.reason)))
    return counts


def refused(session: Session, error: type[SciShareError], field: str | None,
            attempt: Callable[[], object]) -> SciShareError:
    """Run `attempt`, expect `error` naming `field`, and check that nothing was stored."""
    before = stored(session)
    with pytest.raises(error) as caught:
        attempt()
    assert caught.value.field == field
    assert caught.value.record
    assert caught.value.reason
    assert stored(session) == before
    return caught.value


def overlapping_pairs(session: Session) -> int:
    """Pairs of active bookings of one instrument that overlap (and rows whose active flag
    contradicts their status), by plain SQL over the table, not through the services."""
    return int(session.scalar(text(OVERLAP_SQL)) or 0)


# Reservations in a holding status and unlifted blackouts, each paired with every other of the
# same instrument whose half-open booked period overlaps it; the same over the periods held
# with their buffers; and rows whose `is_active` disagrees with their status (which would let
# the database guard ignore a booking).
OVERLAP_SQL = """
WITH booking AS (
    SELECT id, instrument_id, starts_at, ends_at, held_until FROM occupancy
     WHERE (kind = 'reservation'
            AND status IN ('pending', 'confirmed', 'in_progress', 'completed'))
        OR (kind = 'blackout' AND lifted_at IS NULL)
)
SELECT (SELECT count(*) FROM booking a JOIN booking b
          ON a.instrument_id = b.instrument_id AND a.id < b.id
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at)
     + (SELECT count(*) FROM booking a JOIN booking b
          ON a.instrument_id = b.instrument_id AND a.id < b.id
         AND a.starts_at < b.held_until AND b.starts_at < a.held_until)
     + (SELECT count(*) FROM occupancy
         WHERE is_active <> (id IN (SELECT id FROM booking)))
"""

