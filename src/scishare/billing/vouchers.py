"""Innovation voucher programmes (创新券): definition by a bureau, quotas applied for by
enterprises and decided by officers, eligibility, and the voucher part of a fee."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scishare.accounts.models import Organisation, OrganisationType
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize, get_organisation
from scishare.billing.audit import record_act
from scishare.billing.errors import (
    BadPeriod,
    DuplicateProgramme,
    DuplicateQuota,
    IneligibleEnterprise,
    QuotaAlreadyDecided,
    UnknownProgramme,
    UnknownQuota,
)
from scishare.billing.fees import require_bps, require_fen, share_of
from scishare.billing.models import (
    ProgrammeClass,
    ProgrammePartnerRegion,
    QuotaStatus,
    RedemptionMode,
    VoucherProgramme,
    VoucherQuota,
)
from scishare.core.errors import InvalidInput
from scishare.regions.service import get_region


def region_covers(scope: str, code: str) -> bool:
    """A province's code covers its cities and counties; a city's covers its counties."""
    if code == scope:
        return True
    if scope.endswith("0000"):
        return code[:2] == scope[:2]
    if scope.endswith("00"):
        return code[:4] == scope[:4]
    return False


@dataclass(frozen=True)
class ProgrammeTerms:
    """A programme with its partner regions and eligible class prefixes, read once."""

    programme: VoucherProgramme
    partner_regions: tuple[str, ...]
    class_prefixes: tuple[str, ...]

    def valid_on(self, day: date) -> bool:
        return self.programme.valid_from <= day <= self.programme.valid_until

    def takes_provider(self, region_code: str) -> bool:
        return any(region_covers(scope, region_code)
                   for scope in (self.programme.region_code, *self.partner_regions))

    def takes_service(self, class_code: str) -> bool:
        return not self.class_prefixes or any(class_code.startswith(prefix)
                                              for prefix in self.class_prefixes)

    def is_cross_region(self, provider_region_code: str) -> bool:
        return not region_covers(self.programme.region_code, provider_region_code)


def voucher_part(*, price_fen: int, ratio_bps: int, per_order_cap_fen: int,
                 quota_left_fen: int, budget_left_fen: int) -> int:
    """The voucher pays the ratio of the fee, never above the per-order cap, the enterprise's
    quota left this year, the programme's budget left, or the fee itself."""
    return max(0, min(share_of(price_fen, ratio_bps), per_order_cap_fen, quota_left_fen,
                      budget_left_fen, price_fen))


def quota_left(quota: VoucherQuota, programme: VoucherProgramme) -> int:
    limit = min(quota.approved_fen or 0, programme.per_enterprise_year_cap_fen)
    return max(0, limit - quota.used_fen)


def define_programme(session: Session, *, code: str, region_code: str, name_zh: str,
                     name_en: str, budget_fen: int, ratio_bps: int, per_order_cap_fen: int,
                     per_enterprise_year_cap_fen: int, valid_from: date, valid_until: date,
                     sme_only: bool = False, mode: RedemptionMode = RedemptionMode.DIRECT,
                     partner_regions: Sequence[str] = (), class_prefixes: Sequence[str] = (),
                     actor: Actor, now: datetime) -> VoucherProgramme:
    """A bureau officer defines a programme of their region: budget, ratio (1–10,000 bps),
    caps not below zero, validity, partner regions and eligible services."""
    record = f"voucher programme {code}"
    authorize(actor, Action.DEFINE_PROGRAMME, Target(region_code=region_code), record=record)
    if not code.strip() or len(code) > 32:
        raise InvalidInput("1 to 32 characters", record=record, field="code")
    if not name_zh.strip():
        raise InvalidInput("must not be empty", record=record, field="name_zh")
    require_fen(budget_fen, record=record, field="budget_fen")
    require_bps(ratio_bps, record=record, field="ratio_bps", allow_zero=False)
    require_fen(per_order_cap_fen, record=record, field="per_order_cap_fen")
    require_fen(per_enterprise_year_cap_fen, record=record, field="per_enterprise_year_cap_fen")
    if valid_until < valid_from:
        raise BadPeriod("ends before it starts", record=record, field="valid_until")
    get_region(session, region_code)
    for partner in partner_regions:
        get_region(session, partner)
    for prefix in class_prefixes:
        if not (prefix.isdigit() and 2 <= len(prefix) <= 6):
            raise InvalidInput(f"not a class code prefix: {prefix!r}", record=record,
                               field="class_prefixes")
    if session.scalar(select(VoucherProgramme.id).where(VoucherProgramme.code == code)):
        raise DuplicateProgramme("a programme with this code exists", record=record,
                                 field="code")
    programme = VoucherProgramme(
        code=code, region_code=region_code, name_zh=name_zh.strip(), name_en=name_en.strip(),
        budget_fen=budget_fen, ratio_bps=ratio_bps, per_order_cap_fen=per_order_cap_fen,
        per_enterprise_year_cap_fen=per_enterprise_year_cap_fen, sme_only=sme_only,
        mode=RedemptionMode(mode), valid_from=valid_from, valid_until=valid_until,
        committed_fen=0, created_at=now, created_by_id=actor.account_id or None)
    session.add(programme)
    session.flush()
    session.add_all([ProgrammePartnerRegion(programme_id=programme.id, region_code=partner)
                     for partner in sorted(set(partner_regions))])
    session.add_all([ProgrammeClass(programme_id=programme.id, class_prefix=prefix)
                     for prefix in sorted(set(class_prefixes))])
    record_act(session, actor=actor, action="define_programme", record=record,
               amount_fen=budget_fen, now=now,
               detail=f"ratio {ratio_bps} bps, per order {per_order_cap_fen}, per enterprise "
                      f"{per_enterprise_year_cap_fen}, {valid_from}–{valid_until}")
    session.flush()
    return programme


