"""When an instrument can be booked: its rules, opening hours, holidays and free periods.

Opening hours and holidays are Asia/Shanghai wall-clock rules; every computed period is aware
UTC and half-open. An instrument whose provider has set no rules follows `DEFAULT_RULES`
(Monday to Friday 08:30–17:30 Shanghai time, 30-minute slots); its policy says so
(`is_default`) wherever it is shown.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import (
    Date,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.booking.errors import (
    BadDuration,
    BadPeriod,
    BadPolicy,
    BeyondHorizon,
    HolidayClash,
    OffGrid,
    OutsideOpeningHours,
    PeriodInPast,
    TooShortNotice,
)
from scishare.booking.models import (
    BookingPolicy,
    Holiday,
    Occupancy,
    OccupancyKind,
    OpeningPeriod,
    Reservation,
    ReservationStatus,
)
from scishare.booking.occupancy import taken_between
from scishare.booking.periods import (
    LOCAL_TZ,
    MINUTES_PER_DAY,
    TimeRange,
    WeeklyPeriod,
    local_days,
    merge,
    on_grid,
    on_grid_ranges,
    open_within,
    opening_ranges,
    subtract,
)
from scishare.booking.schemas import (
    BookingPolicyRead,
    BookingPolicyUpdate,
    CalendarBlock,
    CalendarRead,
    HolidayCreate,
    OpeningPeriodSpec,
    clock_minutes,
    clock_text,
)
from scishare.catalog.models import Instrument
from scishare.core.database import is_postgres

# The longest window a calendar or free-period question may span.
MAX_WINDOW = timedelta(days=93)


@dataclass(frozen=True, slots=True)
class BookingRules:
    """The booking rules of one instrument as the services apply them."""

    slot_minutes: int
    min_minutes: int
    max_minutes: int
    lead_minutes: int
    horizon_days: int
    buffer_minutes: int
    cancel_deadline_minutes: int
    no_show_after_minutes: int
    requires_approval: bool
    opening: tuple[WeeklyPeriod, ...]
    is_default: bool

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    def bookable_window(self, now: datetime) -> TimeRange:
        """From the end of the lead time to the end of the horizon."""
        return TimeRange(now + timedelta(minutes=self.lead_minutes),
                         now + timedelta(days=self.horizon_days))

    def held(self, period: TimeRange) -> TimeRange:
        """What a reservation of `period` occupies: the period and the buffer after it."""
        return TimeRange(period.starts_at, period.ends_at + self.buffer)


def _rules_from(policy: BookingPolicyUpdate, *, is_default: bool) -> BookingRules:
    return BookingRules(
        slot_minutes=policy.slot_minutes, min_minutes=policy.min_minutes,
        max_minutes=policy.max_minutes, lead_minutes=policy.lead_minutes,
        horizon_days=policy.horizon_days, buffer_minutes=policy.buffer_minutes,
        cancel_deadline_minutes=policy.cancel_deadline_minutes,
        no_show_after_minutes=policy.no_show_after_minutes,
        requires_approval=policy.requires_approval,
        opening=tuple(WeeklyPeriod(spec.weekday, clock_minutes(spec.opens),
                                   clock_minutes(spec.closes)) for spec in policy.opening_hours),
        is_default=is_default)


DEFAULT_RULES = _rules_from(BookingPolicyUpdate(), is_default=True)


_POLICY = cast(Table, BookingPolicy.__table__)
_OPENING = cast(Table, OpeningPeriod.__table__)
_HOLIDAY = cast(Table, Holiday.__table__)
# The policy's columns, named and ordered as the fields of BookingRules they fill.
_RULE_COLUMNS = tuple(field.name for field in dataclasses.fields(BookingRules)
                      if field.name not in ("opening", "is_default"))


# Built once: the booking hot path runs these for every request, and a statement built anew
# each time costs more Python than the query costs the database.
_RULES = (select(*(_POLICY.c[name] for name in _RULE_COLUMNS), _OPENING.c.weekday,
                 _OPENING.c.opens_minute, _OPENING.c.closes_minute)
          .select_from(_POLICY.outerjoin(
              _OPENING, _OPENING.c.instrument_id == _POLICY.c.instrument_id))
          .where(_POLICY.c.instrument_id == bindparam("instrument_id")))
_HOLIDAYS = select(*(sa.cast(sa.null(), _POLICY.c[name].type).label(name)
                     for name in _RULE_COLUMNS),
                   sa.cast(sa.null(), Integer).label("weekday"),
                   sa.cast(sa.null(), Integer).label("opens_minute"),
                   sa.cast(sa.null(), Integer).label("closes_minute"),
                   _HOLIDAY.c.closed_on).where(
    _HOLIDAY.c.instrument_id == bindparam("instrument_id"),
    _HOLIDAY.c.closed_on >= bindparam("first_day"),
    _HOLIDAY.c.closed_on <= bindparam("last_day"))
_RULES_AND_HOLIDAYS = union_all(
    _RULES.add_columns(sa.cast(sa.null(), Date).label("closed_on")), _HOLIDAYS)


def _rules_from_rows(rows: Sequence[Any]) -> BookingRules:
    policy = [row for row in rows if row.slot_minutes is not None]
    if not policy:
        return DEFAULT_RULES
    first = policy[0]
    # By position (the booking hot path reads these rows on every request): the policy
    # columns lead every row, in the order of `_RULE_COLUMNS`.
    return BookingRules(
        **dict(zip(_RULE_COLUMNS, first, strict=False)),
        opening=tuple(sorted(WeeklyPeriod(row.weekday, row.opens_minute, row.closes_minute)
                             for row in policy if row.weekday is not None)),
        is_default=False)


def booking_rules(session: Session, instrument: Instrument) -> BookingRules:
    """The instrument's rules as stored now, in one query (read as rows, never from a stale
    identity map): the policy once per opening period, or once with none."""
    return _rules_from_rows(session.execute(_RULES, {"instrument_id": instrument.id}).all())


def _holiday_span(period: TimeRange) -> dict[str, date]:
    """The local days `period` touches, and the day before (whose opening may run past
    midnight)."""
    days = list(local_days(period))
    return {"first_day": days[0] - timedelta(days=1), "last_day": days[-1]}


def rules_and_closed_days(session: Session, instrument: Instrument,
                          period: TimeRange) -> tuple[BookingRules, set[date]]:
    """`booking_rules` and `closed_days` for `period` in one round trip (the booking hot
    path): the policy rows and the holiday rows as one UNION ALL."""
    rows = session.execute(_RULES_AND_HOLIDAYS,
                           rules_parameters(instrument.id, period)).all()
    return (_rules_from_rows(rows),
            {row.closed_on for row in rows if row.closed_on is not None})


def rules_parameters(instrument_id: int, period: TimeRange) -> dict[str, Any]:
    """The parameters of the rules-and-holidays query (and of `rules_after`) for `period`."""
    return {"instrument_id": instrument_id, **_holiday_span(period)}


# PostgreSQL: the policy as one array of integers (requires_approval as 0 or 1), its opening
# periods as an array of (weekday, opens, closes) and the holidays as an array of dates: one
# row of three arrays reads much faster than a row for each period.
_POLICY_ARRAY = select(pg_array([
    sa.cast(_POLICY.c[name], Integer) if name == "requires_approval" else _POLICY.c[name]
    for name in _RULE_COLUMNS])).where(
    _POLICY.c.instrument_id == bindparam("instrument_id")).scalar_subquery()
_OPENING_ARRAY = select(func.array_agg(pg_array([
    _OPENING.c.weekday, _OPENING.c.opens_minute, _OPENING.c.closes_minute]))).where(
    _OPENING.c.instrument_id == bindparam("instrument_id")).scalar_subquery()
# The policy's revision (None for an instrument without a policy, on the default rules).
POLICY_REVISION = select(_POLICY.c.revision).where(
    _POLICY.c.instrument_id == bindparam("instrument_id")).scalar_subquery()
# The holidays around a period (see `rules_parameters`), in date order so that statements can
# compare them with the days a request was checked against; None for none.
CLOSED_DAYS = select(func.array_agg(aggregate_order_by(
    _HOLIDAY.c.closed_on, _HOLIDAY.c.closed_on))).where(
    _HOLIDAY.c.instrument_id == bindparam("instrument_id"),
    _HOLIDAY.c.closed_on >= bindparam("first_day"),
    _HOLIDAY.c.closed_on <= bindparam("last_day")).scalar_subquery()
_STORED_RULES = select(POLICY_REVISION.label("revision"), _POLICY_ARRAY.label("policy"),
                       _OPENING_ARRAY.label("opening"), CLOSED_DAYS.label("closed"))


@dataclass(frozen=True)
class StoredRules:
    """An instrument's rules as stored, with the policy's revision (None: default rules)."""

    revision: int | None
    rules: BookingRules


def stored_rules(session: Session, instrument: Instrument,
                 period: TimeRange) -> tuple[StoredRules, list[date] | None]:
    """The instrument's rules, with their revision, and the holidays around `period` (None
    for none), as stored now, in one row (PostgreSQL)."""
    revision, policy, opening, closed = session.execute(
        _STORED_RULES, rules_parameters(instrument.id, period)).one()
    if policy is None:
        rules = DEFAULT_RULES
    else:
        values: dict[str, Any] = dict(zip(_RULE_COLUMNS, policy, strict=True))
        values["requires_approval"] = bool(values["requires_approval"])
        rules = BookingRules(**values, opening=tuple(sorted(
            WeeklyPeriod(*period) for period in opening or ())), is_default=False)
    return StoredRules(revision=revision, rules=rules), closed


def read_policy(instrument: Instrument, rules: BookingRules) -> BookingPolicyRead:
    """The rules as the API shows them, opening hours as local clock times."""
    return BookingPolicyRead(
        instrument_id=instrument.exchange_id, is_default=rules.is_default,
        slot_minutes=rules.slot_minutes, min_minutes=rules.min_minutes,
        max_minutes=rules.max_minutes, lead_minutes=rules.lead_minutes,
        horizon_days=rules.horizon_days, buffer_minutes=rules.buffer_minutes,
        cancel_deadline_minutes=rules.cancel_deadline_minutes,
        no_show_after_minutes=rules.no_show_after_minutes,
        requires_approval=rules.requires_approval,
        opening_hours=[OpeningPeriodSpec(weekday=p.weekday, opens=clock_text(p.opens_minute),
                                         closes=clock_text(p.closes_minute))
                       for p in rules.opening])


def instrument_target(instrument: Instrument) -> Target:
    """Where an action on the instrument lands, for `authorize`."""
    return Target(organisation_id=instrument.organisation_id,
                  region_code=instrument.region_code)


def _policy_problems(policy: BookingPolicyUpdate) -> list[tuple[str, str]]:
    """(field, reason) for every rule that does not fit the others."""
    found: list[tuple[str, str]] = []
    slot = policy.slot_minutes
    if MINUTES_PER_DAY % slot:
        found.append(("slot_minutes", "must divide a day (1440 minutes) evenly"))
        return found
    for field in ("min_minutes", "max_minutes"):
        if getattr(policy, field) % slot:
            found.append((field, f"must be a whole number of {slot}-minute slots"))
    if policy.max_minutes < policy.min_minutes:
        found.append(("max_minutes", "below the minimum duration"))
    if policy.max_minutes > policy.horizon_days * MINUTES_PER_DAY:
        found.append(("max_minutes", "longer than the booking horizon"))
    by_day: dict[int, list[tuple[int, int]]] = {}
    for index, spec in enumerate(policy.opening_hours):
        field = f"opening_hours.{index}"
        opens, closes = clock_minutes(spec.opens), clock_minutes(spec.closes)
        if closes <= opens:
            found.append((field, f"closes ({spec.closes}) before it opens ({spec.opens})"))
        elif opens % slot or closes % slot:
            found.append((field, f"opening times must be on the {slot}-minute slot grid"))
        else:
            by_day.setdefault(spec.weekday, []).append((opens, closes))
    for weekday, spans in by_day.items():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
            found.append(("opening_hours", f"periods of weekday {weekday} overlap"))
    return found


def set_booking_policy(session: Session, *, instrument: Instrument,
                       policy: BookingPolicyUpdate, actor: Actor,
                       now: datetime) -> BookingRules:
    """Replace the instrument's booking rules and weekly opening hours as a whole.

    Existing reservations are kept as they are; the rules apply to new requests and moves.
    """
    record = f"instrument {instrument.exchange_id}"
    authorize(actor, Action.SET_AVAILABILITY, instrument_target(instrument), record=record)
    for field, reason in _policy_problems(policy):
        raise BadPolicy(reason, record=record, field=field)
    values = policy.model_dump(exclude={"opening_hours"})
    stored = session.get(BookingPolicy, instrument.id)
    if stored is None:
        stored = BookingPolicy(instrument_id=instrument.id, **values, revision=1,
                               updated_at=now, updated_by_id=actor.account_id or None)
        session.add(stored)
    else:
        for key, value in values.items():
            setattr(stored, key, value)
        # Counted by the database, so that two changes at once make two revisions.
        stored.revision = BookingPolicy.revision + 1
        stored.updated_at, stored.updated_by_id = now, actor.account_id or None
    session.execute(delete(OpeningPeriod).where(OpeningPeriod.instrument_id == instrument.id))
    session.add_all(OpeningPeriod(instrument_id=instrument.id, weekday=spec.weekday,
                                  opens_minute=clock_minutes(spec.opens),
                                  closes_minute=clock_minutes(spec.closes))
                    for spec in policy.opening_hours)
    session.flush()
    return booking_rules(session, instrument)


# Holidays ------------------------------------------------------------------------------------

def closed_days(session: Session, instrument: Instrument, window: TimeRange) -> set[date]:
    """The instrument's holidays among the local days `window` touches."""
    return {row.closed_on for row in session.execute(
        _HOLIDAYS, {"instrument_id": instrument.id, **_holiday_span(window)})}


