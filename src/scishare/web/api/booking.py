"""Booking: availability, machine-time reservations, sample-testing orders, the operator's
queue, test reports and iCalendar feeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from scishare.booking.schemas import (
    BlackoutCreate,
    BlackoutRead,
    BookingPolicyRead,
    BookingPolicyUpdate,
    CalendarRead,
    FeedAddress,
    FreePeriod,
    HolidayCreate,
    HolidayRead,
    PriceEstimate,
    QualificationCreate,
    QualificationRead,
    QueueRead,
    Reason,
    ReportRead,
    ReservationCreate,
    ReservationMove,
    ReservationRead,
    SampleOrderCreate,
    SampleOrderRead,
)
from scishare.booking.service import (
    TimeRange,
    accept_order,
    account_feed,
    account_for_feed,
    add_blackout,
    add_holiday,
    approve_reservation,
    booking_rules,
    cancel_order,
    cancel_reservation,
    check_in,
    complete_order,
    download_report,
    estimate_for,
    find_instrument,
    finish_reservation,
    free_periods,
    get_reservation,
    grant_qualification,
    instrument_calendar,
    instrument_feed,
    issue_feed_secret,
    issue_report,
    lift_blackout,
    list_holidays,
    mark_no_show,
    move_reservation,
    next_free_slot,
    operator_queue,
    order_for,
    orders_of,
    qualifications_of,
    read_order,
    read_policy,
    read_reservation,
    receive_samples,
    reject_order,
    reject_reservation,
    remove_holiday,
    reservation_for,
    reservations_of,
    revoke_qualification,
    set_booking_policy,
    start_testing,
    submit_order,
    submit_reservation,
)
from scishare.catalog.models import Instrument
from scishare.core.database import WRITE_TRANSACTION
from scishare.web.api.common import errors
from scishare.web.deps import ClockDep, CurrentUser, SessionDep

router = APIRouter(tags=["booking"])

ExchangeId = Annotated[str, Path(description="The instrument's stable exchange id.",
                                  examples=["ZZ-0001234"])]
Code = Annotated[str, Path(description="A reservation (R0000042) or order (T0000042) code.")]
CALENDAR = "text/calendar; charset=utf-8"


def write_session(session: SessionDep) -> Session:
    """The request's session with its transaction opened for writing first (BEGIN IMMEDIATE
    on SQLite), before the sign-in is read: bookings check then write, and on SQLite such
    transactions must take turns. Declared as a route's first parameter."""
    session.connection(execution_options=WRITE_TRANSACTION)
    return session


WriteSession = Annotated[Session, Depends(write_session)]


def _instrument(session: Session, exchange_id: str) -> Instrument:
    return find_instrument(session, exchange_id, record=f"instrument {exchange_id}")


def _window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> TimeRange:
    start = starts_at or now
    return TimeRange(start, ends_at or start + timedelta(days=7))


# Availability ------------------------------------------------------------------------------

@router.get("/instruments/{exchange_id}/booking-policy", summary="Booking rules",
            responses=errors(404))
def policy(session: SessionDep, exchange_id: ExchangeId) -> BookingPolicyRead:
    """Slot grid, durations, lead time, horizon, buffer, deadlines and weekly opening hours
    (Asia/Shanghai); `is_default` when the provider has set none."""
    instrument = _instrument(session, exchange_id)
    return read_policy(instrument, booking_rules(session, instrument))


@router.put("/instruments/{exchange_id}/booking-policy", summary="Set the booking rules",
            responses=errors(401, 403, 404, 422))
def set_policy(session: WriteSession, user: CurrentUser, now: ClockDep,
               exchange_id: ExchangeId, data: BookingPolicyUpdate) -> BookingPolicyRead:
    instrument = _instrument(session, exchange_id)
    rules = set_booking_policy(session, instrument=instrument, policy=data, actor=user.actor,
                               now=now)
    return read_policy(instrument, rules)


@router.get("/instruments/{exchange_id}/calendar", summary="Free, booked, blocked, closed",
            responses=errors(404, 422))
def calendar(session: SessionDep, now: ClockDep, exchange_id: ExchangeId,
             starts_at: datetime | None = None, ends_at: datetime | None = None
             ) -> CalendarRead:
    """The instrument's time from `starts_at` (default now) to `ends_at` (default a week
    later), at most 93 days, as consecutive stretches."""
    return instrument_calendar(session, instrument=_instrument(session, exchange_id),
                               window=_window(starts_at, ends_at, now), now=now)


@router.get("/instruments/{exchange_id}/free-periods", summary="Bookable periods",
            responses=errors(404, 422))
