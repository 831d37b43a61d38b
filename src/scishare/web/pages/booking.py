"""Booking pages: an instrument's week or month calendar with the booking and order forms, the
person's reservations and orders, and the operator's queue.

Times are typed and shown in Asia/Shanghai; the services get aware UTC.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from scishare.accounts.permissions import Action, Target
from scishare.billing.quotes import Quote
from scishare.booking.schemas import (
    BlackoutKind,
    CalendarBlock,
    OperationMode,
    OrderStatus,
    PriceCategory,
    PriceEstimate,
    ReservationCreate,
    ReservationStatus,
    SampleOrderCreate,
)
from scishare.booking.service import (
    TimeRange,
    accept_order,
    add_blackout,
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
    get_reservation,
    instrument_calendar,
    issue_feed_secret,
    issue_report,
    mark_no_show,
    next_statuses,
    operator_queue,
    order_for,
    orders_of,
    read_order,
    read_policy,
    receive_samples,
    reject_order,
    reject_reservation,
    reservation_for,
    reservations_of,
    start_testing,
    submit_order,
    submit_reservation,
)
from scishare.catalog.models import Instrument, ServiceUnit
from scishare.catalog.service import read_instrument
from scishare.core.clock import DISPLAY_TZ
from scishare.core.errors import SciShareError
from scishare.web.api.booking import WriteSession, pdf_response
from scishare.web.deps import (
    CheckedForm,
    ClockDep,
    CurrentUser,
    FormRejected,
    PageDep,
    SessionDep,
    SignedIn,
)
from scishare.web.labels import N_
from scishare.web.pages.billing import booking_quote
from scishare.web.templating import Page

router = APIRouter(prefix="/booking")

ExchangeId = Annotated[str, Path()]

LABELS: dict[str, str] = {
    ReservationStatus.PENDING: N_("Awaiting approval"),
    ReservationStatus.CONFIRMED: N_("Confirmed"),
    ReservationStatus.IN_PROGRESS: N_("In use"),
    ReservationStatus.COMPLETED: N_("Completed"),
    ReservationStatus.NO_SHOW: N_("No-show"),
    ReservationStatus.REJECTED: N_("Rejected"),
    ReservationStatus.CANCELLED: N_("Cancelled"),
    OrderStatus.SUBMITTED: N_("Submitted"),
    OrderStatus.ACCEPTED: N_("Accepted"),
    OrderStatus.SAMPLES_RECEIVED: N_("Samples received"),
    OrderStatus.TESTING: N_("Testing"),
    OrderStatus.REPORT_ISSUED: N_("Report issued"),
    OperationMode.SELF_OPERATED: N_("Self-operated (qualified users)"),
    OperationMode.ASSISTED: N_("Run by the operator"),
    PriceCategory.INTERNAL: N_("internal"),
    PriceCategory.NONPROFIT: N_("non-profit"),
    PriceCategory.ENTERPRISE: N_("enterprise"),
    BlackoutKind.MAINTENANCE: N_("Maintenance"),
    BlackoutKind.CALIBRATION: N_("Calibration"),
    BlackoutKind.INTERNAL_USE: N_("Internal use"),
    "free": N_("Free"),
    "booked": N_("Booked"),
    "blocked": N_("Blocked"),
    "closed": N_("Closed"),
}
# The buttons that move an order on, by the status it moves to.
ORDER_STEPS: dict[str, str] = {
    OrderStatus.ACCEPTED: N_("Accept"),
    OrderStatus.SAMPLES_RECEIVED: N_("Samples received"),
    OrderStatus.TESTING: N_("Start testing"),
    OrderStatus.COMPLETED: N_("Complete"),
}
ORDER_MOVES = {OrderStatus.ACCEPTED: accept_order, OrderStatus.SAMPLES_RECEIVED: receive_samples,
               OrderStatus.TESTING: start_testing, OrderStatus.COMPLETED: complete_order}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
NOT_A_DATE = N_("Give a date (YYYY-MM-DD).")
NOT_A_TIME = N_("Give a time (HH:MM).")
REQUIRED = N_("Required.")
NOT_A_NUMBER = N_("Not a number.")
CHOOSE_A_FILE = N_("Choose the report, a PDF file.")


# Times typed and shown in Shanghai ----------------------------------------------------------

def local(moment: datetime) -> datetime:
    return moment.astimezone(DISPLAY_TZ)


def parse_local(day: str, clock: str, *, problems: dict[str, str], page: Page,
                day_field: str, clock_field: str) -> datetime | None:
    """A Shanghai date and "HH:MM" as an aware datetime, or None with the problem noted."""
    try:
        parsed_day = date.fromisoformat(day.strip())
    except ValueError:
        problems[day_field] = page.gettext(NOT_A_DATE)
        return None
    if clock.strip() == "24:00":
        return datetime.combine(parsed_day + timedelta(days=1), time(0), tzinfo=DISPLAY_TZ)
    try:
        parsed_clock = time.fromisoformat(clock.strip())
    except ValueError:
        problems[clock_field] = page.gettext(NOT_A_TIME)
        return None
    return datetime.combine(parsed_day, parsed_clock, tzinfo=DISPLAY_TZ)


@dataclass(frozen=True)
class Segment:
    """A stretch of one day's bar, in percent of the day."""

    block: CalendarBlock
    left: float
    width: float
    starts: str
    ends: str
    # For a free stretch: the end of the booking its link suggests.
    suggested_end: str = ""


