"""Settlement (结算): a completed reservation or order priced once, its voucher applied
automatically (无感直兑), and its money posted as one balanced journal.

Postings of a settlement (debit positive): the customer owes its part plus the insurance
premium; the voucher fund (of the programme's region) owes the voucher part; the provider is
owed the price less the platform's fee; the platform is owed its fee; the insurer the premium.
In pay-then-reimburse mode the customer owes the whole price now and the fund reimburses the
voucher part later (`reimburse`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from scishare.accounts.models import OrganisationType
from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing import ledger
from scishare.billing.bulk import append_rows, write_rows
from scishare.billing.errors import (
    AlreadySettled,
    ForeignVoucher,
    IneligibleEnterprise,
    IneligibleProvider,
    NotCompleted,
    NotReversible,
    RefundTooLarge,
    UnknownSettlement,
    VoucherExpired,
)
from scishare.billing.fees import (
    line_price,
    require_bps,
    require_fen,
    rule_in_force,
    rules_for,
    share_of,
)
from scishare.billing.insurance import policies_for, policy_for, premium_of
from scishare.billing.models import (
    CrossRegionItem,
    InsurancePolicy,
    JournalKind,
    RedemptionMode,
    Settlement,
    SourceKind,
    VoucherProgramme,
    VoucherQuota,
)
from scishare.billing.sources import (
    SourceFacts,
    facts_of_order,
    facts_of_reservation,
    is_completed,
    unsettled_completed,
)
from scishare.billing.vouchers import (
    ProgrammeTerms,
    quota_left,
    region_covers,
    terms_of,
    usable_quotas,
    voucher_part,
)
from scishare.booking.periods import LOCAL_TZ
from scishare.core.errors import InvalidInput

SETTLEMENT = cast(Table, Settlement.__table__)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


@dataclass
class Priced:
    """One source priced and split, before it is written."""

    facts: SourceFacts
    list_price_fen: int
    fee_rule_id: int | None
    voucher_fen: int = 0
    terms: ProgrammeTerms | None = None
    quota: VoucherQuota | None = None
    policy: InsurancePolicy | None = None
    premium_fen: int = 0
    platform_fee_fen: int = 0

    @property
    def mode(self) -> RedemptionMode | None:
        return None if self.terms is None else RedemptionMode(self.terms.programme.mode)

    @property
    def user_fen(self) -> int:
        return self.list_price_fen - self.voucher_fen

    def entry(self) -> ledger.Entry:
        facts = self.facts
        provider_part = self.list_price_fen - self.platform_fee_fen
        direct = self.mode is RedemptionMode.DIRECT
        customer_part = (self.user_fen if direct else self.list_price_fen) + self.premium_fen
        lines: list[tuple[ledger.AccountSpec, int]] = [
            (ledger.customer(facts.customer_id), customer_part),
            (ledger.provider(facts.provider_id), -provider_part),
            (ledger.platform(), -self.platform_fee_fen)]
        if direct and self.terms is not None:
            lines.append((ledger.fund(self.terms.programme.region_code), self.voucher_fen))
        if self.policy is not None:
            lines.append((ledger.insurer(self.policy.insurer_code), -self.premium_fen))
        voucher = f", voucher {self.voucher_fen} ({self.terms.programme.code})" if (
            self.terms is not None) else ""
        return ledger.Entry(key=facts.key, kind=JournalKind.SETTLEMENT,
                            memo=f"{facts.code}: price {self.list_price_fen}{voucher}",
                            lines=ledger.compact(lines))


def price_all(session: Session, facts: Sequence[SourceFacts]) -> list[Priced]:
    """Each source priced by the fee rule in force when it was booked (a rule added later does
    not reprice it); without a rule, by the list price booking remembered at booking."""
    rules = rules_for(session, (f.service_item_id for f in facts if f.service_item_id))
    priced = []
    for f in facts:
        rule = rule_in_force(rules.get(f.service_item_id or 0, []), category=f.category,
                             purpose=f.purpose, at=f.booked_at)
        if rule is None:
            priced.append(Priced(f, f.estimate_fen, None))
        else:
            priced.append(Priced(f, line_price(rule.unit_price_fen, minutes=f.minutes,
                                               samples=f.samples), rule.id))
    return priced


def _eligible(terms: ProgrammeTerms, quota: VoucherQuota, facts: SourceFacts) -> bool:
    programme = terms.programme
    return (terms.valid_on(facts.served_day)
            and region_covers(programme.region_code, facts.customer_region)
            and terms.takes_provider(facts.provider_region)
            and terms.takes_service(facts.class_code)
            and (quota.is_sme or not programme.sme_only))


def _explain_ineligible(terms: ProgrammeTerms, quota: VoucherQuota | None,
                        facts: SourceFacts) -> None:
    """Raise the error saying why the programme named cannot pay for this order."""
    programme = terms.programme
    record = f"voucher programme {programme.code}"
    if facts.customer_type != OrganisationType.ENTERPRISE or not region_covers(
            programme.region_code, facts.customer_region):
        raise IneligibleEnterprise("the customer is not an enterprise of the programme's "
                                   "region", record=record, field="enterprise")
    if quota is None:
        raise ForeignVoucher("the enterprise holds no approved quota in this programme for "
                             "the year of service", record=record, field="programme")
    if not terms.valid_on(facts.served_day):
        raise VoucherExpired(f"valid {programme.valid_from}–{programme.valid_until}, not on "
                             f"{facts.served_day}", record=record, field="valid_until")
    if not terms.takes_provider(facts.provider_region):
        raise IneligibleProvider(f"providers in {facts.provider_region} do not take this "
                                 "programme's vouchers", record=record, field="provider")
    if not terms.takes_service(facts.class_code):
        raise IneligibleProvider(f"class {facts.class_code} is not eligible", record=record,
                                 field="service")
    if programme.sme_only and not quota.is_sme:
        raise IneligibleEnterprise("for small and medium enterprises only", record=record,
                                   field="is_sme")


def apply_vouchers(session: Session, priced: Sequence[Priced], *, lock: bool,
                   only: VoucherProgramme | None = None) -> None:
    """Give each enterprise order the voucher part of its first eligible programme (by id),
    counting budgets and quotas under their locks (see `usable_quotas`)."""
    enterprise = [p for p in priced if p.facts.customer_type == OrganisationType.ENTERPRISE]
    quotas = usable_quotas(session, enterprise_ids=(p.facts.customer_id for p in enterprise),
                           years=(p.facts.served_day.year for p in enterprise),
                           lock=lock)
    if only is not None:
        quotas = [q for q in quotas if q.programme_id == only.id]
    programmes = {q.programme_id for q in quotas}
    terms = terms_of(session, session.scalars(select(VoucherProgramme).where(
        VoucherProgramme.id.in_(sorted(programmes)))).all()) if programmes else {}
    if only is not None and only.id not in terms:
        terms.update(terms_of(session, [only]))
    by_customer: dict[tuple[int, int], list[VoucherQuota]] = {}
    for quota in quotas:
        by_customer.setdefault((quota.enterprise_id, quota.year), []).append(quota)
    for p in priced if only is None else priced[:1]:
        facts = p.facts
        candidates = by_customer.get((facts.customer_id, facts.served_day.year), [])
        if only is not None:
            chosen = candidates[0] if candidates else None
            if chosen is None or not _eligible(terms[only.id], chosen, facts):
                _explain_ineligible(terms[only.id], chosen, facts)
        for quota in sorted(candidates, key=lambda q: q.programme_id):
            programme_terms = terms[quota.programme_id]
            programme = programme_terms.programme
            if facts.customer_type != OrganisationType.ENTERPRISE or not _eligible(
                    programme_terms, quota, facts):
                continue
            amount = voucher_part(price_fen=p.list_price_fen, ratio_bps=programme.ratio_bps,
                                  per_order_cap_fen=programme.per_order_cap_fen,
                                  quota_left_fen=quota_left(quota, programme),
                                  budget_left_fen=programme.budget_fen - programme.committed_fen)
            if amount <= 0:
                continue
            p.voucher_fen, p.terms, p.quota = amount, programme_terms, quota
            programme.committed_fen += amount
            quota.used_fen += amount
            break


def apply_insurance(session: Session, priced: Sequence[Priced]) -> None:
    """External self-operated use of a covered instrument pays the premium at settlement."""
    covered = [p for p in priced if p.facts.self_operated and p.facts.category != "internal"]
    policies = policies_for(session, {p.facts.provider_id for p in covered})
    for p in covered:
        policy = policy_for(policies, provider_id=p.facts.provider_id,
                            instrument_id=p.facts.instrument_id,
                            day=p.facts.served_day)
        if policy is not None:
            p.policy, p.premium_fen = policy, premium_of(p.list_price_fen, policy)
            if p.premium_fen == 0:
                p.policy = None


def _write(session: Session, priced: Sequence[Priced], *, actor_id: int | None,
           now: datetime, platform_fee_bps: int) -> list[int]:
    for p in priced:
        p.platform_fee_fen = share_of(p.list_price_fen, platform_fee_bps)
    journal_ids = ledger.post_many(session, [p.entry() for p in priced], actor_id=actor_id,
                                   now=now)
    settlement_ids = write_rows(session, SETTLEMENT, [
            {"source_kind": p.facts.kind.value, "source_id": p.facts.id,
             "instrument_id": p.facts.instrument_id, "service_item_id": p.facts.service_item_id,
             "customer_id": p.facts.customer_id, "provider_id": p.facts.provider_id,
             "category": p.facts.category, "fee_rule_id": p.fee_rule_id,
             "list_price_fen": p.list_price_fen, "voucher_fen": p.voucher_fen,
             "user_fen": p.user_fen, "premium_fen": p.premium_fen,
             "platform_fee_fen": p.platform_fee_fen,
             "programme_id": p.terms.programme.id if p.terms else None,
             "quota_id": p.quota.id if p.quota else None,
             "mode": p.mode.value if p.mode else None,
             "policy_id": p.policy.id if p.policy else None, "journal_id": journal_id,
             "settled_at": now, "refunded_fen": 0}
            for p, journal_id in zip(priced, journal_ids, strict=True)])
    crossing = [{"journal_id": journal_id, "settlement_id": settlement_id,
                 "fund_region_code": p.terms.programme.region_code,
                 "provider_region_code": p.facts.provider_region, "amount_fen": p.voucher_fen,
                 "occurred_at": now, "statement_id": None}
                for p, journal_id, settlement_id in zip(priced, journal_ids, settlement_ids,
                                                        strict=True)
                if p.terms is not None and p.mode is RedemptionMode.DIRECT and p.voucher_fen
                and p.terms.is_cross_region(p.facts.provider_region)]
    if crossing:
        append_rows(session, cast(Table, CrossRegionItem.__table__), crossing)
    session.flush()
    return settlement_ids


@dataclass
class SettlementRun:
    """How many a batch settled, and where the next batch may start looking."""

    settled: int = 0
    cursor: dict[SourceKind, int] = field(default_factory=dict)


def settle_batch(session: Session, *, actor: Actor, now: datetime, limit: int = 2_000,
                 platform_fee_bps: int = 0, provider_ids: list[int] | None = None,
                 cursor: dict[SourceKind, int] | None = None) -> SettlementRun:
    """Settle up to `limit` completed, unsettled reservations and orders in one go. Each is
    settled once: its journal key and its settlement are unique, so a batch that crashed
    half-way is rolled back whole and the next run settles the rest."""
    for target in ([Target()] if provider_ids is None else
                   [Target(organisation_id=pid) for pid in provider_ids]):
        authorize(actor, Action.SETTLE_ORDER, target, record="settlement run")
    require_bps(platform_fee_bps, record="settlement run", field="platform_fee_bps")
    facts = unsettled_completed(session, limit=limit, provider_ids=provider_ids, after=cursor)
    run = SettlementRun(cursor=dict(cursor or {}))
    if not facts:
        return run
    priced = price_all(session, facts)
    apply_vouchers(session, priced, lock=True)
    apply_insurance(session, priced)
    _write(session, priced, actor_id=actor.account_id or None, now=now,
           platform_fee_bps=platform_fee_bps)
    for f in facts:
        run.cursor[f.kind] = max(run.cursor.get(f.kind, 0), f.id)
    run.settled = len(facts)
    return run


def _facts(session: Session, kind: SourceKind, source_id: int) -> SourceFacts:
    facts = (facts_of_reservation(session, source_id) if kind is SourceKind.RESERVATION
             else facts_of_order(session, source_id))
    if facts is None:
        raise UnknownSettlement(f"no {kind.value} {source_id}", record=f"{kind.value} "
                                f"{source_id}")
    return facts


def settle(session: Session, *, kind: SourceKind, source_id: int, actor: Actor, now: datetime,
           programme: VoucherProgramme | None = None, platform_fee_bps: int = 0) -> Settlement:
    """Settle one completed reservation or order, exactly once; with `programme`, only that
    programme's voucher may pay, and an expired or foreign voucher is refused."""
    facts = _facts(session, kind, source_id)
    record = facts.code
    authorize(actor, Action.SETTLE_ORDER, Target(organisation_id=facts.provider_id,
                                                 region_code=facts.provider_region),
              record=record)
    if not is_completed(facts):
        raise NotCompleted(f"is {facts.status}, not completed", record=record, field="status")
    if session.scalar(select(Settlement.id).where(Settlement.source_kind == kind.value,
                                                  Settlement.source_id == source_id)):
        raise AlreadySettled("settled before; an order is settled once", record=record)
    require_bps(platform_fee_bps, record=record, field="platform_fee_bps")
    priced = price_all(session, [facts])
    apply_vouchers(session, priced, lock=True, only=programme)
    apply_insurance(session, priced)
    [settlement_id] = _write(session, priced, actor_id=actor.account_id or None, now=now,
                             platform_fee_bps=platform_fee_bps)
    return session.get_one(Settlement, settlement_id)


