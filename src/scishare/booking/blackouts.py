"""Blackouts: maintenance, calibration and internal-use periods nobody else can book.

A blackout takes its period in `occupancy` like a reservation does, so the same database
guard keeps the two apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from scishare.accounts.permissions import Action
from scishare.accounts.service import Actor, authorize
from scishare.booking.availability import (
    booking_rules,
    check_period_shape,
    instrument_target,
)
from scishare.booking.errors import BadTransition, PeriodInPast
from scishare.booking.models import (
    Blackout,
    BlackoutKind,
    OccupancyKind,
    Reservation,
    ReservationStatus,
)
from scishare.booking.occupancy import write_once
from scishare.booking.periods import TimeRange
from scishare.booking.reservations import cancel_reservation
from scishare.catalog.models import Instrument
from scishare.core.errors import InvalidInput, NotFound


def add_blackout(session: Session, *, instrument: Instrument, period: TimeRange,
                 kind: BlackoutKind, reason: str, actor: Actor, now: datetime,
                 displace_reservations: bool = False) -> Blackout:
    """Block `period` on the instrument; refused (SlotTaken) where it is booked, unless
    `displace_reservations` asks to cancel the reservations in the way, with `reason`."""
    record = f"blackout on {instrument.exchange_id}"
    authorize(actor, Action.SET_AVAILABILITY, instrument_target(instrument), record=record)
    period = check_period_shape(period, record=record)
    if period.ends_at <= now:
        raise PeriodInPast("ends in the past", record=record, field="ends_at")
    if not reason.strip():
        raise InvalidInput("say why the instrument is blocked", record=record, field="reason")
    if displace_reservations:
        # A reservation is in the way while its period or the buffer after it overlaps.
        buffer = booking_rules(session, instrument).buffer
        in_the_way = session.scalars(select(Reservation).where(
            Reservation.instrument_id == instrument.id,
            Reservation.status.in_([ReservationStatus.PENDING, ReservationStatus.CONFIRMED]),
            Reservation.starts_at < period.ends_at,
            Reservation.ends_at > period.starts_at - buffer)
            .options(joinedload(Reservation.instrument, innerjoin=True).selectinload(
                Instrument.service_items)).order_by(Reservation.id)).all()
        for reservation in in_the_way:
            cancel_reservation(session, reservation, actor=actor, now=now,
                               reason=f"{kind.value}: {reason.strip()}")
    return write_once(session, Blackout, {
        "kind": OccupancyKind.BLACKOUT, "instrument_id": instrument.id,
        "starts_at": period.starts_at, "ends_at": period.ends_at,
        "held_until": period.ends_at, "is_active": True, "created_at": now,
        "reason": reason.strip(), "blackout_kind": kind,
        "created_by_id": actor.account_id or None}, record=record)


def lift_blackout(session: Session, *, instrument: Instrument, blackout_id: int, actor: Actor,
                  now: datetime) -> Blackout:
    """End a blackout early or withdraw it; its period becomes bookable again."""
    record = f"blackout {blackout_id}"
    authorize(actor, Action.SET_AVAILABILITY, instrument_target(instrument), record=record)
    blackout = session.scalar(select(Blackout).where(
        Blackout.id == blackout_id, Blackout.instrument_id == instrument.id).with_for_update())
    if blackout is None:
        raise NotFound(f"no blackout {blackout_id} on {instrument.exchange_id}", record=record)
    if blackout.lifted_at is not None:
        raise BadTransition("already lifted", record=record, field="lifted_at")
    blackout.is_active = False
    blackout.lifted_at, blackout.lifted_by_id = now, actor.account_id or None
    session.flush()
    return blackout


def blackouts_of(session: Session, *, instrument: Instrument, window: TimeRange,
                 include_lifted: bool = False) -> list[Blackout]:
    """The instrument's blackouts touching `window` (lifted ones on request)."""
    query = select(Blackout).where(Blackout.instrument_id == instrument.id,
                                   Blackout.starts_at < window.ends_at,
                                   Blackout.ends_at > window.starts_at)
    if not include_lifted:
        query = query.where(Blackout.lifted_at.is_(None))
    return list(session.scalars(query.order_by(Blackout.starts_at)))
