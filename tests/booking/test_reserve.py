"""Reserving machine time: what is accepted, and every bad request refused with its record,
field and reason while storing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.errors import NotAllowed
from scishare.accounts.models import OrganisationType, Role
from scishare.accounts.service import SYSTEM
from scishare.booking.errors import (
    BadDuration,
    BadPeriod,
    BadServiceItem,
    BeyondHorizon,
    DuplicateSubmission,
    InstrumentNotInService,
    NotOpenToExternalUsers,
    NotQualified,
    OffGrid,
    OutsideOpeningHours,
    PeriodInPast,
    SlotTaken,
    TooShortNotice,
    UnknownInstrument,
)
from scishare.booking.models import (
    BookingPolicy,
    OperationMode,
    PriceCategory,
    Reservation,
    ReservationStatus,
)
from scishare.booking.periods import TimeRange
from scishare.booking.schemas import HolidayCreate, QualificationCreate, ReservationCreate
from scishare.booking.service import (
    add_holiday,
    grant_qualification,
    reserve,
    set_booking_policy,
    submit_reservation,
)
from scishare.catalog.models import LifecycleState, ServiceUnit
from scishare.catalog.schemas import InstrumentUpdate
from scishare.catalog.service import change_lifecycle, update_instrument
from scishare.core.errors import SciShareError
from tests.booking.factories import (
    World,
    a_key,
    a_person,
    a_policy,
    a_reservation,
    a_world,
    item_of,
    local_range,
    refused,
    shanghai,
)

# `now` is Tuesday 24 November 2026, 10:00 in Shanghai (02:00 UTC).
WEDNESDAY_MORNING = local_range(2026, 11, 25, "09:00", "11:00")


class TestReserve:
    def test_books_a_free_period(self, session: Session, world: World,
                                 now: datetime) -> None:
        reservation = reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                              mode=OperationMode.ASSISTED, idempotency_key=a_key(),
                              actor=world.user, now=now,
                              service_item_id=item_of(world.instrument, ServiceUnit.HOUR))

        assert reservation.status == ReservationStatus.CONFIRMED
        assert reservation.starts_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
        assert reservation.ends_at == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
        assert reservation.code == f"R{reservation.id:07d}"
        # Two hours at the enterprise list price of 800.00 yuan an hour.
        assert reservation.price_category == PriceCategory.ENTERPRISE
        assert reservation.price_estimate_fen == 160_000

    @pytest.mark.parametrize(("org_type", "own", "category", "fen"), [
        (OrganisationType.UNIVERSITY, False, PriceCategory.NONPROFIT, 80_000),
        (OrganisationType.INSTITUTE, False, PriceCategory.NONPROFIT, 80_000),
        (OrganisationType.ENTERPRISE, False, PriceCategory.ENTERPRISE, 160_000),
        (OrganisationType.UNIVERSITY, True, PriceCategory.INTERNAL, 40_000),
    ])
    def test_price_estimate_follows_the_users_category(
            self, session: Session, world: World, now: datetime, org_type: OrganisationType,
            own: bool, category: PriceCategory, fen: int) -> None:
        user = (a_person(session, organisation=world.provider) if own
                else a_person(session, org_type=org_type))

        reservation = reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                              mode=OperationMode.ASSISTED, idempotency_key=a_key(),
                              actor=user, now=now,
                              service_item_id=item_of(world.instrument, ServiceUnit.HOUR))

        assert (reservation.price_category, reservation.price_estimate_fen) == (category, fen)

    def test_rejects_overlapping_period(self, session: Session, world: World,
                                        now: datetime) -> None:
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        other = a_person(session)

        for start, end in (("10:00", "12:00"), ("08:30", "09:30"), ("09:30", "10:00"),
                           ("08:30", "12:00")):
            period = local_range(2026, 11, 25, start, end)
            refused(session, SlotTaken, "starts_at", lambda p=period: a_reservation(  # type: ignore[misc]
                session, world, p, now=now, actor=other))

    def test_touching_periods_are_both_taken(self, session: Session, world: World,
                                             now: datetime) -> None:
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)

        after = a_reservation(session, world, local_range(2026, 11, 25, "11:00", "12:00"),
                              now=now, actor=a_person(session))
        before = a_reservation(session, world, local_range(2026, 11, 25, "08:30", "09:00"),
                               now=now, actor=a_person(session))

        assert after.status == before.status == ReservationStatus.CONFIRMED

    def test_buffer_keeps_users_apart(self, session: Session, now: datetime) -> None:
        world = a_world(session, policy=a_policy(buffer_minutes=30))
        a_reservation(session, world, local_range(2026, 11, 25, "09:00", "10:00"), now=now)

        refused(session, SlotTaken, "starts_at", lambda: a_reservation(
            session, world, local_range(2026, 11, 25, "10:00", "11:00"), now=now))
        later = a_reservation(session, world, local_range(2026, 11, 25, "10:30", "11:00"),
                              now=now)
        assert later.status == ReservationStatus.CONFIRMED

    def test_waits_for_approval_where_the_instrument_asks(self, session: Session,
                                                          now: datetime) -> None:
        world = a_world(session, policy=a_policy(requires_approval=True))

        by_user = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        by_operator = a_reservation(session, world, local_range(2026, 11, 26, "09:00", "10:00"),
                                    now=now, actor=world.operator)

        assert by_user.status == ReservationStatus.PENDING
        assert by_operator.status == ReservationStatus.CONFIRMED

    def test_a_pending_reservation_holds_its_period(self, session: Session,
                                                    now: datetime) -> None:
        world = a_world(session, policy=a_policy(requires_approval=True))
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)

        refused(session, SlotTaken, "starts_at", lambda: a_reservation(
            session, world, WEDNESDAY_MORNING, now=now, actor=a_person(session)))

    @pytest.mark.parametrize(("buffer", "approval", "actor"), [
        (0, False, "user"), (30, False, "user"), (15, True, "user"), (15, True, "operator")])
    def test_the_stored_row_is_the_reservation_returned(
            self, session: Session, now: datetime, buffer: int, approval: bool,
            actor: str) -> None:
        # On PostgreSQL the held time and the status are worked out in SQL, in the statement
        # that writes the row; the object returned is built in Python from the same rules.
        world = a_world(session, policy=a_policy(buffer_minutes=buffer,
                                                 requires_approval=approval))
        reservation = reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                              mode=OperationMode.ASSISTED, idempotency_key=a_key(),
                              actor=getattr(world, actor), now=now, purpose=" 物相分析 ",
                              service_item_id=item_of(world.instrument, ServiceUnit.HOUR))
        returned = {column.key: getattr(reservation, column.key)
                    for column in Reservation.__mapper__.column_attrs}

        session.expire_all()
        stored = session.get_one(Reservation, reservation.id)

        assert {key: getattr(stored, key) for key in returned} == returned
        assert stored.held_until == WEDNESDAY_MORNING.ends_at + timedelta(minutes=buffer)
        assert stored.status == (ReservationStatus.PENDING if approval and actor == "user"
                                 else ReservationStatus.CONFIRMED)
        assert stored.purpose == "物相分析"

    def test_submit_by_exchange_id(self, session: Session, world: World,
                                   now: datetime) -> None:
        data = ReservationCreate(instrument_id=world.instrument.exchange_id,
                                 starts_at=WEDNESDAY_MORNING.starts_at,
                                 ends_at=WEDNESDAY_MORNING.ends_at, idempotency_key=a_key())

        reservation = submit_reservation(session, data, actor=world.user, now=now)

        assert reservation.instrument_id == world.instrument.id


class TestBadPeriods:
    """The issue's list of bad input, one test each."""

    def _try(self, session: Session, world: World, now: datetime, period: TimeRange,
             error: type[SciShareError], field: str) -> SciShareError:
        return refused(session, error, field, lambda: a_reservation(session, world, period,
                                                                     now=now))

    def test_end_before_start(self, session: Session, world: World, now: datetime) -> None:
        period = TimeRange(WEDNESDAY_MORNING.ends_at, WEDNESDAY_MORNING.starts_at)
        error = self._try(session, world, now, period, BadPeriod, "ends_at")
        assert "before it starts" in error.reason

    def test_zero_length(self, session: Session, world: World, now: datetime) -> None:
        period = TimeRange(WEDNESDAY_MORNING.starts_at, WEDNESDAY_MORNING.starts_at)
        error = self._try(session, world, now, period, BadPeriod, "ends_at")
        assert "no length" in error.reason

    def test_naive_times(self, session: Session, world: World, now: datetime) -> None:
        period = TimeRange(datetime(2026, 11, 25, 1), datetime(2026, 11, 25, 3))
        self._try(session, world, now, period, BadPeriod, "starts_at")

    def test_in_the_past(self, session: Session, world: World, now: datetime) -> None:
        self._try(session, world, now, local_range(2026, 11, 23, "09:00", "10:00"),
                  PeriodInPast, "starts_at")

    def test_shorter_notice_than_the_lead_time(self, session: Session, world: World,
                                               now: datetime) -> None:
        self._try(session, world, now, local_range(2026, 11, 24, "10:30", "11:30"),
                  TooShortNotice, "starts_at")

    @pytest.mark.parametrize(("day", "start", "end"), [
        (25, "07:00", "09:00"),  # before opening
        (25, "17:00", "18:00"),  # past closing
        (28, "09:00", "10:00"),  # Saturday
    ])
    def test_outside_opening_hours(self, session: Session, world: World, now: datetime,
                                   day: int, start: str, end: str) -> None:
        self._try(session, world, now, local_range(2026, 11, day, start, end),
                  OutsideOpeningHours, "starts_at")

    def test_on_a_holiday(self, session: Session, world: World, now: datetime) -> None:
        add_holiday(session, instrument=world.instrument,
                    holiday=HolidayCreate(closed_on=date(2026, 11, 25), name="校庆"),
                    actor=SYSTEM, now=now)
        self._try(session, world, now, WEDNESDAY_MORNING, OutsideOpeningHours, "starts_at")

    def test_beyond_the_horizon(self, session: Session, world: World, now: datetime) -> None:
        # 60 days ahead of 24 November is 23 January 2027 (a Saturday); 25 January is Monday.
        self._try(session, world, now, local_range(2027, 1, 25, "09:00", "10:00"),
                  BeyondHorizon, "ends_at")

    def test_off_the_slot_grid(self, session: Session, world: World, now: datetime) -> None:
        self._try(session, world, now, local_range(2026, 11, 25, "09:10", "10:00"), OffGrid,
                  "starts_at")

    def test_longer_than_allowed(self, session: Session, world: World, now: datetime) -> None:
        self._try(session, world, now, local_range(2026, 11, 25, "08:30", "17:00"),
                  BadDuration, "ends_at")

    def test_shorter_than_allowed(self, session: Session, now: datetime) -> None:
        world = a_world(session, policy=a_policy(min_minutes=60))
        self._try(session, world, now, local_range(2026, 11, 25, "09:00", "09:30"),
                  BadDuration, "ends_at")


