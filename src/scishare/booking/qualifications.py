"""Qualifications: who may operate an instrument themselves, after training by its operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action
from scishare.accounts.service import Actor, authorize, get_account
from scishare.booking.availability import instrument_target
from scishare.booking.errors import BadTransition, NotQualified
from scishare.booking.models import Qualification
from scishare.booking.periods import TimeRange
from scishare.booking.schemas import QualificationCreate
from scishare.catalog.models import Instrument
from scishare.core.errors import InvalidInput, NotFound


def grant_qualification(session: Session, *, instrument: Instrument, data: QualificationCreate,
                        actor: Actor, now: datetime) -> Qualification:
    """Record that a person was trained on the instrument and may run it until `expires_at`;
    only those who run the instrument's queue may grant it."""
    record = f"instrument {instrument.exchange_id}"
    authorize(actor, Action.RUN_BOOKING_QUEUE, instrument_target(instrument), record=record)
    get_account(session, data.account_id)
    if data.expires_at <= now:
        raise InvalidInput("already expired", record=record, field="expires_at")
    if data.trained_on > now.date():
        raise InvalidInput("training cannot be in the future", record=record,
                           field="trained_on")
    qualification = Qualification(instrument_id=instrument.id, account_id=data.account_id,
                                  trained_on=data.trained_on, expires_at=data.expires_at,
                                  note=data.note, granted_at=now,
                                  granted_by_id=actor.account_id or None)
    session.add(qualification)
    session.flush()
    return qualification


def revoke_qualification(session: Session, *, instrument: Instrument, qualification_id: int,
                         actor: Actor, now: datetime) -> Qualification:
    """Withdraw a qualification; reservations already made stay, new ones need another."""
    record = f"qualification {qualification_id}"
    authorize(actor, Action.RUN_BOOKING_QUEUE, instrument_target(instrument), record=record)
    qualification = session.get(Qualification, qualification_id)
    if qualification is None or qualification.instrument_id != instrument.id:
        raise NotFound(f"no qualification {qualification_id} on {instrument.exchange_id}",
                       record=record)
    if qualification.revoked_at is not None:
        raise BadTransition("already revoked", record=record, field="revoked_at")
    qualification.revoked_at = now
    session.flush()
    return qualification


def qualifications_of(session: Session, *, instrument: Instrument,
                      actor: Actor) -> list[Qualification]:
    """Who is (or was) qualified on the instrument; for those running its queue."""
    authorize(actor, Action.RUN_BOOKING_QUEUE, instrument_target(instrument),
              record=f"instrument {instrument.exchange_id}")
    return list(session.scalars(select(Qualification).where(
        Qualification.instrument_id == instrument.id).order_by(Qualification.granted_at)))


def require_qualification(session: Session, *, instrument: Instrument, account_id: int,
                          period: TimeRange, now: datetime, record: str) -> None:
    """Raise NotQualified unless the person holds a qualification on the instrument, granted
    by now, not revoked, valid until the end of `period`."""
    best = session.scalar(select(Qualification.expires_at).where(
        Qualification.instrument_id == instrument.id, Qualification.account_id == account_id,
        Qualification.revoked_at.is_(None), Qualification.granted_at <= now)
        .order_by(Qualification.expires_at.desc()).limit(1))
    if best is None:
        raise NotQualified(f"self-operation of {instrument.exchange_id} needs a qualification "
                           "from its operator (training); book operator-assisted time instead",
                           record=record, field="mode")
    if best < period.ends_at:
        raise NotQualified(f"the qualification expires {best.isoformat()}, before the "
                           "reservation ends", record=record, field="mode")
