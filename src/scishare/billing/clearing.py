"""Cross-region clearing (跨区域通兑结算): vouchers of region A used at providers in region B
are owed by A's fund to B; a run per period makes one statement per region pair, clears each
line once and only once, and posts A's fund paying B's fund (which then owes B's providers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from scishare.accounts.permissions import Action, Target
from scishare.accounts.service import Actor, authorize
from scishare.billing import ledger
from scishare.billing.audit import record_act
from scishare.billing.errors import BadPeriod
from scishare.billing.models import (
    ClearingStatement,
    CrossRegionItem,
    Journal,
    JournalKind,
    LedgerAccount,
    Posting,
)
from scishare.booking.periods import LOCAL_TZ
from scishare.core.errors import Conflict


def local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def run_clearing(session: Session, *, fund_region_code: str, period_start: date,
                 period_end: date, actor: Actor, now: datetime) -> list[ClearingStatement]:
    """Clear every open item of `fund_region_code`'s fund that occurred before the end of the
    period (stragglers from earlier periods included), one statement per provider region.

    Items are locked (FOR UPDATE, in id order) before they are summed and marked, so two
    runs cannot clear the same line; a second run of the same period finds nothing open,
    unless a correction added lines since: those go on a supplementary statement."""
    record = f"clearing {fund_region_code} {period_start}–{period_end}"
    authorize(actor, Action.RUN_CLEARING, Target(region_code=fund_region_code), record=record)
    if period_end <= period_start:
        raise BadPeriod("ends before it starts", record=record, field="period_end")
    items = list(session.scalars(select(CrossRegionItem).where(
        CrossRegionItem.fund_region_code == fund_region_code,
        CrossRegionItem.statement_id.is_(None),
        CrossRegionItem.occurred_at < local_start(period_end)).order_by(CrossRegionItem.id)
        .with_for_update().execution_options(populate_existing=True)))
    by_region: dict[str, list[CrossRegionItem]] = {}
    for item in items:
        by_region.setdefault(item.provider_region_code, []).append(item)
    statements = []
    for provider_region, lines in sorted(by_region.items()):
        total = sum(item.amount_fen for item in lines)
        sequence = 1 + (session.scalar(select(func.count()).select_from(ClearingStatement).where(
            ClearingStatement.period_start == period_start,
            ClearingStatement.period_end == period_end,
            ClearingStatement.fund_region_code == fund_region_code,
            ClearingStatement.provider_region_code == provider_region)) or 0)
        key = (f"clearing:{fund_region_code}:{provider_region}:{period_start}:{period_end}"
               f":{sequence}")
        entry_lines = ledger.compact(((ledger.fund(fund_region_code), -total),
                                      (ledger.fund(provider_region), total)))
        if entry_lines:
            journal_id = ledger.post(session, ledger.Entry(
                key=key, kind=JournalKind.CLEARING,
                memo=f"clearing {fund_region_code} -> {provider_region}, {len(lines)} lines",
                lines=entry_lines), actor_id=actor.account_id or None, now=now)
        else:
            # Lines that net to nothing still need clearing, against an empty journal key.
            journal_id = _zero_journal(session, key=key, now=now, actor=actor)
        statement = ClearingStatement(
            period_start=period_start, period_end=period_end,
            fund_region_code=fund_region_code, provider_region_code=provider_region,
            sequence=sequence, total_fen=total, line_count=len(lines), journal_id=journal_id,
            run_at=now, run_by_id=actor.account_id or None)
        session.add(statement)
        session.flush()
        marked = session.execute(update(CrossRegionItem).where(
            CrossRegionItem.id.in_([item.id for item in lines]),
            CrossRegionItem.statement_id.is_(None)).values(statement_id=statement.id)
            .execution_options(synchronize_session=False))
        if marked.rowcount != len(lines):  # type: ignore[attr-defined]
            raise Conflict("lines were cleared by another run", record=record)
        for item in lines:
            set_committed_value(item, "statement_id", statement.id)
        record_act(session, actor=actor, action="run_clearing", record=record,
                   amount_fen=total, now=now, detail=f"to {provider_region}, {len(lines)} lines")
        statements.append(statement)
    return statements


def _zero_journal(session: Session, *, key: str, now: datetime, actor: Actor) -> int:
    """A journal that moves a fen out and back, so a zero statement still has its journal."""
    return ledger.post(session, ledger.Entry(
        key=key, kind=JournalKind.CLEARING, memo="clearing nets to zero",
        lines=((ledger.platform(), 1), (ledger.platform(), -1))),
        actor_id=actor.account_id or None, now=now)


@dataclass(frozen=True)
class Reconciliation:
    statement_total_fen: int
    lines_total_fen: int
    ledger_fund_movement_fen: int

    @property
    def agrees(self) -> bool:
        return self.statement_total_fen == self.lines_total_fen == -self.ledger_fund_movement_fen


def reconcile(session: Session, statement: ClearingStatement) -> Reconciliation:
    """The statement's total, the sum of its lines, and the paying fund's movement in its
    journal, which must all agree."""
    lines = int(session.scalar(select(func.coalesce(func.sum(CrossRegionItem.amount_fen), 0))
                               .where(CrossRegionItem.statement_id == statement.id)) or 0)
    moved = int(session.scalar(select(func.coalesce(func.sum(Posting.amount_fen), 0)).join(
        LedgerAccount, LedgerAccount.id == Posting.account_id).join(
        Journal, Journal.id == Posting.journal_id).where(
        Journal.id == statement.journal_id,
        LedgerAccount.code == ledger.fund_code(statement.fund_region_code))) or 0)
    return Reconciliation(statement.total_fen, lines, moved)


def statements_of(session: Session, *, region_code: str | None = None
                  ) -> list[ClearingStatement]:
    query = select(ClearingStatement).order_by(ClearingStatement.period_start.desc(),
                                               ClearingStatement.id.desc())
    if region_code is not None:
        query = query.where((ClearingStatement.fund_region_code == region_code)
                            | (ClearingStatement.provider_region_code == region_code))
    return list(session.scalars(query))


def lines_of(session: Session, statement: ClearingStatement) -> list[CrossRegionItem]:
    return list(session.scalars(select(CrossRegionItem).where(
        CrossRegionItem.statement_id == statement.id).order_by(CrossRegionItem.id)))