class TestWhoMayBook:
    def test_unknown_instrument(self, session: Session, world: World, now: datetime) -> None:
        data = ReservationCreate(instrument_id="ZZ-9999999",
                                 starts_at=WEDNESDAY_MORNING.starts_at,
                                 ends_at=WEDNESDAY_MORNING.ends_at, idempotency_key=a_key())

        error = refused(session, UnknownInstrument, "instrument_id",
                        lambda: submit_reservation(session, data, actor=world.user, now=now))
        assert "ZZ-9999999" in error.reason

    def test_instrument_not_open_to_external_users(self, session: Session, world: World,
                                                   now: datetime) -> None:
        update_instrument(session, world.instrument, InstrumentUpdate(is_open_external=False),
                          actor=SYSTEM, now=now)

        error = refused(session, NotOpenToExternalUsers, "is_open_external",
                        lambda: a_reservation(session, world, WEDNESDAY_MORNING, now=now))
        assert error.record == f"instrument {world.instrument.exchange_id}"
        # The owner's own people still may.
        insider = a_person(session, organisation=world.provider)
        assert a_reservation(session, world, WEDNESDAY_MORNING, now=now, actor=insider)

    def test_instrument_not_in_service(self, session: Session, world: World,
                                       now: datetime) -> None:
        change_lifecycle(session, world.instrument, to_state=LifecycleState.UNDER_MAINTENANCE,
                         reason="激光器更换", actor=SYSTEM, now=now)

        refused(session, InstrumentNotInService, "lifecycle_state",
                lambda: a_reservation(session, world, WEDNESDAY_MORNING, now=now))

    def test_bureau_officers_do_not_book(self, session: Session, world: World,
                                         now: datetime) -> None:
        from scishare.accounts.service import actor_for, get_account
        from tests.accounts.factories import an_account

        officer = an_account(session, roles=(Role.BUREAU_OFFICER,), region_code="410100")
        actor = actor_for(get_account(session, officer.id))

        refused(session, NotAllowed, None,
                lambda: a_reservation(session, world, WEDNESDAY_MORNING, now=now, actor=actor))

    def test_hourly_reservation_needs_an_hourly_service_item(self, session: Session,
                                                             world: World,
                                                             now: datetime) -> None:
        per_sample = item_of(world.instrument, ServiceUnit.SAMPLE)

        refused(session, BadServiceItem, "service_item_id", lambda: reserve(
            session, instrument=world.instrument, period=WEDNESDAY_MORNING,
            mode=OperationMode.ASSISTED, idempotency_key=a_key(), actor=world.user, now=now,
            service_item_id=per_sample))


