"""Sample-testing orders and their state machine, with a timestamped history of every move.

    submitted ─accept─▶ accepted ─receive─▶ samples_received ─test─▶ testing ─report─▶
    report_issued ─complete─▶ completed
    submitted ─reject (reason)─▶ rejected
    submitted, accepted ─cancel─▶ cancelled (by the user, or the provider with a reason)
    samples_received, testing ─cancel─▶ cancelled (by the provider, with a reason)

Response time (submitted → accepted) and turnaround (samples received → report issued) are
stored in seconds on the order when they become known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from scishare.accounts.permissions import Action
from scishare.accounts.service import Actor, authorize, get_organisation
from scishare.booking.availability import instrument_target
from scishare.booking.errors import BadTransition, NotYours, UnknownOrder
from scishare.booking.models import OrderEvent, OrderReport, OrderStatus, SampleOrder
from scishare.booking.occupancy import write_once
from scishare.booking.pricing import estimate, price_category, service_item_of
from scishare.booking.reports import ReportStore
from scishare.booking.reservations import (
    check_idempotency_key,
    check_instrument_takes_requests,
    find_instrument,
)
from scishare.booking.schemas import SampleOrderCreate
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.core.errors import InvalidInput

S = OrderStatus


class Who(Enum):
    QUEUE = "queue"
    """Only those running the instrument's queue."""
    EITHER = "either"
    """The requester or those running the queue."""


@dataclass(frozen=True, slots=True)
class Move:
    who: Who
    needs_reason_from_queue: bool = False


# (from, to) -> who may make the move.
MOVES: dict[tuple[OrderStatus, OrderStatus], Move] = {
    (S.SUBMITTED, S.ACCEPTED): Move(Who.QUEUE),
    (S.SUBMITTED, S.REJECTED): Move(Who.QUEUE, needs_reason_from_queue=True),
    (S.SUBMITTED, S.CANCELLED): Move(Who.EITHER, needs_reason_from_queue=True),
    (S.ACCEPTED, S.SAMPLES_RECEIVED): Move(Who.QUEUE),
    (S.ACCEPTED, S.CANCELLED): Move(Who.EITHER, needs_reason_from_queue=True),
    (S.SAMPLES_RECEIVED, S.TESTING): Move(Who.QUEUE),
    (S.SAMPLES_RECEIVED, S.CANCELLED): Move(Who.QUEUE, needs_reason_from_queue=True),
    (S.TESTING, S.REPORT_ISSUED): Move(Who.QUEUE),
    (S.TESTING, S.CANCELLED): Move(Who.QUEUE, needs_reason_from_queue=True),
    (S.REPORT_ISSUED, S.COMPLETED): Move(Who.EITHER),
}


def next_statuses(status: OrderStatus) -> list[OrderStatus]:
    """Where an order in `status` can go."""
    return [to for (frm, to) in MOVES if frm is status]


def order_test(session: Session, *, instrument: Instrument, service_item_id: int,
               sample_count: int, sample_description: str, requested_tests: str,
               idempotency_key: str, actor: Actor, now: datetime) -> SampleOrder:
    """Order a per-sample service of the instrument for `sample_count` samples; the same
    idempotency key is accepted once per person."""
    record = f"order on {instrument.exchange_id}"
    if not actor.account_id:
        raise NotYours("only a signed-in person can order", record=record)
    authorize(actor, Action.BOOK_INSTRUMENT, instrument_target(instrument), record=record)
    check_instrument_takes_requests(instrument, actor)
    key = check_idempotency_key(idempotency_key, record=record)
    if sample_count < 1:
        raise InvalidInput("order at least one sample", record=record, field="sample_count")
    for field, text in (("sample_description", sample_description),
                        ("requested_tests", requested_tests)):
        if not text.strip():
            raise InvalidInput("must not be empty", record=record, field=field)
    item = service_item_of(instrument, service_item_id, unit=ServiceUnit.SAMPLE, record=record)
    category = price_category(instrument, get_organisation(session, actor.organisation_id))
    order = write_once(session, SampleOrder, {
        "instrument_id": instrument.id, "service_item_id": item.id,
        "requester_id": actor.account_id, "sample_count": sample_count,
        "sample_description": sample_description.strip(),
        "requested_tests": requested_tests.strip(), "status": S.SUBMITTED,
        "idempotency_key": key, "price_category": category,
        "price_estimate_fen": estimate(item, category, samples=sample_count).total_fen,
        "submitted_at": now, "reason": ""}, record=record)
    set_committed_value(order, "instrument", instrument)
    session.add(OrderEvent(order_id=order.id, from_status=None, to_status=S.SUBMITTED, at=now,
                           actor_id=actor.account_id, note=""))
    session.flush()
    return order


