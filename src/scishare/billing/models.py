"""Tables of the billing domain: fee rules, voucher programmes and quotas, settlements, the
double-entry ledger, cross-region clearing, shared-use insurance and the money audit trail.

The ledger (`journal`, `posting`) is append-only: the migration `0004_billing` adds triggers
that refuse UPDATE and DELETE on both backends, and on PostgreSQL a deferred constraint trigger
that refuses, at commit, a journal whose postings do not sum to zero. The services check the
same before they write, and `billing.ledger` checks every new journal again before a commit.
Amounts are integer fen; a posting's amount is positive for a debit, negative for a credit.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scishare.core.database import Base, UTCDateTime


class AccountKind(StrEnum):
    CUSTOMER = "customer"
    """用户单位 — an organisation that uses services (enterprises above all)."""
    PROVIDER = "provider"
    """共享单位 — an organisation whose instruments are used."""
    VOUCHER_FUND = "voucher_fund"
    """创新券资金 — a region's voucher fund."""
    INSURER = "insurer"
    """保险机构 — an insurer of shared use."""
    PLATFORM = "platform"
    """平台 — the platform itself."""


class JournalKind(StrEnum):
    SETTLEMENT = "settlement"
    """结算 — a completed order priced and split between user, voucher fund and insurer."""
    REFUND = "refund"
    """退款 — part of the user's payment returned by the provider."""
    REVERSAL = "reversal"
    """冲正 — a correction: the exact negation of an earlier journal."""
    REIMBURSEMENT = "reimbursement"
    """报销 — the voucher part paid back to an enterprise that paid in full."""
    CLEARING = "clearing"
    """清算 — one region's fund paying another's for vouchers used across regions."""
    CLAIM = "claim"
    """理赔 — an insurer's payout to a provider for damage during shared use."""


class SourceKind(StrEnum):
    RESERVATION = "reservation"
    """机时预约 — machine time."""
    ORDER = "order"
    """送样检测 — a sample-testing order."""


class RedemptionMode(StrEnum):
    DIRECT = "direct"
    """直兑 — applied at settlement; the enterprise pays only the rest (the default)."""
    REIMBURSE = "reimburse"
    """先付后补 — the enterprise pays in full and is reimbursed after the service."""


class QuotaStatus(StrEnum):
    APPLIED = "applied"
    """已申请 — waiting for the bureau."""
    APPROVED = "approved"
    """已批准 — usable up to the approved amount."""
    REJECTED = "rejected"
    """已拒绝 — refused, with a reason."""


class ClaimStatus(StrEnum):
    FILED = "filed"
    """已报案 — waiting for assessment."""
    PAID = "paid"
    """已赔付 — assessed and paid out."""
    REJECTED = "rejected"
    """已拒赔 — assessed as not covered."""


class FeeRule(Base):
    """A price of a service item for one user category and purpose, from `valid_from` on.

    Rules are never edited: a new price is a new row, so the rule in force when an order was
    booked stays readable and settlement never reprices an order booked earlier."""

    __tablename__ = "fee_rule"
    __table_args__ = (
        CheckConstraint("unit_price_fen >= 0", name="price_not_negative"),
        UniqueConstraint("service_item_id", "category", "purpose", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    category: Mapped[str] = mapped_column(String(12))
    # "" applies to every purpose; otherwise one of `fees.Purpose`.
    purpose: Mapped[str] = mapped_column(String(16))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class LedgerAccount(Base):
    """An account of the ledger; its balance is the sum of its postings."""

    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[AccountKind] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"),
                                                        index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))


class Journal(Base):
    """One balanced money movement; its key names the money source, so it posts once."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[JournalKind] = mapped_column(String(16))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    memo: Mapped[str] = mapped_column(String(256))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal.id"), unique=True)


class Posting(Base):
    """One line of a journal: a debit (positive) or credit (negative) on one account."""

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="not_zero"),
        Index("ix_posting_account_journal", "account_id", "journal_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class VoucherProgramme(Base):
    """A region's innovation voucher scheme (创新券项目): budget, ratio, caps, eligibility.

    `committed_fen` is the voucher money promised so far; it only changes under a row lock
    (see `vouchers.lock_programmes`) and the database refuses it above the budget."""

    __tablename__ = "voucher_programme"
    __table_args__ = (
        CheckConstraint("budget_fen >= 0 AND per_order_cap_fen >= 0 "
                        "AND per_enterprise_year_cap_fen >= 0", name="amounts"),
        CheckConstraint("ratio_bps > 0 AND ratio_bps <= 10000", name="ratio"),
        CheckConstraint("committed_fen >= 0 AND committed_fen <= budget_fen", name="budget"),
        CheckConstraint("valid_until >= valid_from", name="validity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    ratio_bps: Mapped[int] = mapped_column(Integer)
    per_order_cap_fen: Mapped[int] = mapped_column(BigInteger)
    per_enterprise_year_cap_fen: Mapped[int] = mapped_column(BigInteger)
    sme_only: Mapped[bool] = mapped_column(Boolean)
    mode: Mapped[RedemptionMode] = mapped_column(String(12))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class ProgrammePartnerRegion(Base):
    """A partner region whose providers also take the programme's vouchers (通用通兑)."""

    __tablename__ = "programme_partner_region"

    programme_id: Mapped[int] = mapped_column(ForeignKey("voucher_programme.id"),
                                              primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)


