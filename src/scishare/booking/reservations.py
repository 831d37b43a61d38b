"""Machine-time reservations: reserve, approve or reject, move, cancel, check in, finish, and
mark no-shows.

Overlaps are refused by the database (see `occupancy`); everything else a request can get
wrong is checked by the service, and a refused request stores nothing. On PostgreSQL a new
reservation is checked against the instrument's rules as last seen, and written by one
statement only if those are still the rules stored (see `_book`); on SQLite the rules are read
first. Either way nothing is written before the checks pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from scishare.accounts.permissions import Action
from scishare.accounts.service import Actor, authorize, get_organisation
from scishare.booking.availability import (
    CLOSED_DAYS,
    POLICY_REVISION,
    BookingRules,
    StoredRules,
    booking_rules,
    check_bookable,
    check_period_shape,
    instrument_target,
    rules_and_closed_days,
    rules_parameters,
    stored_rules,
)
from scishare.booking.errors import (
    BadTransition,
    CancellationDeadlinePassed,
    InstrumentNotInService,
    NotOpenToExternalUsers,
    NotYours,
    RulesChanging,
    UnknownInstrument,
    UnknownReservation,
)
from scishare.booking.models import (
    Occupancy,
    OccupancyKind,
    OperationMode,
    PriceCategory,
    Reservation,
    ReservationStatus,
)
from scishare.booking.occupancy import (
    KEY_USED_BEFORE,
    PERIOD_HELD,
    DriverStatement,
    as_written,
    change_guarded,
    deadlock_refuses,
    duplicate,
    refusal,
    slot_taken,
    write_once,
)
from scishare.booking.periods import TimeRange
from scishare.booking.pricing import (
    estimate,
    hours_fen,
    price_category,
    service_item_of,
    unit_price_fen,
)
from scishare.booking.qualifications import require_qualification
from scishare.booking.schemas import ReservationCreate
from scishare.catalog.models import Instrument, LifecycleState, ServiceUnit
from scishare.catalog.service import get_instrument
from scishare.core.database import is_postgres
from scishare.core.errors import InvalidInput, NotFound, SciShareError

# How long before its start a reservation may be checked in.
CHECK_IN_EARLY = timedelta(minutes=30)
CHANGEABLE = frozenset({ReservationStatus.PENDING, ReservationStatus.CONFIRMED})


def find_instrument(session: Session, exchange_id: str, *, record: str) -> Instrument:
    """The instrument (with its service items) under `exchange_id`."""
    try:
        return get_instrument(session, exchange_id)
    except NotFound:
        raise UnknownInstrument(f"no instrument {exchange_id}", record=record,
                                field="instrument_id") from None


def check_instrument_takes_requests(instrument: Instrument, actor: Actor) -> None:
    """In service, and open to external users unless the actor belongs to its owner."""
    record = f"instrument {instrument.exchange_id}"
    if LifecycleState(instrument.lifecycle_state) is not LifecycleState.IN_SERVICE:
        raise InstrumentNotInService(f"the instrument is {instrument.lifecycle_state}",
                                     record=record, field="lifecycle_state")
    if actor.organisation_id != instrument.organisation_id and not instrument.is_open_external:
        raise NotOpenToExternalUsers("the instrument is not open to external users",
                                     record=record, field="is_open_external")


def check_idempotency_key(key: str, *, record: str) -> str:
    """The key, stripped, if it has 8 to 64 characters."""
    key = key.strip()
    if not 8 <= len(key) <= 64:
        raise InvalidInput("give a key of 8 to 64 characters (e.g. a UUID)", record=record,
                           field="idempotency_key")
    return key


def _runs_queue(actor: Actor, instrument: Instrument) -> bool:
    return actor.may(Action.RUN_BOOKING_QUEUE, instrument_target(instrument))


def reserve(session: Session, *, instrument: Instrument, period: TimeRange,
            mode: OperationMode, idempotency_key: str, actor: Actor, now: datetime,
            service_item_id: int | None = None, purpose: str = "") -> Reservation:
    """Book `period` on `instrument` for the actor; raises SlotTaken if any part is taken.

    Self-operation needs a valid qualification; the reservation waits for approval when the
    instrument asks for it (unless the actor runs its queue). The same idempotency key is
    accepted once per person.
    """
    record = f"reservation on {instrument.exchange_id}"
    if not actor.account_id:
        raise NotYours("only a signed-in person can book", record=record)
    authorize(actor, Action.BOOK_INSTRUMENT, instrument_target(instrument), record=record)
    period = check_period_shape(period, record=record)
    check_instrument_takes_requests(instrument, actor)
    key = check_idempotency_key(idempotency_key, record=record)
    category = (PriceCategory.INTERNAL if actor.organisation_id == instrument.organisation_id
                else price_category(instrument, get_organisation(session, actor.organisation_id)))
    estimate_fen = None
    if service_item_id is not None:
        item = service_item_of(instrument, service_item_id, unit=ServiceUnit.HOUR,
                               record=record)
        # The estimate's total, without building the estimate (the booking hot path).
        estimate_fen = hours_fen(unit_price_fen(item, category),
                                 int(period.duration / timedelta(minutes=1)))
    account_id = actor.account_id

    def allowed(rules: BookingRules, closed: set[date]) -> None:
        """Raise unless the instrument's rules (and closed days) allow the request."""
        check_bookable(rules=rules, closed=closed, period=period, now=now, record=record)
        if mode is OperationMode.SELF_OPERATED:
            require_qualification(session, instrument=instrument, account_id=account_id,
                                  period=period, now=now, record=record)

    reservation = _book(session, {
        **_EVERY_NEW_RESERVATION, "instrument_id": instrument.id,
        "starts_at": period.starts_at, "ends_at": period.ends_at,
        "created_at": now, "requester_id": account_id,
        "service_item_id": service_item_id, "mode": mode, "purpose": purpose.strip(),
        "idempotency_key": key, "price_category": category,
        "price_estimate_fen": estimate_fen}, instrument=instrument, period=period,
        approval_applies=not _runs_queue(actor, instrument), allowed=allowed, record=record)
    set_committed_value(reservation, "instrument", instrument)
    return reservation


