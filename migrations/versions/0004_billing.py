"""billing: fee rules, vouchers, settlement, ledger, clearing, insurance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 01:00:00

The ledger is append-only: triggers refuse UPDATE and DELETE of `journal` and `posting` on
both backends. On PostgreSQL a deferred constraint trigger also refuses, at commit, a journal
whose postings do not sum to zero or that has none (SQLite has no deferred triggers; there
`billing.ledger` runs the same check before every commit).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scishare.core.database

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Also the messages the services recognise.
APPEND_ONLY = "ledger_append_only"
UNBALANCED = "journal_unbalanced"
LEDGER_TABLES = ("journal", "posting")

POSTGRES_BALANCE_CHECK = f"""
CREATE FUNCTION journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM posting WHERE journal_id = NEW.id)
       OR (SELECT sum(amount_fen) FROM posting WHERE journal_id = NEW.id) <> 0 THEN
        RAISE EXCEPTION '{UNBALANCED}: journal %', NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_balanced AFTER INSERT ON journal
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_balanced();
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}: % on %', TG_OP, TG_TABLE_NAME;
END $$;
"""


def _append_only_guards(dialect: str) -> list[str]:
    statements = []
    for table in LEDGER_TABLES:
        for verb in ("UPDATE", "DELETE"):
            name = f"{table}_no_{verb.lower()}"
            if dialect == "postgresql":
                statements.append(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} "
                                  "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()")
            else:
                statements.append(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} "
                                  f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    return statements


def upgrade() -> None:
    op.create_table('ledger_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_ledger_account_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_ledger_account_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_account_code'))
    )
    op.create_index(op.f('ix_ledger_account_organisation_id'), 'ledger_account', ['organisation_id'], unique=False)
    op.create_table('journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=96), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('posted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.String(length=256), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_journal_actor_id_account')),
    sa.ForeignKeyConstraint(['reverses_id'], ['journal.id'], name=op.f('fk_journal_reverses_id_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_journal_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_journal_reverses_id'))
    )
    op.create_index(op.f('ix_journal_posted_at'), 'journal', ['posted_at'], unique=False)
    op.create_table('money_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('record', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_money_audit_actor_id_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_money_audit_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_money_audit'))
    )
    op.create_index(op.f('ix_money_audit_at'), 'money_audit', ['at'], unique=False)
    op.create_table('voucher_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('ratio_bps', sa.Integer(), nullable=False),
    sa.Column('per_order_cap_fen', sa.BigInteger(), nullable=False),
    sa.Column('per_enterprise_year_cap_fen', sa.BigInteger(), nullable=False),
    sa.Column('sme_only', sa.Boolean(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('committed_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('budget_fen >= 0 AND per_order_cap_fen >= 0 AND per_enterprise_year_cap_fen >= 0', name=op.f('ck_voucher_programme_amounts')),
    sa.CheckConstraint('committed_fen >= 0 AND committed_fen <= budget_fen', name=op.f('ck_voucher_programme_budget')),
    sa.CheckConstraint('ratio_bps > 0 AND ratio_bps <= 10000', name=op.f('ck_voucher_programme_ratio')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_voucher_programme_validity')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_voucher_programme_created_by_id_account')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_voucher_programme_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_voucher_programme_code'))
    )
    op.create_index(op.f('ix_voucher_programme_region_code'), 'voucher_programme', ['region_code'], unique=False)
    op.create_table('clearing_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('fund_region_code', sa.String(length=6), nullable=False),
    sa.Column('provider_region_code', sa.String(length=6), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('run_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['fund_region_code'], ['region.code'], name=op.f('fk_clearing_statement_fund_region_code_region')),
    sa.ForeignKeyConstraint(['journal_id'], ['journal.id'], name=op.f('fk_clearing_statement_journal_id_journal')),
    sa.ForeignKeyConstraint(['provider_region_code'], ['region.code'], name=op.f('fk_clearing_statement_provider_region_code_region')),
    sa.ForeignKeyConstraint(['run_by_id'], ['account.id'], name=op.f('fk_clearing_statement_run_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearing_statement')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_clearing_statement_journal_id')),
    sa.UniqueConstraint('period_start', 'period_end', 'fund_region_code', 'provider_region_code', name=op.f('uq_clearing_statement_period_start_period_end_fund_region_code_provider_region_code'))
    )
    op.create_table('insurance_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=True),
    sa.Column('insurer_code', sa.String(length=32), nullable=False),
    sa.Column('insurer_name', sa.String(length=128), nullable=False),
    sa.Column('premium_bps', sa.Integer(), nullable=False),
    sa.Column('cover_fen', sa.BigInteger(), nullable=False),
    sa.Column('deductible_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cover_fen >= 0 AND deductible_fen >= 0', name=op.f('ck_insurance_policy_amounts')),
    sa.CheckConstraint('premium_bps >= 0 AND premium_bps <= 10000', name=op.f('ck_insurance_policy_premium')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_insurance_policy_validity')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_insurance_policy_instrument_id_instrument')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'], name=op.f('fk_insurance_policy_provider_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_policy')),
    sa.UniqueConstraint('code', name=op.f('uq_insurance_policy_code'))
    )
    op.create_index(op.f('ix_insurance_policy_provider_id'), 'insurance_policy', ['provider_id'], unique=False)
    op.create_table('posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_posting_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_posting_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['journal_id'], ['journal.id'], name=op.f('fk_posting_journal_id_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posting'))
    )
    op.create_index('ix_posting_account_journal', 'posting', ['account_id', 'journal_id'], unique=False)
    op.create_index(op.f('ix_posting_journal_id'), 'posting', ['journal_id'], unique=False)
    op.create_table('programme_class',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('class_prefix', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programme.id'], name=op.f('fk_programme_class_programme_id_voucher_programme')),
    sa.PrimaryKeyConstraint('programme_id', 'class_prefix', name=op.f('pk_programme_class'))
    )
    op.create_table('programme_partner_region',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programme.id'], name=op.f('fk_programme_partner_region_programme_id_voucher_programme')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_programme_partner_region_region_code_region')),
    sa.PrimaryKeyConstraint('programme_id', 'region_code', name=op.f('pk_programme_partner_region'))
    )
    op.create_table('voucher_quota',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('is_sme', sa.Boolean(), nullable=False),
    sa.Column('requested_fen', sa.BigInteger(), nullable=False),
    sa.Column('approved_fen', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.Column('used_fen', sa.BigInteger(), nullable=False),
    sa.Column('applied_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('requested_fen > 0', name=op.f('ck_voucher_quota_requested')),
    sa.CheckConstraint('used_fen >= 0 AND used_fen <= COALESCE(approved_fen, 0)', name=op.f('ck_voucher_quota_used')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['account.id'], name=op.f('fk_voucher_quota_applied_by_id_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_voucher_quota_decided_by_id_account')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['organisation.id'], name=op.f('fk_voucher_quota_enterprise_id_organisation')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programme.id'], name=op.f('fk_voucher_quota_programme_id_voucher_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_quota')),
    sa.UniqueConstraint('programme_id', 'enterprise_id', 'year', name=op.f('uq_voucher_quota_programme_id_enterprise_id_year'))
    )
    op.create_index(op.f('ix_voucher_quota_enterprise_id'), 'voucher_quota', ['enterprise_id'], unique=False)
    op.create_table('fee_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_item_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('unit_price_fen >= 0', name=op.f('ck_fee_rule_price_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_fee_rule_created_by_id_account')),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'], name=op.f('fk_fee_rule_service_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rule')),
    sa.UniqueConstraint('service_item_id', 'category', 'purpose', 'valid_from', name=op.f('uq_fee_rule_service_item_id_category_purpose_valid_from'))
    )
    op.create_table('settlement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_kind', sa.String(length=12), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('service_item_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('fee_rule_id', sa.Integer(), nullable=True),
    sa.Column('list_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('voucher_fen', sa.BigInteger(), nullable=False),
    sa.Column('user_fen', sa.BigInteger(), nullable=False),
    sa.Column('premium_fen', sa.BigInteger(), nullable=False),
    sa.Column('platform_fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('quota_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=12), nullable=True),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('settled_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('reimbursed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reversed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('list_price_fen >= 0 AND voucher_fen >= 0 AND user_fen >= 0 AND premium_fen >= 0 AND platform_fee_fen >= 0', name=op.f('ck_settlement_amounts')),
    sa.CheckConstraint('refunded_fen >= 0 AND refunded_fen <= user_fen', name=op.f('ck_settlement_refunded')),
    sa.CheckConstraint('voucher_fen + user_fen = list_price_fen', name=op.f('ck_settlement_split')),
    sa.ForeignKeyConstraint(['customer_id'], ['organisation.id'], name=op.f('fk_settlement_customer_id_organisation')),
    sa.ForeignKeyConstraint(['fee_rule_id'], ['fee_rule.id'], name=op.f('fk_settlement_fee_rule_id_fee_rule')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_settlement_instrument_id_instrument')),
    sa.ForeignKeyConstraint(['journal_id'], ['journal.id'], name=op.f('fk_settlement_journal_id_journal')),
    sa.ForeignKeyConstraint(['policy_id'], ['insurance_policy.id'], name=op.f('fk_settlement_policy_id_insurance_policy')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programme.id'], name=op.f('fk_settlement_programme_id_voucher_programme')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'], name=op.f('fk_settlement_provider_id_organisation')),
    sa.ForeignKeyConstraint(['quota_id'], ['voucher_quota.id'], name=op.f('fk_settlement_quota_id_voucher_quota')),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'], name=op.f('fk_settlement_service_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_settlement_journal_id')),
    sa.UniqueConstraint('source_kind', 'source_id', name=op.f('uq_settlement_source_kind_source_id'))
    )
    op.create_index('ix_settlement_customer_settled', 'settlement', ['customer_id', 'settled_at'], unique=False)
    op.create_index('ix_settlement_programme_settled', 'settlement', ['programme_id', 'settled_at'], unique=False)
    op.create_index('ix_settlement_provider_settled', 'settlement', ['provider_id', 'settled_at'], unique=False)
    op.create_table('cross_region_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('fund_region_code', sa.String(length=6), nullable=False),
    sa.Column('provider_region_code', sa.String(length=6), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['fund_region_code'], ['region.code'], name=op.f('fk_cross_region_item_fund_region_code_region')),
    sa.ForeignKeyConstraint(['journal_id'], ['journal.id'], name=op.f('fk_cross_region_item_journal_id_journal')),
    sa.ForeignKeyConstraint(['provider_region_code'], ['region.code'], name=op.f('fk_cross_region_item_provider_region_code_region')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_cross_region_item_settlement_id_settlement')),
    sa.ForeignKeyConstraint(['statement_id'], ['clearing_statement.id'], name=op.f('fk_cross_region_item_statement_id_clearing_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cross_region_item')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_cross_region_item_journal_id'))
    )
    op.create_index('ix_cross_region_item_open', 'cross_region_item', ['statement_id', 'occurred_at'], unique=False)
    op.create_table('insurance_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('claimed_fen', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assessed_fen', sa.BigInteger(), nullable=True),
    sa.Column('payout_fen', sa.BigInteger(), nullable=True),
    sa.Column('filed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('assessed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assessed_by_id', sa.Integer(), nullable=True),
    sa.Column('journal_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('claimed_fen > 0', name=op.f('ck_insurance_claim_claimed')),
    sa.CheckConstraint('payout_fen IS NULL OR payout_fen >= 0', name=op.f('ck_insurance_claim_payout')),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['account.id'], name=op.f('fk_insurance_claim_assessed_by_id_account')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['account.id'], name=op.f('fk_insurance_claim_filed_by_id_account')),
    sa.ForeignKeyConstraint(['journal_id'], ['journal.id'], name=op.f('fk_insurance_claim_journal_id_journal')),
    sa.ForeignKeyConstraint(['policy_id'], ['insurance_policy.id'], name=op.f('fk_insurance_claim_policy_id_insurance_policy')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_insurance_claim_settlement_id_settlement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_claim')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_insurance_claim_journal_id'))
    )
    op.create_index(op.f('ix_insurance_claim_settlement_id'), 'insurance_claim', ['settlement_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_BALANCE_CHECK)
    for statement in _append_only_guards(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in LEDGER_TABLES:
        for verb in ("update", "delete"):
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb} ON {table}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_balanced ON journal")
        op.execute("DROP FUNCTION IF EXISTS journal_balanced()")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    op.drop_index(op.f('ix_insurance_claim_settlement_id'), table_name='insurance_claim')
    op.drop_table('insurance_claim')
    op.drop_index('ix_cross_region_item_open', table_name='cross_region_item')
    op.drop_table('cross_region_item')
    op.drop_index('ix_settlement_provider_settled', table_name='settlement')
    op.drop_index('ix_settlement_programme_settled', table_name='settlement')
    op.drop_index('ix_settlement_customer_settled', table_name='settlement')
    op.drop_table('settlement')
    op.drop_table('fee_rule')
    op.drop_index(op.f('ix_voucher_quota_enterprise_id'), table_name='voucher_quota')
    op.drop_table('voucher_quota')
    op.drop_table('programme_partner_region')
    op.drop_table('programme_class')
    op.drop_index(op.f('ix_posting_journal_id'), table_name='posting')
    op.drop_index('ix_posting_account_journal', table_name='posting')
    op.drop_table('posting')
    op.drop_index(op.f('ix_insurance_policy_provider_id'), table_name='insurance_policy')
    op.drop_table('insurance_policy')
    op.drop_table('clearing_statement')
    op.drop_index(op.f('ix_voucher_programme_region_code'), table_name='voucher_programme')
    op.drop_table('voucher_programme')
    op.drop_index(op.f('ix_money_audit_at'), table_name='money_audit')
    op.drop_table('money_audit')
    op.drop_index(op.f('ix_journal_posted_at'), table_name='journal')
    op.drop_table('journal')
    op.drop_index(op.f('ix_ledger_account_organisation_id'), table_name='ledger_account')
    op.drop_table('ledger_account')
