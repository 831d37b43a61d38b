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

import psycopg
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
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
from scishare.core.errors import SciShareError

# The unique constraints behind idempotency keys, named by the metadata naming convention.
IDEMPOTENCY_GUARDS = frozenset({"uq_occupancy_requester_id_idempotency_key",
                                "uq_sample_order_requester_id_idempotency_key"})

Written = TypeVar("Written", Reservation, Blackout, SampleOrder)
Processor = Callable[[Any], Any]


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


def _is_deadlock(error: Exception) -> bool:
    """Whether `error` (SQLAlchemy's, or the driver's own from a `DriverStatement`) is
    PostgreSQL's deadlock."""
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    return getattr(driver_error, "sqlstate", None) == DEADLOCK_DETECTED


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


class DriverStatement:
    """A Core statement run straight on the database driver's cursor, in the session's
    transaction: for the booking hot path on PostgreSQL.

    SQLAlchemy's execution machinery (an execution context, the result's column metadata,
    row processing) costs more Python than the whole booking logic: under the 64 clients of
    `make bench-booking`, a bare INSERT executed by SQLAlchemy in a session ran at about 60%
    of the rate of the same INSERT run on the driver in the same session. Here the statement
    is still built with Core and compiled by SQLAlchemy for the session's dialect (once);
    its parameters still pass `construct_params` (every value required, the statement's own
    constants) and their types' bind processors (UTC datetimes). Only the result is read
    raw, so the statement must return plain values (integers, dates, arrays of them).
    Errors are the driver's own, not wrapped in sqlalchemy.exc, and SQLAlchemy's events and
    echo do not see the statement.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[Dialect, tuple[SQLCompiler, dict[str, Processor]]] = {}

    def _for(self, dialect: Dialect) -> tuple[SQLCompiler, dict[str, Processor]]:
        found = self._compiled.get(dialect)
        if found is None:
            compiled = cast(SQLCompiler, self._statement.compile(dialect=dialect))
            processors: dict[str, Processor] = {}
            for bind, name in compiled.bind_names.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            found = self._compiled[dialect] = (compiled, processors)
        return found

    def first(self, session: Session, parameters: dict[str, Any]) -> Any:
        """The first row (a tuple), or None."""
        connection = session.connection()
        compiled, processors = self._for(connection.dialect)
        values = compiled.construct_params(parameters)
        for name, process in processors.items():
            values[name] = process(values[name])
        # One cursor per database connection, kept with it (the pool's `info` lives as long as
        # the connection): a cursor adapts parameters by type, and a new one would look up how
        # to adapt each of them again on every request.
        pooled = connection.connection
        cursor: psycopg.Cursor[Any] | None = pooled.info.get(_CURSOR)
        if cursor is None or cursor.closed:
            dbapi_connection = pooled.dbapi_connection
            assert dbapi_connection is not None  # the session's connection is open
            cursor = pooled.info[_CURSOR] = cast("psycopg.Cursor[Any]",
                                                 dbapi_connection.cursor())
        # Prepared on the first use, not the fifth (psycopg's default): a booking client's
        # connection may serve only a few dozen requests, each parsed anew until then.
        cursor.execute(compiled.string, values, prepare=True)
        return cursor.fetchone()


_CURSOR = "scishare.driver_statement_cursor"


def _key_used(session: Session, model: type[Written], values: dict[str, Any]) -> bool:
    key = values.get("idempotency_key")
    if key is None:
        return False
    table = cast(Table, model.__table__)
    parameters = {"requester_id": values["requester_id"], "idempotency_key": key}
    if is_postgres(session):
        return _KEY_USED_ON_DRIVER[table.name].first(session, parameters) is not None
    return session.execute(_KEY_USED[table.name], parameters).first() is not None


def refusal(session: Session, model: type[Written], values: dict[str, Any], *,
            record: str) -> SciShareError:
    """Why the guards refused `values` (an INSERT … ON CONFLICT DO NOTHING that wrote
    nothing): DuplicateSubmission if its requester used the key before, else SlotTaken.
    Asked in a statement of its own, after the INSERT: it then sees a copy of the request
    that a racing transaction committed while the INSERT waited for it."""
    return duplicate(record) if _key_used(session, model, values) else slot_taken(record)


@contextmanager
def deadlock_refuses(record: str) -> Iterator[None]:
    """Map PostgreSQL's deadlock to SlotTaken. Speculative insertion (ON CONFLICT) is built
    not to deadlock, but a concurrent move (an UPDATE) can still wait on the row being
    written; the transaction is then aborted."""
    try:
        yield
    except Exception as error:
        if _is_deadlock(error):
            raise slot_taken(record) from None
        raise


# Built once (see `availability._RULES`); executed with each row's values as parameters.
_TABLES = [cast(Table, model.__table__) for model in (Occupancy, SampleOrder)]
_PG_INSERTS = {table.name: pg_insert(table).on_conflict_do_nothing().returning(table.c.id)
               for table in _TABLES}
_INSERTS = {table.name: insert(table).returning(table.c.id) for table in _TABLES}
_KEY_USED = {table.name: select(table.c.id).where(
    table.c.requester_id == bindparam("requester_id"),
    table.c.idempotency_key == bindparam("idempotency_key")) for table in _TABLES}
_KEY_USED_ON_DRIVER = {name: DriverStatement(query) for name, query in _KEY_USED.items()}


def _held(starts_at: ColumnElement[Any], held_until: ColumnElement[Any]
          ) -> ColumnElement[Any]:
    """The period a booking holds, in the overlap guard's own terms (so its index answers)."""
    return func.tstzrange(starts_at, held_until, literal_column("'[)'"))


