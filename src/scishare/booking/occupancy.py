"""Writing reservations, blackouts and orders under the database's guards.

The no-overlap guard is in the database (migration 0003): an exclusion constraint on
PostgreSQL, triggers on SQLite; so is the idempotency key (a unique constraint per person).
Nothing here checks for overlaps before writing — a check in Python could only race with
another transaction. A refused write leaves the caller's transaction as it was: on PostgreSQL
inserts use `ON CONFLICT DO NOTHING`, so the guards refuse without an error (an error would
abort the transaction); updates, and every write on SQLite, run in a SAVEPOINT that is
rolled back when a guard refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, and_, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from scishare.booking.errors import DuplicateSubmission, SlotTaken
from scishare.booking.models import (
    OVERLAP_GUARD,
    Blackout,
    Occupancy,
    OccupancyKind,
    Reservation,
    SampleOrder,
)
from scishare.booking.periods import TimeRange
from scishare.core.database import is_postgres

# The unique constraints behind idempotency keys, named by the metadata naming convention.
IDEMPOTENCY_GUARDS = frozenset({"uq_occupancy_requester_id_idempotency_key",
                                "uq_sample_order_requester_id_idempotency_key"})

Written = TypeVar("Written", Reservation, Blackout, SampleOrder)


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint (or guard trigger) behind `error`, if it can be told.

    PostgreSQL reports it in the diagnostics; SQLite only in the message: the overlap
    triggers raise the guard's name, a unique index names its table and columns.
    """
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    message = str(error.orig)
    if OVERLAP_GUARD in message:
        return OVERLAP_GUARD
    prefix = "UNIQUE constraint failed: "
    if message.startswith(prefix):
        columns = [part.strip() for part in message[len(prefix):].split(",")]
        table = columns[0].split(".")[0]
        return "uq_" + table + "_" + "_".join(column.split(".")[1] for column in columns)
    return None


def slot_taken(record: str, field: str = "starts_at") -> SlotTaken:
    """The error for a period the overlap guard refused."""
    return SlotTaken("overlaps another booking or a blackout of this instrument", record=record,
                     field=field)


def duplicate(record: str) -> DuplicateSubmission:
    """The error for an idempotency key its requester used before."""
    return DuplicateSubmission("this request was already submitted (same idempotency key)",
                               record=record, field="idempotency_key")


