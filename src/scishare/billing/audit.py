"""The audit trail of who did what to money: acts recorded here, and journals with their
actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scishare.accounts.service import Actor
from scishare.billing.models import Journal, MoneyAudit


def record_act(session: Session, *, actor: Actor, action: str, record: str, now: datetime,
               detail: str = "", organisation_id: int | None = None,
               amount_fen: int | None = None) -> None:
    session.add(MoneyAudit(at=now, actor_id=actor.account_id or None, action=action,
                           record=record[:64], organisation_id=organisation_id,
                           amount_fen=amount_fen, detail=detail[:500]))


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor_id: int | None
    action: str
    record: str
    amount_fen: int | None
    detail: str


def audit_trail(session: Session, *, since: datetime, until: datetime,
                limit: int = 500) -> list[AuditLine]:
    """Acts and journals in `[since, until)`, newest first."""
    acts = [AuditLine(a.at, a.actor_id, a.action, a.record, a.amount_fen, a.detail)
            for a in session.scalars(select(MoneyAudit).where(
                MoneyAudit.at >= since, MoneyAudit.at < until).order_by(
                MoneyAudit.at.desc(), MoneyAudit.id.desc()).limit(limit))]
    journals = [AuditLine(j.posted_at, j.actor_id, f"post_{j.kind}", j.idempotency_key, None,
                          j.memo)
                for j in session.scalars(select(Journal).where(
                    Journal.posted_at >= since, Journal.posted_at < until).order_by(
                    Journal.posted_at.desc(), Journal.id.desc()).limit(limit))]
    return sorted(acts + journals, key=lambda line: line.at, reverse=True)[:limit]