_OCCUPANCY = _TABLES[0]
# Why the guards would refuse a new reservation, as a statement's own snapshot shows it: for
# a statement that writes with ON CONFLICT DO NOTHING and says why in the same round trip
# (PostgreSQL). Its requester used the key before; an active row of the instrument holds part
# of the period the new row would hold.
KEY_USED_BEFORE = _KEY_USED[_OCCUPANCY.name].exists()
PERIOD_HELD = exists().where(
    _OCCUPANCY.c.instrument_id == bindparam("instrument_id"), _OCCUPANCY.c.is_active,
    _held(_OCCUPANCY.c.starts_at, _OCCUPANCY.c.held_until).op("&&")(_held(
        bindparam("starts_at", type_=_OCCUPANCY.c.starts_at.type),
        bindparam("held_until", type_=_OCCUPANCY.c.held_until.type))))


@cache
def _column_defaults(model: type[Written]) -> dict[str, Any]:
    """Each mapped column of `model` with the value its column default gives a new row."""
    table = cast(Table, model.__table__)
    found = {}
    for attribute in model.__mapper__.column_attrs:
        default = table.c[attribute.key].default
        found[attribute.key] = (default.arg if isinstance(default, ScalarElementColumnDefault)
                                else None)
    return found


def as_written(session: Session, model: type[Written], values: dict[str, Any],
               new_id: int) -> Written:
    """The session's object for the row just written under `new_id` from `values` (mapped
    columns only; those not given hold their column default, as in the row), without
    reading it back: the ORM's INSERT … RETURNING of a whole entity costs about twice as
    much, and this is the booking hot path.

    The object is filled the way the ORM fills one it loads (straight into its state, no
    change events), then attached as persistent and unchanged."""
    # An object still under this id can only be left over from a savepoint rolled back since
    # (SQLite reuses ids): the row just written replaces it.
    mapper = model.__mapper__
    stale = session.identity_map.get(mapper.identity_key_from_primary_key((new_id,)))
    if stale is not None:
        session.expunge(stale)
    written: Written = mapper.class_manager.new_instance()
    loaded = instance_state(written).dict
    loaded.update(_column_defaults(model))
    loaded.update(values, id=new_id)
    make_transient_to_detached(written)
    session.add(written)
    return written


def write_once(session: Session, model: type[Written], values: dict[str, Any], *,
               record: str) -> Written:
    """Insert one reservation, blackout or order, unless a guard refuses: SlotTaken when
    its period is taken, DuplicateSubmission when its requester already used the key."""
    table = cast(Table, model.__table__)
    if is_postgres(session):
        with deadlock_refuses(record):
            new_id = session.execute(_PG_INSERTS[table.name], values).scalar()
        if new_id is None:
            raise refusal(session, model, values, record=record)
        return as_written(session, model, values, new_id)
    try:
        with guarded(session, record=record):
            new_id = session.execute(_INSERTS[table.name], values).scalar_one()
    except SlotTaken:
        # A repeated request usually asks for the very period its first copy took.
        if _key_used(session, model, values):
            raise duplicate(record) from None
        raise
    return as_written(session, model, values, new_id)


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