@dataclass(frozen=True)
class Day:
    day: date
    weekday: str
    segments: list[Segment]
    free: list[Segment]


def _days(blocks: list[CalendarBlock], first: date, count: int, page: Page, *,
          suggested: timedelta) -> list[Day]:
    days: list[Day] = []
    for offset in range(count):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, time(0), tzinfo=DISPLAY_TZ)
        end = start + timedelta(days=1)
        segments = []
        for block in blocks:
            part = TimeRange(block.starts_at, block.ends_at).clip(TimeRange(start, end))
            if part is None:
                continue
            left = (part.starts_at - start) / timedelta(days=1) * 100
            width = part.duration / timedelta(days=1) * 100
            ends = local(part.ends_at)
            proposal = local(min(part.ends_at, part.starts_at + suggested))
            segments.append(Segment(
                block=CalendarBlock(starts_at=part.starts_at, ends_at=part.ends_at,
                                    state=block.state), left=round(left, 3),
                width=round(width, 3), starts=local(part.starts_at).strftime("%H:%M"),
                ends="24:00" if ends.date() > day else ends.strftime("%H:%M"),
                suggested_end=("24:00" if proposal.date() > day
                               else proposal.strftime("%H:%M"))))
        days.append(Day(day=day, weekday=page.gettext(WEEKDAYS[day.weekday()]),
                        segments=segments,
                        free=[s for s in segments if s.block.state == "free"]))
    return days


# The instrument's calendar and forms ---------------------------------------------------------

@dataclass
class BookingForm:
    day: str = ""
    starts: str = ""
    ends: str = ""
    mode: str = OperationMode.ASSISTED.value
    service_item_id: str = ""
    purpose: str = ""
    idempotency_key: str = ""


@dataclass
class OrderForm:
    service_item_id: str = ""
    sample_count: str = "1"
    sample_description: str = ""
    requested_tests: str = ""
    idempotency_key: str = ""


def _window(anchor: date, view: str) -> tuple[date, int]:
    """The first day and the number of days shown: a week from Monday, or a month."""
    if view == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, (following - first).days
    return anchor - timedelta(days=anchor.weekday()), 7