def free(session: SessionDep, now: ClockDep, exchange_id: ExchangeId,
         starts_at: datetime | None = None, ends_at: datetime | None = None
         ) -> list[FreePeriod]:
    """Periods in which a booking of at least the minimum duration fits."""
    found = free_periods(session, instrument=_instrument(session, exchange_id),
                         window=_window(starts_at, ends_at, now), now=now)
    return [FreePeriod(starts_at=p.starts_at, ends_at=p.ends_at) for p in found]


@router.get("/instruments/{exchange_id}/next-free-slot", summary="The next free slot",
            responses=errors(404, 422))
def next_slot(session: SessionDep, now: ClockDep, exchange_id: ExchangeId,
              minutes: Annotated[int, Query(ge=1, le=366 * 24 * 60)],
              not_before: datetime | None = None) -> FreePeriod | None:
    """The earliest bookable period of exactly `minutes`, or null within the horizon."""
    slot = next_free_slot(session, instrument=_instrument(session, exchange_id),
                          duration=timedelta(minutes=minutes), now=now, not_before=not_before)
    return FreePeriod(starts_at=slot.starts_at, ends_at=slot.ends_at) if slot else None


@router.get("/instruments/{exchange_id}/price-estimate", summary="Price for the caller",
            responses=errors(401, 404, 422))
def price(session: SessionDep, user: CurrentUser, exchange_id: ExchangeId,
          service_item_id: int, minutes: int | None = None,
          samples: int | None = None) -> PriceEstimate:
    """The service item's list price for the caller's category (internal, non-profit or
    enterprise) times `minutes` of machine time or `samples`."""
    return estimate_for(session, instrument=_instrument(session, exchange_id),
                        service_item_id=service_item_id, actor=user.actor, minutes=minutes,
                        samples=samples)


@router.get("/instruments/{exchange_id}/holidays", summary="Days closed",
            responses=errors(404))
def holidays(session: SessionDep, exchange_id: ExchangeId) -> list[HolidayRead]:
    found = list_holidays(session, _instrument(session, exchange_id))
    return [HolidayRead.model_validate(day) for day in found]


@router.post("/instruments/{exchange_id}/holidays", summary="Close on a day",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def holiday(session: WriteSession, user: CurrentUser, now: ClockDep, exchange_id: ExchangeId,
            data: HolidayCreate) -> HolidayRead:
    found = add_holiday(session, instrument=_instrument(session, exchange_id), holiday=data,
                        actor=user.actor, now=now)
    return HolidayRead.model_validate(found)


@router.delete("/instruments/{exchange_id}/holidays/{closed_on}", summary="Open again",
               status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 404))
def unholiday(session: WriteSession, user: CurrentUser, exchange_id: ExchangeId,
              closed_on: date) -> Response:
    remove_holiday(session, instrument=_instrument(session, exchange_id), closed_on=closed_on,
                   actor=user.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/instruments/{exchange_id}/blackouts", summary="Block a period",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def blackout(session: WriteSession, user: CurrentUser, now: ClockDep,
             exchange_id: ExchangeId, data: BlackoutCreate) -> BlackoutRead:
    """Maintenance, calibration or internal use; 409 where the period is booked, unless
    `displace_reservations` cancels those bookings with the blackout's reason."""
    found = add_blackout(session, instrument=_instrument(session, exchange_id),
                         period=TimeRange(data.starts_at, data.ends_at), kind=data.kind,
                         reason=data.reason, actor=user.actor, now=now,
                         displace_reservations=data.displace_reservations)
    return BlackoutRead.model_validate(found)


@router.delete("/instruments/{exchange_id}/blackouts/{blackout_id}", summary="Lift a blackout",
               responses=errors(401, 403, 404, 409))
def lift(session: WriteSession, user: CurrentUser, now: ClockDep, exchange_id: ExchangeId,
         blackout_id: int) -> BlackoutRead:
    found = lift_blackout(session, instrument=_instrument(session, exchange_id),
                          blackout_id=blackout_id, actor=user.actor, now=now)
    return BlackoutRead.model_validate(found)


@router.get("/instruments/{exchange_id}/qualifications", summary="Qualified people",
            responses=errors(401, 403, 404))
def qualified(session: SessionDep, user: CurrentUser,
              exchange_id: ExchangeId) -> list[QualificationRead]:
    """For those running the instrument's queue."""
    found = qualifications_of(session, instrument=_instrument(session, exchange_id),
                              actor=user.actor)
    return [QualificationRead.model_validate(q) for q in found]


@router.post("/instruments/{exchange_id}/qualifications", summary="Qualify a person",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 422))
def qualify(session: WriteSession, user: CurrentUser, now: ClockDep, exchange_id: ExchangeId,
            data: QualificationCreate) -> QualificationRead:
    """Record training: the person may book self-operated time until `expires_at`."""
    found = grant_qualification(session, instrument=_instrument(session, exchange_id),
                                data=data, actor=user.actor, now=now)
    return QualificationRead.model_validate(found)


