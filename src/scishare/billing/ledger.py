"""The append-only double-entry ledger: accounts, journals that sum to zero, balances.

A journal's idempotency key names its money source (``settle:reservation:42``), so the same
source cannot post twice: the unique constraint refuses it. Corrections are reversing
journals. Every journal written through this module is checked again before the session
commits (and on PostgreSQL by a deferred trigger at commit), so an unbalanced journal can never
be committed even by code that bypasses `post`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, event, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scishare.billing.bulk import among, append_rows, write_rows
from scishare.billing.errors import AlreadyPosted, UnbalancedJournal
from scishare.billing.models import AccountKind, Journal, JournalKind, LedgerAccount, Posting
from scishare.core.database import is_postgres

PLATFORM = "platform"
JOURNAL = cast(Table, Journal.__table__)
POSTING = cast(Table, Posting.__table__)
_NEW_JOURNALS = "billing_new_journals"


def customer_code(organisation_id: int) -> str:
    return f"customer:{organisation_id}"


def provider_code(organisation_id: int) -> str:
    return f"provider:{organisation_id}"


def fund_code(region_code: str) -> str:
    return f"fund:{region_code}"


def insurer_code(code: str) -> str:
    return f"insurer:{code}"


@dataclass(frozen=True)
class AccountSpec:
    code: str
    kind: AccountKind
    organisation_id: int | None = None
    region_code: str | None = None


def customer(organisation_id: int) -> AccountSpec:
    return AccountSpec(customer_code(organisation_id), AccountKind.CUSTOMER, organisation_id)


def provider(organisation_id: int) -> AccountSpec:
    return AccountSpec(provider_code(organisation_id), AccountKind.PROVIDER, organisation_id)


def fund(region_code: str) -> AccountSpec:
    return AccountSpec(fund_code(region_code), AccountKind.VOUCHER_FUND,
                       region_code=region_code)


def insurer(code: str) -> AccountSpec:
    return AccountSpec(insurer_code(code), AccountKind.INSURER)


def platform() -> AccountSpec:
    return AccountSpec(PLATFORM, AccountKind.PLATFORM)


def ensure_accounts(session: Session, specs: Iterable[AccountSpec]) -> dict[str, int]:
    """The ids of the accounts, opening any that do not exist yet (concurrent openers of the
    same account both succeed: the insert skips a code that exists)."""
    wanted = {spec.code: spec for spec in specs}
    if not wanted:
        return {}
    codes = sorted(wanted)
    ids = dict(session.execute(select(LedgerAccount.code, LedgerAccount.id)
                               .where(among(session, LedgerAccount.code, codes))).all())
    missing = [wanted[code] for code in codes if code not in ids]
    if missing:
        dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
        session.execute(dialect_insert(LedgerAccount).on_conflict_do_nothing(
            index_elements=["code"]), [
            {"code": spec.code, "kind": spec.kind.value, "organisation_id": spec.organisation_id,
             "region_code": spec.region_code} for spec in missing])
        ids.update(session.execute(select(LedgerAccount.code, LedgerAccount.id).where(
            LedgerAccount.code.in_([spec.code for spec in missing]))).all())
    return ids


@dataclass(frozen=True)
class Entry:
    """A journal to write: its key, kind, memo and postings as (account code, amount)."""

    key: str
    kind: JournalKind
    memo: str
    lines: tuple[tuple[AccountSpec, int], ...]
    reverses_id: int | None = None


def check_balanced(entry: Entry) -> None:
    """A journal's postings sum to zero, none is zero, and it has at least two."""
    amounts = [amount for _, amount in entry.lines]
    if len(amounts) < 2 or sum(amounts) != 0 or any(amount == 0 for amount in amounts):
        raise UnbalancedJournal(f"postings {amounts} do not balance", record=entry.key,
                                field="postings")


def compact(lines: Iterable[tuple[AccountSpec, int]]) -> tuple[tuple[AccountSpec, int], ...]:
    """Drop zero lines (a settlement without voucher or premium has fewer postings)."""
    return tuple((spec, amount) for spec, amount in lines if amount != 0)


def post_many(session: Session, entries: Sequence[Entry], *, actor_id: int | None,
              now: datetime) -> list[int]:
    """Write balanced journals in bulk; returns their ids in order. Refuses the whole batch
    if any is unbalanced or any key was posted before."""
    if not entries:
        return []
    for entry in entries:
        check_balanced(entry)
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        raise AlreadyPosted("the same key twice in one batch", record=keys[0],
                            field="idempotency_key")
    accounts = ensure_accounts(session, (spec for entry in entries for spec, _ in entry.lines))
    journal_ids = _write_journals(session, entries, actor_id=actor_id, now=now)
    append_rows(session, POSTING, [
        {"journal_id": journal_id, "account_id": accounts[spec.code], "amount_fen": amount}
        for journal_id, entry in zip(journal_ids, entries, strict=True)
        for spec, amount in entry.lines])
    session.info.setdefault(_NEW_JOURNALS, set()).update(journal_ids)
    return journal_ids


