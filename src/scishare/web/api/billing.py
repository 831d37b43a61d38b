"""Billing: an organisation's ledger statement as JSON, XLSX or PDF; a booking's price quote
with its voucher part; an enterprise's vouchers; a region's voucher programmes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from scishare.accounts.service import get_organisation_by_code
from scishare.billing.quotes import Quote, quote_price
from scishare.billing.reports import (
    ProgrammeReport,
    VoucherAccount,
    programme_report,
    voucher_account,
)
from scishare.billing.schemas import StatementRead
from scishare.billing.service import statement, statement_pdf, statement_xlsx
from scishare.booking.schemas import OperationMode
from scishare.booking.service import find_instrument
from scishare.core.clock import to_display
from scishare.web.api.common import errors
from scishare.web.deps import ClockDep, CurrentUser, SessionDep

router = APIRouter(tags=["billing"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/billing/statements/{org_code}", summary="An organisation's ledger statement",
            response_model=StatementRead,
            responses={200: {"content": {XLSX: {}, "application/pdf": {}}},
                       **errors(401, 403, 404, 422)})
def read_statement(
        session: SessionDep, user: CurrentUser,
        org_code: Annotated[str, Path(max_length=32)],
        start: Annotated[date, Query(alias="from", description="First Shanghai day.")],
        end: Annotated[date, Query(alias="to", description="Day after the last (exclusive).")],
        fmt: Annotated[Literal["json", "xlsx", "pdf"], Query(alias="format")] = "json",
) -> StatementRead | Response:
    """Opening balance, every posting on the organisation's accounts in `[from, to)` and the
    closing balance, in fen. Only the organisation's own staff who may view statements, its
    region's bureau and platform administrators may read it."""
    organisation = get_organisation_by_code(session, org_code)
    found = statement(session, organisation=organisation, start=start, end=end,
                      actor=user.actor)
    if fmt == "json":
        return StatementRead.of(found)
    filename = f"statement-{organisation.code}-{start.isoformat()}-{end.isoformat()}.{fmt}"
    content = statement_xlsx(found) if fmt == "xlsx" else statement_pdf(found)
    return Response(content, media_type=XLSX if fmt == "xlsx" else "application/pdf",
                    headers={"Content-Disposition":
                             f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/instruments/{exchange_id}/price-quote", summary="Price with the voucher part",
            responses=errors(401, 404, 422))
def read_quote(
        session: SessionDep, user: CurrentUser, now: ClockDep,
        exchange_id: Annotated[str, Path(description="The instrument's exchange id.")],
        service_item_id: int,
        minutes: Annotated[int | None, Query(ge=1, le=366 * 24 * 60,
                                             description="Machine time booked.")] = None,
        samples: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        ends_at: Annotated[datetime | None, Query(
            description="When the service ends (default now): the voucher quota of that "
                        "year pays, if the programme is valid on that day.")] = None,
        mode: OperationMode = OperationMode.ASSISTED,
        purpose: Annotated[str, Query(max_length=200)] = "",
) -> Quote:
    """The caller's list price for `minutes` of machine time or `samples` tests, the part
    their approved innovation voucher quota would pay (the programme's ratio, per-order cap,
    the quota and budget left) and the part left to them, as settlement would split it."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    return quote_price(session, instrument=instrument, service_item_id=service_item_id,
                       actor=user.actor, now=now, minutes=minutes, samples=samples,
                       served_at=ends_at, purpose=purpose,
                       self_operated=mode is OperationMode.SELF_OPERATED)


@router.get("/billing/vouchers/{org_code}", summary="An enterprise's innovation vouchers",
            responses=errors(401, 403, 404))
def read_vouchers(session: SessionDep, user: CurrentUser,
                  org_code: Annotated[str, Path(max_length=32)]) -> VoucherAccount:
    """Quotas per programme (approved, used, remaining), redemptions (order, date, voucher
    part) and applications. For the enterprise's own people, its region's bureau and
    platform administrators."""
    return voucher_account(session, enterprise=get_organisation_by_code(session, org_code),
                           actor=user.actor)


@router.get("/billing/programmes", summary="A region's voucher programmes by month",
            responses=errors(401, 403, 404, 422))
def read_programmes(
        session: SessionDep, user: CurrentUser, now: ClockDep,
        region: Annotated[str, Query(min_length=6, max_length=6, examples=["410100"])],
        year: Annotated[int | None, Query(ge=2000, le=2100, description="Default: this "
                                                                         "year.")] = None,
) -> ProgrammeReport:
    """Each programme of the region: budget, used, remaining, quotas, orders, enterprises and
    providers, in all and by month of `year`. For the region's bureau officers and platform
    administrators."""
    return programme_report(session, region_code=region,
                            year=year or to_display(now).year, actor=user.actor)