@router.delete("/instruments/{exchange_id}/qualifications/{qualification_id}",
               summary="Revoke a qualification", responses=errors(401, 403, 404, 409))
def unqualify(session: WriteSession, user: CurrentUser, now: ClockDep,
              exchange_id: ExchangeId, qualification_id: int) -> QualificationRead:
    found = revoke_qualification(session, instrument=_instrument(session, exchange_id),
                                 qualification_id=qualification_id, actor=user.actor, now=now)
    return QualificationRead.model_validate(found)


@router.get("/instruments/{exchange_id}/calendar.ics", summary="iCalendar feed",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
def instrument_ics(session: SessionDep, now: ClockDep, exchange_id: ExchangeId) -> Response:
    """Booked and blocked periods (without names), a month back to a year ahead."""
    return Response(instrument_feed(session, instrument=_instrument(session, exchange_id),
                                    now=now), media_type=CALENDAR)


# Reservations ------------------------------------------------------------------------------

@router.post("/reservations", summary="Reserve machine time",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def reserve(session: WriteSession, user: CurrentUser, now: ClockDep,
            data: ReservationCreate) -> ReservationRead:
    """409 when any part of the period is taken (`starts_at`) or when the same
    `idempotency_key` was sent before (`idempotency_key`); nothing is stored then."""
    reservation = submit_reservation(session, data, actor=user.actor, now=now)
    return read_reservation(get_reservation(session, reservation.code))


@router.get("/reservations", summary="My reservations", responses=errors(401))
def my_reservations(session: SessionDep, user: CurrentUser) -> list[ReservationRead]:
    return reservations_of(session, account_id=user.account.id)


@router.get("/reservations/{code}", summary="A reservation", responses=errors(401, 403, 404))
def one_reservation(session: SessionDep, user: CurrentUser, code: Code) -> ReservationRead:
    return read_reservation(reservation_for(session, code, actor=user.actor))


@router.post("/reservations/{code}/move", summary="Change the time",
             responses=errors(401, 403, 404, 409, 422))
def move(session: WriteSession, user: CurrentUser, now: ClockDep, code: Code,
         data: ReservationMove) -> ReservationRead:
    """All or nothing: the new period is taken, or the old one is kept (409)."""
    reservation = reservation_for(session, code, actor=user.actor)
    move_reservation(session, reservation, period=TimeRange(data.starts_at, data.ends_at),
                     actor=user.actor, now=now)
    return read_reservation(reservation)


@router.post("/reservations/{code}/cancel", summary="Cancel",
             responses=errors(401, 403, 404, 409, 422))
def cancel(session: WriteSession, user: CurrentUser, now: ClockDep, code: Code,
           data: Reason) -> ReservationRead:
    """The requester until the cancellation deadline; the operator at any time, with a
    reason."""
    reservation = reservation_for(session, code, actor=user.actor)
    cancel_reservation(session, reservation, actor=user.actor, now=now, reason=data.reason)
    return read_reservation(reservation)


@router.post("/reservations/{code}/approve", summary="Approve (operator)",
             responses=errors(401, 403, 404, 409))
def approve(session: WriteSession, user: CurrentUser, now: ClockDep,
            code: Code) -> ReservationRead:
    reservation = get_reservation(session, code)
    return read_reservation(approve_reservation(session, reservation, actor=user.actor,
                                                now=now))


@router.post("/reservations/{code}/reject", summary="Reject (operator)",
             responses=errors(401, 403, 404, 409, 422))
def reject(session: WriteSession, user: CurrentUser, now: ClockDep, code: Code,
           data: Reason) -> ReservationRead:
    reservation = get_reservation(session, code)
    return read_reservation(reject_reservation(session, reservation, actor=user.actor,
                                               reason=data.reason, now=now))


@router.post("/reservations/{code}/check-in", summary="Start using the time",
             responses=errors(401, 403, 404, 409))
def start(session: WriteSession, user: CurrentUser, now: ClockDep,
          code: Code) -> ReservationRead:
    reservation = reservation_for(session, code, actor=user.actor)
    return read_reservation(check_in(session, reservation, actor=user.actor, now=now))


@router.post("/reservations/{code}/finish", summary="Finish", responses=errors(401, 403, 404, 409))
def finish(session: WriteSession, user: CurrentUser, now: ClockDep,
           code: Code) -> ReservationRead:
    reservation = reservation_for(session, code, actor=user.actor)
    return read_reservation(finish_reservation(session, reservation, actor=user.actor,
                                               now=now))


@router.post("/reservations/{code}/no-show", summary="Mark a no-show (operator)",
             responses=errors(401, 403, 404, 409))
def no_show(session: WriteSession, user: CurrentUser, now: ClockDep,
            code: Code) -> ReservationRead:
    reservation = get_reservation(session, code)
    return read_reservation(mark_no_show(session, reservation, actor=user.actor, now=now))


# Sample-testing orders ---------------------------------------------------------------------

@router.post("/orders", summary="Order a sample test", status_code=status.HTTP_201_CREATED,
             responses=errors(401, 403, 404, 409, 422))
def order(session: WriteSession, user: CurrentUser, now: ClockDep,
          data: SampleOrderCreate) -> SampleOrderRead:
    """409 when the same `idempotency_key` was sent before; nothing is stored then."""
    created = submit_order(session, data, actor=user.actor, now=now)
    return read_order(session, order_for(session, created.code, actor=user.actor),
                      with_history=True)


@router.get("/orders", summary="My orders", responses=errors(401))
def my_orders(session: SessionDep, user: CurrentUser) -> list[SampleOrderRead]:
    return orders_of(session, account_id=user.account.id)


@router.get("/orders/{code}", summary="An order with its history",
            responses=errors(401, 403, 404))
def one_order(session: SessionDep, user: CurrentUser, code: Code) -> SampleOrderRead:
    return read_order(session, order_for(session, code, actor=user.actor), with_history=True)


@router.post("/orders/{code}/report", summary="Upload the test report",
             status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 409, 422))
def upload(session: WriteSession, user: CurrentUser, now: ClockDep, code: Code,
           file: Annotated[UploadFile, File(description="The report, a PDF")]) -> ReportRead:
    """Stored with its SHA-256; the order becomes `report_issued`. Not a PDF or too large:
    422, and nothing changes."""
    found = order_for(session, code, actor=user.actor)
    report = issue_report(session, found, filename=file.filename or "report.pdf",
                          content=file.file.read(), actor=user.actor, now=now)
    return ReportRead(filename=report.filename, sha256=report.sha256,
                      size_bytes=report.size_bytes, uploaded_at=report.uploaded_at)


@router.get("/orders/{code}/report", summary="Download the test report",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}},
                                                **errors(401, 403, 404, 409)})
