"""Billing: an organisation's ledger statement as JSON, XLSX or PDF; a booking's price quote
with its voucher part; an enterprise's vouchers; a region's voucher programmes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from scishare.accounts.service import get_organisation_by_code
from scishare.billing.quotes import quote_price
from scishare.billing.reports import programme_report, voucher_account
from scishare.billing.schemas import StatementRead
from scishare.billing.service import statement, statement_pdf, statement_xlsx
from scishare.booking.schemas import OperationMode
from scishare.booking.service import find_instrument
from scishare.core.clock import to_display
from scishare.web.api.common import errors
from scishare.web.deps import ClockDep, CurrentUser, SessionDep

router = APIRouter(tags=["billing"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QuoteRead(_Read):
    """A booking priced as settlement would price it now; amounts in fen. The voucher part is
    what the caller's approved quota would pay; `user_fen` is what is left to the caller
    (plus `premium_fen` of shared-use cover). Nothing is reserved: the quota is counted at
    settlement."""

    service_item_id: int
    category: str = Field(description="internal, nonprofit or enterprise")
    unit: str
    unit_price_fen: int
    quantity: str
    list_price_fen: int
    fee_rule_id: int | None
    voucher_fen: int
    user_fen: int
    premium_fen: int
    year: int = Field(description="The quota year the voucher part is drawn from.")
    programme_code: str | None
    programme_name_zh: str
    programme_name_en: str
    ratio_bps: int | None
    mode: str | None = Field(description="direct (无感直兑) or reimburse (先付后补)")
    quota_left_fen: int | None = Field(description="The quota left before this booking.")


class QuotaRead(_Read):
    """A quota application in a programme; `remaining_fen` is what an approved one has left
    this year (the approval, within the programme's yearly cap, less what was used)."""

    quota_id: int
    programme_code: str
    programme_name_zh: str
    programme_name_en: str
    ratio_bps: int
    per_order_cap_fen: int
    valid_from: date
    valid_until: date
    mode: str
    year: int
    status: str = Field(description="applied, approved or rejected")
    is_sme: bool
    requested_fen: int
    approved_fen: int | None
    used_fen: int
    remaining_fen: int
    reason: str
    applied_at: datetime
    decided_at: datetime | None


class RedemptionRead(_Read):
    """A settled reservation (R…) or order (T…) a voucher paid part of."""

    settlement_id: int
    code: str
    kind: str
    programme_code: str
    instrument_exchange_id: str
    instrument_name_zh: str
    instrument_name_en: str
    provider_code: str
    provider_name_zh: str
    provider_name_en: str
    settled_at: datetime
    settled_on: date
    list_price_fen: int
    voucher_fen: int
    user_fen: int
    mode: str
    is_reversed: bool


class VoucherAccountRead(_Read):
    """An enterprise's approved quotas with their balance, the orders its vouchers paid for
    (newest first) and every application it made."""

    organisation_code: str
    organisation_name_zh: str
    organisation_name_en: str
    approved_fen: int
    used_fen: int
    remaining_fen: int
    quotas: list[QuotaRead]
    redemptions: list[RedemptionRead]
    applications: list[QuotaRead]


class MonthRead(_Read):
    month: str = Field(examples=["2026-11"])
    orders: int
    voucher_fen: int
    enterprises: int
    providers: int


class ProgrammeFiguresRead(_Read):
    """A programme's budget, what it paid (`used_fen`, reversals excluded), its quotas, and
    the orders, enterprises and providers it paid for: in all and by month of the year."""

    code: str
    name_zh: str
    name_en: str
    region_code: str
    ratio_bps: int
    per_order_cap_fen: int
    per_enterprise_year_cap_fen: int
    sme_only: bool
    mode: str
    valid_from: date
    valid_until: date
    budget_fen: int
    used_fen: int
    remaining_fen: int
    approved_quota_fen: int
    quotas_approved: int
    applications_waiting: int
    orders: int
    enterprises: int
    providers: int
    months: list[MonthRead]


class ProgrammeReportRead(_Read):
    region_code: str
    year: int
    budget_fen: int
    used_fen: int
    remaining_fen: int
    programmes: list[ProgrammeFiguresRead]
    months: list[MonthRead]


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
) -> QuoteRead:
    """The caller's list price for `minutes` of machine time or `samples` tests, the part
    their approved innovation voucher quota would pay (the programme's ratio, per-order cap,
    the quota and budget left) and the part left to them, as settlement would split it."""
    instrument = find_instrument(session, exchange_id, record=f"instrument {exchange_id}")
    found = quote_price(session, instrument=instrument, service_item_id=service_item_id,
                        actor=user.actor, now=now, minutes=minutes, samples=samples,
                        served_at=ends_at, purpose=purpose,
                        self_operated=mode is OperationMode.SELF_OPERATED)
    return QuoteRead.model_validate(found)


@router.get("/billing/vouchers/{org_code}", summary="An enterprise's innovation vouchers",
            responses=errors(401, 403, 404))
def read_vouchers(session: SessionDep, user: CurrentUser,
                  org_code: Annotated[str, Path(max_length=32)]) -> VoucherAccountRead:
    """Quotas per programme (approved, used, remaining), redemptions (order, date, voucher
    part) and applications. For the enterprise's own people, its region's bureau and
    platform administrators."""
    found = voucher_account(session, enterprise=get_organisation_by_code(session, org_code),
                            actor=user.actor)
    return VoucherAccountRead.model_validate(found)


@router.get("/billing/programmes", summary="A region's voucher programmes by month",
            responses=errors(401, 403, 404, 422))
def read_programmes(
        session: SessionDep, user: CurrentUser, now: ClockDep,
        region: Annotated[str, Query(min_length=6, max_length=6, examples=["410100"])],
        year: Annotated[int | None, Query(ge=2000, le=2100, description="Default: this "
                                                                         "year.")] = None,
) -> ProgrammeReportRead:
    """Each programme of the region: budget, used, remaining, quotas, orders, enterprises and
    providers, in all and by month of `year`. For the region's bureau officers and platform
    administrators."""
    found = programme_report(session, region_code=region,
                             year=year or to_display(now).year, actor=user.actor)
    return ProgrammeReportRead.model_validate(found)