_LOCK_OUT_NEW_BOOKINGS = sa.text(f"LOCK TABLE {Occupancy.__tablename__} IN SHARE MODE")


def add_holiday(session: Session, *, instrument: Instrument, holiday: HolidayCreate,
                actor: Actor, now: datetime) -> Holiday:
    """Close the instrument on a local day; refused while reservations are held that day."""
    record = f"instrument {instrument.exchange_id}"
    authorize(actor, Action.SET_AVAILABILITY, instrument_target(instrument), record=record)
    existing = session.scalar(select(Holiday).where(Holiday.instrument_id == instrument.id,
                                                    Holiday.closed_on == holiday.closed_on))
    if existing is not None:
        existing.name = holiday.name
        session.flush()
        return existing
    if is_postgres(session):
        # A reservation being written for this day, or sent before this transaction ends,
        # reads the holidays in a snapshot without this one. SHARE mode waits for the
        # reservations in flight, so that the check below sees them, and holds new ones back
        # until this transaction ends; PostgreSQL takes a statement's snapshot after its
        # locks, so those then see the holiday. (On SQLite one writer works at a time.)
        session.execute(_LOCK_OUT_NEW_BOOKINGS)
    day = TimeRange(datetime.combine(holiday.closed_on, datetime.min.time(), tzinfo=LOCAL_TZ),
                    datetime.combine(holiday.closed_on + timedelta(days=1),
                                     datetime.min.time(), tzinfo=LOCAL_TZ)).in_utc()
    held = session.scalars(select(Reservation.id).where(
        Reservation.instrument_id == instrument.id,
        Reservation.status.in_([ReservationStatus.PENDING, ReservationStatus.CONFIRMED]),
        Reservation.starts_at < day.ends_at, Reservation.ends_at > day.starts_at)).all()
    if held:
        raise HolidayClash(f"{len(held)} reservation(s) held on {holiday.closed_on}: move or "
                           "cancel them first", record=record, field="closed_on")
    row = Holiday(instrument_id=instrument.id, closed_on=holiday.closed_on, name=holiday.name)
    session.add(row)
    session.flush()
    return row


