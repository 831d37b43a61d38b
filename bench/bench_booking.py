"""Booking under load on PostgreSQL: 64 concurrent clients reserving random, often overlapping
periods (1–4 hours, every day 08:00–22:00 Shanghai time, over a month) on 100 instruments,
through the booking service.

Each client is a thread with its own connection and session, one transaction per request;
threads are spread over worker processes (SQLAlchemy's Python work would otherwise queue
behind one interpreter lock). A client behaves like a long-running integration: it holds the
person's account and looks the instruments up once through the catalog service, and since a
reservation is one statement on PostgreSQL its session runs in autocommit, each request a
transaction of its own (like each bare INSERT below); every request books the instrument's
hourly service, so it is priced.

The same request list is also sent, by the same clients, as bare INSERTs of the same rows
(the reservation of the hourly service at its enterprise price, as the service writes it)
into the same `occupancy` table with the same exclusion constraint: straight through psycopg
(the ceiling), and through the same SQLAlchemy sessions (so that the cost of the booking logic
alone can be read too). Every run starts from an empty table, and its clock starts once every
client is set up: connected, for the service its look-ups done, and warmed up by 25 requests
of its own (drawn like the others; their rows are removed before the start, see `_serve`).
Each run also prints the
CPU time it cost per request: the clients' (their processes') and the database's (the local
PostgreSQL server's processes, read from /proc), since both share the machine's cores.

Prints accepted and rejected reservations per second, p95 latency, the overlapping pairs an
independent SQL query finds afterwards (must be 0), the ceiling and the ratio. The ceiling
and the service are measured in `--rounds` alternating rounds (3); the round with the median
ratio stands for the run, and overlaps are counted over all rounds. Last line:
`BENCH booking clients=… accepted_per_s=… rejected_per_s=… p95_ms=… overlaps=…
ceiling_per_s=… ratio=…`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from scishare.accounts.models import OrganisationType, Role
from scishare.accounts.schemas import AccountCreate, OrganisationCreate
from scishare.accounts.service import (
    SYSTEM,
    actor_for,
    get_account,
    register_account,
    register_organisation,
)
from scishare.booking.errors import SlotTaken
from scishare.booking.models import Occupancy, OperationMode
from scishare.booking.periods import TimeRange
from scishare.booking.schemas import BookingPolicyUpdate, OpeningPeriodSpec
from scishare.booking.service import (
    find_instrument,
    reserve,
    set_booking_policy,
)
from scishare.catalog.models import ServiceUnit
from scishare.catalog.schemas import InstrumentCreate, ServiceItemCreate
from scishare.catalog.service import register_instrument, sync_reference_data
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade
from scishare.regions.schemas import RegionCreate
from scishare.regions.service import register_region

ADMIN_URL = os.environ.get("SCISHARE_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASE = "scishare_bench_booking"
INSTRUMENTS = 100
ACCOUNTS = 16
NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
FIRST_DAY = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
DAYS = 30
# Every day 08:00–22:00 Shanghai (00:00–14:00 UTC), half-hour slots, bookings of 1–4 hours.
OPEN_HOURS = 14
# How long clients may take to connect and look their instruments up.
SET_UP_SECONDS = 120
SLOT = timedelta(minutes=30)
HOUR = timedelta(hours=1)
# The price per hour of the seeded instruments' hourly service, for enterprises.
ENTERPRISE_FEN_PER_HOUR = 40_000

# Independent of the service: active bookings of one instrument overlapping over the booked
# period or the period held with its buffer, plus rows whose active flag contradicts their
# status (the guard only sees active rows).
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


# An instrument's id and the id of its hourly service item, as stored.
Bookable = tuple[int, int]


@dataclass(frozen=True)
class Request:
    instrument: int  # index into the seeded instruments
    starts_at: datetime
    ends_at: datetime


def database_url() -> str:
    return sa.make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database() -> str:
    with psycopg.connect(libpq_url(ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    url = database_url()
    upgrade(url)
    return url


def seed(url: str) -> tuple[list[str], list[int]]:
    """100 instruments open every day 08:00–22:00 and a few enterprise users, all through the
    services. Returns the instruments' exchange ids and the users' account ids."""
    engine = make_engine(url)
    policy = BookingPolicyUpdate(
        slot_minutes=30, min_minutes=30, max_minutes=240, lead_minutes=0, horizon_days=60,
        buffer_minutes=0, cancel_deadline_minutes=0, requires_approval=False,
        opening_hours=[OpeningPeriodSpec(weekday=d, opens="08:00", closes="22:00")
                       for d in range(7)])
    with Session(engine, expire_on_commit=False) as session:
        sync_reference_data(session)
        register_region(session, RegionCreate(code="410000", name_zh="河南省", name_en="Henan"))
        register_region(session, RegionCreate(code="410100", name_zh="郑州市", name_en="Zhengzhou",
                                              parent_code="410000"))
        provider = register_organisation(session, OrganisationCreate(
            code="BENCHU", name_zh="基准大学", name_en="Bench University",
            org_type=OrganisationType.UNIVERSITY, region_code="410100"), now=NOW)
        exchange_ids: list[str] = []
        for n in range(INSTRUMENTS):
            instrument = register_instrument(session, InstrumentCreate(
                exchange_id=f"BK-{n:07d}", organisation_id=provider.id,
                name_zh=f"基准仪器{n}", class_code="0103", technique_codes=["XRD"],
                original_value_fen=100_000_000, region_code="410100",
                service_items=[ServiceItemCreate(
                    name_zh="机时", unit=ServiceUnit.HOUR, price_internal_fen=10_000,
                    price_nonprofit_fen=20_000, price_enterprise_fen=40_000)]),
                actor=SYSTEM, now=NOW)
            set_booking_policy(session, instrument=instrument, policy=policy, actor=SYSTEM,
                               now=NOW)
            exchange_ids.append(instrument.exchange_id)
        company = register_organisation(session, OrganisationCreate(
            code="BENCHE", name_zh="基准企业", name_en="Bench Co.",
            org_type=OrganisationType.ENTERPRISE, region_code="410100"), now=NOW)
        accounts = [register_account(session, AccountCreate(
            email=f"bench{n}@example.cn", display_name=f"客户{n}", password="bench password",
            organisation_id=company.id), now=NOW, roles=(Role.DEMANDER,)).id
            for n in range(ACCOUNTS)]
        session.commit()
    engine.dispose()
    return exchange_ids, accounts


def requests(count: int, seed_value: int) -> list[Request]:
    rng = random.Random(seed_value)
    made: list[Request] = []
    for _ in range(count):
        slots = rng.randint(2, 8)
        start = rng.randrange(0, OPEN_HOURS * 2 - slots + 1)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        made.append(Request(instrument=rng.randrange(INSTRUMENTS),
                            starts_at=day + start * SLOT, ends_at=day + (start + slots) * SLOT))
    return made


# Worker processes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StartingLine:
    """Where a process's clients wait: each reports once it is set up (connected, for the
    service its account and instruments looked up, and warmed up), and all start together
    on `go`. The process reports ready only when every client is set up, so that set-up is
    never timed."""

    set_up: threading.Barrier
    go: threading.Event

    def wait(self) -> None:
        self.set_up.wait()
        self.go.wait()


@dataclass(frozen=True)
class Share:
    """One client's requests: a few to warm up with (untimed), then its part of the run."""

    warm_up: list[Request]
    work: list[Request]


