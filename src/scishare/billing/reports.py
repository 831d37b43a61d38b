"""Read-side figures of innovation vouchers: an enterprise's quotas, redemptions and
applications (创新券余额与使用记录), and a region's programmes by month for its bureau.

Only settlements that stand count: a reversed settlement gave its voucher part back to the
budget and the quota, so it is listed (marked) but not counted. Months are Shanghai months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from scishare.accounts.models import Organisation
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing.models import (
    QuotaStatus,
    Settlement,
    SourceKind,
    VoucherProgramme,
    VoucherQuota,
)
from scishare.billing.statements import local_midnight
from scishare.billing.vouchers import list_programmes, quota_left, quotas_of
from scishare.booking.models import order_code, reservation_code
from scishare.catalog.models import Instrument
from scishare.core.clock import DISPLAY_TZ
from scishare.regions.service import get_region

# Redemptions listed on an enterprise's page, newest first.
REDEMPTIONS_SHOWN = 500


class _Figures(BaseModel):
    """Read-only figures, served as they are by the API."""

    model_config = ConfigDict(frozen=True)


# An enterprise's vouchers -----------------------------------------------------------------

class QuotaLine(_Figures):
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


class Redemption(_Figures):
    """A settled reservation (R…) or order (T…) that a voucher paid part of."""

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


class VoucherAccount(_Figures):
    """An enterprise's approved quotas with their balance, the orders its vouchers paid for
    (newest first) and every application it made."""

    organisation_code: str
    organisation_name_zh: str
    organisation_name_en: str
    quotas: tuple[QuotaLine, ...]
    applications: tuple[QuotaLine, ...]
    redemptions: tuple[Redemption, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def approved_fen(self) -> int:
        return sum(line.approved_fen or 0 for line in self.quotas)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def used_fen(self) -> int:
        return sum(line.used_fen for line in self.quotas)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remaining_fen(self) -> int:
        return sum(line.remaining_fen for line in self.quotas)


def _quota_line(quota: VoucherQuota, programme: VoucherProgramme) -> QuotaLine:
    approved = QuotaStatus(quota.status) is QuotaStatus.APPROVED
    return QuotaLine(
        quota_id=quota.id, programme_code=programme.code, programme_name_zh=programme.name_zh,
        programme_name_en=programme.name_en, ratio_bps=programme.ratio_bps,
        per_order_cap_fen=programme.per_order_cap_fen, valid_from=programme.valid_from,
        valid_until=programme.valid_until, mode=str(programme.mode), year=quota.year,
        status=str(quota.status), is_sme=quota.is_sme, requested_fen=quota.requested_fen,
        approved_fen=quota.approved_fen, used_fen=quota.used_fen,
        remaining_fen=quota_left(quota, programme) if approved else 0, reason=quota.reason,
        applied_at=quota.applied_at, decided_at=quota.decided_at)


def voucher_account(session: Session, *, enterprise: Organisation, actor: Actor,
                    limit: int = REDEMPTIONS_SHOWN) -> VoucherAccount:
    """The enterprise's quotas, redemptions and applications; for the enterprise's own
    people, its region's bureau and the platform (like its statements)."""
    authorize(actor, Action.VIEW_STATEMENTS, Target(organisation_id=enterprise.id,
                                                    region_code=enterprise.region_code),
              record=f"vouchers of {enterprise.code}")
    lines = [_quota_line(quota, programme)
             for quota, programme in quotas_of(session, enterprise_id=enterprise.id)]
    provider = aliased(Organisation)
    rows = session.execute(
        select(Settlement, VoucherProgramme.code, Instrument.exchange_id, Instrument.name_zh,
               Instrument.name_en, provider.code, provider.name_zh, provider.name_en)
        .join(VoucherProgramme, VoucherProgramme.id == Settlement.programme_id)
        .join(Instrument, Instrument.id == Settlement.instrument_id)
        .join(provider, provider.id == Settlement.provider_id)
        .where(Settlement.customer_id == enterprise.id, Settlement.voucher_fen > 0)
        .order_by(Settlement.settled_at.desc(), Settlement.id.desc()).limit(limit)).all()
    redemptions = tuple(Redemption(
        settlement_id=settlement.id,
        code=(reservation_code(settlement.source_id)
              if settlement.source_kind == SourceKind.RESERVATION
              else order_code(settlement.source_id)),
        kind=str(settlement.source_kind), programme_code=programme_code,
        instrument_exchange_id=exchange_id, instrument_name_zh=name_zh,
        instrument_name_en=name_en, provider_code=provider_code,
        provider_name_zh=provider_zh, provider_name_en=provider_en,
        settled_at=settlement.settled_at,
        settled_on=settlement.settled_at.astimezone(DISPLAY_TZ).date(),
        list_price_fen=settlement.list_price_fen, voucher_fen=settlement.voucher_fen,
        user_fen=settlement.user_fen, mode=str(settlement.mode or ""),
        is_reversed=settlement.reversed_at is not None)
        for (settlement, programme_code, exchange_id, name_zh, name_en, provider_code,
             provider_zh, provider_en) in rows)
    return VoucherAccount(
        organisation_code=enterprise.code, organisation_name_zh=enterprise.name_zh,
        organisation_name_en=enterprise.name_en,
        quotas=tuple(line for line in lines if line.status == QuotaStatus.APPROVED),
        applications=tuple(lines), redemptions=redemptions)


# A region's programmes ----------------------------------------------------------------------

