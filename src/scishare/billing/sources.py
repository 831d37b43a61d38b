"""What billing needs to know about completed reservations and orders.

Read in bulk, as plain facts, so that settlement can price thousands of orders per query. This
is the one module of billing that reads booking's tables (booking exposes no bulk query of
completed work yet); everything else goes through these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, aliased

from scishare.accounts.models import Account, Organisation
from scishare.billing.bulk import among
from scishare.billing.models import Settlement, SourceKind
from scishare.booking.models import (
    OperationMode,
    OrderStatus,
    Reservation,
    ReservationStatus,
    SampleOrder,
    order_code,
    reservation_code,
)
from scishare.booking.periods import LOCAL_TZ
from scishare.catalog.models import Instrument
from scishare.core.database import is_postgres


@dataclass(frozen=True)
class SourceFacts:
    """A completed reservation or order, as settlement sees it."""

    kind: SourceKind
    id: int
    instrument_id: int
    service_item_id: int | None
    class_code: str
    provider_id: int
    provider_region: str
    customer_id: int
    customer_type: str
    customer_region: str
    category: str
    purpose: str
    self_operated: bool
    estimate_fen: int
    minutes: int | None
    samples: int | None
    booked_at: datetime
    served_at: datetime
    status: str

    @property
    def code(self) -> str:
        return (reservation_code(self.id) if self.kind is SourceKind.RESERVATION
                else order_code(self.id))

    @property
    def key(self) -> str:
        return f"settle:{self.kind.value}:{self.id}"

    @cached_property
    def served_day(self) -> date:
        """The local day the service ended: it picks the voucher year and validity and the
        insurance policy; worked out once, as settlement asks for it several times."""
        return self.served_at.astimezone(LOCAL_TZ).date()


_customer = aliased(Organisation)


def _reservations() -> Select[*tuple[Any, ...]]:
    return select(
        Reservation.id, Reservation.instrument_id, Reservation.service_item_id,
        Instrument.class_code, Instrument.organisation_id, Instrument.region_code,
        _customer.id, _customer.org_type, _customer.region_code, Reservation.price_category,
        Reservation.purpose, Reservation.mode, Reservation.price_estimate_fen,
        Reservation.starts_at, Reservation.ends_at, Reservation.created_at,
        Reservation.finished_at, Reservation.status,
    ).join(Instrument, Instrument.id == Reservation.instrument_id).join(
        Account, Account.id == Reservation.requester_id).join(
        _customer, _customer.id == Account.organisation_id)


def _orders() -> Select[*tuple[Any, ...]]:
    return select(
        SampleOrder.id, SampleOrder.instrument_id, SampleOrder.service_item_id,
        Instrument.class_code, Instrument.organisation_id, Instrument.region_code,
        _customer.id, _customer.org_type, _customer.region_code, SampleOrder.price_category,
        SampleOrder.sample_count, SampleOrder.price_estimate_fen, SampleOrder.submitted_at,
        SampleOrder.closed_at, SampleOrder.report_issued_at, SampleOrder.status,
    ).join(Instrument, Instrument.id == SampleOrder.instrument_id).join(
        Account, Account.id == SampleOrder.requester_id).join(
        _customer, _customer.id == Account.organisation_id)


def _reservation_facts(row: tuple[object, ...]) -> SourceFacts:
    (rid, instrument_id, item_id, class_code, provider_id, provider_region, customer_id,
     customer_type, customer_region, category, purpose, mode, estimate, starts_at, ends_at,
     created_at, finished_at, status) = row
    assert isinstance(starts_at, datetime)
    assert isinstance(ends_at, datetime)
    assert isinstance(created_at, datetime)
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    return SourceFacts(
        kind=SourceKind.RESERVATION, id=int(str(rid)), instrument_id=int(str(instrument_id)),
        service_item_id=None if item_id is None else int(str(item_id)),
        class_code=str(class_code), provider_id=int(str(provider_id)),
        provider_region=str(provider_region), customer_id=int(str(customer_id)),
        customer_type=str(customer_type), customer_region=str(customer_region),
        category=str(category), purpose=str(purpose or "").strip(),
        self_operated=mode == OperationMode.SELF_OPERATED,
        estimate_fen=int(str(estimate or 0)), minutes=minutes, samples=None,
        booked_at=created_at,
        served_at=finished_at if isinstance(finished_at, datetime) else ends_at,
        status=str(status))


def _order_facts(row: tuple[object, ...]) -> SourceFacts:
    (oid, instrument_id, item_id, class_code, provider_id, provider_region, customer_id,
     customer_type, customer_region, category, samples, estimate, submitted_at, closed_at,
     issued_at, status) = row
    assert isinstance(submitted_at, datetime)
    served = closed_at if isinstance(closed_at, datetime) else (
        issued_at if isinstance(issued_at, datetime) else submitted_at)
    return SourceFacts(
        kind=SourceKind.ORDER, id=int(str(oid)), instrument_id=int(str(instrument_id)),
        service_item_id=int(str(item_id)), class_code=str(class_code),
        provider_id=int(str(provider_id)), provider_region=str(provider_region),
        customer_id=int(str(customer_id)), customer_type=str(customer_type),
        customer_region=str(customer_region), category=str(category), purpose="",
        self_operated=False, estimate_fen=int(str(estimate)), minutes=None,
        samples=int(str(samples)), booked_at=submitted_at, served_at=served,
        status=str(status))


def facts_of_reservation(session: Session, reservation_id: int) -> SourceFacts | None:
    row = session.execute(_reservations().where(Reservation.id == reservation_id)).first()
    return None if row is None else _reservation_facts(tuple(row))


def facts_of_order(session: Session, order_id: int) -> SourceFacts | None:
    row = session.execute(_orders().where(SampleOrder.id == order_id)).first()
    return None if row is None else _order_facts(tuple(row))


def is_completed(facts: SourceFacts) -> bool:
    if facts.kind is SourceKind.RESERVATION:
        return facts.status == ReservationStatus.COMPLETED
    return facts.status == OrderStatus.COMPLETED


def unsettled_completed(session: Session, *, limit: int,
                        provider_ids: list[int] | None = None,
                        after: dict[SourceKind, int] | None = None) -> list[SourceFacts]:
    """Up to `limit` completed reservations and orders without a settlement, oldest first
    (after the ids in `after`, a cursor so that a long run does not rescan what it settled).

    On PostgreSQL the rows are locked with SKIP LOCKED, so that settlement runs started side
    by side take different orders instead of colliding on the unique settlement key."""
    found: list[SourceFacts] = []
    lock = is_postgres(session)
    for kind, query, table_id, status, build in (
            (SourceKind.RESERVATION, _reservations(), Reservation.id,
             and_(Reservation.status == ReservationStatus.COMPLETED,
                  Reservation.service_item_id.is_not(None),
                  Reservation.price_estimate_fen.is_not(None)), _reservation_facts),
            (SourceKind.ORDER, _orders(), SampleOrder.id,
             SampleOrder.status == OrderStatus.COMPLETED, _order_facts)):
        room = limit - len(found)
        if room <= 0:
            break
        start = (after or {}).get(kind, 0)
        # The cursor bounds the settlements looked at too, not only the sources: the planner
        # does not carry a range across the join, and on a settlement table grown faster than
        # it is analyzed it may hash every settlement ever made for each batch.
        settled = select(Settlement.id).where(Settlement.source_kind == kind.value,
                                              Settlement.source_id > start,
                                              Settlement.source_id == table_id).exists()
        query = query.where(status, ~settled, table_id > start).order_by(table_id).limit(room)
        if provider_ids is not None:
            query = query.where(Instrument.organisation_id.in_(provider_ids))
        if lock:
            query = query.with_for_update(of=table_id.table, skip_locked=True)
        batch = [build(tuple(row)) for row in session.execute(query)]
        if lock and batch:
            # The lock waits for a run that settled these rows; its statement's snapshot was
            # taken before that run committed, so look again now that the rows are ours.
            ids = [f.id for f in batch]  # in id order: the range bounds the look-up, as above
            done = set(session.scalars(select(Settlement.source_id).where(
                Settlement.source_kind == kind.value,
                Settlement.source_id.between(ids[0], ids[-1]),
                among(session, Settlement.source_id, ids))))
            batch = [f for f in batch if f.id not in done]
        found.extend(batch)
    return found
