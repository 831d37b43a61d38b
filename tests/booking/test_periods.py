"""Opening hours, the slot grid and range arithmetic, in Shanghai wall-clock time."""

from datetime import UTC, date, datetime, timedelta

from scishare.booking.periods import (
    TimeRange,
    WeeklyPeriod,
    ceil_to_grid,
    floor_to_grid,
    merge,
    on_grid,
    opening_ranges,
    subtract,
)

WEEKDAYS_9_TO_5 = [WeeklyPeriod(day, 9 * 60, 17 * 60) for day in range(5)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class TestOpeningRanges:
    def test_nine_in_shanghai_is_one_in_utc(self) -> None:
        # Monday 30 November 2026; Asia/Shanghai is UTC+8 all year (no daylight saving).
        window = TimeRange(utc(2026, 11, 29, 0), utc(2026, 12, 1, 0))

        found = opening_ranges(WEEKDAYS_9_TO_5, set(), window)

        assert found == [TimeRange(utc(2026, 11, 30, 1), utc(2026, 11, 30, 9))]

    def test_same_offset_in_summer_and_winter(self) -> None:
        for day in (date(2026, 1, 5), date(2026, 7, 6)):  # Mondays
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            found = opening_ranges(WEEKDAYS_9_TO_5, set(),
                                   TimeRange(start, start + timedelta(days=1)))
            assert [r.starts_at.hour for r in found] == [1]

    def test_the_local_day_decides_the_weekday(self) -> None:
        # Saturday 17:00 UTC is already Sunday 01:00 in Shanghai: a Sunday opening applies.
        sunday_night = [WeeklyPeriod(6, 0, 2 * 60)]
        window = TimeRange(utc(2026, 11, 28, 12), utc(2026, 11, 29, 0))

        assert opening_ranges(sunday_night, set(), window) == [
            TimeRange(utc(2026, 11, 28, 16), utc(2026, 11, 28, 18))]

    def test_a_holiday_closes_the_whole_local_day(self) -> None:
        window = TimeRange(utc(2026, 9, 30, 0), utc(2026, 10, 3, 0))

        found = opening_ranges(WEEKDAYS_9_TO_5, {date(2026, 10, 1)}, window)

        assert [r.starts_at.date() for r in found] == [date(2026, 9, 30), date(2026, 10, 2)]

    def test_round_the_clock_days_join_across_midnight(self) -> None:
        always = [WeeklyPeriod(day, 0, 24 * 60) for day in range(7)]
        window = TimeRange(utc(2026, 11, 30, 5), utc(2026, 12, 3, 5))

        assert opening_ranges(always, set(), window) == [window]

    def test_clipped_to_the_window(self) -> None:
        window = TimeRange(utc(2026, 11, 30, 2), utc(2026, 11, 30, 3))

        assert opening_ranges(WEEKDAYS_9_TO_5, set(), window) == [window]


class TestRangeArithmetic:
    def test_merge_joins_touching_and_overlapping(self) -> None:
        a, b, c = (TimeRange(utc(2026, 1, 1, h), utc(2026, 1, 1, h + 2)) for h in (0, 2, 5))
        assert merge([c, b, a]) == [TimeRange(a.starts_at, b.ends_at), c]

    def test_subtract_cuts_holes(self) -> None:
        day = TimeRange(utc(2026, 1, 1, 0), utc(2026, 1, 1, 10))
        hole = TimeRange(utc(2026, 1, 1, 3), utc(2026, 1, 1, 4))
        assert subtract([day], [hole]) == [TimeRange(day.starts_at, hole.starts_at),
                                           TimeRange(hole.ends_at, day.ends_at)]

    def test_half_open_ranges_that_touch_do_not_overlap(self) -> None:
        a = TimeRange(utc(2026, 1, 1, 0), utc(2026, 1, 1, 1))
        b = TimeRange(utc(2026, 1, 1, 1), utc(2026, 1, 1, 2))
        assert not a.overlaps(b)
        assert a.overlaps(TimeRange(utc(2026, 1, 1, 0, 59), utc(2026, 1, 1, 2)))


class TestSlotGrid:
    def test_grid_counts_from_local_midnight(self) -> None:
        # 90-minute slots: 00:00, 01:30, 03:00 … Shanghai time; 01:30 local is 17:30 UTC.
        assert on_grid(utc(2026, 1, 1, 17, 30), 90)
        assert not on_grid(utc(2026, 1, 1, 17, 0), 90)

    def test_rounding_to_the_grid(self) -> None:
        moment = utc(2026, 1, 1, 1, 10)
        assert ceil_to_grid(moment, 30) == utc(2026, 1, 1, 1, 30)
        assert floor_to_grid(moment, 30) == utc(2026, 1, 1, 1, 0)
        assert ceil_to_grid(utc(2026, 1, 1, 1, 30), 30) == utc(2026, 1, 1, 1, 30)
