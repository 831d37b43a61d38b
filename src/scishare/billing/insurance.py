"""Shared-use insurance (共享保): cover a provider requires for external self-operated use,
the premium collected at settlement, and damage claims paid out up to the cover."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing import ledger
from scishare.billing.audit import record_act
from scishare.billing.errors import BadPeriod, ClaimNotCovered, UnknownClaim, UnknownPolicy
from scishare.billing.fees import require_bps, require_fen, share_of
from scishare.billing.models import (
    ClaimStatus,
    InsuranceClaim,
    InsurancePolicy,
    JournalKind,
    Settlement,
)
from scishare.core.errors import InvalidInput


def require_cover(session: Session, *, code: str, provider_id: int, instrument_id: int | None,
                  insurer_code: str, insurer_name: str, premium_bps: int, cover_fen: int,
                  deductible_fen: int, valid_from: date, valid_until: date, actor: Actor,
                  now: datetime) -> InsurancePolicy:
    """A provider requires cover on one instrument (or all of its own): premium rate on the
    booking's price, cover limit and deductible."""
    record = f"insurance policy {code}"
    authorize(actor, Action.MANAGE_INSURANCE, Target(organisation_id=provider_id), record=record)
    if not code.strip() or len(code) > 32:
        raise InvalidInput("1 to 32 characters", record=record, field="code")
    if not insurer_code.strip() or len(insurer_code) > 32:
        raise InvalidInput("1 to 32 characters", record=record, field="insurer_code")
    require_bps(premium_bps, record=record, field="premium_bps")
    require_fen(cover_fen, record=record, field="cover_fen")
    require_fen(deductible_fen, record=record, field="deductible_fen")
    if valid_until < valid_from:
        raise BadPeriod("ends before it starts", record=record, field="valid_until")
    if session.scalar(select(InsurancePolicy.id).where(InsurancePolicy.code == code)):
        raise InvalidInput("a policy with this code exists", record=record, field="code")
    policy = InsurancePolicy(code=code, provider_id=provider_id, instrument_id=instrument_id,
                             insurer_code=insurer_code.strip(), insurer_name=insurer_name,
                             premium_bps=premium_bps, cover_fen=cover_fen,
                             deductible_fen=deductible_fen, valid_from=valid_from,
                             valid_until=valid_until, created_at=now)
    session.add(policy)
    record_act(session, actor=actor, action="require_cover", record=record,
               organisation_id=provider_id, amount_fen=cover_fen, now=now,
               detail=f"premium {premium_bps} bps, deductible {deductible_fen}")
    session.flush()
    return policy


def get_policy(session: Session, code: str) -> InsurancePolicy:
    policy = session.scalar(select(InsurancePolicy).where(InsurancePolicy.code == code))
    if policy is None:
        raise UnknownPolicy(f"no policy {code}", record=f"insurance policy {code}")
    return policy


def policies_for(session: Session, provider_ids: Iterable[int]) -> list[InsurancePolicy]:
    ids = sorted(set(provider_ids))
    if not ids:
        return []
    return list(session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.provider_id.in_(ids)).order_by(InsurancePolicy.id)))


def policy_for(policies: list[InsurancePolicy], *, provider_id: int, instrument_id: int,
               day: date) -> InsurancePolicy | None:
    """The policy covering the instrument on `day`: one naming it before a provider-wide one."""
    fitting = [p for p in policies if p.provider_id == provider_id
               and p.instrument_id in (None, instrument_id)
               and p.valid_from <= day <= p.valid_until]
    fitting.sort(key=lambda p: (p.instrument_id is None, p.id))
    return fitting[0] if fitting else None


def premium_of(price_fen: int, policy: InsurancePolicy) -> int:
    return share_of(price_fen, policy.premium_bps)


def file_claim(session: Session, *, settlement: Settlement, claimed_fen: int, description: str,
               actor: Actor, now: datetime) -> InsuranceClaim:
    """The provider claims for damage during a covered booking."""
    record = f"claim on settlement {settlement.id}"
    authorize(actor, Action.MANAGE_INSURANCE, Target(organisation_id=settlement.provider_id),
              record=record)
    if settlement.policy_id is None:
        raise ClaimNotCovered("this booking carried no shared-use cover", record=record,
                              field="settlement")
    require_fen(claimed_fen, record=record, field="claimed_fen", positive=True)
    if not description.strip():
        raise InvalidInput("describe the damage", record=record, field="description")
    claim = InsuranceClaim(settlement_id=settlement.id, policy_id=settlement.policy_id,
                           claimed_fen=claimed_fen, description=description.strip()[:500],
                           status=ClaimStatus.FILED, filed_at=now,
                           filed_by_id=actor.account_id or None)
    session.add(claim)
    record_act(session, actor=actor, action="file_claim", record=record,
               organisation_id=settlement.provider_id, amount_fen=claimed_fen, now=now)
    session.flush()
    return claim


def get_claim(session: Session, claim_id: int) -> InsuranceClaim:
    claim = session.get(InsuranceClaim, claim_id)
    if claim is None:
        raise UnknownClaim(f"no claim {claim_id}", record=f"claim {claim_id}")
    return claim


def assess_claim(session: Session, claim: InsuranceClaim, *, assessed_fen: int, actor: Actor,
                 now: datetime) -> InsuranceClaim:
    """The insurer assesses the damage; the payout is the assessed amount less the deductible,
    capped by what the cover has left for this booking, and is posted in the ledger."""
    record = f"claim {claim.id}"
    authorize(actor, Action.ASSESS_CLAIM, Target(), record=record)
    require_fen(assessed_fen, record=record, field="assessed_fen")
    settlement = session.get_one(Settlement, claim.settlement_id)
    # Lock the settlement: claims on one booking are paid one at a time against one cover.
    session.execute(select(Settlement.id).where(Settlement.id == settlement.id).with_for_update())
    session.refresh(claim)
    if ClaimStatus(claim.status) is not ClaimStatus.FILED:
        raise ClaimNotCovered(f"already {claim.status}", record=record, field="status")
    policy = session.get_one(InsurancePolicy, claim.policy_id)
    paid = int(session.scalar(select(func.coalesce(func.sum(InsuranceClaim.payout_fen), 0))
                              .where(InsuranceClaim.settlement_id == settlement.id)) or 0)
    payout = max(0, min(assessed_fen - policy.deductible_fen, claim.claimed_fen,
                        policy.cover_fen - paid))
    claim.assessed_fen, claim.payout_fen = assessed_fen, payout
    claim.assessed_at, claim.assessed_by_id = now, actor.account_id or None
    claim.status = ClaimStatus.PAID if payout else ClaimStatus.REJECTED
    if payout:
        claim.journal_id = ledger.post(session, ledger.Entry(
            key=f"claim:{claim.id}", kind=JournalKind.CLAIM,
            memo=f"shared-use claim {claim.id} on settlement {settlement.id}",
            lines=((ledger.insurer(policy.insurer_code), payout),
                   (ledger.provider(settlement.provider_id), -payout))),
            actor_id=actor.account_id or None, now=now)
    record_act(session, actor=actor, action="assess_claim", record=record,
               organisation_id=settlement.provider_id, amount_fen=payout, now=now,
               detail=f"assessed {assessed_fen}, deductible {policy.deductible_fen}, "
                      f"cover {policy.cover_fen}")
    session.flush()
    return claim
