"""The ledger: a key posts once, a refused batch leaves nothing behind, and the check of new
journals finds every journal that does not balance."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from scishare.accounts.service import SYSTEM
from scishare.billing import ledger
from scishare.billing.errors import AlreadyPosted
from scishare.billing.models import Journal, JournalKind, Posting
from scishare.billing.settlement import refund, settle
from tests.billing.factories import (
    SHANGHAI,
    ZHENGZHOU,
    Market,
    a_completed_reservation,
    refused,
    source,
)

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def a_clearing(key: str, amount_fen: int = 500) -> ledger.Entry:
    return ledger.Entry(key=key, kind=JournalKind.CLEARING, memo=f"clearing {key}",
                        lines=((ledger.fund(ZHENGZHOU), -amount_fen),
                               (ledger.fund(SHANGHAI), amount_fen)))


def a_journal_past_post(session: Session, key: str) -> int:
    """A journal row written without `post` and its checks, as careless code could."""
    journal_id = session.scalar(insert(Journal).values(
        idempotency_key=key, kind=JournalKind.CLEARING.value, posted_at=NOW, memo=key)
        .returning(Journal.id))
    assert journal_id is not None
    return journal_id


class TestPost:
    def test_a_key_posted_before_refuses_the_whole_batch(self, session: Session,
                                                         market: Market) -> None:
        ledger.post(session, a_clearing("clearing:1"), actor_id=None, now=NOW)

        error = refused(session, AlreadyPosted, "idempotency_key", lambda: ledger.post_many(
            session, [a_clearing("clearing:2"), a_clearing("clearing:1")], actor_id=None,
            now=NOW))

        assert error.record == "clearing:1"
        # The session goes on: the refused batch was rolled back to its savepoint.
        ledger.post(session, a_clearing("clearing:2"), actor_id=None, now=NOW)
        assert ledger.balance(session, ledger.fund_code(SHANGHAI)) == 1_000
        assert ledger.unbalanced_journals(session) == []

    def test_the_same_key_twice_in_one_batch_is_refused(self, session: Session,
                                                        market: Market) -> None:
        refused(session, AlreadyPosted, "idempotency_key", lambda: ledger.post_many(
            session, [a_clearing("clearing:1"), a_clearing("clearing:1")], actor_id=None,
            now=NOW))

    def test_a_refund_key_used_again_is_refused(self, session: Session,
                                                market: Market) -> None:
        settlement = settle(session, **source(a_completed_reservation(session, market)),  # type: ignore[arg-type]
                            actor=SYSTEM, now=NOW)
        refund(session, settlement, amount_fen=10_000, key="r1", reason="late start",
               actor=market.home.operator, now=NOW)

        refused(session, AlreadyPosted, "idempotency_key", lambda: refund(
            session, settlement, amount_fen=10_000, key="r1", reason="late start",
            actor=market.home.operator, now=NOW))

        assert settlement.refunded_fen == 10_000


class TestUnbalancedJournals:
    def test_finds_journals_without_postings_or_balance(self, session: Session,
                                                        market: Market) -> None:
        balanced = ledger.post(session, a_clearing("clearing:1"), actor_id=None, now=NOW)
        empty = a_journal_past_post(session, "careless:empty")
        lopsided = a_journal_past_post(session, "careless:lopsided")
        accounts = ledger.ensure_accounts(session, [ledger.platform()])
        session.execute(insert(Posting).values(journal_id=lopsided,
                                               account_id=accounts[ledger.PLATFORM],
                                               amount_fen=7))

        assert ledger.unbalanced_journals(session, [lopsided, balanced, empty]) == [
            empty, lopsided]
        assert ledger.unbalanced_journals(session, [balanced]) == []
        assert ledger.unbalanced_journals(session, []) == []
        assert ledger.unbalanced_journals(session) == [empty, lopsided]
