"""Billing pages: an enterprise's innovation vouchers, a region's voucher programmes for its
bureau, and an organisation's statements; and the price box of the booking forms.

Days are Shanghai days; a statement's period is typed with its last day included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from scishare.accounts.models import Role
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize, get_organisation_by_code
from scishare.billing.models import JournalKind, QuotaStatus, RedemptionMode, SourceKind
from scishare.billing.quotes import Quote, quote_price
from scishare.billing.reports import programme_report, voucher_account
from scishare.billing.service import Statement, statement
from scishare.catalog.models import Instrument
from scishare.core.clock import to_display
from scishare.core.errors import InvalidInput, SciShareError
from scishare.regions.service import list_regions
from scishare.web.deps import ClockDep, CurrentUser, PageDep, SessionDep, SignedIn
from scishare.web.labels import N_
from scishare.web.templating import Page

router = APIRouter(prefix="/billing")

LABELS: dict[str, str] = {
    QuotaStatus.APPLIED: N_("Waiting for approval"),
    QuotaStatus.APPROVED: N_("Approved"),
    QuotaStatus.REJECTED: N_("Rejected"),
    RedemptionMode.DIRECT: N_("Direct redemption"),
    RedemptionMode.REIMBURSE: N_("Pay, then reimbursed"),
    SourceKind.RESERVATION: N_("Machine time"),
    SourceKind.ORDER: N_("Sample test"),
    JournalKind.SETTLEMENT: N_("Settlement"),
    JournalKind.REFUND: N_("Refund"),
    JournalKind.REVERSAL: N_("Reversal"),
    JournalKind.REIMBURSEMENT: N_("Reimbursement"),
    JournalKind.CLEARING: N_("Clearing"),
    JournalKind.CLAIM: N_("Insurance claim"),
}
NOT_A_DATE = N_("Give a date (YYYY-MM-DD).")
# The chart's drawing area, in SVG user units: bars grow up from the base line.
CHART_HEIGHT = 140


def _label(page: Page) -> Callable[[object], str]:
    return lambda value: page.gettext(LABELS.get(str(value), str(value)))


# The price box of the booking forms ---------------------------------------------------------

def booking_quote(session: Session, *, instrument: Instrument, actor: Actor, now: datetime,
                  service_item_id: int, minutes: int | None = None, samples: int | None = None,
                  ends_at: datetime | None = None, purpose: str = "",
                  self_operated: bool = False) -> Quote | None:
    """The quote the booking form shows, or None when the form does not say enough yet."""
    try:
        return quote_price(session, instrument=instrument, service_item_id=service_item_id,
                           actor=actor, now=now, minutes=minutes, samples=samples,
                           served_at=ends_at, purpose=purpose, self_operated=self_operated)
    except SciShareError:
        return None


# An enterprise's vouchers -------------------------------------------------------------------

@router.get("/vouchers", response_class=HTMLResponse)
def vouchers(page: PageDep, session: SessionDep, user: CurrentUser,
             org: str = "") -> HTMLResponse:
    """Quotas with their balance, redemptions and applications of the person's enterprise
    (or, for its bureau and the platform, of the enterprise `org`)."""
    enterprise = get_organisation_by_code(session, org) if org else user.account.organisation
    account = voucher_account(session, enterprise=enterprise, actor=user.actor)
    return page.render("billing/vouchers.html", account=account, label=_label(page),
                       own=enterprise.id == user.account.organisation_id)


# A region's programmes --------------------------------------------------------------------

def _officer_region(user: SignedIn, region: str) -> str:
    """The region asked for, else the first region the person oversees, else Zhengzhou."""
    if region:
        return region
    for grant in user.actor.grants:
        if grant.region_code:
            return grant.region_code
    return user.account.organisation.region_code


@dataclass(frozen=True)
class Bar:
    """One month's bar of the chart."""

    month: str
    x: int
    height: int
    voucher_fen: int
    orders: int


def _bars(months: list[tuple[str, int, int]]) -> list[Bar]:
    peak = max((fen for _, fen, _ in months), default=0)
    return [Bar(month=month, x=30 + index * 46,
                height=round(CHART_HEIGHT * fen / peak) if peak else 0, voucher_fen=fen,
                orders=orders)
            for index, (month, fen, orders) in enumerate(months)]


@router.get("/programmes", response_class=HTMLResponse)
def programmes(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
               region: str = "", year: str = "") -> HTMLResponse:
    """Each programme of the region: budget, used, remaining, orders, enterprises and
    providers, in all and by month, with a chart of the voucher money paid each month."""
    code = _officer_region(user, region)
    this_year = to_display(now).year
    chosen = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else this_year
    report = programme_report(session, region_code=code, year=chosen, actor=user.actor)
    return page.render(
        "billing/programmes.html", report=report, region=code, year=chosen,
        years=list(range(this_year + 1, this_year - 5, -1)), regions=list_regions(session),
        bars=_bars([(m.month, m.voucher_fen, m.orders) for m in report.months]),
        chart_height=CHART_HEIGHT, label=_label(page))


# Statements -------------------------------------------------------------------------------

def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@router.get("/statements", response_class=HTMLResponse)
def statements(page: PageDep, session: SessionDep, user: CurrentUser, now: ClockDep,
               org: str = "", first: Annotated[str, Query(alias="from")] = "",
               last: Annotated[str, Query(alias="to")] = "") -> HTMLResponse:
    """Pick a period (this month by default), read the statement's lines, download it as
    XLSX or PDF. `to` is the last day shown, included."""
    organisation = get_organisation_by_code(session, org) if org else user.account.organisation
    # Before the period is read, so that someone else's statement is refused whatever asked.
    authorize(user.actor, Action.VIEW_STATEMENTS, Target(
        organisation_id=organisation.id, region_code=organisation.region_code),
        record=f"statement {organisation.code}")
    today = to_display(now).date()
    problems: dict[str, str] = {}
    start, end = _month_start(today), _next_month(today)
    try:
        if first:
            start = date.fromisoformat(first)
    except ValueError:
        problems["from"] = page.gettext(NOT_A_DATE)
    try:
        if last:
            end = date.fromisoformat(last) + timedelta(days=1)
    except ValueError:
        problems["to"] = page.gettext(NOT_A_DATE)
    found: Statement | None = None
    if not problems:
        try:
            found = statement(session, organisation=organisation, start=start, end=end,
                              actor=user.actor)
        except InvalidInput as error:
            problems["to"] = error.reason
    previous = _month_start(_month_start(today) - timedelta(days=1))
    presets = [
        (N_("This month"), _month_start(today), _next_month(today)),
        (N_("Last month"), previous, _month_start(today)),
        (N_("This year"), today.replace(month=1, day=1), date(today.year + 1, 1, 1)),
    ]
    return page.render(
        "billing/statements.html", status_code=422 if problems else 200,
        organisation=organisation, statement=found, problems=problems,
        first=first or start.isoformat(),
        last=last or (end - timedelta(days=1)).isoformat(), start=start, end=end,
        presets=[(page.gettext(name), s, e - timedelta(days=1)) for name, s, e in presets],
        may_choose=user.actor.has_role(Role.PLATFORM_ADMIN)
        or user.actor.has_role(Role.BUREAU_OFFICER),
        own=organisation.id == user.account.organisation_id, label=_label(page))
