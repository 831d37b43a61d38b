"""Booking rules, free periods, the next free slot and the calendar of an instrument."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.service import SYSTEM
from scishare.booking.errors import BadDuration, BadPeriod, BadPolicy, HolidayClash
from scishare.booking.models import BlackoutKind
from scishare.booking.periods import TimeRange
from scishare.booking.schemas import HolidayCreate, OpeningPeriodSpec
from scishare.booking.service import (
    DEFAULT_RULES,
    add_blackout,
    add_holiday,
    booking_rules,
    free_periods,
    instrument_calendar,
    next_free_slot,
    read_policy,
    remove_holiday,
    set_booking_policy,
)
from tests.booking.factories import (
    World,
    a_person,
    a_policy,
    a_reservation,
    a_world,
    every_day,
    local_range,
    refused,
    shanghai,
)
from tests.catalog.factories import an_instrument

WEDNESDAY = local_range(2026, 11, 25, "00:00", "23:59")


class TestBookingPolicy:
    def test_an_instrument_without_rules_follows_the_defaults(self, session: Session) -> None:
        instrument = an_instrument(session)

        rules = booking_rules(session, instrument)

        assert rules == DEFAULT_RULES
        policy = read_policy(instrument, rules)
        assert policy.is_default
        assert [(p.weekday, p.opens, p.closes) for p in policy.opening_hours] == [
            (day, "08:30", "17:30") for day in range(5)]

    def test_replaces_rules_and_opening_hours(self, session: Session, world: World,
                                              now: datetime) -> None:
        set_booking_policy(session, instrument=world.instrument, policy=a_policy(
            slot_minutes=60, min_minutes=60, max_minutes=240, buffer_minutes=15,
            opening_hours=[OpeningPeriodSpec(weekday=5, opens="10:00", closes="16:00")]),
            actor=world.operator, now=now)

        rules = booking_rules(session, world.instrument)
        assert (rules.slot_minutes, rules.max_minutes, rules.buffer_minutes) == (60, 240, 15)
        assert [(p.weekday, p.opens_minute, p.closes_minute) for p in rules.opening] == [
            (5, 600, 960)]
        assert not rules.is_default

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"slot_minutes": 7}, "slot_minutes"),
        ({"min_minutes": 45}, "min_minutes"),
        ({"min_minutes": 120, "max_minutes": 60}, "max_minutes"),
        ({"opening_hours": [OpeningPeriodSpec(weekday=0, opens="17:00", closes="09:00")]},
         "opening_hours.0"),
        ({"opening_hours": [OpeningPeriodSpec(weekday=0, opens="09:10", closes="12:00")]},
         "opening_hours.0"),
        ({"opening_hours": [OpeningPeriodSpec(weekday=0, opens="09:00", closes="12:00"),
                            OpeningPeriodSpec(weekday=0, opens="11:00", closes="14:00")]},
         "opening_hours"),
    ])
    def test_refuses_rules_that_do_not_fit(self, session: Session, world: World,
                                           now: datetime, overrides: dict[str, object],
                                           field: str) -> None:
        refused(session, BadPolicy, field, lambda: set_booking_policy(
            session, instrument=world.instrument, policy=a_policy(**overrides),
            actor=world.operator, now=now))

    def test_only_the_owners_staff_set_rules(self, session: Session, world: World,
                                             now: datetime) -> None:
        refused(session, NotAllowed, None, lambda: set_booking_policy(
            session, instrument=world.instrument, policy=a_policy(), actor=world.user,
            now=now))


class TestFreePeriods:
    def test_opening_hours_are_shanghai_time(self, session: Session, now: datetime) -> None:
        world = a_world(session, policy=a_policy(opening_hours=[
            OpeningPeriodSpec(weekday=2, opens="09:00", closes="12:00")]))

        free = free_periods(session, instrument=world.instrument, window=WEDNESDAY, now=now)

        # 09:00–12:00 in Shanghai is 01:00–04:00 UTC.
        assert free == [TimeRange(datetime(2026, 11, 25, 1, tzinfo=UTC),
                                  datetime(2026, 11, 25, 4, tzinfo=UTC))]

    def test_bookings_and_blackouts_are_cut_out(self, session: Session, world: World,
                                                now: datetime) -> None:
        a_reservation(session, world, local_range(2026, 11, 25, "10:00", "11:00"), now=now)
        add_blackout(session, instrument=world.instrument,
                     period=local_range(2026, 11, 25, "13:00", "15:00"),
                     kind=BlackoutKind.CALIBRATION, reason="年度校准", actor=world.operator,
                     now=now)

        free = free_periods(session, instrument=world.instrument, window=WEDNESDAY, now=now)

        assert free == [local_range(2026, 11, 25, "08:30", "10:00"),
                        local_range(2026, 11, 25, "11:00", "13:00"),
                        local_range(2026, 11, 25, "15:00", "17:30")]

    def test_the_buffer_is_kept_on_both_sides(self, session: Session, now: datetime) -> None:
        world = a_world(session, policy=a_policy(buffer_minutes=30))
        a_reservation(session, world, local_range(2026, 11, 25, "10:00", "11:00"), now=now)

        free = free_periods(session, instrument=world.instrument, window=WEDNESDAY, now=now)

        # A booking ending at 09:30 holds until 10:00; the one at 10:00 holds until 11:30.
        assert free == [local_range(2026, 11, 25, "08:30", "09:30"),
                        local_range(2026, 11, 25, "11:30", "17:30")]

    def test_lead_time_and_horizon_limit_them(self, session: Session, world: World,
                                              now: datetime) -> None:
        today = local_range(2026, 11, 24, "00:00", "23:59")

        free = free_periods(session, instrument=world.instrument, window=today, now=now)

        # Now is 10:00; with an hour's notice the first bookable slot is at 11:00.
        assert free == [local_range(2026, 11, 24, "11:00", "17:30")]
        beyond = local_range(2027, 2, 1, "00:00", "23:59")
        assert free_periods(session, instrument=world.instrument, window=beyond,
                            now=now) == []

    def test_a_holiday_has_none(self, session: Session, world: World, now: datetime) -> None:
        add_holiday(session, instrument=world.instrument,
                    holiday=HolidayCreate(closed_on=date(2026, 11, 25), name="校庆"),
                    actor=world.operator, now=now)

        assert free_periods(session, instrument=world.instrument, window=WEDNESDAY,
                            now=now) == []

        remove_holiday(session, instrument=world.instrument, closed_on=date(2026, 11, 25),
                       actor=world.operator)
        assert free_periods(session, instrument=world.instrument, window=WEDNESDAY, now=now)

    def test_refuses_an_inverted_or_huge_window(self, session: Session, world: World,
                                                now: datetime) -> None:
        with pytest.raises(BadPeriod):
            free_periods(session, instrument=world.instrument,
                         window=TimeRange(WEDNESDAY.ends_at, WEDNESDAY.starts_at), now=now)
        with pytest.raises(BadPeriod):
            free_periods(session, instrument=world.instrument, window=TimeRange(
                now, now + timedelta(days=200)), now=now)


class TestNextFreeSlot:
    def test_finds_the_first_gap_long_enough(self, session: Session, world: World,
                                             now: datetime) -> None:
        a_reservation(session, world, local_range(2026, 11, 24, "12:00", "17:30"), now=now)
        a_reservation(session, world, local_range(2026, 11, 25, "08:30", "10:00"), now=now,
                      actor=a_person(session))

        slot = next_free_slot(session, instrument=world.instrument,
                              duration=timedelta(hours=2), now=now)

        assert slot == local_range(2026, 11, 25, "10:00", "12:00")

    def test_a_short_slot_fits_before_the_first_booking(self, session: Session, world: World,
                                                        now: datetime) -> None:
        a_reservation(session, world, local_range(2026, 11, 24, "12:00", "17:30"), now=now)

        slot = next_free_slot(session, instrument=world.instrument,
                              duration=timedelta(hours=1), now=now)

        assert slot == local_range(2026, 11, 24, "11:00", "12:00")

    def test_none_when_nothing_fits_within_the_horizon(self, session: Session,
                                                       now: datetime) -> None:
        world = a_world(session, policy=a_policy(horizon_days=2, opening_hours=[
            OpeningPeriodSpec(weekday=2, opens="09:00", closes="10:00")]))

        assert next_free_slot(session, instrument=world.instrument,
                              duration=timedelta(hours=1), now=now) == (
            local_range(2026, 11, 25, "09:00", "10:00"))
        a_reservation(session, world, local_range(2026, 11, 25, "09:00", "10:00"), now=now)
        assert next_free_slot(session, instrument=world.instrument,
                              duration=timedelta(hours=1), now=now) is None

    def test_spans_midnight_on_round_the_clock_instruments(self, session: Session,
                                                           now: datetime) -> None:
        world = a_world(session, policy=a_policy(max_minutes=24 * 60,
                                                 opening_hours=every_day()))
        a_reservation(session, world, local_range(2026, 11, 24, "11:00", "19:00"), now=now)

        slot = next_free_slot(session, instrument=world.instrument,
                              duration=timedelta(hours=12), now=now)

        assert slot == TimeRange(shanghai(2026, 11, 24, 19), shanghai(2026, 11, 25, 7))

    @pytest.mark.parametrize("minutes", [0, 45, 600])
    def test_refuses_durations_the_rules_do_not_allow(self, session: Session, world: World,
                                                      now: datetime, minutes: int) -> None:
        with pytest.raises(BadDuration) as caught:
            next_free_slot(session, instrument=world.instrument,
                           duration=timedelta(minutes=minutes), now=now)
        assert caught.value.field == "duration"


class TestCalendar:
    def test_shows_free_booked_blocked_and_closed(self, session: Session, world: World,
                                                  now: datetime) -> None:
        a_reservation(session, world, local_range(2026, 11, 25, "10:00", "11:00"), now=now)
        add_blackout(session, instrument=world.instrument,
                     period=local_range(2026, 11, 25, "13:00", "15:00"),
                     kind=BlackoutKind.MAINTENANCE, reason="更换灯丝", actor=world.operator,
                     now=now)
        window = TimeRange(shanghai(2026, 11, 25), shanghai(2026, 11, 26))

        calendar = instrument_calendar(session, instrument=world.instrument, window=window,
                                       now=now)

        assert [(b.starts_at, b.ends_at, b.state) for b in calendar.blocks] == [
            (shanghai(2026, 11, 25), shanghai(2026, 11, 25, 8, 30), "closed"),
            (shanghai(2026, 11, 25, 8, 30), shanghai(2026, 11, 25, 10), "free"),
            (shanghai(2026, 11, 25, 10), shanghai(2026, 11, 25, 11), "booked"),
            (shanghai(2026, 11, 25, 11), shanghai(2026, 11, 25, 13), "free"),
            (shanghai(2026, 11, 25, 13), shanghai(2026, 11, 25, 15), "blocked"),
            (shanghai(2026, 11, 25, 15), shanghai(2026, 11, 25, 17, 30), "free"),
            (shanghai(2026, 11, 25, 17, 30), shanghai(2026, 11, 26), "closed"),
        ]


class TestHolidays:
    def test_refused_on_a_day_with_reservations(self, session: Session, world: World,
                                                now: datetime) -> None:
        a_reservation(session, world, local_range(2026, 11, 25, "10:00", "11:00"), now=now)

        refused(session, HolidayClash, "closed_on", lambda: add_holiday(
            session, instrument=world.instrument,
            holiday=HolidayCreate(closed_on=date(2026, 11, 25), name="校庆"),
            actor=world.operator, now=now))

    def test_only_the_owners_staff(self, session: Session, world: World,
                                   now: datetime) -> None:
        refused(session, NotAllowed, None, lambda: add_holiday(
            session, instrument=world.instrument,
            holiday=HolidayCreate(closed_on=date(2026, 12, 1), name="x"), actor=world.user,
            now=now))
        add_holiday(session, instrument=world.instrument,
                    holiday=HolidayCreate(closed_on=date(2026, 12, 1), name="x"),
                    actor=SYSTEM, now=now)