def remove_holiday(session: Session, *, instrument: Instrument, closed_on: date,
                   actor: Actor) -> None:
    """Open the instrument again on a day that was a holiday (no-op if it was not)."""
    authorize(actor, Action.SET_AVAILABILITY, instrument_target(instrument),
              record=f"instrument {instrument.exchange_id}")
    session.execute(delete(Holiday).where(Holiday.instrument_id == instrument.id,
                                          Holiday.closed_on == closed_on))


def list_holidays(session: Session, instrument: Instrument) -> list[Holiday]:
    """The instrument's closed days, in date order."""
    return list(session.scalars(select(Holiday).where(
        Holiday.instrument_id == instrument.id).order_by(Holiday.closed_on)))


# Checking a requested period -----------------------------------------------------------------

def check_period_shape(period: TimeRange, *, record: str) -> TimeRange:
    """The period in UTC, if it is aware, non-empty and not inverted."""
    for field, moment in (("starts_at", period.starts_at), ("ends_at", period.ends_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise BadPeriod("give the time with its offset (e.g. +08:00)", record=record,
                            field=field)
    if period.ends_at < period.starts_at:
        raise BadPeriod("ends before it starts", record=record, field="ends_at")
    if period.ends_at == period.starts_at:
        raise BadPeriod("has no length (ends when it starts)", record=record, field="ends_at")
    return period.in_utc()


def check_bookable(*, rules: BookingRules, closed: set[date], period: TimeRange,
                   now: datetime, record: str) -> None:
    """Raise the first rule `period` breaks: past, lead time, horizon, duration, slot grid,
    opening hours or holidays. Whether it is free is the database's to say."""
    if period.starts_at < now:
        raise PeriodInPast("starts in the past", record=record, field="starts_at")
    window = rules.bookable_window(now)
    if period.starts_at < window.starts_at:
        raise TooShortNotice(f"must be booked at least {rules.lead_minutes} minutes ahead",
                             record=record, field="starts_at")
    if period.ends_at > window.ends_at:
        raise BeyondHorizon(f"bookings are taken only {rules.horizon_days} days ahead",
                            record=record, field="ends_at")
    minutes = period.duration / timedelta(minutes=1)
    if minutes < rules.min_minutes:
        raise BadDuration(f"shorter than the minimum of {rules.min_minutes} minutes",
                          record=record, field="ends_at")
    if minutes > rules.max_minutes:
        raise BadDuration(f"longer than the maximum of {rules.max_minutes} minutes",
                          record=record, field="ends_at")
    for field, moment in (("starts_at", period.starts_at), ("ends_at", period.ends_at)):
        if not on_grid(moment, rules.slot_minutes):
            raise OffGrid(f"must fall on the {rules.slot_minutes}-minute slot grid "
                          "(Shanghai time)", record=record, field=field)
    if not open_within(rules.opening, closed, period):
        raise OutsideOpeningHours("not within the instrument's opening hours (Shanghai "
                                  "time) or falls on a holiday", record=record,
                                  field="starts_at")


# Free periods and the calendar ---------------------------------------------------------------

def _check_window(window: TimeRange, *, record: str) -> TimeRange:
    window = check_period_shape(window, record=record)
    if window.duration > MAX_WINDOW:
        raise BadPeriod(f"ask for at most {MAX_WINDOW.days} days at a time", record=record,
                        field="ends_at")
    return window


def _free(session: Session, instrument: Instrument, rules: BookingRules,
          window: TimeRange, now: datetime) -> list[TimeRange]:
    bookable = window.clip(rules.bookable_window(now))
    if bookable is None:
        return []
    probe = TimeRange(bookable.starts_at - rules.buffer, bookable.ends_at + rules.buffer)
    # A new period [s, e) holds [s, e + buffer); it is free of an occupancy [os, oe) exactly
    # when [s, e) stays clear of [os - buffer, oe).
    taken = [TimeRange(held.starts_at - rules.buffer, held.ends_at)
             for held, _kind in taken_between(session, instrument_id=instrument.id,
                                              window=probe)]
    open_ranges = opening_ranges(rules.opening, closed_days(session, instrument, bookable),
                                 bookable)
    return on_grid_ranges(subtract(open_ranges, taken), slot_minutes=rules.slot_minutes,
                          min_length=timedelta(minutes=rules.min_minutes))


def free_periods(session: Session, *, instrument: Instrument, window: TimeRange,
                 now: datetime) -> list[TimeRange]:
    """The periods within `window` in which a booking of at least the minimum duration fits,
    on the slot grid, within opening hours, lead time and horizon."""
    record = f"instrument {instrument.exchange_id}"
    window = _check_window(window, record=record)
    return _free(session, instrument, booking_rules(session, instrument), window, now)


def next_free_slot(session: Session, *, instrument: Instrument, duration: timedelta,
                   now: datetime, not_before: datetime | None = None) -> TimeRange | None:
    """The earliest bookable period of exactly `duration`, or None within the horizon."""
    record = f"instrument {instrument.exchange_id}"
    rules = booking_rules(session, instrument)
    minutes = duration / timedelta(minutes=1)
    if minutes <= 0:
        raise BadDuration("must be longer than zero", record=record, field="duration")
    if minutes < rules.min_minutes or minutes > rules.max_minutes:
        raise BadDuration(f"must be between {rules.min_minutes} and {rules.max_minutes} "
                          "minutes", record=record, field="duration")
    if minutes % rules.slot_minutes:
        raise BadDuration(f"must be a whole number of {rules.slot_minutes}-minute slots",
                          record=record, field="duration")
    start = max(now, not_before) if not_before is not None else now
    horizon_end = rules.bookable_window(now).ends_at
    while start < horizon_end:
        window = TimeRange(start, min(start + MAX_WINDOW, horizon_end))
        for free in _free(session, instrument, rules, window, now):
            if free.duration >= duration:
                return TimeRange(free.starts_at, free.starts_at + duration)
        if window.ends_at >= horizon_end:
            break
        # Overlap the next window by one duration so that no slot across the seam is missed.
        start = window.ends_at - duration
    return None


def instrument_calendar(session: Session, *, instrument: Instrument, window: TimeRange,
                        now: datetime) -> CalendarRead:
    """The instrument's time within `window`, each stretch free, booked, blocked or closed."""
    record = f"instrument {instrument.exchange_id}"
    window = _check_window(window, record=record)
    rules = booking_rules(session, instrument)
    held = taken_between(session, instrument_id=instrument.id, window=window)
    blocks: list[CalendarBlock] = []
    for period, kind in held:
        part = period.clip(window)
        if part is not None:
            blocks.append(CalendarBlock(
                starts_at=part.starts_at, ends_at=part.ends_at,
                state="booked" if kind is OccupancyKind.RESERVATION else "blocked"))
    free = _free(session, instrument, rules, window, now)
    blocks.extend(CalendarBlock(starts_at=f.starts_at, ends_at=f.ends_at, state="free")
                  for f in free)
    covered = merge([TimeRange(b.starts_at, b.ends_at) for b in blocks])
    blocks.extend(CalendarBlock(starts_at=c.starts_at, ends_at=c.ends_at, state="closed")
                  for c in subtract([window], covered))
    blocks.sort(key=lambda b: (b.starts_at, b.ends_at))
    return CalendarRead(instrument_id=instrument.exchange_id, starts_at=window.starts_at,
                        ends_at=window.ends_at, slot_minutes=rules.slot_minutes, blocks=blocks)