def _ruled(rules: BookingRules, period: TimeRange, *, approval_applies: bool
           ) -> dict[str, Any]:
    """The columns of a new reservation that follow from the instrument's rules: held until
    its end plus the buffer; pending while the instrument asks for approval, unless the
    requester runs its queue."""
    pending = rules.requires_approval and approval_applies
    return {"held_until": rules.held(period).ends_at,
            "status": ReservationStatus.PENDING if pending else ReservationStatus.CONFIRMED}


_OCCUPANCY = cast(Table, Occupancy.__table__)
# What every new reservation holds: written by `_WRITE` as constants, not parameters (each
# parameter costs the hot path its adaptation).
_EVERY_NEW_RESERVATION: dict[str, Any] = {
    "kind": OccupancyKind.RESERVATION.value, "is_active": True, "reason": ""}


_POSTGRESQL = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


def _constant(value: object) -> ColumnElement[Any]:
    """`value` written into a PostgreSQL statement as an SQL literal."""
    return literal_column(str(literal(value).compile(
        dialect=_POSTGRESQL, compile_kwargs={"literal_binds": True})))


# The columns of a new reservation: those the request decides (see `reserve`), then `_ruled`.
_WRITTEN = ("kind", "instrument_id", "starts_at", "ends_at", "is_active", "created_at",
            "reason", "requester_id", "service_item_id", "mode", "purpose",
            "idempotency_key", "price_category", "price_estimate_fen", "held_until", "status")
# PostgreSQL, in one statement (one snapshot, one round trip): whether the instrument's policy
# revision and the holidays around the period are still those the request was checked against
# (`expected_*`); the reservation, written only if they are (unless a guard refuses: ON
# CONFLICT DO NOTHING); and when a guard refused it, what the statement's snapshot shows of
# why: the key used before, or an active booking over the period held.
_EXPECTED = select(and_(
    POLICY_REVISION.is_not_distinct_from(bindparam("expected_revision", type_=Integer())),
    CLOSED_DAYS.is_not_distinct_from(bindparam("expected_closed", type_=ARRAY(Date())))
).label("as_expected")).cte("expected")
_WRITE = pg_insert(_OCCUPANCY).from_select(list(_WRITTEN), select(
    *(_constant(_EVERY_NEW_RESERVATION[name]) if name in _EVERY_NEW_RESERVATION
      else bindparam(name, type_=_OCCUPANCY.c[name].type) for name in _WRITTEN)).where(
    _EXPECTED.c.as_expected)).on_conflict_do_nothing().returning(_OCCUPANCY.c.id).cte("written")

_REFUSED = and_(_WRITE.c.id.is_(None), _EXPECTED.c.as_expected)
_WRITE_BY_RULES = DriverStatement(select(
    _WRITE.c.id, _EXPECTED.c.as_expected, case((_REFUSED, KEY_USED_BEFORE)),
    case((_REFUSED, PERIOD_HELD))).select_from(_EXPECTED.outerjoin(_WRITE, true())))
