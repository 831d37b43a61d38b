"""Blackouts share the reservations' guard: neither can take the other's time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.service import Actor
from scishare.booking.errors import BadTransition, PeriodInPast, SlotTaken
from scishare.booking.models import Blackout, BlackoutKind, ReservationStatus
from scishare.booking.periods import TimeRange
from scishare.booking.service import add_blackout, blackouts_of, lift_blackout
from scishare.core.errors import InvalidInput
from tests.booking.factories import (
    World,
    a_person,
    a_reservation,
    local_range,
    refused,
)

WEDNESDAY_MORNING = local_range(2026, 11, 25, "09:00", "11:00")
WEDNESDAY = local_range(2026, 11, 25, "00:00", "23:30")


def block(session: Session, world: World, now: datetime, *,
          period: TimeRange = WEDNESDAY_MORNING, reason: str = "更换X光管",
          actor: Actor | None = None, displace_reservations: bool = False) -> Blackout:
    return add_blackout(session, instrument=world.instrument, period=period,
                        kind=BlackoutKind.MAINTENANCE, reason=reason,
                        actor=actor or world.operator, now=now,
                        displace_reservations=displace_reservations)


class TestBlackout:
    def test_a_blackout_keeps_reservations_out(self, session: Session, world: World,
                                               now: datetime) -> None:
        block(session, world, now)

        refused(session, SlotTaken, "starts_at",
                lambda: a_reservation(session, world, WEDNESDAY_MORNING, now=now))

    def test_a_reservation_keeps_blackouts_out(self, session: Session, world: World,
                                               now: datetime) -> None:
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)

        refused(session, SlotTaken, "starts_at", lambda: block(session, world, now))

    def test_displacing_cancels_the_reservations_in_the_way(self, session: Session,
                                                           world: World,
                                                           now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        elsewhere = a_reservation(session, world, local_range(2026, 11, 26, "09:00", "10:00"),
                                  now=now, actor=a_person(session))

        blackout = block(session, world, now, period=WEDNESDAY, displace_reservations=True)

        assert reservation.status == ReservationStatus.CANCELLED
        assert "更换X光管" in reservation.reason
        assert elsewhere.status == ReservationStatus.CONFIRMED
        assert blackouts_of(session, instrument=world.instrument, window=WEDNESDAY) == [
            blackout]

    def test_lifting_frees_the_period(self, session: Session, world: World,
                                      now: datetime) -> None:
        blackout = block(session, world, now)

        lift_blackout(session, instrument=world.instrument, blackout_id=blackout.id,
                      actor=world.operator, now=now)

        assert a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, BadTransition, "lifted_at", lambda: lift_blackout(
            session, instrument=world.instrument, blackout_id=blackout.id,
            actor=world.operator, now=now))

    def test_needs_a_reason_and_a_future_end(self, session: Session, world: World,
                                             now: datetime) -> None:
        refused(session, InvalidInput, "reason", lambda: block(session, world, now,
                                                               reason=" "))
        refused(session, PeriodInPast, "ends_at", lambda: block(
            session, world, now, period=local_range(2026, 11, 23, "09:00", "10:00")))

    def test_only_the_owners_staff(self, session: Session, world: World,
                                   now: datetime) -> None:
        refused(session, NotAllowed, None, lambda: block(session, world, now,
                                                         actor=world.user))
