"""Half-open time ranges in aware UTC, and the Asia/Shanghai wall clock they are planned on.

Pure functions, no database: the arithmetic behind opening hours, the slot grid and free
periods, kept apart so that it can be tested (and reasoned about) on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from scishare.core.clock import DISPLAY_TZ

LOCAL_TZ = DISPLAY_TZ
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """`[starts_at, ends_at)` in aware time; an empty or inverted range is never built here
    from user input without going through the services' checks."""

    starts_at: datetime
    ends_at: datetime

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def overlaps(self, other: TimeRange) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def contains(self, other: TimeRange) -> bool:
        return self.starts_at <= other.starts_at and other.ends_at <= self.ends_at

    def clip(self, other: TimeRange) -> TimeRange | None:
        """The part of `self` inside `other`, or None."""
        start, end = max(self.starts_at, other.starts_at), min(self.ends_at, other.ends_at)
        return TimeRange(start, end) if start < end else None

    def in_utc(self) -> TimeRange:
        return TimeRange(self.starts_at.astimezone(UTC), self.ends_at.astimezone(UTC))


@dataclass(frozen=True, slots=True, order=True)
class WeeklyPeriod:
    """Open from `opens_minute` to `closes_minute` (0–1440) local time on `weekday` (Mon=0)."""

    weekday: int
    opens_minute: int
    closes_minute: int


@lru_cache(maxsize=8192)
def local_moment(day: date, minute: int) -> datetime:
    """Minute `minute` (0–1440) of local day `day`, as aware UTC. Cached: every booking
    request turns the opening hours of the days it touches into moments, and requests
    crowd onto the same few weeks."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=LOCAL_TZ)
    return wall.astimezone(UTC)


def local_days(period: TimeRange) -> Iterator[date]:
    """Every local calendar day that `period` touches."""
    day = period.starts_at.astimezone(LOCAL_TZ).date()
    last = (period.ends_at - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def merge(ranges: Iterable[TimeRange]) -> list[TimeRange]:
    """The union of `ranges` as sorted, disjoint ranges; touching ranges become one."""
    merged: list[TimeRange] = []
    for item in sorted(ranges):
        if merged and item.starts_at <= merged[-1].ends_at:
            last = merged[-1]
            merged[-1] = TimeRange(last.starts_at, max(last.ends_at, item.ends_at))
        else:
            merged.append(item)
    return merged


def subtract(ranges: Iterable[TimeRange], taken: Iterable[TimeRange]) -> list[TimeRange]:
    """The parts of the disjoint sorted `ranges` not covered by any of `taken`."""
    holes = merge(taken)
    result: list[TimeRange] = []
    for item in ranges:
        start = item.starts_at
        for hole in holes:
            if hole.ends_at <= start or hole.starts_at >= item.ends_at:
                continue
            if hole.starts_at > start:
                result.append(TimeRange(start, hole.starts_at))
            start = max(start, hole.ends_at)
            if start >= item.ends_at:
                break
        if start < item.ends_at:
            result.append(TimeRange(start, item.ends_at))
    return result


def opening_ranges(weekly: Iterable[WeeklyPeriod], closed_days: set[date],
                   window: TimeRange) -> list[TimeRange]:
    """When the instrument is open within `window`: the weekly pattern in local time, minus
    closed days, merged (so that 24-hour days join up) and clipped to `window`."""
    first = window.starts_at.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    last = window.ends_at.astimezone(LOCAL_TZ).date()
    return [part for item in open_days(tuple(weekly), frozenset(closed_days), first, last)
            if (part := item.clip(window)) is not None]


def open_within(weekly: Iterable[WeeklyPeriod], closed_days: set[date],
                period: TimeRange) -> bool:
    """Whether the instrument is open for the whole of `period` (a booking's check)."""
    first = period.starts_at.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    last = period.ends_at.astimezone(LOCAL_TZ).date()
    return any(part.contains(period) for part in open_days(
        tuple(weekly), frozenset(closed_days), first, last))


@lru_cache(maxsize=4096)
def open_days(weekly: tuple[WeeklyPeriod, ...], closed_days: frozenset[date], first: date,
              last: date) -> tuple[TimeRange, ...]:
    """The merged opening of local days `first` to `last`. Cached: bookings ask for the same
    few weeks of the same few patterns over and over."""
    by_weekday: dict[int, list[WeeklyPeriod]] = {}
    for period in weekly:
        by_weekday.setdefault(period.weekday, []).append(period)
    found: list[TimeRange] = []
    day = first
    while day <= last:
        if day not in closed_days:
            for period in by_weekday.get(day.weekday(), []):
                found.append(TimeRange(local_moment(day, period.opens_minute),
                                       local_moment(day, period.closes_minute)))
        day += timedelta(days=1)
    return tuple(merge(found))


def minute_of_day(moment: datetime) -> float:
    """Minutes since local midnight, with fractions for seconds."""
    local = moment.astimezone(LOCAL_TZ)
    return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60


def on_grid(moment: datetime, slot_minutes: int) -> bool:
    """Whether `moment` falls on the slot grid counted from local midnight."""
    local = moment.astimezone(LOCAL_TZ)
    return (local.second == 0 and local.microsecond == 0
            and (local.hour * 60 + local.minute) % slot_minutes == 0)


def ceil_to_grid(moment: datetime, slot_minutes: int) -> datetime:
    """The first grid point at or after `moment`."""
    if on_grid(moment, slot_minutes):
        return moment
    local = moment.astimezone(LOCAL_TZ)
    midnight = datetime.combine(local.date(), time(0), tzinfo=LOCAL_TZ)
    minutes = (local.hour * 60 + local.minute) // slot_minutes * slot_minutes + slot_minutes
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def floor_to_grid(moment: datetime, slot_minutes: int) -> datetime:
    """The last grid point at or before `moment`."""
    local = moment.astimezone(LOCAL_TZ)
    midnight = datetime.combine(local.date(), time(0), tzinfo=LOCAL_TZ)
    minutes = (local.hour * 60 + local.minute) // slot_minutes * slot_minutes
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


def on_grid_ranges(ranges: Iterable[TimeRange], *, slot_minutes: int,
                   min_length: timedelta) -> list[TimeRange]:
    """Each range shrunk to the slot grid, kept if at least `min_length` remains."""
    kept: list[TimeRange] = []
    for item in ranges:
        start = ceil_to_grid(item.starts_at, slot_minutes)
        end = floor_to_grid(item.ends_at, slot_minutes)
        if end - start >= min_length:
            kept.append(TimeRange(start, end))
    return kept
