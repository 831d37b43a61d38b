"""After reserving: approval, moves, cancellations, check-in, finishing and no-shows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.booking.errors import (
    BadTransition,
    CancellationDeadlinePassed,
    NotYours,
    OutsideOpeningHours,
    SlotTaken,
)
from scishare.booking.models import Occupancy, ReservationStatus
from scishare.booking.service import (
    approve_reservation,
    cancel_reservation,
    check_in,
    finish_reservation,
    get_reservation,
    mark_no_show,
    move_reservation,
    reject_reservation,
    sweep_no_shows,
)
from scishare.core.errors import InvalidInput
from tests.booking.factories import (
    World,
    a_person,
    a_policy,
    a_reservation,
    a_world,
    local_range,
    refused,
    shanghai,
)

WEDNESDAY_MORNING = local_range(2026, 11, 25, "09:00", "11:00")
THURSDAY_MORNING = local_range(2026, 11, 26, "09:00", "11:00")


def held(session: Session, reservation_id: int) -> tuple[datetime, datetime, bool]:
    """What the database holds for the reservation: its period and whether it is active."""
    row = session.execute(select(Occupancy.starts_at, Occupancy.ends_at, Occupancy.is_active)
                          .where(Occupancy.id == reservation_id)).one()
    return row[0], row[1], row[2]


class TestApproval:
    @pytest.fixture
    def world(self, session: Session) -> World:
        return a_world(session, policy=a_policy(requires_approval=True))

    def test_operator_approves(self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)

        approve_reservation(session, get_reservation(session, reservation.code),
                            actor=world.operator, now=now)

        assert reservation.status == ReservationStatus.CONFIRMED
        assert reservation.decided_by_id == world.operator.account_id

    def test_the_user_cannot_approve_their_own(self, session: Session, world: World,
                                               now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, NotAllowed, None, lambda: approve_reservation(
            session, reservation, actor=world.user, now=now))

    def test_another_organisations_operator_cannot(self, session: Session, world: World,
                                                   now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        stranger = a_world(session).operator
        refused(session, NotAllowed, None, lambda: approve_reservation(
            session, reservation, actor=stranger, now=now))

    def test_rejecting_needs_a_reason_and_frees_the_period(self, session: Session,
                                                          world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, InvalidInput, "reason", lambda: reject_reservation(
            session, reservation, actor=world.operator, reason=" ", now=now))

        reject_reservation(session, reservation, actor=world.operator, reason="样品不适用",
                           now=now)

        assert reservation.status == ReservationStatus.REJECTED
        assert reservation.reason == "样品不适用"
        assert not held(session, reservation.id)[2]
        assert a_reservation(session, world, WEDNESDAY_MORNING, now=now,
                             actor=a_person(session))

    def test_cannot_approve_twice(self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        approve_reservation(session, reservation, actor=world.operator, now=now)
        refused(session, BadTransition, "status", lambda: approve_reservation(
            session, reservation, actor=world.operator, now=now))


class TestCancel:
    def test_user_cancels_before_the_deadline(self, session: Session, world: World,
                                              now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)

        cancel_reservation(session, reservation, actor=world.user, now=now)

        assert reservation.status == ReservationStatus.CANCELLED
        assert not held(session, reservation.id)[2]
        # The period is free again.
        assert a_reservation(session, world, THURSDAY_MORNING, now=now,
                             actor=a_person(session))

    def test_user_cannot_cancel_after_the_deadline(self, session: Session, world: World,
                                                   now: datetime) -> None:
        # The deadline is 24 hours before the start: Wednesday 09:00 is 23 hours away.
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)

        refused(session, CancellationDeadlinePassed, "starts_at",
                lambda: cancel_reservation(session, reservation, actor=world.user, now=now))

    def test_operator_cancels_any_time_with_a_reason(self, session: Session, world: World,
                                                     now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, InvalidInput, "reason", lambda: cancel_reservation(
            session, reservation, actor=world.operator, now=now))

        cancel_reservation(session, reservation, actor=world.operator, now=now,
                           reason="仪器故障")

        assert reservation.status == ReservationStatus.CANCELLED
        assert reservation.cancelled_by_id == world.operator.account_id

    def test_nobody_else_may(self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        refused(session, NotYours, None, lambda: cancel_reservation(
            session, reservation, actor=a_person(session), now=now, reason="x"))

    def test_cannot_cancel_twice(self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        cancel_reservation(session, reservation, actor=world.user, now=now)
        refused(session, BadTransition, "status",
                lambda: cancel_reservation(session, reservation, actor=world.user, now=now))


class TestMove:
    def test_moves_to_a_free_period(self, session: Session, world: World,
                                    now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        friday = local_range(2026, 11, 27, "14:00", "15:00")

        move_reservation(session, reservation, period=friday, actor=world.user, now=now)

        assert (reservation.starts_at, reservation.ends_at) == (friday.starts_at,
                                                                friday.ends_at)
        assert held(session, reservation.id) == (friday.starts_at, friday.ends_at,
                                                           True)
        assert a_reservation(session, world, THURSDAY_MORNING, now=now,
                             actor=a_person(session))

    def test_keeps_the_old_period_when_the_new_one_is_taken(self, session: Session,
                                                            world: World,
                                                            now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        a_reservation(session, world, local_range(2026, 11, 27, "09:00", "10:00"), now=now,
                      actor=a_person(session))

        refused(session, SlotTaken, "starts_at", lambda: move_reservation(
            session, reservation, period=local_range(2026, 11, 27, "09:30", "11:00"),
            actor=world.user, now=now))

        session.expire_all()
        again = get_reservation(session, reservation.code)
        assert (again.starts_at, again.ends_at) == (THURSDAY_MORNING.starts_at,
                                                    THURSDAY_MORNING.ends_at)
        assert held(session, again.id) == (THURSDAY_MORNING.starts_at,
                                                     THURSDAY_MORNING.ends_at, True)

    def test_may_overlap_its_own_old_period(self, session: Session, world: World,
                                            now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        later = local_range(2026, 11, 26, "10:00", "12:00")

        move_reservation(session, reservation, period=later, actor=world.user, now=now)

        assert reservation.starts_at == later.starts_at

    def test_the_new_period_must_follow_the_rules(self, session: Session, world: World,
                                                  now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        refused(session, OutsideOpeningHours, "starts_at", lambda: move_reservation(
            session, reservation, period=local_range(2026, 11, 28, "09:00", "10:00"),
            actor=world.user, now=now))

    def test_user_cannot_move_after_the_deadline_but_the_operator_can(
            self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, CancellationDeadlinePassed, "starts_at", lambda: move_reservation(
            session, reservation, period=THURSDAY_MORNING, actor=world.user, now=now))

        move_reservation(session, reservation, period=THURSDAY_MORNING, actor=world.operator,
                         now=now)
        assert reservation.starts_at == THURSDAY_MORNING.starts_at

    def test_a_moved_reservation_waits_for_approval_again(self, session: Session,
                                                          now: datetime) -> None:
        world = a_world(session, policy=a_policy(requires_approval=True))
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        approve_reservation(session, reservation, actor=world.operator, now=now)

        move_reservation(session, reservation, period=local_range(2026, 11, 27, "09:00",
                                                                  "10:00"),
                         actor=world.user, now=now)

        assert reservation.status == ReservationStatus.PENDING


class TestUse:
    def test_check_in_and_finish(self, session: Session, world: World, now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, BadTransition, "starts_at",
                lambda: check_in(session, reservation, actor=world.user, now=now))

        check_in(session, reservation, actor=world.user, now=shanghai(2026, 11, 25, 8, 45))
        finish_reservation(session, reservation, actor=world.operator,
                           now=shanghai(2026, 11, 25, 10, 50))

        assert reservation.status == ReservationStatus.COMPLETED
        assert reservation.checked_in_at == shanghai(2026, 11, 25, 8, 45)

    def test_operator_marks_a_no_show_after_the_grace_period(self, session: Session,
                                                             world: World,
                                                             now: datetime) -> None:
        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, BadTransition, "status", lambda: mark_no_show(
            session, reservation, actor=world.operator, now=shanghai(2026, 11, 25, 9, 10)))

        mark_no_show(session, reservation, actor=world.operator,
                     now=shanghai(2026, 11, 25, 9, 30))

        assert reservation.status == ReservationStatus.NO_SHOW
        assert not held(session, reservation.id)[2]

    def test_sweep_marks_only_those_not_started_in_time(self, session: Session, world: World,
                                                        now: datetime) -> None:
        started = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        missed = a_reservation(session, world, local_range(2026, 11, 25, "11:00", "12:00"),
                               now=now, actor=a_person(session))
        upcoming = a_reservation(session, world, local_range(2026, 11, 25, "14:00", "15:00"),
                                 now=now, actor=a_person(session))
        check_in(session, started, actor=world.user, now=shanghai(2026, 11, 25, 9, 0))

        marked = sweep_no_shows(session, now=shanghai(2026, 11, 25, 11, 30))

        assert [r.id for r in marked] == [missed.id]
        assert missed.status == ReservationStatus.NO_SHOW
        assert started.status == ReservationStatus.IN_PROGRESS
        assert upcoming.status == ReservationStatus.CONFIRMED

    def test_the_deadline_counts_from_the_start(self, session: Session, world: World,
                                                now: datetime) -> None:
        reservation = a_reservation(session, world, THURSDAY_MORNING, now=now)
        just_in_time = THURSDAY_MORNING.starts_at - timedelta(hours=24)

        cancel_reservation(session, reservation, actor=world.user, now=just_in_time)

        assert reservation.status == ReservationStatus.CANCELLED
