"""Test database: built by running the migrations, each test in a rolled-back transaction.

Domain tests run on SQLite and on PostgreSQL (the `engine` fixture is parametrised). Outside CI
an unreachable PostgreSQL skips its half; with CI=true it fails the run, loudly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scishare.catalog.service import sync_reference_data
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade

POSTGRES_URL = os.environ.get("SCISHARE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = os.environ.get("SCISHARE_TEST_BACKENDS", "sqlite,postgres").split(",")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", action="append", choices=["sqlite", "postgres"],
                     help="backend(s) to run database tests on (default: both)")


def selected_backends(config: pytest.Config) -> list[str]:
    chosen: list[str] | None = config.getoption("--db")
    return chosen or BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", selected_backends(metafunc.config), scope="session")


def fresh_postgres_database(name: str) -> str:
    """Create an empty database `name` beside the configured one and return its URL.

    Each test run gets its own database, so that runs in parallel (and benchmarks) never
    drop each other's tables. Under CI an unreachable server fails the run; elsewhere the
    PostgreSQL half of the suite is skipped.
    """
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    finally:
        admin.dispose()
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_url(backend: str, tmp_dir: Path, name: str = "scishare") -> str:
    if backend == "postgres":
        return fresh_postgres_database(f"{name}_{os.getpid()}")
    return f"sqlite:///{tmp_dir / f'{name}.db'}"


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = database_url(backend, tmp_path_factory.mktemp(backend))
    upgrade(url)
    built = make_engine(url)
    with Session(built) as session:
        sync_reference_data(session)
        session.commit()
    yield built
    built.dispose()
    if backend == "postgres":
        drop_postgres_database(built.url.database or "")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test; services may flush freely."""
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
