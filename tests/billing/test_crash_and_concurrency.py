"""On PostgreSQL, with committed data: a settlement run killed with SIGKILL and run again
leaves no order unsettled and none settled twice; concurrent runs never overdraw a budget.

The data is set up by the settlement benchmark's own set-up (services) and its documented
bench-only seeding of completed orders (`bench/bench_settlement.py`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.billing import ledger
from scishare.billing.settlement import settle_batch
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade
from tests.conftest import drop_postgres_database, fresh_postgres_database

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import bench_settlement  # noqa: E402

NOW = datetime(2026, 12, 1, 2, tzinfo=UTC)
ORDERS = 3_000

SETTLE_LOOP = """
import sys, time
from datetime import UTC, datetime
from sqlalchemy.orm import Session
from scishare.accounts.service import SYSTEM
from scishare.billing.settlement import settle_batch
from scishare.core.database import make_engine
engine = make_engine(sys.argv[1])
while True:
    with Session(engine) as session:
        run = settle_batch(session, actor=SYSTEM, now=datetime(2026, 12, 1, 2, tzinfo=UTC),
                           limit=20)
        session.commit()
    print(run.settled, flush=True)
    if not run.settled:
        break
"""


def seeded(name: str, *, budget_fen: int = 20_000_000_000) -> tuple[str, dict[str, Any]]:
    url = fresh_postgres_database(f"{name}_{os.getpid()}")
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        world = bench_settlement.set_up(session, enterprises=30, budget_fen=budget_fen)
        session.commit()
    bench_settlement.seed_orders(engine, world, orders=ORDERS)
    engine.dispose()
    return url, world


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    budget = getattr(request, "param", 20_000_000_000)
    url, world = seeded(request.node.name.split("[")[0][:30].lower(), budget_fen=budget)
    yield url, world
    drop_postgres_database(sa.make_url(url).database or "")


def count(engine: sa.Engine, query: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(query)).scalar_one())


def test_killed_run_resumes_without_gaps_or_duplicates(
        database: tuple[str, dict[str, Any]]) -> None:
    url, _ = database
    engine = make_engine(url)
    process = subprocess.Popen([sys.executable, "-c", SETTLE_LOOP, url],
                               stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while count(engine, "SELECT count(*) FROM settlement") < 200:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert 0 < count(engine, "SELECT count(*) FROM settlement") < ORDERS

    while True:
        with Session(engine) as session:
            run = settle_batch(session, actor=SYSTEM, now=NOW, limit=500)
            session.commit()
        if not run.settled:
            break

    assert count(engine, "SELECT count(*) FROM settlement") == ORDERS
    assert count(engine, "SELECT count(DISTINCT source_id) FROM settlement") == ORDERS
    assert count(engine, "SELECT count(*) FROM journal WHERE kind = 'settlement'") == ORDERS
    # Every order's journal has exactly the postings its settlement calls for.
    assert count(engine, """
        SELECT count(*) FROM settlement s WHERE (SELECT count(*) FROM posting p
         WHERE p.journal_id = s.journal_id) <> 2 + (s.voucher_fen > 0)::int
                                                 + (s.platform_fee_fen > 0)::int
                                                 + (s.premium_fen > 0)::int""") == 0
    with Session(engine) as session:
        assert ledger.trial_balance(session) == 0
        assert ledger.unbalanced_journals(session) == []
    engine.dispose()


@pytest.mark.parametrize("database", [3_000_000], indirect=True)
def test_concurrent_runs_never_overdraw_a_programme(
        database: tuple[str, dict[str, Any]]) -> None:
    url, _ = database
    engine = make_engine(url, pool_size=6)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                with Session(engine) as session:
                    run = settle_batch(session, actor=SYSTEM, now=NOW, limit=40)
                    session.commit()
                if not run.settled:
                    return
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert count(engine, "SELECT count(*) FROM settlement") == ORDERS
    assert count(engine, "SELECT count(DISTINCT source_id) FROM settlement") == ORDERS
    # Every budget ran out, and none was overdrawn.
    assert count(engine, "SELECT count(*) FROM voucher_programme "
                         "WHERE committed_fen <> budget_fen") == 0
    assert count(engine, """
        SELECT count(*) FROM voucher_programme v WHERE v.committed_fen <>
         (SELECT coalesce(sum(voucher_fen), 0) FROM settlement s
           WHERE s.programme_id = v.id)""") == 0
    with Session(engine) as session:
        assert ledger.trial_balance(session) == 0
    engine.dispose()