def submit_order(session: Session, data: SampleOrderCreate, *, actor: Actor,
                 now: datetime) -> SampleOrder:
    """`order_test` for a request naming the instrument by its exchange id."""
    instrument = find_instrument(session, data.instrument_id, record="order request")
    return order_test(session, instrument=instrument, service_item_id=data.service_item_id,
                      sample_count=data.sample_count,
                      sample_description=data.sample_description,
                      requested_tests=data.requested_tests,
                      idempotency_key=data.idempotency_key, actor=actor, now=now)


def get_order(session: Session, code: str) -> SampleOrder:
    """The order `T0000042` with its instrument (and service items) and requester."""
    record = f"order {code}"
    if len(code) < 2 or code[0] != "T" or not code[1:].isdigit():
        raise UnknownOrder(f"not an order code: {code!r}", record=record)
    found = session.scalar(select(SampleOrder).where(SampleOrder.id == int(code[1:])).options(
        joinedload(SampleOrder.instrument, innerjoin=True).selectinload(
            Instrument.service_items),
        joinedload(SampleOrder.requester, innerjoin=True)))
    if found is None:
        raise UnknownOrder(f"no order {code}", record=record)
    return found


def order_for(session: Session, code: str, *, actor: Actor) -> SampleOrder:
    """The order, for its requester or those running its instrument's queue."""
    order = get_order(session, code)
    runs_queue = actor.may(Action.RUN_BOOKING_QUEUE, instrument_target(order.instrument))
    if not runs_queue and order.requester_id != actor.account_id:
        raise NotYours("not your order", record=f"order {order.code}")
    return order


def _move(session: Session, order: SampleOrder, to: OrderStatus, *, actor: Actor,
          now: datetime, reason: str = "") -> SampleOrder:
    """Make one move of the state machine, after locking the order's row so that two
    people moving it at once take turns; records who did it and when."""
    record = f"order {order.code}"
    runs_queue = actor.may(Action.RUN_BOOKING_QUEUE, instrument_target(order.instrument))
    if not runs_queue and order.requester_id != actor.account_id:
        raise NotYours("not your order", record=record)
    session.execute(select(SampleOrder).where(SampleOrder.id == order.id).with_for_update()
                    .execution_options(populate_existing=True))
    current = OrderStatus(order.status)
    move = MOVES.get((current, to))
    if move is None:
        raise BadTransition(f"an order that is {current.value} cannot become {to.value}",
                            record=record, field="status")
    if move.who is Who.QUEUE and not runs_queue:
        raise NotYours(f"only the provider can make an order {to.value}", record=record,
                       field="status")
    if move.needs_reason_from_queue and runs_queue and not reason.strip():
        raise InvalidInput(f"say why the order is {to.value}", record=record, field="reason")
    order.status = to
    if to is S.ACCEPTED:
        order.accepted_at = now
        order.response_seconds = int((now - order.submitted_at).total_seconds())
    elif to is S.SAMPLES_RECEIVED:
        order.samples_received_at = now
    elif to is S.TESTING:
        order.testing_started_at = now
    elif to is S.REPORT_ISSUED:
        order.report_issued_at = now
        assert order.samples_received_at is not None
        order.turnaround_seconds = int((now - order.samples_received_at).total_seconds())
    elif to in (S.COMPLETED, S.REJECTED, S.CANCELLED):
        order.closed_at = now
    if reason.strip():
        order.reason = reason.strip()
    session.add(OrderEvent(order_id=order.id, from_status=current, to_status=to, at=now,
                           actor_id=actor.account_id or None, note=reason.strip()))
    session.flush()
    return order


