"""Random sequences of reserve / move / cancel / blackout / lift never leave two active
bookings of an instrument overlapping, on SQLite and on PostgreSQL.

After every step the bookings are checked by plain SQL over the tables (not through the
services), and against a model of what each instrument holds: every request that the model
says fits must be accepted, every other one refused with SlotTaken, and a refused move must
leave the reservation where it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)
from hypothesis.stateful import (
    run_state_machine_as_test as run_machine,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.models import Role
from scishare.accounts.service import Actor
from scishare.booking.errors import SlotTaken
from scishare.booking.models import (
    BlackoutKind,
    Occupancy,
    OperationMode,
    Reservation,
    ReservationStatus,
)
from scishare.booking.periods import TimeRange
from scishare.booking.service import (
    add_blackout,
    cancel_reservation,
    get_reservation,
    lift_blackout,
    move_reservation,
    reserve,
)
from tests.accounts.factories import an_organisation
from tests.booking.factories import (
    a_bookable_instrument,
    a_key,
    a_person,
    a_policy,
    every_day,
    overlapping_pairs,
    shanghai,
)

SLOT = timedelta(minutes=30)
SLOTS = 24  # twelve hours of half-hour slots: small enough for plenty of collisions
BUFFERS = (timedelta(minutes=30), timedelta(0))  # one instrument with a buffer, one without

MACHINE_SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])


def test_bookings_never_overlap(session: Session, now: datetime) -> None:
    provider = an_organisation(session)
    instruments = [a_bookable_instrument(session, organisation=provider, policy=a_policy(
        lead_minutes=0, cancel_deadline_minutes=0, buffer_minutes=int(buffer / SLOT) * 30,
        max_minutes=SLOTS * 30, opening_hours=every_day())) for buffer in BUFFERS]
    operator = a_person(session, organisation=provider, roles=(Role.OPERATOR,))
    users = [a_person(session), a_person(session)]
    first_slot = shanghai(2026, 11, 26, 8)
    session.flush()

    class Bookings(RuleBasedStateMachine):
        reservations = Bundle("reservations")
        blackouts = Bundle("blackouts")

        def __init__(self) -> None:
            super().__init__()
            self.savepoint = session.begin_nested()
            # What the model says each instrument holds: reference -> held period.
            self.held: list[dict[str, TimeRange]] = [{} for _ in instruments]
            self.owner: dict[int, Actor] = {}

        def teardown(self) -> None:
            self.savepoint.rollback()
            session.expire_all()

        def _period(self, start: int, length: int) -> TimeRange:
            begin = first_slot + start * SLOT
            return TimeRange(begin, begin + length * SLOT)

        def _fits(self, which: int, held: TimeRange, *, ignore: str | None = None) -> bool:
            return not any(ref != ignore and held.overlaps(other)
                           for ref, other in self.held[which].items())

        def _held(self, which: int, period: TimeRange) -> TimeRange:
            return TimeRange(period.starts_at, period.ends_at + BUFFERS[which])

        @rule(target=reservations, which=st.integers(0, 1), who=st.integers(0, 1),
              start=st.integers(0, SLOTS - 1), length=st.integers(1, 6))
        def reserve(self, which: int, who: int, start: int,
                    length: int) -> tuple[int, int]:
            period = self._period(start, length)
            held = self._held(which, period)
            expected = self._fits(which, held)
            try:
                reservation = reserve(session, instrument=instruments[which], period=period,
                                      mode=OperationMode.ASSISTED, idempotency_key=a_key(),
                                      actor=users[who], now=now)
            except SlotTaken:
                assert not expected, f"refused a free period {period}"
                return (which, -1)
            assert expected, f"accepted {period} over {self.held[which]}"
            self.held[which][f"r{reservation.id}"] = held
            self.owner[reservation.id] = users[who]
            return (which, reservation.id)

        @rule(target=reservations, booked=reservations, start=st.integers(0, SLOTS - 1),
              length=st.integers(1, 6), by_operator=st.booleans())
        def move(self, booked: tuple[int, int], start: int, length: int,
                 by_operator: bool) -> tuple[int, int]:
            which, reservation_id = booked
            ref = f"r{reservation_id}"
            if ref not in self.held[which]:
                return booked
            reservation = get_reservation(session, f"R{reservation_id:07d}")
            period = self._period(start, length)
            held = self._held(which, period)
            expected = self._fits(which, held, ignore=ref)
            actor = operator if by_operator else self.owner[reservation_id]
            before = (reservation.starts_at, reservation.ends_at)
            try:
                move_reservation(session, reservation, period=period, actor=actor, now=now)
            except SlotTaken:
                assert not expected, f"refused moving to a free period {period}"
                session.expire_all()
                again = session.get(Reservation, reservation_id)
                assert again is not None
                assert (again.starts_at, again.ends_at) == before, "old period not kept"
                return booked
            assert expected, f"moved onto a taken period {period}"
            self.held[which][ref] = held
            return booked

        @rule(booked=consumes(reservations), by_operator=st.booleans())
        def cancel(self, booked: tuple[int, int], by_operator: bool) -> None:
            which, reservation_id = booked
            ref = f"r{reservation_id}"
            if ref not in self.held[which]:
                return
            reservation = get_reservation(session, f"R{reservation_id:07d}")
            actor = operator if by_operator else self.owner[reservation_id]
            cancel_reservation(session, reservation, actor=actor, now=now,
                               reason="计划变更" if by_operator else "")
            del self.held[which][ref]

        @rule(target=blackouts, which=st.integers(0, 1), start=st.integers(0, SLOTS - 1),
              length=st.integers(1, 8), displace=st.booleans())
        def blackout(self, which: int, start: int, length: int,
                     displace: bool) -> tuple[int, int]:
            period = self._period(start, length)
            if displace:
                for ref, held in list(self.held[which].items()):
                    if ref.startswith("r") and held.overlaps(period):
                        del self.held[which][ref]
            expected = self._fits(which, period)
            try:
                blackout = add_blackout(session, instrument=instruments[which], period=period,
                                        kind=BlackoutKind.MAINTENANCE, reason="维护",
                                        actor=operator, now=now,
                                        displace_reservations=displace)
            except SlotTaken:
                assert not expected, f"refused a blackout over a free period {period}"
                return (which, -1)
            assert expected, f"blackout accepted over {self.held[which]}"
            self.held[which][f"b{blackout.id}"] = period
            return (which, blackout.id)

        @rule(blocked=consumes(blackouts))
        def lift(self, blocked: tuple[int, int]) -> None:
            which, blackout_id = blocked
            if f"b{blackout_id}" not in self.held[which]:
                return
            lift_blackout(session, instrument=instruments[which], blackout_id=blackout_id,
                          actor=operator, now=now)
            del self.held[which][f"b{blackout_id}"]

        @invariant()
        def nothing_overlaps(self) -> None:
            assert overlapping_pairs(session) == 0

        @invariant()
        def the_database_holds_what_the_model_holds(self) -> None:
            ids = [instrument.id for instrument in instruments]
            rows = session.execute(select(Occupancy.instrument_id, Occupancy.starts_at,
                                          Occupancy.held_until).where(
                Occupancy.is_active.is_(True), Occupancy.instrument_id.in_(ids))).all()
            found = sorted((ids.index(i), TimeRange(s, e)) for i, s, e in rows)
            assert found == sorted((which, held) for which, refs in enumerate(self.held)
                                   for held in refs.values())
            cancelled = session.scalar(select(Reservation.id).where(
                Reservation.status == ReservationStatus.CANCELLED,
                Reservation.id.in_([int(ref[1:]) for refs in self.held for ref in refs
                                    if ref.startswith("r")])).limit(1))
            assert cancelled is None

    run_machine(Bookings, settings=MACHINE_SETTINGS)