class MonthFigures(_Figures):
    """What vouchers paid in one Shanghai month (`2026-11`)."""

    month: str = Field(examples=["2026-11"])
    orders: int
    voucher_fen: int
    enterprises: int
    providers: int


class ProgrammeFigures(_Figures):
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
    months: tuple[MonthFigures, ...]


class ProgrammeReport(_Figures):
    """A region's programmes for its bureau; `months` adds them up for the year."""

    region_code: str
    year: int
    programmes: tuple[ProgrammeFigures, ...]
    months: tuple[MonthFigures, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def budget_fen(self) -> int:
        return sum(p.budget_fen for p in self.programmes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def used_fen(self) -> int:
        return sum(p.used_fen for p in self.programmes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remaining_fen(self) -> int:
        return sum(p.remaining_fen for p in self.programmes)


def _month_keys(year: int) -> list[str]:
    return [f"{year}-{month:02d}" for month in range(1, 13)]


@dataclass
class _Tally:
    orders: int = 0
    voucher_fen: int = 0
    enterprises: set[int] = field(default_factory=set)
    providers: set[int] = field(default_factory=set)

    def add(self, voucher_fen: int, customer_id: int, provider_id: int) -> None:
        self.orders += 1
        self.voucher_fen += voucher_fen
        self.enterprises.add(customer_id)
        self.providers.add(provider_id)

    def figures(self, month: str) -> MonthFigures:
        return MonthFigures(month=month, orders=self.orders, voucher_fen=self.voucher_fen,
                            enterprises=len(self.enterprises), providers=len(self.providers))


def programme_report(session: Session, *, region_code: str, year: int,
                     actor: Actor) -> ProgrammeReport:
    """The region's programmes: budget, used, remaining, quotas, orders, enterprises and
    providers paid for, and the same month by month in `year`; for the region's bureau."""
    authorize(actor, Action.VIEW_REGION_REPORTS, Target(region_code=region_code),
              record=f"voucher programmes of {region_code}")
    get_region(session, region_code)
    programmes = list_programmes(session, region_code=region_code)
    ids = [programme.id for programme in programmes]
    stands = (Settlement.programme_id.in_(ids), Settlement.reversed_at.is_(None),
              Settlement.voucher_fen > 0)
    totals: dict[int, tuple[int, int, int]] = {}
    quotas: dict[int, tuple[int, int, int]] = {}
    by_month: dict[int, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    overall: dict[str, _Tally] = defaultdict(_Tally)
    if ids:
        for pid, orders, enterprises, providers in session.execute(
                select(Settlement.programme_id, func.count(),
                       func.count(distinct(Settlement.customer_id)),
                       func.count(distinct(Settlement.provider_id)))
                .where(*stands).group_by(Settlement.programme_id)):
            totals[int(pid or 0)] = (orders, enterprises, providers)
        for pid, approved_fen, approved_count, waiting in session.execute(
                select(VoucherQuota.programme_id,
                       func.coalesce(func.sum(VoucherQuota.approved_fen), 0),
                       func.count(VoucherQuota.approved_fen),
                       func.sum(case((VoucherQuota.status == QuotaStatus.APPLIED.value, 1),
                                     else_=0)))
                .where(VoucherQuota.programme_id.in_(ids))
                .group_by(VoucherQuota.programme_id)):
            quotas[pid] = (int(approved_fen), int(approved_count), int(waiting or 0))
        for pid, settled_at, voucher_fen, customer_id, provider_id in session.execute(
                select(Settlement.programme_id, Settlement.settled_at, Settlement.voucher_fen,
                       Settlement.customer_id, Settlement.provider_id)
                .where(*stands, Settlement.settled_at >= local_midnight(date(year, 1, 1)),
                       Settlement.settled_at < local_midnight(date(year + 1, 1, 1)))):
            month = settled_at.astimezone(DISPLAY_TZ).strftime("%Y-%m")
            by_month[int(pid or 0)][month].add(voucher_fen, customer_id, provider_id)
            overall[month].add(voucher_fen, customer_id, provider_id)
    months = _month_keys(year)
    figures = []
    for programme in programmes:
        orders, enterprises, providers = totals.get(programme.id, (0, 0, 0))
        approved_fen, approved_count, waiting = quotas.get(programme.id, (0, 0, 0))
        tallies = by_month.get(programme.id, {})
        figures.append(ProgrammeFigures(
            code=programme.code, name_zh=programme.name_zh, name_en=programme.name_en,
            region_code=programme.region_code, ratio_bps=programme.ratio_bps,
            per_order_cap_fen=programme.per_order_cap_fen,
            per_enterprise_year_cap_fen=programme.per_enterprise_year_cap_fen,
            sme_only=programme.sme_only, mode=str(programme.mode),
            valid_from=programme.valid_from, valid_until=programme.valid_until,
            budget_fen=programme.budget_fen, used_fen=programme.committed_fen,
            remaining_fen=programme.budget_fen - programme.committed_fen,
            approved_quota_fen=approved_fen, quotas_approved=approved_count,
            applications_waiting=waiting, orders=orders, enterprises=enterprises,
            providers=providers,
            months=tuple((tallies[m] if m in tallies else _Tally()).figures(m)
                         for m in months)))
    return ProgrammeReport(
        region_code=region_code, year=year, programmes=tuple(figures),
        months=tuple((overall[m] if m in overall else _Tally()).figures(m) for m in months))