def get_settlement(session: Session, *, kind: SourceKind, source_id: int) -> Settlement:
    found = session.scalar(select(Settlement).where(Settlement.source_kind == kind.value,
                                                    Settlement.source_id == source_id))
    if found is None:
        raise UnknownSettlement(f"{kind.value} {source_id} is not settled",
                                record=f"{kind.value} {source_id}")
    return found


def _locked(session: Session, settlement: Settlement) -> Settlement:
    """Re-read the settlement under FOR UPDATE before checking what was refunded."""
    session.execute(select(Settlement).where(Settlement.id == settlement.id).with_for_update()
                    .execution_options(populate_existing=True))
    return settlement


def refund(session: Session, settlement: Settlement, *, amount_fen: int, key: str, reason: str,
           actor: Actor, now: datetime) -> int:
    """The provider returns part of what the user paid; never more than the user paid less
    earlier refunds. Posted as its own journal, keyed by `key`; returns the journal id."""
    record = f"settlement {settlement.id}"
    authorize(actor, Action.SETTLE_ORDER, Target(organisation_id=settlement.provider_id),
              record=record)
    require_fen(amount_fen, record=record, field="amount_fen", positive=True)
    if not key.strip() or len(key) > 48:
        raise InvalidInput("1 to 48 characters", record=record, field="key")
    if not reason.strip():
        raise InvalidInput("give a reason", record=record, field="reason")
    _locked(session, settlement)
    if settlement.reversed_at is not None:
        raise NotReversible("reversed already", record=record, field="amount_fen")
    refundable = settlement.user_fen - settlement.refunded_fen
    if amount_fen > refundable:
        raise RefundTooLarge(f"at most {refundable} fen can be refunded", record=record,
                             field="amount_fen")
    journal_id = ledger.post(session, ledger.Entry(
        key=f"refund:{settlement.id}:{key.strip()}", kind=JournalKind.REFUND,
        memo=f"refund of settlement {settlement.id}: {reason.strip()}"[:256],
        lines=((ledger.provider(settlement.provider_id), amount_fen),
               (ledger.customer(settlement.customer_id), -amount_fen))),
        actor_id=actor.account_id or None, now=now)
    settlement.refunded_fen += amount_fen
    session.flush()
    return journal_id