class TestQualification:
    def _qualify(self, session: Session, world: World, now: datetime,
                 expires_at: datetime) -> None:
        grant_qualification(session, instrument=world.instrument, data=QualificationCreate(
            account_id=world.user.account_id, trained_on=date(2026, 11, 20),
            expires_at=expires_at), actor=world.operator, now=now)

    def _self_operated(self, session: Session, world: World, now: datetime) -> object:
        return a_reservation(session, world, WEDNESDAY_MORNING, now=now,
                             mode=OperationMode.SELF_OPERATED)

    def test_unqualified_self_operation_is_refused(self, session: Session, world: World,
                                                   now: datetime) -> None:
        error = refused(session, NotQualified, "mode",
                        lambda: self._self_operated(session, world, now))
        assert "qualification" in error.reason

    def test_operator_assisted_time_needs_no_qualification(self, session: Session,
                                                           world: World,
                                                           now: datetime) -> None:
        assert a_reservation(session, world, WEDNESDAY_MORNING, now=now,
                             mode=OperationMode.ASSISTED)

    def test_a_valid_qualification_allows_it(self, session: Session, world: World,
                                             now: datetime) -> None:
        self._qualify(session, world, now, now + timedelta(days=365))
        assert self._self_operated(session, world, now)

    def test_a_qualification_ending_before_the_reservation_does_not(
            self, session: Session, world: World, now: datetime) -> None:
        self._qualify(session, world, now, shanghai(2026, 11, 25, 10))
        error = refused(session, NotQualified, "mode",
                        lambda: self._self_operated(session, world, now))
        assert "expires" in error.reason

    def test_a_qualification_on_another_instrument_does_not(self, session: Session,
                                                            world: World,
                                                            now: datetime) -> None:
        other = a_world(session)
        grant_qualification(session, instrument=other.instrument, data=QualificationCreate(
            account_id=world.user.account_id, trained_on=date(2026, 11, 20),
            expires_at=now + timedelta(days=365)), actor=other.operator, now=now)
        refused(session, NotQualified, "mode", lambda: self._self_operated(session, world, now))

    def test_only_the_instruments_operators_grant_it(self, session: Session, world: World,
                                                     now: datetime) -> None:
        stranger = a_world(session).operator
        refused(session, NotAllowed, None, lambda: grant_qualification(
            session, instrument=world.instrument, data=QualificationCreate(
                account_id=world.user.account_id, trained_on=date(2026, 11, 20),
                expires_at=now + timedelta(days=30)), actor=stranger, now=now))