class ProgrammeClass(Base):
    """Services eligible under a programme, by national class code prefix; none means all."""

    __tablename__ = "programme_class"

    programme_id: Mapped[int] = mapped_column(ForeignKey("voucher_programme.id"),
                                              primary_key=True)
    class_prefix: Mapped[str] = mapped_column(String(6), primary_key=True)


class VoucherQuota(Base):
    """An enterprise's quota in a programme for one year: applied for, then decided.

    `used_fen` changes only under a row lock, after the programme's lock."""

    __tablename__ = "voucher_quota"
    __table_args__ = (
        UniqueConstraint("programme_id", "enterprise_id", "year"),
        CheckConstraint("requested_fen > 0", name="requested"),
        CheckConstraint("used_fen >= 0 AND used_fen <= COALESCE(approved_fen, 0)",
                        name="used"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("voucher_programme.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    is_sme: Mapped[bool] = mapped_column(Boolean)
    requested_fen: Mapped[int] = mapped_column(BigInteger)
    approved_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[QuotaStatus] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(256), default="")
    used_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class InsurancePolicy(Base):
    """Shared-use cover (共享保) a provider requires for external self-operated use."""

    __tablename__ = "insurance_policy"
    __table_args__ = (
        CheckConstraint("premium_bps >= 0 AND premium_bps <= 10000", name="premium"),
        CheckConstraint("cover_fen >= 0 AND deductible_fen >= 0", name="amounts"),
        CheckConstraint("valid_until >= valid_from", name="validity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # NULL covers every instrument of the provider.
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instrument.id"))
    insurer_code: Mapped[str] = mapped_column(String(32))
    insurer_name: Mapped[str] = mapped_column(String(128))
    premium_bps: Mapped[int] = mapped_column(Integer)
    cover_fen: Mapped[int] = mapped_column(BigInteger)
    deductible_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Settlement(Base):
    """A completed reservation or order priced once: list price = voucher part + user part.

    Unique per source, so a second settlement of the same order cannot be stored."""

    __tablename__ = "settlement"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id"),
        CheckConstraint("list_price_fen >= 0 AND voucher_fen >= 0 AND user_fen >= 0 "
                        "AND premium_fen >= 0 AND platform_fee_fen >= 0", name="amounts"),
        CheckConstraint("voucher_fen + user_fen = list_price_fen", name="split"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= user_fen", name="refunded"),
        Index("ix_settlement_programme_settled", "programme_id", "settled_at"),
        Index("ix_settlement_customer_settled", "customer_id", "settled_at"),
        Index("ix_settlement_provider_settled", "provider_id", "settled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[SourceKind] = mapped_column(String(12))
    source_id: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    service_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    category: Mapped[str] = mapped_column(String(12))
    fee_rule_id: Mapped[int | None] = mapped_column(ForeignKey("fee_rule.id"))
    list_price_fen: Mapped[int] = mapped_column(BigInteger)
    voucher_fen: Mapped[int] = mapped_column(BigInteger)
    user_fen: Mapped[int] = mapped_column(BigInteger)
    premium_fen: Mapped[int] = mapped_column(BigInteger)
    platform_fee_fen: Mapped[int] = mapped_column(BigInteger)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_programme.id"))
    quota_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_quota.id"))
    mode: Mapped[RedemptionMode | None] = mapped_column(String(12))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("insurance_policy.id"))
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal.id"), unique=True)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reimbursed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CrossRegionItem(Base):
    """Voucher money one region's fund owes a provider in another region; cleared once."""

    __tablename__ = "cross_region_item"
    __table_args__ = (Index("ix_cross_region_item_open", "statement_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal.id"), unique=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id"))
    fund_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    provider_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("clearing_statement.id"))


class ClearingStatement(Base):
    """One clearing run's result for a region pair and period (跨区域结算单).

    `sequence` 1 is the period's statement; 2, 3 … are supplementary statements for lines
    that appeared in the period after it was cleared (corrections of earlier redemptions).
    """

    __tablename__ = "clearing_statement"
    __table_args__ = (
        UniqueConstraint("period_start", "period_end", "fund_region_code",
                         "provider_region_code", "sequence", name="uq_clearing_statement_run"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    fund_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    provider_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    sequence: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    total_fen: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal.id"), unique=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class InsuranceClaim(Base):
    """A damage claim against a covered settlement; the payout is capped by the cover."""

    __tablename__ = "insurance_claim"
    __table_args__ = (
        CheckConstraint("claimed_fen > 0", name="claimed"),
        CheckConstraint("payout_fen IS NULL OR payout_fen >= 0", name="payout"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id"))
    claimed_fen: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[ClaimStatus] = mapped_column(String(12))
    assessed_fen: Mapped[int | None] = mapped_column(BigInteger)
    payout_fen: Mapped[int | None] = mapped_column(BigInteger)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journal.id"), unique=True)


class MoneyAudit(Base):
    """Who did what to money, for acts that are not journals themselves (programme defined,
    quota approved, claim assessed, clearing run); journals carry their own actor."""

    __tablename__ = "money_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    action: Mapped[str] = mapped_column(String(32))
    record: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(500))
