"""The booking API and pages over the test database (inside the test's rolled-back
transaction, as tests/web/conftest.py does for the other pages)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from scishare.accounts.models import Account
from scishare.accounts.service import get_account
from scishare.booking.models import OrderStatus, ReservationStatus
from scishare.catalog.models import ServiceUnit
from scishare.catalog.service import sync_reference_data
from scishare.core.database import make_engine
from scishare.core.migrations import upgrade
from scishare.core.settings import get_settings
from scishare.web import deps
from scishare.web.app import create_app
from scishare.web.csrf import CSRF_COOKIE
from tests.booking.factories import World, a_key, a_world, item_of, local_range, stored

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n%%EOF\n"
WEDNESDAY_MORNING = local_range(2026, 11, 25, "09:00", "11:00")


@pytest.fixture
def app(engine: Engine, session: Session, now: datetime) -> FastAPI:
    built = create_app(engine)
    connection = session.get_bind()
    built.state.sessions = lambda: Session(bind=connection, expire_on_commit=False,
                                           join_transaction_mode="create_savepoint")
    built.dependency_overrides[deps.now] = lambda: now
    return built


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(autouse=True)
def reports_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Reports go to the test's own directory (the setting is read through the cache)."""
    monkeypatch.setenv("SCISHARE_REPORTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def account(session: Session, account_id: int) -> Account:
    return get_account(session, account_id)


def sign_in(client: TestClient, session: Session, account_id: int) -> None:
    email = account(session, account_id).email
    response = client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text


def csrf(client: TestClient) -> str:
    if CSRF_COOKIE not in client.cookies:
        client.get("/signin")
    token: str = client.cookies[CSRF_COOKIE]
    return token


class TestApi:
    def test_reserve_and_the_same_request_again(self, client: TestClient, session: Session,
                                                world: World) -> None:
        sign_in(client, session, world.user.account_id)
        body = {"instrument_id": world.instrument.exchange_id,
                "starts_at": WEDNESDAY_MORNING.starts_at.isoformat(),
                "ends_at": WEDNESDAY_MORNING.ends_at.isoformat(),
                "service_item_id": item_of(world.instrument, ServiceUnit.HOUR),
                "idempotency_key": a_key()}

        first = client.post("/api/reservations", json=body)
        again = client.post("/api/reservations", json=body)

        assert first.status_code == 201, first.text
        assert first.json()["status"] == ReservationStatus.CONFIRMED
        assert first.json()["price_estimate_fen"] == 160_000
        assert again.status_code == 409
        assert again.json() == {"error": "conflict", "record":
                                f"reservation on {world.instrument.exchange_id}",
                                "field": "idempotency_key",
                                "reason": "this request was already submitted (same "
                                          "idempotency key)"}

    def test_bad_input_is_a_named_error_and_stores_nothing(self, client: TestClient,
                                                           session: Session,
                                                           world: World) -> None:
        sign_in(client, session, world.user.account_id)
        before = stored(session)

        answer = client.post("/api/reservations", json={
            "instrument_id": world.instrument.exchange_id,
            "starts_at": WEDNESDAY_MORNING.ends_at.isoformat(),
            "ends_at": WEDNESDAY_MORNING.starts_at.isoformat(), "idempotency_key": a_key()})

        assert answer.status_code == 422
        assert answer.json()["field"] == "ends_at"
        assert answer.json()["reason"] == "ends before it starts"
        assert stored(session) == before

    def test_calendar_free_periods_and_feed(self, client: TestClient, session: Session,
                                            world: World) -> None:
        exchange_id = world.instrument.exchange_id
        window = {"starts_at": WEDNESDAY_MORNING.starts_at.isoformat(),
                  "ends_at": local_range(2026, 11, 25, "18:00", "19:00").starts_at.isoformat()}

        free = client.get(f"/api/instruments/{exchange_id}/free-periods", params=window)
        calendar = client.get(f"/api/instruments/{exchange_id}/calendar", params=window)
        slot = client.get(f"/api/instruments/{exchange_id}/next-free-slot",
                          params={"minutes": 120})
        feed = client.get(f"/api/instruments/{exchange_id}/calendar.ics")

        assert free.status_code == 200
        assert free.json()[0]["starts_at"] == "2026-11-25T01:00:00Z"
        assert {b["state"] for b in calendar.json()["blocks"]} == {"free", "closed"}
        assert slot.json()["starts_at"] == "2026-11-24T03:00:00Z"
        assert feed.headers["content-type"].startswith("text/calendar")
        assert Calendar.from_ical(feed.content).get("prodid")

    def test_an_order_walks_through_to_its_report(self, client: TestClient,
                                                  session: Session, world: World) -> None:
        sign_in(client, session, world.user.account_id)
        created = client.post("/api/orders", json={
            "instrument_id": world.instrument.exchange_id,
            "service_item_id": item_of(world.instrument, ServiceUnit.SAMPLE),
            "sample_count": 2, "sample_description": "锂电正极粉末",
            "requested_tests": "XRD 物相", "idempotency_key": a_key()})
        assert created.status_code == 201, created.text
        code = created.json()["code"]

        sign_in(client, session, world.operator.account_id)
        for move in ("accept", "receive", "start"):
            assert client.post(f"/api/orders/{code}/{move}").status_code == 200
        bad = client.post(f"/api/orders/{code}/report",
                          files={"file": ("report.pdf", b"not a pdf", "application/pdf")})
        good = client.post(f"/api/orders/{code}/report",
                           files={"file": ("报告.pdf", PDF, "application/pdf")})
        sign_in(client, session, world.user.account_id)
        download = client.get(f"/api/orders/{code}/report")
        order = client.get(f"/api/orders/{code}").json()

        assert bad.status_code == 422
        assert bad.json()["field"] == "file"
        assert good.status_code == 201, good.text
        assert download.content == PDF
        assert order["status"] == OrderStatus.REPORT_ISSUED
        assert [e["to_status"] for e in order["history"]] == [
            "submitted", "accepted", "samples_received", "testing", "report_issued"]

    def test_a_stranger_sees_nothing(self, client: TestClient, session: Session,
                                     world: World, now: datetime) -> None:
        from tests.booking.factories import a_reservation

        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        sign_in(client, session, world.operator.account_id)
        assert client.get(f"/api/reservations/{reservation.code}").status_code == 200
        client.post("/api/auth/signout")

        assert client.get(f"/api/reservations/{reservation.code}").status_code == 401

    def test_personal_feed_address(self, client: TestClient, session: Session, world: World,
                                   now: datetime) -> None:
        from tests.booking.factories import a_reservation

        reservation = a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        sign_in(client, session, world.user.account_id)

        url = client.post("/api/booking/calendar-feed").json()["url"]
        feed = client.get(url)

        assert feed.status_code == 200
        assert f"reservation-{reservation.id}@scishare" in feed.text

    def test_operator_qualifies_a_user_for_self_operation(self, client: TestClient,
                                                           session: Session,
                                                           world: World) -> None:
        exchange_id = world.instrument.exchange_id
        booking = {"instrument_id": exchange_id, "mode": "self_operated",
                   "starts_at": WEDNESDAY_MORNING.starts_at.isoformat(),
                   "ends_at": WEDNESDAY_MORNING.ends_at.isoformat()}
        sign_in(client, session, world.user.account_id)
        refused = client.post("/api/reservations", json=booking | {"idempotency_key": a_key()})
        assert refused.status_code == 403
        assert refused.json()["field"] == "mode"
        assert client.get(f"/api/instruments/{exchange_id}/qualifications").status_code == 403

        sign_in(client, session, world.operator.account_id)
        granted = client.post(f"/api/instruments/{exchange_id}/qualifications", json={
            "account_id": world.user.account_id, "trained_on": "2026-11-20",
            "expires_at": "2027-11-20T00:00:00+08:00"})
        assert granted.status_code == 201, granted.text
        listed = client.get(f"/api/instruments/{exchange_id}/qualifications").json()
        assert [q["account_id"] for q in listed] == [world.user.account_id]

        sign_in(client, session, world.user.account_id)
        booked = client.post("/api/reservations", json=booking | {"idempotency_key": a_key()})
        assert booked.status_code == 201, booked.text
        assert booked.json()["mode"] == "self_operated"


class TestPages:
    def test_book_a_free_slot_through_the_form(self, client: TestClient, session: Session,
                                               world: World) -> None:
        sign_in(client, session, world.user.account_id)
        exchange_id = world.instrument.exchange_id
        page = client.get(f"/booking/instruments/{exchange_id}?week=2026-11-25&day=2026-11-25"
                          f"&starts=09:00&ends=11:00")
        assert page.status_code == 200, page.text
        assert "09:00" in page.text
        assert "¥1,600.00" in page.text  # two hours at the enterprise price

        answer = client.post(f"/booking/instruments/{exchange_id}/reserve", data={
            "csrf_token": csrf(client), "day": "2026-11-25", "starts": "09:00",
            "ends": "11:00", "mode": "assisted",
            "service_item_id": str(item_of(world.instrument, ServiceUnit.HOUR)),
            "purpose": "", "idempotency_key": a_key()}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        mine = client.get(answer.headers["location"])
        assert mine.status_code == 200
        assert "R" in mine.text

        again = client.post(f"/booking/instruments/{exchange_id}/reserve", data={
            "csrf_token": csrf(client), "day": "2026-11-25", "starts": "10:00",
            "ends": "11:00", "mode": "assisted", "service_item_id": "", "purpose": "",
            "idempotency_key": a_key()})
        assert again.status_code == 409
        assert "overlaps another booking" in again.text

    def test_the_queue_and_english(self, client: TestClient, session: Session, world: World,
                                   now: datetime) -> None:
        from tests.booking.factories import a_reservation

        a_reservation(session, world, WEDNESDAY_MORNING, now=now)
        sign_in(client, session, world.operator.account_id)

        zh = client.get("/booking/queue")
        en = client.get("/booking/queue?lang=en")

        assert zh.status_code == en.status_code == 200
        assert "已确认" in zh.text
        assert "Confirmed" in en.text


class TestWriteTransactions:
    def test_booking_writes_begin_immediate_on_sqlite(self, tmp_path: Path,
                                                      now: datetime) -> None:
        """On SQLite a booking request takes the write lock before it reads anything, so
        concurrent bookings take turns instead of failing on a stale snapshot."""
        url = f"sqlite:///{tmp_path / 'write.db'}"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as setup:
            sync_reference_data(setup)
            world = a_world(setup)
            email = get_account(setup, world.user.account_id).email
            setup.commit()
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_rest: statements.append(statement))
        app = create_app(engine)
        app.dependency_overrides[deps.now] = lambda: now
        with TestClient(app) as client:
            assert client.post("/api/auth/signin", json={
                "email": email, "password": PASSWORD}).status_code == 200
            statements.clear()
            answer = client.post("/api/reservations", json={
                "instrument_id": world.instrument.exchange_id,
                "starts_at": WEDNESDAY_MORNING.starts_at.isoformat(),
                "ends_at": WEDNESDAY_MORNING.ends_at.isoformat(), "idempotency_key": a_key()})
        engine.dispose()

        assert answer.status_code == 201, answer.text
        assert statements[0] == "BEGIN IMMEDIATE"
        assert statements.count("BEGIN IMMEDIATE") == 1
        assert "BEGIN" not in statements