def get_programme(session: Session, code: str) -> VoucherProgramme:
    programme = session.scalar(select(VoucherProgramme).where(VoucherProgramme.code == code))
    if programme is None:
        raise UnknownProgramme(f"no voucher programme {code}", record=f"voucher programme {code}",
                               field="code")
    return programme


def list_programmes(session: Session, *, region_code: str | None = None
                    ) -> list[VoucherProgramme]:
    query = select(VoucherProgramme).order_by(VoucherProgramme.valid_from.desc(),
                                              VoucherProgramme.code)
    if region_code is not None:
        query = query.where(VoucherProgramme.region_code == region_code)
    return list(session.scalars(query))


def terms_of(session: Session, programmes: Iterable[VoucherProgramme]
             ) -> dict[int, ProgrammeTerms]:
    """Programmes with their partner regions and class prefixes."""
    by_id = {programme.id: programme for programme in programmes}
    partners: dict[int, list[str]] = {}
    classes: dict[int, list[str]] = {}
    if by_id:
        for pid, region in session.execute(select(
                ProgrammePartnerRegion.programme_id, ProgrammePartnerRegion.region_code).where(
                ProgrammePartnerRegion.programme_id.in_(by_id))):
            partners.setdefault(pid, []).append(region)
        for pid, prefix in session.execute(select(
                ProgrammeClass.programme_id, ProgrammeClass.class_prefix).where(
                ProgrammeClass.programme_id.in_(by_id))):
            classes.setdefault(pid, []).append(prefix)
    return {pid: ProgrammeTerms(programme, tuple(partners.get(pid, ())),
                                tuple(classes.get(pid, ())))
            for pid, programme in by_id.items()}


def check_enterprise(programme: VoucherProgramme, enterprise: Organisation, *, is_sme: bool,
                     record: str) -> None:
    """Enterprises registered in the programme's region; only SMEs when it says so."""
    if OrganisationType(enterprise.org_type) is not OrganisationType.ENTERPRISE:
        raise IneligibleEnterprise("only enterprises hold innovation vouchers", record=record,
                                   field="enterprise")
    if not region_covers(programme.region_code, enterprise.region_code):
        raise IneligibleEnterprise(
            f"registered in {enterprise.region_code}, outside the programme's region "
            f"{programme.region_code}", record=record, field="enterprise")
    if programme.sme_only and not is_sme:
        raise IneligibleEnterprise("this programme is for small and medium enterprises only",
                                   record=record, field="is_sme")


def apply_for_quota(session: Session, *, programme: VoucherProgramme, year: int,
                    requested_fen: int, is_sme: bool, actor: Actor,
                    now: datetime) -> VoucherQuota:
    """An enterprise of the programme's region applies for a quota for one year."""
    record = f"quota in {programme.code}"
    authorize(actor, Action.APPLY_FOR_QUOTA, Target(organisation_id=actor.organisation_id),
              record=record)
    enterprise = get_organisation(session, actor.organisation_id)
    require_fen(requested_fen, record=record, field="requested_fen", positive=True)
    if not programme.valid_from.year <= year <= programme.valid_until.year:
        raise BadPeriod(f"the programme runs {programme.valid_from}–{programme.valid_until}",
                        record=record, field="year")
    check_enterprise(programme, enterprise, is_sme=is_sme, record=record)
    if session.scalar(select(VoucherQuota.id).where(
            VoucherQuota.programme_id == programme.id,
            VoucherQuota.enterprise_id == enterprise.id, VoucherQuota.year == year)):
        raise DuplicateQuota("this enterprise applied for this year already", record=record,
                             field="year")
    quota = VoucherQuota(programme_id=programme.id, enterprise_id=enterprise.id, year=year,
                         is_sme=is_sme, requested_fen=requested_fen, approved_fen=None,
                         status=QuotaStatus.APPLIED, reason="", used_fen=0, applied_at=now,
                         applied_by_id=actor.account_id or None)
    session.add(quota)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateQuota("this enterprise applied for this year already", record=record,
                             field="year") from None
    record_act(session, actor=actor, action="apply_for_quota", record=record,
               organisation_id=enterprise.id, amount_fen=requested_fen, now=now,
               detail=f"year {year}")
    return quota