# How often a request is checked again when the rules change under it before it is written.
RULE_CHANGES_TOLERATED = 3
# The rules each instrument had when last read, per database (engine). Shared by every session
# of the process: a remembered rule can be out of date, but `_WRITE` writes nothing by rules
# whose revision is no longer stored, so it costs at most a second statement.
_RULES_SEEN: WeakKeyDictionary[Engine, dict[int, StoredRules]] = WeakKeyDictionary()


def _rules_seen(session: Session) -> dict[int, StoredRules]:
    bind = session.get_bind()
    return _RULES_SEEN.setdefault(bind.engine if isinstance(bind, Connection) else bind, {})


def _book(session: Session, requested: dict[str, Any], *, instrument: Instrument,
          period: TimeRange, approval_applies: bool,
          allowed: Callable[[BookingRules, set[date]], None], record: str) -> Reservation:
    """Write the reservation `requested` describes if the instrument's rules allow it
    (`allowed` raises otherwise) and the database's guards let it in (SlotTaken,
    DuplicateSubmission). Nothing is written that the rules refuse.

    On PostgreSQL the request is checked against the rules last seen for the instrument
    (assuming no holiday around the period), and one statement (`_WRITE_BY_RULES`) writes it
    only if the policy's revision and the holidays are still those; if they are not, the
    rules are read again, and the request is checked against them and sent again. That
    statement also says why a guard refused it, as far as its snapshot shows. A request thus
    costs one statement (a transaction of its own in an autocommit session), and no refused
    request is ever written, not even for a moment. A request the remembered rules refuse is
    checked against the rules as stored before it is refused. On SQLite, one writer at a
    time, the rules are read and checked first.
    """
    if not is_postgres(session):
        rules, closed_days = rules_and_closed_days(session, instrument, period)
        allowed(rules, closed_days)
        return write_once(session, Reservation, requested | _ruled(
            rules, period, approval_applies=approval_applies), record=record)
    seen = _rules_seen(session)

    def as_stored() -> tuple[StoredRules, list[date] | None]:
        found, closed_days = stored_rules(session, instrument, period)
        seen[instrument.id] = found
        return found, closed_days

    parameters = rules_parameters(instrument.id, period)
    remembered = seen.get(instrument.id)
    as_stored_now = remembered is None
    # Around the period no holiday is assumed, until the database says otherwise.
    stored, closed = (remembered, None) if remembered is not None else as_stored()
    for _ in range(RULE_CHANGES_TOLERATED):
        try:
            allowed(stored.rules, set(closed or ()))
        except SciShareError:
            if as_stored_now:
                raise
            # Refused by the rules remembered: asked again of the rules stored.
            stored, closed = as_stored()
            as_stored_now = True
            allowed(stored.rules, set(closed or ()))
        values = requested | _ruled(stored.rules, period, approval_applies=approval_applies)
        with deadlock_refuses(record):
            written_id, as_expected, key_used, taken = _WRITE_BY_RULES.first(session, {
                **values, **parameters, "expected_revision": stored.revision,
                "expected_closed": closed})
        if written_id is not None:
            return as_written(session, Reservation, values, written_id)
        if as_expected:
            if key_used:
                raise duplicate(record)
            if taken:
                raise slot_taken(record)
            # Refused for a row committed after the statement's snapshot was taken (it waited
            # for that row's transaction): asked again, in a snapshot that shows it.
            raise refusal(session, Reservation, values, record=record)
        stored, closed = as_stored()
        as_stored_now = True
    raise RulesChanging("the instrument's booking rules kept changing while this request was "
                        "checked; send it again", record=record, field="instrument_id")


def submit_reservation(session: Session, data: ReservationCreate, *, actor: Actor,
                       now: datetime) -> Reservation:
    """`reserve` for a request naming the instrument by its exchange id (API and forms)."""
    instrument = find_instrument(session, data.instrument_id, record="reservation request")
    return reserve(session, instrument=instrument,
                   period=TimeRange(data.starts_at, data.ends_at), mode=data.mode,
                   idempotency_key=data.idempotency_key, actor=actor, now=now,
                   service_item_id=data.service_item_id, purpose=data.purpose)


# Finding and locking -------------------------------------------------------------------------

def get_reservation(session: Session, code: str) -> Reservation:
    """The reservation `R0000042` with its instrument (and service items) and requester."""
    record = f"reservation {code}"
    if len(code) < 2 or code[0] != "R" or not code[1:].isdigit():
        raise UnknownReservation(f"not a reservation code: {code!r}", record=record)
    found = session.scalar(select(Reservation).where(Reservation.id == int(code[1:])).options(
        joinedload(Reservation.instrument, innerjoin=True).selectinload(
            Instrument.service_items),
        joinedload(Reservation.requester, innerjoin=True)))
    if found is None:
        raise UnknownReservation(f"no reservation {code}", record=record)
    return found