@contextmanager
def guarded(session: Session, *, record: str, field: str = "starts_at") -> Iterator[None]:
    """Run writes in a savepoint; map the overlap guard to SlotTaken and an idempotency key
    seen before to DuplicateSubmission. Other integrity errors are bugs and propagate."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        constraint = violated_constraint(error)
        if constraint == OVERLAP_GUARD:
            raise slot_taken(record, field) from None
        if constraint in IDEMPOTENCY_GUARDS:
            raise duplicate(record) from None
        raise


# PostgreSQL aborts one of two transactions that wait on each other's not yet committed rows;
# with an exclusion constraint that happens when two writers race for overlapping periods.
DEADLOCK_DETECTED = "40P01"
CHANGE_ATTEMPTS = 3


def _is_deadlock(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == DEADLOCK_DETECTED


def change_guarded(session: Session, change: Callable[[], None], *, record: str,
                   field: str = "starts_at") -> None:
    """Apply `change` (attribute changes of loaded rows) and flush it in a savepoint, so that
    a refusal keeps the old values: SlotTaken when the guard refuses. A deadlock with another
    writer racing for the same time is retried, as the other one may yet give its period
    back; if it keeps happening the period counts as taken."""
    for attempt in range(1, CHANGE_ATTEMPTS + 1):
        try:
            with guarded(session, record=record, field=field):
                change()
                session.flush()
            return
        except DBAPIError as error:
            if not _is_deadlock(error):
                raise
            if attempt == CHANGE_ATTEMPTS:
                raise slot_taken(record, field) from None


def _key_used(session: Session, model: type[Written], values: dict[str, Any]) -> bool:
    key = values.get("idempotency_key")
    if key is None:
        return False
    query = (select(SampleOrder.id).where(SampleOrder.requester_id == values["requester_id"],
                                          SampleOrder.idempotency_key == key)
             if model is SampleOrder else
             select(Reservation.id).where(Reservation.requester_id == values["requester_id"],
                                          Reservation.idempotency_key == key))
    return session.scalar(query) is not None


# Built once (see `availability._RULES`); executed with each row's values as parameters.
_TABLES = [cast(Table, model.__table__) for model in (Occupancy, SampleOrder)]
_PG_INSERTS = {table.name: pg_insert(table).on_conflict_do_nothing().returning(table.c.id)
               for table in _TABLES}
_INSERTS = {table.name: insert(table).returning(table.c.id) for table in _TABLES}


@cache
def _column_defaults(model: type[Written]) -> tuple[tuple[str, Any], ...]:
    """Each mapped column of `model` with the value its column default gives a new row."""
    table = cast(Table, model.__table__)
    found = []
    for attribute in model.__mapper__.column_attrs:
        default = table.c[attribute.key].default
        found.append((attribute.key, default.arg if isinstance(
            default, ScalarElementColumnDefault) else None))
    return tuple(found)


def _transient(model: type[Written], values: dict[str, Any]) -> Written:
    """The ORM object of the row about to be written by a Core INSERT. It is made before the
    INSERT, so that nothing but the COMMIT follows the row's write (other writers of that
    time wait on it); columns not given hold their column default, as in the row."""
    return model(**{key: values.get(key, default) for key, default in _column_defaults(model)})


def _attach(session: Session, written: Written, new_id: int) -> Written:
    """Make `written` the session's object of the row just inserted under `new_id`, without
    reading it back (the ORM's INSERT … RETURNING of a whole entity costs about twice as
    much, and this is the booking hot path)."""
    # An object still under this id can only be left over from a savepoint rolled back since
    # (SQLite reuses ids): the row just written replaces it.
    stale = session.identity_map.get(identity_key(type(written), new_id))
    if stale is not None:
        session.expunge(stale)
    written.id = new_id
    make_transient_to_detached(written)
    session.add(written)
    return written


def write_once(session: Session, model: type[Written], values: dict[str, Any], *,
               record: str) -> Written:
    """Insert one reservation, blackout or order, unless a guard refuses: SlotTaken when
    its period is taken, DuplicateSubmission when its requester already used the key."""
    table = cast(Table, model.__table__)
    written = _transient(model, values)
    if is_postgres(session):
        try:
            new_id = session.execute(_PG_INSERTS[table.name], values).scalar()
        except DBAPIError as error:
            # Speculative insertion (ON CONFLICT) is built not to deadlock, but a concurrent
            # move (an UPDATE) can still wait on this row; the transaction is then aborted.
            if _is_deadlock(error):
                raise slot_taken(record) from None
            raise
        if new_id is None:
            # Refused without an error: tell which guard by looking for the key.
            raise duplicate(record) if _key_used(session, model, values) else slot_taken(record)
        return _attach(session, written, new_id)
    try:
        with guarded(session, record=record):
            new_id = session.execute(_INSERTS[table.name], values).scalar_one()
    except SlotTaken:
        # A repeated request usually asks for the very period its first copy took.
        if _key_used(session, model, values):
            raise duplicate(record) from None
        raise
    return _attach(session, written, new_id)


def taken_between(session: Session, *, instrument_id: int,
                  window: TimeRange) -> list[tuple[TimeRange, OccupancyKind]]:
    """What the instrument's active reservations (with their buffers) and blackouts hold
    within `window`, in time order."""
    rows = session.execute(select(Occupancy.starts_at, Occupancy.held_until, Occupancy.kind)
                           .where(and_(Occupancy.instrument_id == instrument_id,
                                       Occupancy.is_active.is_(True),
                                       Occupancy.starts_at < window.ends_at,
                                       Occupancy.held_until > window.starts_at))
                           .order_by(Occupancy.starts_at)).all()
    return [(TimeRange(start, end), OccupancyKind(kind)) for start, end, kind in rows]