def download(session: SessionDep, user: CurrentUser, code: Code) -> Response:
    report, content = download_report(session, order_for(session, code, actor=user.actor),
                                      actor=user.actor)
    return pdf_response(report.filename, report.sha256, content)


def pdf_response(filename: str, sha256: str, content: bytes) -> Response:
    """The PDF as a download under its own (possibly Chinese) name."""
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Digest": f"sha-256={sha256}"})


ORDER_MOVES = {"accept": accept_order, "receive": receive_samples, "start": start_testing,
               "complete": complete_order}


@router.post("/orders/{code}/{move}", summary="Move an order on",
             responses=errors(401, 403, 404, 409, 422))
def move_order(session: WriteSession, user: CurrentUser, now: ClockDep, code: Code,
               move: Annotated[str, Path(pattern="^(accept|receive|start|complete|reject|"
                                                 "cancel)$")],
               data: Reason | None = None) -> SampleOrderRead:
    """`accept`, `reject` (with a reason), `receive` (samples), `start` (testing) for the
    provider; `complete` and `cancel` for either side (the provider gives a reason)."""
    found = order_for(session, code, actor=user.actor)
    reason = data.reason if data else ""
    if move == "reject":
        reject_order(session, found, actor=user.actor, reason=reason, now=now)
    elif move == "cancel":
        cancel_order(session, found, actor=user.actor, now=now, reason=reason)
    else:
        ORDER_MOVES[move](session, found, actor=user.actor, now=now)
    return read_order(session, found, with_history=True)


# The operator's queue and feeds ------------------------------------------------------------

@router.get("/booking/queue", summary="The operator's queue", responses=errors(401))
def queue(session: SessionDep, user: CurrentUser, now: ClockDep) -> QueueRead:
    """Reservations to approve or coming up in two weeks, and open orders, of the
    instruments the caller runs."""
    return operator_queue(session, actor=user.actor, now=now)


@router.post("/booking/calendar-feed", summary="A private iCalendar address",
             status_code=status.HTTP_201_CREATED, responses=errors(401))
def feed_address(request: Request, session: WriteSession, user: CurrentUser,
                 now: ClockDep) -> FeedAddress:
    """A new address for the caller's reservations; the previous one stops working."""
    secret = issue_feed_secret(session, account_id=user.account.id, now=now)
    return FeedAddress(url=str(request.url_for("personal_ics", secret=secret)))


@router.get("/booking/calendar/{secret}.ics", summary="A person's iCalendar feed",
            name="personal_ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}, **errors(401)})
def personal_ics(session: SessionDep, now: ClockDep, secret: str) -> Response:
    return Response(account_feed(session, account_id=account_for_feed(session, secret),
                                 now=now), media_type=CALENDAR)
