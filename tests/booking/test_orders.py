"""Sample-testing orders: the state machine, its history, the report and the indicators."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.booking.errors import (
    BadServiceItem,
    BadTransition,
    DuplicateSubmission,
    NotAPdf,
    NotOpenToExternalUsers,
    NotYours,
    ReportTampered,
    ReportTooLarge,
    UnknownInstrument,
)
from scishare.booking.models import OrderStatus, PriceCategory, SampleOrder
from scishare.booking.schemas import SampleOrderCreate
from scishare.booking.service import (
    ReportStore,
    accept_order,
    cancel_order,
    complete_order,
    download_report,
    get_order,
    issue_report,
    next_statuses,
    order_history,
    order_test,
    read_order,
    receive_samples,
    reject_order,
    start_testing,
    submit_order,
)
from scishare.catalog.models import ServiceUnit
from scishare.catalog.schemas import InstrumentUpdate
from scishare.catalog.service import update_instrument
from scishare.core.errors import InvalidInput
from tests.booking.factories import World, a_key, a_person, item_of, refused

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def store(tmp_path: Path) -> ReportStore:
    return ReportStore(directory=tmp_path / "reports", max_bytes=4096)


def an_order(session: Session, world: World, now: datetime, *, samples: int = 3,
             key: str | None = None) -> SampleOrder:
    return order_test(session, instrument=world.instrument,
                      service_item_id=item_of(world.instrument, ServiceUnit.SAMPLE),
                      sample_count=samples, sample_description="磷酸铁锂正极粉末，约2 g/个",
                      requested_tests="XRD 物相分析", idempotency_key=key or a_key(),
                      actor=world.user, now=now)


def under_test(session: Session, world: World, now: datetime) -> SampleOrder:
    order = an_order(session, world, now)
    accept_order(session, order, actor=world.operator, now=now + timedelta(hours=2))
    receive_samples(session, order, actor=world.operator, now=now + timedelta(days=2))
    start_testing(session, order, actor=world.operator, now=now + timedelta(days=3))
    return order


class TestOrderTest:
    def test_submits_with_a_price_estimate(self, session: Session, world: World,
                                           now: datetime) -> None:
        order = an_order(session, world, now, samples=3)

        assert order.status == OrderStatus.SUBMITTED
        assert order.code == f"T{order.id:07d}"
        assert order.price_category == PriceCategory.ENTERPRISE
        assert order.price_estimate_fen == 3 * 30_000
        assert [(e.from_status, e.to_status) for e in order_history(session, order)] == [
            (None, OrderStatus.SUBMITTED)]

    def test_unknown_instrument(self, session: Session, world: World, now: datetime) -> None:
        data = SampleOrderCreate(instrument_id="ZZ-9999999", service_item_id=1,
                                 sample_count=1, sample_description="x",
                                 requested_tests="y", idempotency_key=a_key())
        refused(session, UnknownInstrument, "instrument_id",
                lambda: submit_order(session, data, actor=world.user, now=now))

    def test_instrument_not_open_to_external_users(self, session: Session, world: World,
                                                   now: datetime) -> None:
        update_instrument(session, world.instrument, InstrumentUpdate(is_open_external=False),
                          actor=SYSTEM, now=now)
        refused(session, NotOpenToExternalUsers, "is_open_external",
                lambda: an_order(session, world, now))

    def test_the_same_request_twice(self, session: Session, world: World,
                                    now: datetime) -> None:
        key = a_key()
        an_order(session, world, now, key=key)
        refused(session, DuplicateSubmission, "idempotency_key",
                lambda: an_order(session, world, now, key=key))

    def test_needs_a_per_sample_service(self, session: Session, world: World,
                                        now: datetime) -> None:
        refused(session, BadServiceItem, "service_item_id", lambda: order_test(
            session, instrument=world.instrument,
            service_item_id=item_of(world.instrument, ServiceUnit.HOUR), sample_count=1,
            sample_description="x", requested_tests="y", idempotency_key=a_key(),
            actor=world.user, now=now))

    @pytest.mark.parametrize(("field", "values"), [
        ("sample_count", {"sample_count": 0}),
        ("sample_description", {"sample_description": "  "}),
        ("requested_tests", {"requested_tests": ""}),
    ])
    def test_refuses_an_incomplete_order(self, session: Session, world: World, now: datetime,
                                         field: str, values: dict[str, object]) -> None:
        arguments: dict[str, object] = {
            "instrument": world.instrument,
            "service_item_id": item_of(world.instrument, ServiceUnit.SAMPLE),
            "sample_count": 1, "sample_description": "x", "requested_tests": "y",
            "idempotency_key": a_key(), "actor": world.user, "now": now}
        arguments.update(values)
        refused(session, InvalidInput, field,
                lambda: order_test(session, **arguments))  # type: ignore[arg-type]


class TestStateMachine:
    def test_walks_to_completion_with_history_and_indicators(
            self, session: Session, world: World, now: datetime, store: ReportStore) -> None:
        order = under_test(session, world, now)
        issue_report(session, order, filename="报告.pdf", content=PDF, actor=world.operator,
                     now=now + timedelta(days=5), store=store)
        complete_order(session, order, actor=world.user, now=now + timedelta(days=6))

        assert order.status == OrderStatus.COMPLETED
        assert order.response_seconds == 2 * 3600
        assert order.turnaround_seconds == 3 * 24 * 3600
        history = order_history(session, order)
        assert [e.to_status for e in history] == [
            OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.SAMPLES_RECEIVED,
            OrderStatus.TESTING, OrderStatus.REPORT_ISSUED, OrderStatus.COMPLETED]
        assert [e.actor_id for e in history] == [world.user.account_id] + [
            world.operator.account_id] * 4 + [world.user.account_id]
        assert [e.at for e in history] == sorted(e.at for e in history)
        read = read_order(session, get_order(session, order.code), with_history=True)
        assert read.report is not None
        assert read.report.sha256 == hashlib.sha256(PDF).hexdigest()
        assert len(read.history) == 6

    def test_reject_needs_a_reason(self, session: Session, world: World,
                                   now: datetime) -> None:
        order = an_order(session, world, now)
        refused(session, InvalidInput, "reason", lambda: reject_order(
            session, order, actor=world.operator, reason="", now=now))

        reject_order(session, order, actor=world.operator, reason="超出检测范围", now=now)

        assert (order.status, order.reason) == (OrderStatus.REJECTED, "超出检测范围")
        assert next_statuses(OrderStatus.REJECTED) == []

    def test_the_user_cannot_move_the_providers_steps(self, session: Session, world: World,
                                                      now: datetime) -> None:
        order = an_order(session, world, now)
        refused(session, NotYours, "status",
                lambda: accept_order(session, order, actor=world.user, now=now))
        refused(session, NotYours, None, lambda: accept_order(
            session, order, actor=a_person(session), now=now))

    def test_steps_cannot_be_skipped(self, session: Session, world: World,
                                     now: datetime) -> None:
        order = an_order(session, world, now)
        refused(session, BadTransition, "status",
                lambda: start_testing(session, order, actor=world.operator, now=now))

    def test_the_user_cancels_until_the_samples_arrive(self, session: Session, world: World,
                                                       now: datetime) -> None:
        early = an_order(session, world, now)
        accept_order(session, early, actor=world.operator, now=now)
        cancel_order(session, early, actor=world.user, now=now)
        assert early.status == OrderStatus.CANCELLED

        late = an_order(session, world, now)
        accept_order(session, late, actor=world.operator, now=now)
        receive_samples(session, late, actor=world.operator, now=now)
        refused(session, NotYours, "status",
                lambda: cancel_order(session, late, actor=world.user, now=now))

    def test_the_provider_cancels_during_testing_with_a_reason(
            self, session: Session, world: World, now: datetime) -> None:
        order = under_test(session, world, now)
        refused(session, InvalidInput, "reason",
                lambda: cancel_order(session, order, actor=world.operator, now=now))

        cancel_order(session, order, actor=world.operator, now=now, reason="仪器故障，退样")

        assert order.status == OrderStatus.CANCELLED
        assert order.closed_at == now


class TestReport:
    def test_refuses_a_file_that_is_not_a_pdf(self, session: Session, world: World,
                                              now: datetime, store: ReportStore) -> None:
        order = under_test(session, world, now)

        refused(session, NotAPdf, "file", lambda: issue_report(
            session, order, filename="report.pdf", content=b"PK\x03\x04 a zip",
            actor=world.operator, now=now, store=store))

        assert order.status == OrderStatus.TESTING
        assert not store.directory.exists()

    def test_refuses_a_file_too_large(self, session: Session, world: World, now: datetime,
                                      store: ReportStore) -> None:
        order = under_test(session, world, now)

        refused(session, ReportTooLarge, "file", lambda: issue_report(
            session, order, filename="report.pdf", content=PDF + b" " * 5000,
            actor=world.operator, now=now, store=store))

        assert not store.directory.exists()

    def test_only_the_provider_uploads(self, session: Session, world: World, now: datetime,
                                       store: ReportStore) -> None:
        order = under_test(session, world, now)
        refused(session, NotYours, "status", lambda: issue_report(
            session, order, filename="r.pdf", content=PDF, actor=world.user, now=now,
            store=store))
        assert not store.directory.exists()

    def test_download_checks_the_checksum(self, session: Session, world: World,
                                          now: datetime, store: ReportStore) -> None:
        order = under_test(session, world, now)
        report = issue_report(session, order, filename="C:\\reports\\报告.pdf", content=PDF,
                              actor=world.operator, now=now, store=store)

        found, content = download_report(session, order, actor=world.user, store=store)
        assert (found.filename, content) == ("报告.pdf", PDF)
        assert store.path_of(report.sha256).read_bytes() == PDF

        refused(session, NotYours, None, lambda: download_report(
            session, order, actor=a_person(session), store=store))
        store.path_of(report.sha256).write_bytes(PDF + b"tampered")
        with pytest.raises(ReportTampered):
            download_report(session, order, actor=world.user, store=store)