def reverse_settlement(session: Session, settlement: Settlement, *, reason: str, actor: Actor,
                       now: datetime) -> int:
    """Correct a wrong settlement by a reversing journal (never an edit), giving the voucher
    budget and quota back; a cleared cross-region voucher is netted in the next clearing."""
    record = f"settlement {settlement.id}"
    authorize(actor, Action.SETTLE_ORDER, Target(organisation_id=settlement.provider_id),
              record=record)
    if not reason.strip():
        raise InvalidInput("give a reason", record=record, field="reason")
    if settlement.programme_id is not None:
        # Programme, then quota, then settlement: the same order as settlement takes them.
        session.execute(select(VoucherProgramme).where(
            VoucherProgramme.id == settlement.programme_id).with_for_update()
            .execution_options(populate_existing=True))
        session.execute(select(VoucherQuota).where(VoucherQuota.id == settlement.quota_id)
                        .with_for_update().execution_options(populate_existing=True))
    _locked(session, settlement)
    if (settlement.reversed_at is not None or settlement.refunded_fen
            or settlement.reimbursed_at is not None):
        raise NotReversible("refunded, reimbursed or reversed already", record=record)
    entry = ledger.reversal_of(session, settlement.journal_id,
                               key=f"reverse:{settlement.journal_id}",
                               memo=f"reversal of settlement {settlement.id}: {reason}"[:256])
    journal_id = ledger.post(session, entry, actor_id=actor.account_id or None, now=now)
    if settlement.programme_id is not None and settlement.voucher_fen:
        programme = session.get_one(VoucherProgramme, settlement.programme_id)
        quota = session.get_one(VoucherQuota, settlement.quota_id)
        programme.committed_fen -= settlement.voucher_fen
        quota.used_fen -= settlement.voucher_fen
        item = session.scalar(select(CrossRegionItem).where(
            CrossRegionItem.settlement_id == settlement.id))
        if item is not None:
            session.add(CrossRegionItem(
                journal_id=journal_id, settlement_id=settlement.id,
                fund_region_code=item.fund_region_code,
                provider_region_code=item.provider_region_code, amount_fen=-item.amount_fen,
                occurred_at=now, statement_id=None))
    settlement.reversed_at = now
    session.flush()
    return journal_id


def reimburse(session: Session, settlement: Settlement, *, actor: Actor, now: datetime) -> int:
    """Pay-then-reimburse: the fund pays the enterprise the voucher part, once."""
    record = f"settlement {settlement.id}"
    if settlement.mode != RedemptionMode.REIMBURSE or not settlement.voucher_fen:
        raise NotReversible("no voucher to reimburse", record=record, field="mode")
    programme = session.get_one(VoucherProgramme, settlement.programme_id)
    authorize(actor, Action.APPROVE_QUOTA, Target(region_code=programme.region_code),
              record=record)
    _locked(session, settlement)
    if settlement.reimbursed_at is not None or settlement.reversed_at is not None:
        raise NotReversible("reimbursed or reversed already", record=record)
    journal_id = ledger.post(session, ledger.Entry(
        key=f"reimburse:{settlement.id}", kind=JournalKind.REIMBURSEMENT,
        memo=f"voucher reimbursement of settlement {settlement.id} ({programme.code})",
        lines=((ledger.fund(programme.region_code), settlement.voucher_fen),
               (ledger.customer(settlement.customer_id), -settlement.voucher_fen))),
        actor_id=actor.account_id or None, now=now)
    settlement.reimbursed_at = now
    session.flush()
    return journal_id