class TestIdempotency:
    def test_the_same_request_twice_is_refused(self, session: Session, world: World,
                                               now: datetime) -> None:
        key = a_key()
        first = reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                        mode=OperationMode.ASSISTED, idempotency_key=key, actor=world.user,
                        now=now)

        error = refused(session, DuplicateSubmission, "idempotency_key", lambda: reserve(
            session, instrument=world.instrument, period=WEDNESDAY_MORNING,
            mode=OperationMode.ASSISTED, idempotency_key=key, actor=world.user, now=now))
        assert "already submitted" in error.reason
        assert first.status == ReservationStatus.CONFIRMED

    def test_a_reused_key_is_refused_for_another_period_too(self, session: Session,
                                                            world: World,
                                                            now: datetime) -> None:
        key = a_key()
        reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                mode=OperationMode.ASSISTED, idempotency_key=key, actor=world.user, now=now)

        refused(session, DuplicateSubmission, "idempotency_key", lambda: reserve(
            session, instrument=world.instrument,
            period=local_range(2026, 11, 26, "09:00", "10:00"), mode=OperationMode.ASSISTED,
            idempotency_key=key, actor=world.user, now=now))

    def test_keys_are_per_person(self, session: Session, world: World, now: datetime) -> None:
        key = a_key()
        reserve(session, instrument=world.instrument, period=WEDNESDAY_MORNING,
                mode=OperationMode.ASSISTED, idempotency_key=key, actor=world.user, now=now)

        other = reserve(session, instrument=world.instrument,
                        period=local_range(2026, 11, 26, "09:00", "10:00"),
                        mode=OperationMode.ASSISTED, idempotency_key=key,
                        actor=a_person(session), now=now)
        assert other.status == ReservationStatus.CONFIRMED