def reservation_for(session: Session, code: str, *, actor: Actor) -> Reservation:
    """The reservation, for its requester or those running its instrument's queue."""
    reservation = get_reservation(session, code)
    _require_owner_or_queue(actor, reservation)
    return reservation


def _locked(session: Session, reservation: Reservation) -> Reservation:
    """Re-read the reservation's row under FOR UPDATE before looking at its status, so that
    two people acting on it at once (approve and cancel, say) take turns."""
    session.execute(select(Reservation).where(Reservation.id == reservation.id)
                    .with_for_update().execution_options(populate_existing=True))
    return reservation


def _transition(reservation: Reservation, allowed: frozenset[ReservationStatus],
                action: str) -> None:
    status = ReservationStatus(reservation.status)
    if status not in allowed:
        raise BadTransition(f"cannot {action} a reservation that is {status.value}",
                            record=f"reservation {reservation.code}", field="status")


def _require_queue(actor: Actor, reservation: Reservation) -> None:
    authorize(actor, Action.RUN_BOOKING_QUEUE, instrument_target(reservation.instrument),
              record=f"reservation {reservation.code}")


def _require_owner_or_queue(actor: Actor, reservation: Reservation) -> bool:
    """Whether the actor runs the queue; raise NotYours if neither that nor the requester."""
    runs_queue = _runs_queue(actor, reservation.instrument)
    if not runs_queue and reservation.requester_id != actor.account_id:
        raise NotYours("not your reservation", record=f"reservation {reservation.code}")
    return runs_queue


def _before_deadline(rules: BookingRules, reservation: Reservation, now: datetime,
                     action: str) -> None:
    deadline = reservation.starts_at - timedelta(minutes=rules.cancel_deadline_minutes)
    if now > deadline:
        raise CancellationDeadlinePassed(
            f"can {action} only until {rules.cancel_deadline_minutes} minutes before the "
            "start; ask the operator", record=f"reservation {reservation.code}",
            field="starts_at")


# The operator's decisions --------------------------------------------------------------------

def approve_reservation(session: Session, reservation: Reservation, *, actor: Actor,
                        now: datetime) -> Reservation:
    """Confirm a pending reservation; only those running the instrument's queue."""
    _require_queue(actor, reservation)
    _locked(session, reservation)
    _transition(reservation, frozenset({ReservationStatus.PENDING}), "approve")
    reservation.status = ReservationStatus.CONFIRMED
    reservation.decided_at, reservation.decided_by_id = now, actor.account_id or None
    session.flush()
    return reservation


def reject_reservation(session: Session, reservation: Reservation, *, actor: Actor,
                       reason: str, now: datetime) -> Reservation:
    """Refuse a pending reservation with a reason, freeing its period."""
    record = f"reservation {reservation.code}"
    _require_queue(actor, reservation)
    if not reason.strip():
        raise InvalidInput("say why the reservation is rejected", record=record,
                           field="reason")
    _locked(session, reservation)
    _transition(reservation, frozenset({ReservationStatus.PENDING}), "reject")
    reservation.is_active = False
    reservation.status = ReservationStatus.REJECTED
    reservation.decided_at, reservation.decided_by_id = now, actor.account_id or None
    reservation.reason = reason.strip()
    session.flush()
    return reservation


def cancel_reservation(session: Session, reservation: Reservation, *, actor: Actor,
                       now: datetime, reason: str = "") -> Reservation:
    """The requester cancels before the deadline; those running the queue cancel at any time
    but must say why. The period is freed."""
    record = f"reservation {reservation.code}"
    runs_queue = _require_owner_or_queue(actor, reservation)
    if runs_queue and not reason.strip():
        raise InvalidInput("say why the reservation is cancelled", record=record,
                           field="reason")
    _locked(session, reservation)
    _transition(reservation, CHANGEABLE, "cancel")
    if not runs_queue:
        _before_deadline(booking_rules(session, reservation.instrument), reservation, now,
                         "cancel")
    reservation.is_active = False
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at, reservation.cancelled_by_id = now, actor.account_id or None
    reservation.reason = reason.strip()
    session.flush()
    return reservation