def _write_journals(session: Session, entries: Sequence[Entry], *, actor_id: int | None,
                    now: datetime) -> list[int]:
    """The journal rows, or AlreadyPosted with nothing written if a key was posted before.

    The unique key itself is the idempotency check: a look-up of the keys beforehand would
    scan a growing table when its statistics are stale, and could not see a key that a
    concurrent transaction is committing (the insert waits for that one). The savepoint keeps
    the session usable after a refused batch, so that nothing of the batch remains."""
    try:
        with session.begin_nested():
            return write_rows(session, JOURNAL, [
                {"idempotency_key": entry.key, "kind": entry.kind.value, "posted_at": now,
                 "actor_id": actor_id, "memo": entry.memo[:256],
                 "reverses_id": entry.reverses_id}
                for entry in entries])
    except IntegrityError as error:
        taken = session.scalars(select(Journal.idempotency_key).where(
            among(session, Journal.idempotency_key, [entry.key for entry in entries]))).first()
        if taken is None:
            raise
        raise AlreadyPosted("this money source was posted before", record=taken,
                            field="idempotency_key") from error


def post(session: Session, entry: Entry, *, actor_id: int | None, now: datetime) -> int:
    """Write one balanced journal; its id."""
    return post_many(session, [entry], actor_id=actor_id, now=now)[0]


def reversal_of(session: Session, journal_id: int, *, key: str, memo: str) -> Entry:
    """The exact negation of journal `journal_id`, as an entry to post."""
    rows = session.execute(select(LedgerAccount, Posting.amount_fen).join(
        Posting, Posting.account_id == LedgerAccount.id).where(
        Posting.journal_id == journal_id).order_by(Posting.id)).all()
    lines = tuple((AccountSpec(account.code, AccountKind(account.kind), account.organisation_id,
                               account.region_code), -amount) for account, amount in rows)
    return Entry(key=key, kind=JournalKind.REVERSAL, memo=memo, lines=lines,
                 reverses_id=journal_id)


def unbalanced_journals(session: Session, journal_ids: Iterable[int] | None = None) -> list[int]:
    """Journals whose postings do not sum to zero or that have none (of `journal_ids`, or
    all)."""
    query = select(Journal.id).group_by(Journal.id).having(or_(
        func.coalesce(func.sum(Posting.amount_fen), 0) != 0, func.count(Posting.id) == 0))
    if journal_ids is None:
        return list(session.scalars(query.outerjoin(
            Posting, Posting.journal_id == Journal.id).order_by(Journal.id)))
    ids = sorted(set(journal_ids))
    if not ids:
        return []
    # Both sides are bounded by the ids' range as well as the list: a ledger table written
    # faster than it is analyzed has no statistics, and the planner may then read every
    # posting to check a few thousand new journals (the planner does not carry a range
    # across a join by itself). The ids of one transaction's journals lie close together.
    return list(session.scalars(query.outerjoin(Posting, and_(
        Posting.journal_id == Journal.id, Posting.journal_id.between(ids[0], ids[-1]))).where(
        Journal.id.between(ids[0], ids[-1]), among(session, Journal.id, ids)).order_by(
        Journal.id)))


def trial_balance(session: Session) -> int:
    """The sum of every posting: zero when the ledger balances."""
    return int(session.scalar(select(func.coalesce(func.sum(Posting.amount_fen), 0))) or 0)


def balance(session: Session, code: str, *, until: datetime | None = None) -> int:
    """An account's balance: the sum of its postings (up to `until`, exclusive)."""
    query = select(func.coalesce(func.sum(Posting.amount_fen), 0)).join(
        LedgerAccount, LedgerAccount.id == Posting.account_id).where(LedgerAccount.code == code)
    if until is not None:
        query = query.join(Journal, Journal.id == Posting.journal_id).where(
            Journal.posted_at < until)
    return int(session.scalar(query) or 0)


def balances(session: Session, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    found: dict[str, int] = dict.fromkeys(wanted, 0)
    rows = session.execute(select(LedgerAccount.code, func.sum(Posting.amount_fen)).join(
        Posting, Posting.account_id == LedgerAccount.id).where(
        LedgerAccount.code.in_(wanted)).group_by(LedgerAccount.code))
    found.update({code: int(total) for code, total in rows})
    return found


@event.listens_for(Session, "before_commit")
def _verify_new_journals(session: Session) -> None:
    """Commit-time check (as pretix does): refuse to commit if any journal written in this
    transaction does not balance."""
    new: set[int] = session.info.pop(_NEW_JOURNALS, set())
    if not new:
        return
    session.flush()
    bad = unbalanced_journals(session, new)
    if bad:
        raise UnbalancedJournal(f"journals {bad} do not balance", record="ledger",
                                field="postings")


@event.listens_for(Session, "after_rollback")
def _forget_new_journals(session: Session) -> None:
    session.info.pop(_NEW_JOURNALS, None)


def journal_rows(session: Session, journal_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Postings of the journals with their account codes, for reports and tests."""
    rows = session.execute(select(Posting.journal_id, LedgerAccount.code, Posting.amount_fen)
                           .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
                           .where(Posting.journal_id.in_(list(journal_ids)))
                           .order_by(Posting.id))
    return [{"journal_id": j, "account": code, "amount_fen": amount} for j, code, amount in rows]
