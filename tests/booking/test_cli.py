"""`scishare booking sweep-no-shows [--at]` marks reservations nobody turned up for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scishare.booking.models import Reservation, ReservationStatus
from scishare.catalog.service import sync_reference_data
from scishare.cli import app
from scishare.core.database import get_engine, session_scope
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings
from tests.booking.factories import a_reservation, a_world, local_range, shanghai

runner = CliRunner()


@pytest.fixture
def reservation_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A fresh SQLite database made the CLI's, with one confirmed reservation on 2 December
    2026, 09:00–11:00 Shanghai time."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("SCISHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    with session_scope() as session:
        sync_reference_data(session)
        world = a_world(session)
        reservation = a_reservation(session, world, local_range(2026, 12, 2, "09:00", "11:00"),
                                    now=shanghai(2026, 11, 30, 9))
        found = reservation.id
    yield found
    get_settings.cache_clear()
    get_engine.cache_clear()


def _status(reservation_id: int) -> ReservationStatus:
    with session_scope() as session:
        reservation = session.get(Reservation, reservation_id)
        assert reservation is not None
        return reservation.status


def test_marks_a_reservation_nobody_started(reservation_id: int) -> None:
    before = runner.invoke(app, ["booking", "sweep-no-shows", "--at", "2026-12-02T09:05+08:00"])
    assert before.exit_code == 0, before.output
    assert "0 marked" in before.output
    assert _status(reservation_id) == ReservationStatus.CONFIRMED

    after = runner.invoke(app, ["booking", "sweep-no-shows", "--at", "2026-12-02T11:00+08:00"])

    assert after.exit_code == 0, after.output
    assert f"no-show: reservation {reservation_id}" in after.output
    assert "1 marked as no-show" in after.output
    assert _status(reservation_id) == ReservationStatus.NO_SHOW


def test_a_moment_without_a_time_zone_is_refused(reservation_id: int) -> None:
    result = runner.invoke(app, ["booking", "sweep-no-shows", "--at", "2026-12-02T11:00"])

    assert result.exit_code == 2
    assert "has no time zone" in result.output
    assert _status(reservation_id) == ReservationStatus.CONFIRMED
