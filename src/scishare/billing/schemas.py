"""Read models of the billing domain for the API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from scishare.billing.statements import Statement


class StatementLineRead(BaseModel):
    """One posting on one of the organisation's accounts; amounts in fen."""

    posted_at: datetime
    posted_on: date
    journal_id: int
    kind: str
    reference: str
    memo: str
    account: str
    counterparty: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


class StatementRead(BaseModel):
    """An organisation's statement for Shanghai days `[start, end)`; amounts in fen."""

    organisation_code: str
    organisation_name_zh: str
    organisation_name_en: str
    accounts: list[str]
    start: date
    end: date
    opening_fen: int
    debit_fen: int
    credit_fen: int
    closing_fen: int
    lines: list[StatementLineRead]

    @classmethod
    def of(cls, statement: Statement) -> StatementRead:
        return cls(
            organisation_code=statement.organisation_code,
            organisation_name_zh=statement.organisation_name_zh,
            organisation_name_en=statement.organisation_name_en,
            accounts=list(statement.accounts), start=statement.start, end=statement.end,
            opening_fen=statement.opening_fen, debit_fen=statement.debit_fen,
            credit_fen=statement.credit_fen, closing_fen=statement.closing_fen,
            lines=[StatementLineRead(
                posted_at=line.posted_at, posted_on=line.posted_on, journal_id=line.journal_id,
                kind=line.kind, reference=line.reference, memo=line.memo,
                account=line.account, counterparty=line.counterparty,
                debit_fen=line.debit_fen, credit_fen=line.credit_fen,
                balance_fen=line.balance_fen) for line in statement.lines])
