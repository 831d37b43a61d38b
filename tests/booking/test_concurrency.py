"""Races: many threads, each with its own connection and transaction, ask for the same time at
once. Exactly one wins; every other one gets the conflict error; nothing overlaps.

These tests need committed data that other connections can see, so they run in a database of
their own (not the rolled-back per-test transaction of the other tests).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import scishare.accounts.service as accounts_service
from scishare.accounts.models import Role
from scishare.accounts.service import Actor
from scishare.booking.errors import (
    BadDuration,
    DuplicateSubmission,
    HolidayClash,
    OutsideOpeningHours,
    SlotTaken,
)
from scishare.booking.models import BlackoutKind, OperationMode
from scishare.booking.periods import TimeRange
from scishare.booking.schemas import HolidayCreate
from scishare.booking.service import (
    add_blackout,
    add_holiday,
    find_instrument,
    get_reservation,
    move_reservation,
    reserve,
)
from scishare.catalog.service import sync_reference_data
from scishare.core.database import WRITE_TRANSACTION, make_engine
from scishare.core.errors import SciShareError
from scishare.core.migrations import upgrade
from tests.accounts.factories import an_organisation
from tests.booking.factories import (
    a_bookable_instrument,
    a_key,
    a_person,
    local_range,
    overlapping_pairs,
)
from tests.conftest import drop_postgres_database, fresh_postgres_database

THREADS = 16
NOW = datetime.fromisoformat("2026-11-24T02:00:00+00:00")


@dataclass
class Committed:
    engine: Engine
    exchange_id: str
    operator: Actor
    users: list[Actor]


@pytest.fixture(scope="module")
def committed(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Committed]:
    if backend == "postgres":
        name = f"scishare_booking_race_{os.getpid()}"
        url = fresh_postgres_database(name)
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('race')) / 'race.db'}"
    upgrade(url)
    # Writers that check and then write open their transactions with BEGIN IMMEDIATE on
    # SQLite (a no-op on PostgreSQL); see `core.database.WRITE_TRANSACTION`.
    engine = make_engine(url, pool_size=THREADS + 4).execution_options(**WRITE_TRANSACTION)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_service, "_hasher",
                      PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with Session(engine, expire_on_commit=False) as session:
            sync_reference_data(session)
            provider = an_organisation(session)
            instrument = a_bookable_instrument(session, organisation=provider)
            operator = a_person(session, organisation=provider, roles=(Role.OPERATOR,))
            users = [a_person(session) for _ in range(4)]
            session.commit()
    yield Committed(engine=engine, exchange_id=instrument.exchange_id, operator=operator,
                    users=users)
    engine.dispose()
    if backend == "postgres":
        drop_postgres_database(name)


def race(engine: Engine, attempt: Callable[[Session, int], object]) -> Counter[str]:
    """Run `attempt` in THREADS threads released at once, each in its own session and
    transaction (committed on success); count the outcomes by error class name."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                attempt(session, n)
                session.commit()
                outcome = "won"
            except SciShareError as error:
                session.rollback()
                outcome = type(error).__name__
            except Exception as error:  # any other failure is recorded and fails the test
                session.rollback()
                outcome = f"crashed: {error!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def overlaps(engine: Engine) -> int:
    with Session(engine) as session:
        return overlapping_pairs(session)


def book(session: Session, committed: Committed, actor: Actor, period: TimeRange,
         key: str | None = None) -> object:
    instrument = find_instrument(session, committed.exchange_id, record="race")
    return reserve(session, instrument=instrument, period=period,
                   mode=OperationMode.ASSISTED, idempotency_key=key or a_key(), actor=actor,
                   now=NOW)


def test_one_of_many_reservations_wins(committed: Committed) -> None:
    period = local_range(2026, 11, 30, "09:00", "11:00")

    outcomes = race(committed.engine, lambda s, n: book(
        s, committed, committed.users[n % 4], period))

    assert outcomes == Counter({"won": 1, SlotTaken.__name__: THREADS - 1})
    assert overlaps(committed.engine) == 0


