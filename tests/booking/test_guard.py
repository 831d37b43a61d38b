"""The no-overlap guard is in the database itself: plain SQL cannot get past it either."""

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scishare.booking.models import OVERLAP_GUARD, BlackoutKind, Occupancy, OccupancyKind
from scishare.booking.occupancy import violated_constraint
from tests.booking.factories import World

# Plain SQL on the table, past the ORM and the services.
TABLE = cast(Table, Occupancy.__table__)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


def put(session: Session, instrument_id: int, start: datetime, end: datetime, *,
        active: bool = True) -> int:
    with session.begin_nested():
        new_id: int = session.execute(insert(TABLE).values(
            instrument_id=instrument_id, kind=OccupancyKind.BLACKOUT, starts_at=start,
            ends_at=end, held_until=end, is_active=active, created_at=start, reason="test",
            blackout_kind=BlackoutKind.MAINTENANCE).returning(TABLE.c.id)).scalar_one()
    return new_id


def refused(session: Session, action: object) -> str | None:
    with pytest.raises(IntegrityError) as caught:
        action()  # type: ignore[operator]
    return violated_constraint(caught.value)


class TestOverlapGuard:
    def test_refuses_an_overlapping_insert(self, session: Session, world: World) -> None:
        instrument_id = world.instrument.id
        put(session, instrument_id, at(1), at(3))

        assert refused(session, lambda: put(session, instrument_id, at(2), at(4))) == (
            OVERLAP_GUARD)
        assert refused(session, lambda: put(session, instrument_id, at(0), at(5))) == (
            OVERLAP_GUARD)
        assert refused(session, lambda: put(session, instrument_id, at(1, 30), at(2))) == (
            OVERLAP_GUARD)

    def test_touching_periods_and_other_instruments_are_fine(self, session: Session,
                                                             world: World) -> None:
        from tests.booking.factories import a_bookable_instrument

        other = a_bookable_instrument(session)
        put(session, world.instrument.id, at(1), at(3))

        put(session, world.instrument.id, at(3), at(4))
        put(session, world.instrument.id, at(0), at(1))
        put(session, other.id, at(1), at(3))

    def test_inactive_rows_do_not_count_until_activated(self, session: Session,
                                                        world: World) -> None:
        instrument_id = world.instrument.id
        put(session, instrument_id, at(1), at(3))
        sleeping = put(session, instrument_id, at(2), at(4), active=False)

        def wake() -> None:
            with session.begin_nested():
                session.execute(update(TABLE).where(TABLE.c.id == sleeping)
                                .values(is_active=True))

        assert refused(session, wake) == OVERLAP_GUARD

    def test_refuses_moving_onto_another(self, session: Session, world: World) -> None:
        instrument_id = world.instrument.id
        put(session, instrument_id, at(1), at(3))
        later = put(session, instrument_id, at(5), at(6))

        def move() -> None:
            with session.begin_nested():
                session.execute(update(TABLE).where(TABLE.c.id == later)
                                .values(starts_at=at(2, 30)))

        assert refused(session, move) == OVERLAP_GUARD
        # A row may move within its own old period (it does not clash with itself).
        with session.begin_nested():
            session.execute(update(TABLE).where(TABLE.c.id == later)
                            .values(starts_at=at(5, 30), ends_at=at(7), held_until=at(7)))

    def test_refuses_an_empty_or_inverted_period(self, session: Session, world: World) -> None:
        assert refused(session, lambda: put(session, world.instrument.id, at(3), at(3))) != (
            OVERLAP_GUARD)
        assert refused(session, lambda: put(session, world.instrument.id, at(3), at(2))) != (
            OVERLAP_GUARD)