def _calendar_page(page: Page, session: Session, now: datetime, instrument: Instrument, *,
                   anchor: date | None = None, view: str = "week",
                   booking: BookingForm | None = None, ordering: OrderForm | None = None,
                   problems: dict[str, str] | None = None, status_code: int = 200,
                   notice: str = "") -> HTMLResponse:
    view = "month" if view == "month" else "week"
    anchor = anchor or local(now).date()
    first, count = _window(anchor, view)
    start = datetime.combine(first, time(0), tzinfo=DISPLAY_TZ)
    calendar = instrument_calendar(session, instrument=instrument,
                                   window=TimeRange(start, start + timedelta(days=count)),
                                   now=now)
    rules = booking_rules(session, instrument)
    user = page.user
    prices: dict[int, int] = {}
    estimated: PriceEstimate | None = None
    quote: Quote | None = None
    order_quote: Quote | None = None
    booking = booking or BookingForm(idempotency_key=uuid.uuid4().hex)
    ordering = ordering or OrderForm(idempotency_key=uuid.uuid4().hex)
    if user is not None:
        for item in instrument.service_items:
            if item.is_active:
                unit = 60 if item.unit == ServiceUnit.HOUR else None
                prices[item.id] = estimate_for(
                    session, instrument=instrument, service_item_id=item.id, actor=user.actor,
                    minutes=unit, samples=None if unit else 1).unit_price_fen
        estimated = _estimate(session, instrument, booking, user)
        quote = _booking_quote(session, instrument, booking, user, now)
        order_quote = _order_quote(session, instrument, ordering, user, now)
    step = {"week": timedelta(days=7), "month": timedelta(days=31)}[view]
    return page.render(
        "booking/instrument.html", status_code=status_code, instrument=instrument,
        details=read_instrument(instrument), policy=read_policy(instrument, rules),
        days=_days(calendar.blocks, first, count, page, suggested=timedelta(
            minutes=max(rules.min_minutes, -(-60 // rules.slot_minutes) * rules.slot_minutes))),
        view=view, anchor=anchor,
        previous=(first - step).isoformat(),
        following=(first + timedelta(days=count)).isoformat(), booking=booking,
        ordering=ordering, problems=problems or {}, prices=prices, estimate=estimated,
        quote=quote, order_quote=order_quote,
        modes=list(OperationMode), kinds=list(BlackoutKind), notice=notice,
        may_block=user is not None and _may(user, Action.SET_AVAILABILITY, instrument),
        label=lambda value: page.gettext(LABELS.get(str(value), str(value))),
        weekdays=[page.gettext(name) for name in WEEKDAYS])


def _may(user: SignedIn, action: Action, instrument: Instrument) -> bool:
    return user.actor.may(action, Target(organisation_id=instrument.organisation_id,
                                         region_code=instrument.region_code))


def _form_period(booking: BookingForm) -> tuple[datetime, datetime, int] | None:
    """The period the booking form asks for and its service item, if all are filled in and
    the period has a length."""
    if not (booking.day and booking.starts and booking.ends and booking.service_item_id):
        return None
    try:
        day = date.fromisoformat(booking.day)
        start = datetime.combine(day, time.fromisoformat(booking.starts), tzinfo=DISPLAY_TZ)
        end = datetime.combine(day, time.fromisoformat(booking.ends), tzinfo=DISPLAY_TZ)
        service_item_id = int(booking.service_item_id)
    except ValueError:
        return None
    return (start, end, service_item_id) if end > start else None


def _estimate(session: Session, instrument: Instrument, booking: BookingForm,
              user: SignedIn) -> PriceEstimate | None:
    """The price of the period in the form, for the person's category, if it can be told."""
    period = _form_period(booking)
    if period is None:
        return None
    start, end, service_item_id = period
    try:
        return estimate_for(session, instrument=instrument, service_item_id=service_item_id,
                            actor=user.actor,
                            minutes=int((end - start) / timedelta(minutes=1)))
    except SciShareError:
        return None


def _booking_quote(session: Session, instrument: Instrument, booking: BookingForm,
                   user: SignedIn, now: datetime) -> Quote | None:
    """The period in the form priced as settlement would, with the voucher part."""
    period = _form_period(booking)
    if period is None:
        return None
    start, end, service_item_id = period
    return booking_quote(session, instrument=instrument, actor=user.actor, now=now,
                         service_item_id=service_item_id,
                         minutes=int((end - start) / timedelta(minutes=1)), ends_at=end,
                         purpose=booking.purpose,
                         self_operated=booking.mode == OperationMode.SELF_OPERATED)


def _order_quote(session: Session, instrument: Instrument, ordering: OrderForm,
                 user: SignedIn, now: datetime) -> Quote | None:
    """The samples in the order form (one of the first per-sample service by default) priced
    as settlement would, with the voucher part."""
    per_sample = [i for i in instrument.service_items
                  if i.is_active and i.unit == ServiceUnit.SAMPLE]
    if not per_sample:
        return None
    try:
        service_item_id = int(ordering.service_item_id or per_sample[0].id)
        samples = int(ordering.sample_count or 1)
    except ValueError:
        return None
    if samples <= 0:
        return None
    return booking_quote(session, instrument=instrument, actor=user.actor, now=now,
                         service_item_id=service_item_id, samples=samples)


@router.get("/instruments/{exchange_id}", response_class=HTMLResponse)
def instrument_page(page: PageDep, session: SessionDep, now: ClockDep, exchange_id: ExchangeId,
                    week: str = "", view: str = "week", day: str = "", starts: str = "",
                    ends: str = "", service_item_id: str = "") -> HTMLResponse:
    """The calendar; a free stretch links back here with the booking form filled in."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    try:
        anchor = date.fromisoformat(week) if week else None
    except ValueError:
        anchor = None
    hourly = [i for i in instrument.service_items if i.is_active and i.unit == ServiceUnit.HOUR]
    booking = BookingForm(day=day, starts=starts, ends=ends,
                          service_item_id=service_item_id or (str(hourly[0].id) if hourly
                                                              else ""),
                          idempotency_key=uuid.uuid4().hex)
    return _calendar_page(page, session, now, instrument, anchor=anchor, view=view,
                          booking=booking)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@router.post("/instruments/{exchange_id}/reserve")
def reserve(session: WriteSession, page: PageDep, user: CurrentUser, now: ClockDep,
            form: CheckedForm, exchange_id: ExchangeId) -> Response:
    """Book the period typed (Shanghai time); a refusal shows the form again, marked."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    booking = BookingForm(day=_text(form, "day"), starts=_text(form, "starts"),
                          ends=_text(form, "ends"), mode=_text(form, "mode"),
                          service_item_id=_text(form, "service_item_id"),
                          purpose=_text(form, "purpose"),
                          idempotency_key=_text(form, "idempotency_key"))
    problems: dict[str, str] = {}
    starts_at = parse_local(booking.day, booking.starts, problems=problems, page=page,
                            day_field="day", clock_field="starts")
    ends_at = parse_local(booking.day, booking.ends, problems=problems, page=page,
                          day_field="day", clock_field="ends")
    if starts_at is not None and ends_at is not None:
        try:
            reservation = submit_reservation(session, ReservationCreate(
                instrument_id=exchange_id, starts_at=starts_at, ends_at=ends_at,
                mode=OperationMode(booking.mode) if booking.mode in set(OperationMode)
                else OperationMode.ASSISTED,
                service_item_id=int(booking.service_item_id) if booking.service_item_id
                else None, purpose=booking.purpose,
                idempotency_key=booking.idempotency_key), actor=user.actor, now=now)
            return RedirectResponse(f"/booking/mine?booked={reservation.code}",
                                    status_code=303)
        except ValidationError as error:
            for detail in error.errors():
                problems[str(detail["loc"][0])] = page.gettext(REQUIRED)
        except SciShareError as error:
            problems[{"starts_at": "starts", "ends_at": "ends"}.get(
                error.field or "", error.field or "general")] = error.reason
            problems.setdefault("general", error.reason)
    raise FormRejected(_calendar_page(
        page, session, now, instrument, anchor=date.fromisoformat(booking.day)
        if "day" not in problems and booking.day else None, booking=booking,
        problems=problems, status_code=409 if "general" in problems else 422))


@router.post("/instruments/{exchange_id}/order")
def order(session: WriteSession, page: PageDep, user: CurrentUser, now: ClockDep,
          form: CheckedForm, exchange_id: ExchangeId) -> Response:
    """Order a sample test; a refusal shows the form again, marked."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    ordering = OrderForm(service_item_id=_text(form, "service_item_id"),
                         sample_count=_text(form, "sample_count"),
                         sample_description=_text(form, "sample_description"),
                         requested_tests=_text(form, "requested_tests"),
                         idempotency_key=_text(form, "idempotency_key"))
    problems: dict[str, str] = {}
    try:
        data = SampleOrderCreate(
            instrument_id=exchange_id, service_item_id=int(ordering.service_item_id or 0),
            sample_count=int(ordering.sample_count or 0),
            sample_description=ordering.sample_description,
            requested_tests=ordering.requested_tests,
            idempotency_key=ordering.idempotency_key)
    except ValidationError as error:
        for detail in error.errors():
            problems[f"order_{detail['loc'][0]}"] = page.gettext(REQUIRED)
    except ValueError:
        problems["order_sample_count"] = page.gettext(NOT_A_NUMBER)
    else:
        try:
            created = submit_order(session, data, actor=user.actor, now=now)
            return RedirectResponse(f"/booking/mine?ordered={created.code}", status_code=303)
        except SciShareError as error:
            problems[f"order_{error.field or 'general'}"] = error.reason
            problems.setdefault("order_general", error.reason)
    raise FormRejected(_calendar_page(page, session, now, instrument, ordering=ordering,
                                      problems=problems, status_code=422))


@router.post("/instruments/{exchange_id}/blackouts")
def block(session: WriteSession, page: PageDep, user: CurrentUser, now: ClockDep,
          form: CheckedForm, exchange_id: ExchangeId) -> Response:
    """Block a period (operators); reservations in the way refuse it unless displaced."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    problems: dict[str, str] = {}
    day = _text(form, "block_day")
    starts_at = parse_local(day, _text(form, "block_starts"), problems=problems, page=page,
                            day_field="block_day", clock_field="block_starts")
    ends_at = parse_local(day, _text(form, "block_ends"), problems=problems, page=page,
                          day_field="block_day", clock_field="block_ends")
    kind = _text(form, "kind")
    if starts_at is not None and ends_at is not None:
        try:
            add_blackout(session, instrument=instrument, period=TimeRange(starts_at, ends_at),
                         kind=BlackoutKind(kind) if kind in set(BlackoutKind)
                         else BlackoutKind.MAINTENANCE, reason=_text(form, "reason"),
                         actor=user.actor, now=now,
                         displace_reservations="displace" in form)
            return RedirectResponse(
                f"/booking/instruments/{exchange_id}?week={day}", status_code=303)
        except SciShareError as error:
            problems[f"block_{error.field or 'general'}"] = error.reason
            problems.setdefault("block_general", error.reason)
    raise FormRejected(_calendar_page(page, session, now, instrument, problems=problems,
                                      status_code=422))


# The person's own reservations and orders ----------------------------------------------------

@router.get("/mine", response_class=HTMLResponse)
def mine(page: PageDep, session: SessionDep, user: CurrentUser, booked: str = "",
         ordered: str = "", feed: str = "") -> HTMLResponse:
    return page.render(
        "booking/mine.html", reservations=reservations_of(session, account_id=user.account.id),
        orders=orders_of(session, account_id=user.account.id), booked=booked,
        ordered=ordered, feed=feed,
        label=lambda value: page.gettext(LABELS.get(str(value), str(value))))


@router.post("/mine/feed")
def new_feed(session: WriteSession, user: CurrentUser, now: ClockDep,
             form: CheckedForm) -> Response:
    """A private calendar address; shown once, on the page it leads back to."""
    secret = issue_feed_secret(session, account_id=user.account.id, now=now)
    return RedirectResponse(f"/booking/mine?feed={secret}", status_code=303)


@router.post("/reservations/{code}/cancel")
def cancel(session: WriteSession, user: CurrentUser, now: ClockDep, form: CheckedForm,
           code: str) -> Response:
    reservation = reservation_for(session, code, actor=user.actor)
    cancel_reservation(session, reservation, actor=user.actor, now=now,
                       reason=_text(form, "reason"))
    return RedirectResponse(_back(form, "/booking/mine"), status_code=303)


def _back(form: FormData, default: str) -> str:
    """Where a form asks to go back to: a path on this site only."""
    target = _text(form, "next")
    return target if target.startswith("/") and not target.startswith("//") else default


# The operator's queue ----------------------------------------------------------------------

@router.get("/queue", response_class=HTMLResponse)
def queue(page: PageDep, session: SessionDep, user: CurrentUser,
          now: ClockDep) -> HTMLResponse:
    found = operator_queue(session, actor=user.actor, now=now)
    return page.render(
        "booking/queue.html", queue=found,
        steps={o.code: [(to.value, ORDER_STEPS[to]) for to in next_statuses(o.status)
                        if to in ORDER_STEPS] for o in found.orders},
        label=lambda value: page.gettext(LABELS.get(str(value), str(value))),
        step_label=lambda value: page.gettext(value), now=now,
        may_reject=lambda status: OrderStatus.REJECTED in next_statuses(OrderStatus(status)),
        may_cancel=lambda status: OrderStatus.CANCELLED in next_statuses(
            OrderStatus(status)))


@router.post("/reservations/{code}/{action}")
def reservation_action(session: WriteSession, user: CurrentUser, now: ClockDep,
                       form: CheckedForm, code: str, action: str) -> Response:
    reservation = get_reservation(session, code)
    if action == "approve":
        approve_reservation(session, reservation, actor=user.actor, now=now)
    elif action == "reject":
        reject_reservation(session, reservation, actor=user.actor, reason=_text(form, "reason"),
                           now=now)
    elif action == "no-show":
        mark_no_show(session, reservation, actor=user.actor, now=now)
    elif action == "check-in":
        check_in(session, reservation_for(session, code, actor=user.actor), actor=user.actor,
                 now=now)
    elif action == "finish":
        finish_reservation(session, reservation_for(session, code, actor=user.actor),
                           actor=user.actor, now=now)
    else:
        return Response(status_code=404)
    return RedirectResponse(_back(form, "/booking/queue"), status_code=303)


@router.get("/orders/{code}", response_class=HTMLResponse)
def order_page(page: PageDep, session: SessionDep, user: CurrentUser,
               code: str) -> HTMLResponse:
    found = read_order(session, order_for(session, code, actor=user.actor), with_history=True)
    return page.render("booking/order.html", order=found,
                       label=lambda value: page.gettext(LABELS.get(str(value), str(value))))


@router.get("/orders/{code}/report")
def report_file(session: SessionDep, user: CurrentUser, code: str) -> Response:
    report, content = download_report(session, order_for(session, code, actor=user.actor),
                                      actor=user.actor)
    return pdf_response(report.filename, report.sha256, content)


@router.post("/orders/{code}/report")
def upload_report(session: WriteSession, page: PageDep, user: CurrentUser, now: ClockDep,
                  form: CheckedForm, code: str) -> Response:
    upload = form.get("file")
    found = order_for(session, code, actor=user.actor)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormRejected(page.render("error.html", status_code=422, here="/booking/queue",
                                       problem={"error": "invalid_input",
                                                "record": f"order {code}", "field": "file",
                                                "reason": page.gettext(CHOOSE_A_FILE)}))
    issue_report(session, found, filename=upload.filename, content=upload.file.read(),
                 actor=user.actor, now=now)
    return RedirectResponse(_back(form, "/booking/queue"), status_code=303)


@router.post("/orders/{code}/{to}")
def order_action(session: WriteSession, user: CurrentUser, now: ClockDep, form: CheckedForm,
                 code: str, to: str) -> Response:
    found = order_for(session, code, actor=user.actor)
    reason = _text(form, "reason")
    if to == OrderStatus.REJECTED:
        reject_order(session, found, actor=user.actor, reason=reason, now=now)
    elif to == OrderStatus.CANCELLED:
        cancel_order(session, found, actor=user.actor, now=now, reason=reason)
    elif to in ORDER_MOVES:
        ORDER_MOVES[OrderStatus(to)](session, found, actor=user.actor, now=now)
    else:
        return Response(status_code=404)
    return RedirectResponse(_back(form, "/booking/queue"), status_code=303)