class TestRulesChangedSinceLastSeen:
    """On PostgreSQL a request is checked against the rules last seen for the instrument and
    written only if they are still the rules stored; these change them in between."""

    def test_a_new_holiday_refuses_the_next_request(self, session: Session, world: World,
                                                    now: datetime) -> None:
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        add_holiday(session, instrument=world.instrument,
                    holiday=HolidayCreate(closed_on=date(2026, 11, 26), name="检修"),
                    actor=SYSTEM, now=now)

        refused(session, OutsideOpeningHours, "starts_at", lambda: a_reservation(
            session, world, local_range(2026, 11, 26, "09:00", "10:00"), now=now))

    def test_a_stricter_policy_refuses_the_next_request(self, session: Session, world: World,
                                                        now: datetime) -> None:
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        set_booking_policy(session, instrument=world.instrument,
                           policy=a_policy(min_minutes=120), actor=SYSTEM, now=now)

        refused(session, BadDuration, "ends_at", lambda: a_reservation(
            session, world, local_range(2026, 11, 26, "09:00", "10:00"), now=now))

    def test_longer_opening_hours_take_the_next_request(self, session: Session,
                                                        world: World, now: datetime) -> None:
        evening = local_range(2026, 11, 26, "18:00", "19:00")
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        refused(session, OutsideOpeningHours, "starts_at",
                lambda: a_reservation(session, world, evening, now=now))
        set_booking_policy(session, instrument=world.instrument, policy=a_policy(
            opening_hours=[{"weekday": d, "opens": "08:30", "closes": "20:00"}
                           for d in range(5)]), actor=SYSTEM, now=now)

        booked = a_reservation(session, world, evening, now=now)

        assert booked.status == ReservationStatus.CONFIRMED

    def test_approval_asked_for_since_makes_the_next_request_wait(
            self, session: Session, world: World, now: datetime) -> None:
        # Both rules allow the request; only the stored ones say it waits for approval.
        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        set_booking_policy(session, instrument=world.instrument,
                           policy=a_policy(requires_approval=True), actor=SYSTEM, now=now)

        waiting = a_reservation(session, world, local_range(2026, 11, 26, "09:00", "10:00"),
                                now=now)

        assert waiting.status == ReservationStatus.PENDING

    def test_every_change_of_the_rules_is_a_new_revision(self, session: Session, world: World,
                                                          now: datetime) -> None:
        for _ in range(2):
            set_booking_policy(session, instrument=world.instrument, policy=a_policy(),
                               actor=SYSTEM, now=now)

        assert session.get_one(BookingPolicy, world.instrument.id).revision == 3