def test_overlapping_but_different_periods(committed: Committed) -> None:
    # Each thread asks for a different period, all of them sharing 10:00–10:30.
    starts = ["08:30", "09:00", "09:30", "10:00"]
    ends = ["10:30", "11:00", "11:30", "12:00"]

    outcomes = race(committed.engine, lambda s, n: book(
        s, committed, committed.users[n % 4],
        local_range(2026, 12, 1, starts[n % 4], ends[n // 4])))

    assert outcomes["won"] == 1
    assert outcomes[SlotTaken.__name__] == THREADS - 1
    assert overlaps(committed.engine) == 0


def test_reservations_and_blackouts_race_for_the_same_time(committed: Committed) -> None:
    period = local_range(2026, 12, 2, "13:00", "15:00")

    def attempt(session: Session, n: int) -> object:
        if n % 2:
            return book(session, committed, committed.users[n % 4], period)
        instrument = find_instrument(session, committed.exchange_id, record="race")
        return add_blackout(session, instrument=instrument, period=period,
                            kind=BlackoutKind.MAINTENANCE, reason="抢修",
                            actor=committed.operator, now=NOW)

    outcomes = race(committed.engine, attempt)

    assert outcomes == Counter({"won": 1, SlotTaken.__name__: THREADS - 1})
    assert overlaps(committed.engine) == 0


def test_requests_the_rules_refuse_never_take_the_time(committed: Committed) -> None:
    # A valid request racing ones the rules refuse for the same time must win, whatever the
    # order: a refused request never holds the time, not even for a moment.
    valid = local_range(2026, 12, 4, "09:00", "11:00")
    too_long = local_range(2026, 12, 4, "08:30", "17:30")  # longer than the 8 hours allowed

    outcomes = race(committed.engine, lambda s, n: book(
        s, committed, committed.users[n % 4], too_long if n else valid))

    assert outcomes == Counter({"won": 1, BadDuration.__name__: THREADS - 1})
    assert overlaps(committed.engine) == 0


def test_the_same_request_sent_many_times_books_once(committed: Committed) -> None:
    period = local_range(2026, 12, 3, "09:00", "10:00")
    key = a_key()

    outcomes = race(committed.engine, lambda s, n: book(
        s, committed, committed.users[0], period, key=key))

    assert outcomes == Counter({"won": 1, DuplicateSubmission.__name__: THREADS - 1})


def autocommit(engine: Engine) -> Engine:
    """Sessions in which each statement is a transaction of its own: a reservation is then one
    statement on PostgreSQL, and a refusal is the guard's error, not a quiet DO NOTHING."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def test_one_of_many_wins_in_autocommit_too(committed: Committed) -> None:
    period = local_range(2026, 12, 14, "09:00", "11:00")

    outcomes = race(autocommit(committed.engine), lambda s, n: book(
        s, committed, committed.users[n % 4], period))

    assert outcomes == Counter({"won": 1, SlotTaken.__name__: THREADS - 1})
    assert overlaps(committed.engine) == 0


def test_the_same_request_books_once_in_autocommit_too(committed: Committed) -> None:
    period = local_range(2026, 12, 15, "09:00", "10:00")
    key = a_key()

    outcomes = race(autocommit(committed.engine), lambda s, n: book(
        s, committed, committed.users[0], period, key=key))

    assert outcomes == Counter({"won": 1, DuplicateSubmission.__name__: THREADS - 1})


def test_a_repeated_request_for_another_time_is_a_duplicate_in_autocommit(
        committed: Committed) -> None:
    key = a_key()
    with Session(autocommit(committed.engine), expire_on_commit=False) as session:
        book(session, committed, committed.users[1],
             local_range(2026, 12, 16, "09:00", "10:00"), key=key)
        with pytest.raises(DuplicateSubmission):
            book(session, committed, committed.users[1],
                 local_range(2026, 12, 16, "14:00", "15:00"), key=key)
        with pytest.raises(SlotTaken):
            book(session, committed, committed.users[2],
                 local_range(2026, 12, 16, "09:30", "10:30"))


def test_many_moves_onto_the_same_time(committed: Committed) -> None:
    codes: list[str] = []
    with Session(committed.engine, expire_on_commit=False) as session:
        for n in range(THREADS):
            day = 7 + n // 8
            start = 9 + n % 8
            reservation = book(session, committed, committed.users[n % 4],
                               local_range(2026, 12, day, f"{start:02d}:00",
                                           f"{start:02d}:30"))
            codes.append(reservation.code)  # type: ignore[attr-defined]
        session.commit()
    target = local_range(2026, 12, 10, "14:00", "16:00")

    outcomes = race(committed.engine, lambda s, n: move_reservation(
        s, get_reservation(s, codes[n]), period=target, actor=committed.operator, now=NOW))

    assert outcomes == Counter({"won": 1, SlotTaken.__name__: THREADS - 1})
    assert overlaps(committed.engine) == 0


# A holiday and a reservation for the same day, each sent while the other's transaction is
# still open: whichever commits first, the other is refused.

def _close(session: Session, committed: Committed, day: date) -> object:
    instrument = find_instrument(session, committed.exchange_id, record="race")
    return add_holiday(session, instrument=instrument, holiday=HolidayCreate(
        closed_on=day, name="停电"), actor=committed.operator, now=NOW)


def _while_open(first: Callable[[Session], object], then: Callable[[Session], object],
                engine: Engine) -> str:
    """Run `first` in a transaction left open; meanwhile run `then` in a thread with a
    session of its own, which must wait for `first` to commit. Returns `then`'s outcome."""
    outcome: list[str] = []

    def second() -> None:
        with Session(engine, expire_on_commit=False) as session:
            try:
                then(session)
                session.commit()
                outcome.append("won")
            except SciShareError as error:
                outcome.append(type(error).__name__)

    with Session(engine, expire_on_commit=False) as session:
        first(session)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second transaction did not wait for the first"
        session.commit()
    thread.join(timeout=30)
    assert outcome, "the second transaction did not finish"
    return outcome[0]


def test_a_holiday_waits_for_a_reservation_being_written_that_day(
        committed: Committed) -> None:
    day = date(2026, 12, 17)

    outcome = _while_open(
        lambda s: book(s, committed, committed.users[0],
                       local_range(2026, 12, 17, "09:00", "10:00")),
        lambda s: _close(s, committed, day), committed.engine)

    assert outcome == HolidayClash.__name__


def test_a_reservation_waits_for_a_holiday_being_added_that_day(
        committed: Committed) -> None:
    day = date(2026, 12, 18)
    # This process has seen the instrument's rules before: on PostgreSQL the reservation
    # below is checked against them, assuming no holiday, and must still see the new one.
    with Session(committed.engine, expire_on_commit=False) as session:
        book(session, committed, committed.users[1],
             local_range(2026, 12, 21, "15:00", "16:00"))
        session.commit()

    outcome = _while_open(
        lambda s: _close(s, committed, day),
        lambda s: book(s, committed, committed.users[2],
                       local_range(2026, 12, 18, "09:00", "10:00")),
        committed.engine)

    assert outcome == OutsideOpeningHours.__name__