def get_quota(session: Session, quota_id: int) -> VoucherQuota:
    quota = session.get(VoucherQuota, quota_id)
    if quota is None:
        raise UnknownQuota(f"no quota {quota_id}", record=f"quota {quota_id}")
    return quota


def _decide(session: Session, quota: VoucherQuota, *, actor: Actor, record: str
            ) -> VoucherProgramme:
    programme = session.get_one(VoucherProgramme, quota.programme_id)
    authorize(actor, Action.APPROVE_QUOTA, Target(region_code=programme.region_code),
              record=record)
    session.execute(select(VoucherQuota.id).where(VoucherQuota.id == quota.id).with_for_update())
    session.refresh(quota)
    if QuotaStatus(quota.status) is not QuotaStatus.APPLIED:
        raise QuotaAlreadyDecided(f"already {quota.status}", record=record, field="status")
    return programme


def approve_quota(session: Session, quota: VoucherQuota, *, approved_fen: int, actor: Actor,
                  now: datetime) -> VoucherQuota:
    """An officer of the programme's region approves at most the amount applied for and the
    per-enterprise yearly cap; the approval is recorded in the money audit trail."""
    record = f"quota {quota.id}"
    programme = _decide(session, quota, actor=actor, record=record)
    require_fen(approved_fen, record=record, field="approved_fen", positive=True)
    limit = min(quota.requested_fen, programme.per_enterprise_year_cap_fen)
    if approved_fen > limit:
        raise InvalidInput(f"at most {limit} fen (applied for, and the yearly cap)",
                           record=record, field="approved_fen")
    quota.status = QuotaStatus.APPROVED
    quota.approved_fen = approved_fen
    quota.decided_at = now
    quota.decided_by_id = actor.account_id or None
    record_act(session, actor=actor, action="approve_quota", record=record,
               organisation_id=quota.enterprise_id, amount_fen=approved_fen, now=now,
               detail=f"programme {programme.code}, year {quota.year}")
    session.flush()
    return quota


def reject_quota(session: Session, quota: VoucherQuota, *, reason: str, actor: Actor,
                 now: datetime) -> VoucherQuota:
    """An officer refuses an application, with a reason."""
    record = f"quota {quota.id}"
    programme = _decide(session, quota, actor=actor, record=record)
    if not reason.strip():
        raise InvalidInput("give a reason", record=record, field="reason")
    quota.status = QuotaStatus.REJECTED
    quota.reason = reason.strip()[:256]
    quota.decided_at = now
    quota.decided_by_id = actor.account_id or None
    record_act(session, actor=actor, action="reject_quota", record=record,
               organisation_id=quota.enterprise_id, now=now,
               detail=f"programme {programme.code}: {quota.reason}")
    session.flush()
    return quota


def quotas_of(session: Session, *, enterprise_id: int) -> list[tuple[VoucherQuota,
                                                                     VoucherProgramme]]:
    """An enterprise's quota applications with their programmes, newest first."""
    rows = session.execute(select(VoucherQuota, VoucherProgramme).join(
        VoucherProgramme, VoucherProgramme.id == VoucherQuota.programme_id).where(
        VoucherQuota.enterprise_id == enterprise_id).order_by(
        VoucherQuota.year.desc(), VoucherQuota.id.desc())).all()
    return list(rows)


def quotas_of_programme(session: Session, programme: VoucherProgramme) -> list[VoucherQuota]:
    return list(session.scalars(select(VoucherQuota).where(
        VoucherQuota.programme_id == programme.id).order_by(VoucherQuota.id)))


def usable_quotas(session: Session, *, enterprise_ids: Iterable[int], years: Iterable[int],
                  lock: bool) -> list[VoucherQuota]:
    """Approved quotas of the enterprises for the years, with room left.

    With `lock`, their programmes are locked FOR UPDATE first and then the quotas, each in id
    order, and both are re-read: budgets and quotas are capped resources, so they must be
    locked before they are counted, or two settlements could both spend the last of one
    (Polar's rule); the fixed order means two batches never wait on each other in a cycle."""
    enterprises, wanted_years = sorted(set(enterprise_ids)), sorted(set(years))
    if not enterprises:
        return []
    query = select(VoucherQuota).where(
        VoucherQuota.enterprise_id.in_(enterprises), VoucherQuota.year.in_(wanted_years),
        VoucherQuota.status == QuotaStatus.APPROVED).order_by(VoucherQuota.id)
    quotas = list(session.scalars(query))
    if not lock or not quotas:
        return quotas
    programme_ids = sorted({quota.programme_id for quota in quotas})
    session.scalars(select(VoucherProgramme).where(VoucherProgramme.id.in_(programme_ids))
                    .order_by(VoucherProgramme.id).with_for_update()
                    .execution_options(populate_existing=True)).all()
    return list(session.scalars(query.with_for_update().execution_options(
        populate_existing=True)))