Send = Callable[[Request], bool]  # sends one request; whether it was accepted


def _serve(send: Send, share: Share, start: StartingLine,
           results: list[tuple[bool, float]]) -> None:
    """Warm up, wait for the start, then send the share's requests one after another.

    The warm-up requests (their rows are removed before the start) take each connection
    through what only its first requests pay for: PostgreSQL's catalog caches and first
    plans for the statements, psycopg's preparing them, and for the service the rules of
    most instruments read once per process. With 100 requests a client, those first
    requests would otherwise be a large part of a run of a few seconds, while a service's
    pooled connections live for hours."""
    for request in share.warm_up:
        send(request)
    start.wait()
    for request in share.work:
        started = time.perf_counter()
        accepted = send(request)
        results.append((accepted, time.perf_counter() - started))


def _service_client(engine: sa.Engine, exchange_ids: list[str], account_id: int,
                    share: Share, start: StartingLine,
                    results: list[tuple[bool, float]]) -> None:
    """A client of the booking service: one session (and connection) for its lifetime, one
    transaction per request. Like a signed-in web request, it holds the person's account
    with their organisation; the instruments are looked up once through the catalog
    service. Every request books the instrument's hourly service (so it is priced)."""
    # The client keeps its connection (no pool checkout per request), as a worker would. A
    # reservation is one statement on PostgreSQL (see `reservations._book`), so a client that
    # only books runs in autocommit: each request is a transaction of its own, as each bare
    # INSERT of the ceiling is, without a BEGIN and a COMMIT around it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection, \
            Session(connection, expire_on_commit=False) as session:
        account = get_account(session, account_id)
        actor = actor_for(account)
        instruments = [find_instrument(session, exchange_id, record="bench")
                       for exchange_id in exchange_ids]
        hourly = [next(item.id for item in instrument.service_items
                       if item.unit == ServiceUnit.HOUR) for instrument in instruments]
        session.commit()

        def send(request: Request) -> bool:
            try:
                reserve(session, instrument=instruments[request.instrument],
                        period=TimeRange(request.starts_at, request.ends_at),
                        mode=OperationMode.ASSISTED, idempotency_key=uuid.uuid4().hex,
                        actor=actor, now=NOW, service_item_id=hourly[request.instrument])
                session.commit()
                return True
            except SlotTaken:
                # A refused request has written nothing and left the transaction usable, so
                # it is ended with COMMIT: a ROLLBACK would also expire every instrument this
                # long-lived session holds, and each would be read again on its next use.
                session.commit()
                return False

        _serve(send, share, start, results)