def move_reservation(session: Session, reservation: Reservation, *, period: TimeRange,
                     actor: Actor, now: datetime) -> Reservation:
    """Give the reservation a new period, atomically: the new period is taken or the old one
    is kept. The requester may move until the cancellation deadline (and waits for approval
    again where the instrument asks for it); those running the queue at any time."""
    record = f"reservation {reservation.code}"
    instrument = reservation.instrument
    runs_queue = _require_owner_or_queue(actor, reservation)
    period = check_period_shape(period, record=record)
    _locked(session, reservation)
    _transition(reservation, CHANGEABLE, "move")
    rules, closed = rules_and_closed_days(session, instrument, period)
    if not runs_queue:
        _before_deadline(rules, reservation, now, "change the time")
    check_bookable(rules=rules, closed=closed, period=period, now=now, record=record)
    if OperationMode(reservation.mode) is OperationMode.SELF_OPERATED:
        require_qualification(session, instrument=instrument,
                              account_id=reservation.requester_id, period=period, now=now,
                              record=record)
    estimate_fen = reservation.price_estimate_fen
    if reservation.service_item_id is not None:
        item = service_item_of(instrument, reservation.service_item_id,
                               unit=ServiceUnit.HOUR, record=record)
        estimate_fen = estimate(item, reservation.price_category,
                                minutes=int(period.duration / timedelta(minutes=1))).total_fen
    def change() -> None:
        reservation.starts_at, reservation.ends_at = period.starts_at, period.ends_at
        reservation.held_until = rules.held(period).ends_at
        reservation.price_estimate_fen = estimate_fen
        if rules.requires_approval and not runs_queue:
            reservation.status = ReservationStatus.PENDING

    change_guarded(session, change, record=record)
    return reservation


# Using the time ------------------------------------------------------------------------------

def check_in(session: Session, reservation: Reservation, *, actor: Actor,
             now: datetime) -> Reservation:
    """Start a confirmed reservation, from half an hour before its start until its end."""
    record = f"reservation {reservation.code}"
    _require_owner_or_queue(actor, reservation)
    _locked(session, reservation)
    _transition(reservation, frozenset({ReservationStatus.CONFIRMED}), "start")
    if not reservation.starts_at - CHECK_IN_EARLY <= now < reservation.ends_at:
        raise BadTransition("can be started only from 30 minutes before its start until its "
                            "end", record=record, field="starts_at")
    reservation.status = ReservationStatus.IN_PROGRESS
    reservation.checked_in_at = now
    session.flush()
    return reservation


def finish_reservation(session: Session, reservation: Reservation, *, actor: Actor,
                       now: datetime) -> Reservation:
    """Close a reservation that is in progress."""
    _require_owner_or_queue(actor, reservation)
    _locked(session, reservation)
    _transition(reservation, frozenset({ReservationStatus.IN_PROGRESS}), "finish")
    reservation.status = ReservationStatus.COMPLETED
    reservation.finished_at = now
    session.flush()
    return reservation


def _no_show(reservation: Reservation, now: datetime) -> None:
    reservation.is_active = False
    reservation.status = ReservationStatus.NO_SHOW
    reservation.finished_at = now


def mark_no_show(session: Session, reservation: Reservation, *, actor: Actor,
                 now: datetime) -> Reservation:
    """Mark a confirmed reservation not started within the grace period as a no-show, and
    free what is left of its period."""
    record = f"reservation {reservation.code}"
    _require_queue(actor, reservation)
    _locked(session, reservation)
    _transition(reservation, frozenset({ReservationStatus.CONFIRMED}), "mark as no-show")
    rules = booking_rules(session, reservation.instrument)
    if now < reservation.starts_at + timedelta(minutes=rules.no_show_after_minutes):
        raise BadTransition(f"not before {rules.no_show_after_minutes} minutes after the "
                            "start", record=record, field="status")
    _no_show(reservation, now)
    session.flush()
    return reservation


def sweep_no_shows(session: Session, *, now: datetime) -> list[Reservation]:
    """Mark every confirmed reservation not started within its instrument's grace period as
    a no-show (for a periodic job). Returns those marked."""
    candidates = session.scalars(select(Reservation).where(
        Reservation.status == ReservationStatus.CONFIRMED, Reservation.starts_at <= now)
        .options(selectinload(Reservation.instrument)).order_by(Reservation.id)
        .with_for_update(of=Reservation)).all()
    rules_by_instrument: dict[int, BookingRules] = {}
    marked: list[Reservation] = []
    for reservation in candidates:
        rules = rules_by_instrument.get(reservation.instrument_id)
        if rules is None:
            rules = booking_rules(session, reservation.instrument)
            rules_by_instrument[reservation.instrument_id] = rules
        if now >= reservation.starts_at + timedelta(minutes=rules.no_show_after_minutes):
            _no_show(reservation, now)
            marked.append(reservation)
    session.flush()
    return marked
