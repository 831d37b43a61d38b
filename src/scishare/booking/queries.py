"""Read models: a person's reservations and orders, an instrument's bookings, the operator's
queue. Every query loads what its read model shows up front (relationships raise otherwise)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from scishare.accounts.permissions import POLICY, Action, Scope
from scishare.accounts.service import Actor
from scishare.booking.models import (
    OrderEvent,
    OrderReport,
    OrderStatus,
    Reservation,
    ReservationStatus,
    SampleOrder,
)
from scishare.booking.schemas import (
    OrderEventRead,
    QueueRead,
    ReportRead,
    ReservationRead,
    SampleOrderRead,
)
from scishare.catalog.models import Instrument

OPEN_ORDER_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED,
                       OrderStatus.SAMPLES_RECEIVED, OrderStatus.TESTING,
                       OrderStatus.REPORT_ISSUED)
# How far ahead the operator's queue lists confirmed reservations.
QUEUE_AHEAD = timedelta(days=14)


def read_reservation(reservation: Reservation) -> ReservationRead:
    """For a reservation loaded with its instrument and requester."""
    return ReservationRead(
        code=reservation.code, instrument_id=reservation.instrument.exchange_id,
        instrument_name_zh=reservation.instrument.name_zh,
        instrument_name_en=reservation.instrument.name_en,
        requester_name=reservation.requester.display_name, mode=reservation.mode,
        status=reservation.status, starts_at=reservation.starts_at,
        ends_at=reservation.ends_at, purpose=reservation.purpose,
        price_category=reservation.price_category,
        price_estimate_fen=reservation.price_estimate_fen, created_at=reservation.created_at,
        reason=reservation.reason)


def _reservations() -> Select[Reservation]:
    return select(Reservation).options(joinedload(Reservation.instrument, innerjoin=True),
                                       joinedload(Reservation.requester, innerjoin=True))


def _orders() -> Select[SampleOrder]:
    return select(SampleOrder).options(
        joinedload(SampleOrder.instrument, innerjoin=True).selectinload(
            Instrument.service_items),
        joinedload(SampleOrder.requester, innerjoin=True))


def reservations_of(session: Session, *, account_id: int) -> list[ReservationRead]:
    """A person's reservations, latest first."""
    rows = session.scalars(_reservations().where(Reservation.requester_id == account_id)
                           .order_by(Reservation.starts_at.desc())).all()
    return [read_reservation(r) for r in rows]


def read_order(session: Session, order: SampleOrder, *,
               with_history: bool = False) -> SampleOrderRead:
    """For an order loaded with its instrument (and service items) and requester."""
    item = next(i for i in order.instrument.service_items if i.id == order.service_item_id)
    report = session.scalar(select(OrderReport).where(OrderReport.order_id == order.id))
    history: list[OrderEventRead] = []
    if with_history:
        events = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                 .options(selectinload(OrderEvent.actor))
                                 .order_by(OrderEvent.at, OrderEvent.id)).all()
        history = [OrderEventRead(from_status=e.from_status, to_status=e.to_status, at=e.at,
                                  actor_name=e.actor.display_name if e.actor else "",
                                  note=e.note) for e in events]
    return SampleOrderRead(
        code=order.code, instrument_id=order.instrument.exchange_id,
        instrument_name_zh=order.instrument.name_zh,
        instrument_name_en=order.instrument.name_en,
        requester_name=order.requester.display_name, service_item_id=item.id,
        service_name_zh=item.name_zh, service_name_en=item.name_en,
        sample_count=order.sample_count, sample_description=order.sample_description,
        requested_tests=order.requested_tests, status=order.status,
        price_category=order.price_category, price_estimate_fen=order.price_estimate_fen,
        submitted_at=order.submitted_at, accepted_at=order.accepted_at,
        samples_received_at=order.samples_received_at,
        report_issued_at=order.report_issued_at, response_seconds=order.response_seconds,
        turnaround_seconds=order.turnaround_seconds, reason=order.reason,
        report=ReportRead(filename=report.filename, sha256=report.sha256,
                          size_bytes=report.size_bytes, uploaded_at=report.uploaded_at)
        if report else None,
        history=history)


def orders_of(session: Session, *, account_id: int) -> list[SampleOrderRead]:
    """A person's orders, latest first."""
    rows = session.scalars(_orders().where(SampleOrder.requester_id == account_id)
                           .order_by(SampleOrder.submitted_at.desc())).all()
    return [read_order(session, o) for o in rows]


def _queue_organisations(actor: Actor) -> set[int] | None:
    """The organisations whose queues the actor runs; None for all of them."""
    scopes = {POLICY[grant.role][Action.RUN_BOOKING_QUEUE] for grant in actor.grants}
    if Scope.ANYWHERE in scopes:
        return None
    return {actor.organisation_id} if Scope.OWN_ORGANISATION in scopes else set()


def operator_queue(session: Session, *, actor: Actor, now: datetime) -> QueueRead:
    """What waits for the actor as operator: reservations to approve or coming up in the
    next two weeks (or running), and orders not yet closed, of the instruments they run."""
    organisations = _queue_organisations(actor)
    if organisations == set():
        return QueueRead(reservations=[], orders=[])
    reservations = _reservations().join(Reservation.instrument).where(
        (Reservation.status == ReservationStatus.PENDING)
        | ((Reservation.status.in_([ReservationStatus.CONFIRMED,
                                    ReservationStatus.IN_PROGRESS]))
           & (Reservation.starts_at < now + QUEUE_AHEAD)))
    orders = _orders().join(SampleOrder.instrument).where(
        SampleOrder.status.in_(OPEN_ORDER_STATUSES))
    if organisations is not None:
        reservations = reservations.where(Instrument.organisation_id.in_(organisations))
        orders = orders.where(Instrument.organisation_id.in_(organisations))
    return QueueRead(
        reservations=[read_reservation(r) for r in session.scalars(
            reservations.order_by(Reservation.starts_at)).unique()],
        orders=[read_order(session, o) for o in session.scalars(
            orders.order_by(SampleOrder.submitted_at)).unique()])
