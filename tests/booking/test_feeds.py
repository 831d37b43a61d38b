"""iCalendar feeds, read back with the same library, and the read models of the pages."""

from __future__ import annotations

from datetime import datetime

import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session

from scishare.accounts.service import get_account
from scishare.booking.models import BlackoutKind, ReservationStatus
from scishare.booking.service import (
    account_feed,
    account_for_feed,
    add_blackout,
    cancel_reservation,
    instrument_feed,
    issue_feed_secret,
    operator_queue,
    order_test,
    orders_of,
    reservations_of,
)
from scishare.catalog.models import ServiceUnit
from scishare.core.errors import Unauthenticated
from tests.booking.factories import (
    World,
    a_key,
    a_person,
    a_reservation,
    a_world,
    item_of,
    local_range,
)


def events(feed: bytes) -> list[tuple[str, datetime, datetime, str]]:
    calendar = Calendar.from_ical(feed)
    return [(str(e["uid"]), e.decoded("dtstart"), e.decoded("dtend"), str(e["summary"]))
            for e in calendar.walk("VEVENT")]


class TestInstrumentFeed:
    def test_lists_bookings_and_blackouts_without_names(self, session: Session, world: World,
                                                        now: datetime) -> None:
        booked = a_reservation(session, world, local_range(2026, 11, 25, "09:00", "11:00"),
                               now=now)
        cancelled = a_reservation(session, world, local_range(2026, 11, 26, "09:00", "10:00"),
                                  now=now, actor=a_person(session))
        cancel_reservation(session, cancelled, actor=world.operator, now=now, reason="x")
        blackout = add_blackout(session, instrument=world.instrument,
                                period=local_range(2026, 11, 27, "09:00", "12:00"),
                                kind=BlackoutKind.CALIBRATION, reason="年检",
                                actor=world.operator, now=now)

        found = events(instrument_feed(session, instrument=world.instrument, now=now))

        assert [(uid, start, end) for uid, start, end, _ in found] == [
            (f"reservation-{booked.id}@scishare", booked.starts_at, booked.ends_at),
            (f"blackout-{blackout.id}@scishare", blackout.starts_at, blackout.ends_at)]
        assert found[0][3] == "已预约 Booked"
        feed = instrument_feed(session, instrument=world.instrument, now=now).decode()
        assert get_account(session, world.user.account_id).display_name not in feed


class TestAccountFeed:
    def test_lists_only_the_persons_reservations(self, session: Session, world: World,
                                                 now: datetime) -> None:
        mine = a_reservation(session, world, local_range(2026, 11, 25, "09:00", "11:00"),
                             now=now)
        a_reservation(session, world, local_range(2026, 11, 26, "09:00", "11:00"), now=now,
                      actor=a_person(session))

        found = events(account_feed(session, account_id=world.user.account_id, now=now))

        assert [uid for uid, *_ in found] == [f"reservation-{mine.id}@scishare"]
        assert world.instrument.exchange_id in found[0][3]

    def test_the_address_secret_can_be_replaced(self, session: Session, world: World,
                                                now: datetime) -> None:
        old = issue_feed_secret(session, account_id=world.user.account_id, now=now)
        assert account_for_feed(session, old) == world.user.account_id

        new = issue_feed_secret(session, account_id=world.user.account_id, now=now)

        assert account_for_feed(session, new) == world.user.account_id
        with pytest.raises(Unauthenticated):
            account_for_feed(session, old)


class TestReadModels:
    def test_my_reservations_and_orders(self, session: Session, world: World,
                                        now: datetime) -> None:
        reservation = a_reservation(session, world, local_range(2026, 11, 25, "09:00", "11:00"),
                                    now=now)
        order = order_test(session, instrument=world.instrument,
                           service_item_id=item_of(world.instrument, ServiceUnit.SAMPLE),
                           sample_count=2, sample_description="土壤", requested_tests="重金属",
                           idempotency_key=a_key(), actor=world.user, now=now)

        assert [r.code for r in reservations_of(session, account_id=world.user.account_id)] == [
            reservation.code]
        assert [o.code for o in orders_of(session, account_id=world.user.account_id)] == [
            order.code]

    def test_the_queue_holds_only_the_operators_instruments(self, session: Session,
                                                            world: World,
                                                            now: datetime) -> None:
        mine = a_reservation(session, world, local_range(2026, 11, 25, "09:00", "11:00"),
                             now=now)
        elsewhere = a_world(session)
        a_reservation(session, elsewhere, local_range(2026, 11, 25, "09:00", "11:00"),
                      now=now)

        queue = operator_queue(session, actor=world.operator, now=now)

        assert [r.code for r in queue.reservations] == [mine.code]
        assert queue.reservations[0].status == ReservationStatus.CONFIRMED
        assert operator_queue(session, actor=world.user, now=now).reservations == []