def accept_order(session: Session, order: SampleOrder, *, actor: Actor,
                 now: datetime) -> SampleOrder:
    """The provider takes the order on; its response time is recorded."""
    return _move(session, order, S.ACCEPTED, actor=actor, now=now)


def reject_order(session: Session, order: SampleOrder, *, actor: Actor, reason: str,
                 now: datetime) -> SampleOrder:
    """The provider declines a submitted order, saying why."""
    return _move(session, order, S.REJECTED, actor=actor, now=now, reason=reason)


def receive_samples(session: Session, order: SampleOrder, *, actor: Actor,
                    now: datetime) -> SampleOrder:
    """The samples have arrived; the turnaround clock starts."""
    return _move(session, order, S.SAMPLES_RECEIVED, actor=actor, now=now)


def start_testing(session: Session, order: SampleOrder, *, actor: Actor,
                  now: datetime) -> SampleOrder:
    """Testing has begun."""
    return _move(session, order, S.TESTING, actor=actor, now=now)


def issue_report(session: Session, order: SampleOrder, *, filename: str, content: bytes,
                 actor: Actor, now: datetime, store: ReportStore | None = None) -> OrderReport:
    """Store the report PDF (checked: a PDF, not too large) and mark the report issued; the
    turnaround is recorded."""
    record = f"order {order.code}"
    store = store or ReportStore.from_settings()
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if not name:
        raise InvalidInput("the file needs a name", record=record, field="file")
    # Checked before the move so that a bad file changes nothing; stored after it so that a
    # refused move leaves no file behind.
    store.check(content, record=record)
    _move(session, order, S.REPORT_ISSUED, actor=actor, now=now)
    stored = store.save(content, record=record)
    report = OrderReport(order_id=order.id, filename=name, sha256=stored.sha256,
                         size_bytes=stored.size_bytes, uploaded_at=now,
                         uploaded_by_id=actor.account_id or None)
    session.add(report)
    session.flush()
    return report


def complete_order(session: Session, order: SampleOrder, *, actor: Actor,
                   now: datetime) -> SampleOrder:
    """Close an order whose report is out (the user confirms receipt, or the provider)."""
    return _move(session, order, S.COMPLETED, actor=actor, now=now)


def cancel_order(session: Session, order: SampleOrder, *, actor: Actor, now: datetime,
                 reason: str = "") -> SampleOrder:
    """The user withdraws until the samples arrive; the provider cancels until the report,
    with a reason."""
    return _move(session, order, S.CANCELLED, actor=actor, now=now, reason=reason)


def order_history(session: Session, order: SampleOrder) -> list[OrderEvent]:
    """Every move of the order, oldest first."""
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                .order_by(OrderEvent.at, OrderEvent.id)))


def report_of(session: Session, order: SampleOrder) -> OrderReport | None:
    """The order's report, if one has been issued."""
    return session.scalar(select(OrderReport).where(OrderReport.order_id == order.id))


def download_report(session: Session, order: SampleOrder, *, actor: Actor,
                    store: ReportStore | None = None) -> tuple[OrderReport, bytes]:
    """The report and its bytes, checked against the stored checksum; for the requester and
    those running the queue."""
    record = f"order {order.code}"
    runs_queue = actor.may(Action.RUN_BOOKING_QUEUE, instrument_target(order.instrument))
    if not runs_queue and order.requester_id != actor.account_id:
        raise NotYours("not your order", record=record)
    report = report_of(session, order)
    if report is None:
        raise UnknownOrder("no report has been issued yet", record=record, field="report")
    store = store or ReportStore.from_settings()
    return report, store.read(report.sha256, record=record)