def _bare_row(request: Request, bookables: list[Bookable], requester_id: int
              ) -> dict[str, object]:
    """The row a reservation of the instrument's hourly service writes, with no checks."""
    instrument_id, service_item_id = bookables[request.instrument]
    return {"instrument_id": instrument_id, "kind": "reservation",
            "starts_at": request.starts_at, "ends_at": request.ends_at,
            "held_until": request.ends_at, "is_active": True, "created_at": NOW, "reason": "",
            "requester_id": requester_id, "mode": "assisted", "status": "confirmed",
            "purpose": "", "idempotency_key": uuid.uuid4().hex,
            "price_category": "enterprise",
            "service_item_id": service_item_id,
            "price_estimate_fen": ENTERPRISE_FEN_PER_HOUR * (request.ends_at - request.starts_at)
            // HOUR}


# SQLSTATEs of a refused bare INSERT: exclusion violation, deadlock detected.
REFUSALS = frozenset({"23P01", "40P01"})

BARE_INSERT = (
    "INSERT INTO occupancy (instrument_id, kind, starts_at, ends_at, held_until, is_active, "
    "created_at, reason, requester_id, mode, status, purpose, idempotency_key, price_category, "
    "service_item_id, price_estimate_fen) "
    "VALUES (%(instrument_id)s, %(kind)s, %(starts_at)s, %(ends_at)s, %(held_until)s, "
    "%(is_active)s, %(created_at)s, %(reason)s, %(requester_id)s, %(mode)s, %(status)s, "
    "%(purpose)s, %(idempotency_key)s, %(price_category)s, %(service_item_id)s, "
    "%(price_estimate_fen)s)")


def _bare_engine_client(engine: sa.Engine, bookables: list[Bookable], requester_id: int,
                        share: Share, start: StartingLine,
                        results: list[tuple[bool, float]]) -> None:
    """The bare INSERT through the same engine and session the service clients use."""
    table = cast(sa.Table, Occupancy.__table__)
    statement = sa.insert(table)
    with engine.connect() as connection, Session(connection, expire_on_commit=False) as session:

        def send(request: Request) -> bool:
            try:
                session.execute(statement, _bare_row(request, bookables, requester_id))
                session.commit()
                return True
            except sa.exc.DBAPIError as error:
                # Refused by the constraint, or the victim of a deadlock with a racing insert.
                if getattr(error.orig, "sqlstate", None) not in REFUSALS:
                    raise
                session.rollback()
                return False

        _serve(send, share, start, results)


def _bare_client(url: str, bookables: list[Bookable], requester_id: int, share: Share,
                 start: StartingLine, results: list[tuple[bool, float]]) -> None:
    """The bare INSERT straight through psycopg, each in its own transaction."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:

        def send(request: Request) -> bool:
            try:
                connection.execute(BARE_INSERT, _bare_row(request, bookables, requester_id))
                return True
            except (psycopg.errors.ExclusionViolation, psycopg.errors.DeadlockDetected):
                # Plain INSERTs racing for overlapping periods can deadlock on each other's
                # rows; PostgreSQL refuses one of them.
                return False

        _serve(send, share, start, results)


def worker(mode: str, url: str, slices: list[Share], exchange_ids: list[str],
           bookables: list[Bookable], account_ids: list[int], start_gate: mp.Event,  # type: ignore[valid-type]
           ready: mp.Queue, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """One process: its share of the clients, each a thread with its own connection."""
    engine = make_engine(url, pool_size=len(slices) + 2, max_overflow=0)
    results: list[tuple[bool, float]] = []
    # A client that fails in set-up breaks the barrier (timeout) instead of leaving the others
    # and the parent waiting for it for ever.
    start = StartingLine(set_up=threading.Barrier(len(slices) + 1, timeout=SET_UP_SECONDS),
                         go=threading.Event())
    threads = []
    for n, share in enumerate(slices):
        if mode == "service":
            thread = threading.Thread(target=_service_client, args=(
                engine, exchange_ids, account_ids[n % len(account_ids)], share, start,
                results))
        elif mode == "engine":
            thread = threading.Thread(target=_bare_engine_client, args=(
                engine, bookables, account_ids[n % len(account_ids)], share, start,
                results))
        else:
            thread = threading.Thread(target=_bare_client, args=(
                url, bookables, account_ids[n % len(account_ids)], share, start,
                results))
        thread.start()
        threads.append(thread)
    start.set_up.wait()
    ready.put(os.getpid())
    start_gate.wait()  # type: ignore[attr-defined]
    start.go.set()
    cpu_at_start = time.process_time()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu_at_start
    engine.dispose()
    out.put((results, cpu))


def run(mode: str, url: str, work: list[Request], warm_up: list[Request], *, clients: int,
        processes: int, exchange_ids: list[str], bookables: list[Bookable],
        account_ids: list[int]) -> tuple[list[tuple[bool, float]], float]:
    """Send `work` from `clients` clients spread over `processes`, once they have sent
    `warm_up` (whose rows are then removed); returns the outcomes and the wall time from the
    common start to the last answer."""
    per_client = [Share(warm_up=warm_up[n::clients], work=work[n::clients])
                  for n in range(clients)]
    empty_bookings(url)  # the warm-up starts from an empty table too
    context = mp.get_context("spawn")
    start_gate, ready, out = context.Event(), context.Queue(), context.Queue()
    procs = []
    for p in range(processes):
        slices = per_client[p::processes]
        proc = context.Process(target=worker, args=(
            mode, url, slices, exchange_ids, bookables, account_ids, start_gate, ready,
            out))
        proc.start()
        procs.append(proc)
    for _ in procs:
        try:
            ready.get(timeout=SET_UP_SECONDS)
        except queue.Empty:
            for proc in procs:
                proc.kill()
            raise SystemExit(f"a {mode} worker was not set up in {SET_UP_SECONDS} s") from None
    empty_bookings(url)
    database_at_start = database_cpu_seconds()
    started = time.perf_counter()
    start_gate.set()
    results: list[tuple[bool, float]] = []
    client_cpu = 0.0
    for _ in procs:
        while True:
            try:
                answers, cpu = out.get(timeout=1)
                results.extend(answers)
                client_cpu += cpu
                break
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    raise SystemExit(f"a {mode} worker failed before answering") from None
    elapsed = time.perf_counter() - started
    database_cpu = database_cpu_seconds() - database_at_start
    print(f"  {mode}: CPU per request: clients {client_cpu / len(work) * 1e6:.0f} us, "
          f"database {database_cpu / len(work) * 1e6:.0f} us")
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a {mode} worker failed with exit code {proc.exitcode}")
    if len(results) != len(work):
        raise SystemExit(f"{mode}: {len(results)} answers to {len(work)} requests")
    return results, elapsed


def database_cpu_seconds() -> float:
    """CPU time used so far by the local PostgreSQL server's processes (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)
        except OSError:
            continue
        if not fields[0].endswith("(postgres"):
            continue
        rest = fields[1].split()
        # Its own utime and stime, and those of its children that have ended (the server's
        # connection processes, once their client has gone).
        total += sum(int(value) for value in rest[11:15])
    return total / ticks


def empty_bookings(url: str) -> None:
    """An empty table for the next run, and a checkpoint: a run that met a checkpoint would
    write full pages to the WAL for the first change to each, and pay for it."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("TRUNCATE occupancy RESTART IDENTITY")
        connection.execute("CHECKPOINT")


def overlaps(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as connection:
        row = connection.execute(OVERLAP_SQL).fetchone()
        assert row is not None
        return int(row[0])


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--requests", type=int, default=6400,
                        help="requests in all, shared among the clients")
    parser.add_argument("--warm-up", type=int, default=25,
                        help="untimed requests each client sends first (see `_serve`)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--rounds", type=int, default=3,
                        help="ceiling and service measured this many times, alternately")
    options = parser.parse_args()

    url = create_database()
    exchange_ids, account_ids = seed(url)
    with psycopg.connect(libpq_url(url)) as connection:
        by_exchange_id: dict[str, Bookable] = {
            exchange_id: (instrument_id, item_id) for exchange_id, instrument_id, item_id in
            connection.execute(
                "SELECT i.exchange_id, i.id, s.id FROM instrument i "
                "JOIN service_item s ON s.instrument_id = i.id AND s.unit = 'hour'")}
    bookables = [by_exchange_id[e] for e in exchange_ids]
    work = requests(options.requests, options.seed)
    # Drawn like the run's own requests, from another seed.
    warm_up = requests(options.clients * options.warm_up, options.seed + 1)

    def send(mode: str) -> tuple[list[tuple[bool, float]], float]:
        return run(mode, url, work, warm_up, clients=options.clients,
                   processes=options.processes,
                   exchange_ids=exchange_ids, bookables=bookables,
                   account_ids=account_ids)

    print(f"database {DATABASE}: {INSTRUMENTS} instruments, {len(work)} requests over "
          f"{DAYS} days from {options.clients} clients in {options.processes} processes")

    def summary(results: list[tuple[bool, float]], seconds: float) -> str:
        accepted = sum(ok for ok, _ in results)
        return (f"{len(results) / seconds:.0f} requests/s ({accepted} accepted, "
                f"{len(results) - accepted} refused) in {seconds:.2f} s, "
                f"p95 {p95([t for _, t in results]) * 1000:.1f} ms")

    rounds = [one_round(n, send, summary, url, len(work)) for n in range(1, options.rounds + 1)]
    # The round with the median ratio stands for the run: the machine's noise moves a single
    # round's rates by a fifth or more, the ceiling's as much as the service's.
    middle = sorted(rounds, key=lambda r: r.ratio)[len(rounds) // 2]
    print(f"ratios by round: {', '.join(f'{r.ratio:.2f}' for r in rounds)}; "
          f"median round {middle.number}")
    print(f"BENCH booking clients={options.clients} accepted_per_s={middle.accepted_per_s:.1f} "
          f"rejected_per_s={middle.rejected_per_s:.1f} p95_ms={middle.p95_ms:.1f} "
          f"overlaps={sum(r.overlaps for r in rounds)} ceiling_per_s={middle.ceiling:.1f} "
          f"ratio={middle.ratio:.2f}")
    if any(r.overlaps for r in rounds):
        raise SystemExit("overlapping bookings found")


@dataclass(frozen=True)
class Round:
    number: int
    ceiling: float
    accepted_per_s: float
    rejected_per_s: float
    p95_ms: float
    overlaps: int

    @property
    def ratio(self) -> float:
        return (self.accepted_per_s + self.rejected_per_s) / self.ceiling


def one_round(number: int, send: Callable[[str], tuple[list[tuple[bool, float]], float]],
              summary: Callable[[list[tuple[bool, float]], float], str], url: str,
              count: int) -> Round:
    """The ceiling, the bare INSERT through SQLAlchemy, then the service, each from an empty
    table (see `run`); returns the service's figures, the ceiling and the overlaps found."""
    # The ceiling: bare INSERTs of the same rows by the same clients, each its own
    # transaction, straight through psycopg.
    bare, bare_seconds = send("bare")
    bare_overlaps = overlaps(url)
    ceiling = count / bare_seconds
    print(f"round {number}: bare INSERT ceiling (psycopg): {summary(bare, bare_seconds)}, "
          f"overlaps {bare_overlaps}")
    # The same bare INSERTs through the SQLAlchemy sessions and connections the service
    # clients use: what the booking logic itself costs is the gap between this and the
    # service.
    stack, stack_seconds = send("engine")
    print(f"round {number}: bare INSERT through SQLAlchemy sessions: "
          f"{summary(stack, stack_seconds)}")

    served, seconds = send("service")
    accepted = sum(ok for ok, _ in served)
    found = overlaps(url)
    with psycopg.connect(libpq_url(url)) as connection:
        stored = connection.execute(
            "SELECT count(*) FROM occupancy WHERE kind = 'reservation' "
            "AND status = 'confirmed'").fetchone()
    assert stored is not None
    if stored[0] != accepted:
        raise SystemExit(f"{accepted} accepted but {stored[0]} reservations stored")
    print(f"round {number}: booking service: {summary(served, seconds)}; overlapping pairs "
          f"afterwards: {found}; {count / seconds / (count / stack_seconds):.2f} of the bare "
          f"INSERT through SQLAlchemy sessions, {count / seconds / ceiling:.2f} of the ceiling")
    return Round(number=number, ceiling=ceiling, accepted_per_s=accepted / seconds,
                 rejected_per_s=(len(served) - accepted) / seconds,
                 p95_ms=p95([t for _, t in served]) * 1000, overlaps=found + bare_overlaps)


if __name__ == "__main__":
    main()
