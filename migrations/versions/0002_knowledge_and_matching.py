"""knowledge graph and matching

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scishare.core.database

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kg_industry',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_kg_industry'))
    )
    op.create_table('kg_material',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_kg_material'))
    )
    op.create_table('kg_property',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_kg_property'))
    )
    op.create_table('kg_standard',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title_zh', sa.String(length=256), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=False),
    sa.Column('confidence', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.String(length=400), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_kg_standard'))
    )
    op.create_table('matching_text_vector',
    sa.Column('model', sa.String(length=64), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'text_hash', name=op.f('pk_matching_text_vector'))
    )
    op.create_table('kg_technique_profile',
    sa.Column('technique_code', sa.String(length=32), nullable=False),
    sa.Column('sample_types', sa.String(length=256), nullable=False),
    sa.Column('typical_fee', sa.String(length=128), nullable=False),
    sa.Column('notes', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_kg_technique_profile_technique_code_technique'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('technique_code', name=op.f('pk_kg_technique_profile'))
    )
    op.create_table('demand_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('need', sa.Text(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('user_category', sa.String(length=12), nullable=False),
    sa.Column('require_cma', sa.Boolean(), nullable=False),
    sa.Column('require_cnas', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_until', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_demand_subscription_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_demand_subscription_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_demand_subscription_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_subscription'))
    )
    op.create_index(op.f('ix_demand_subscription_account_id'), 'demand_subscription', ['account_id'], unique=False)
    op.create_index(op.f('ix_demand_subscription_is_active'), 'demand_subscription', ['is_active'], unique=False)
    op.create_table('kg_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technique_code', sa.String(length=32), nullable=True),
    sa.Column('property_code', sa.String(length=32), nullable=True),
    sa.Column('material_code', sa.String(length=32), nullable=True),
    sa.Column('industry_code', sa.String(length=32), nullable=True),
    sa.Column('standard_code', sa.String(length=64), nullable=True),
    sa.Column('text', sa.String(length=128), nullable=False),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(CASE WHEN technique_code IS NULL THEN 0 ELSE 1 END) + (CASE WHEN property_code IS NULL THEN 0 ELSE 1 END) + (CASE WHEN material_code IS NULL THEN 0 ELSE 1 END) + (CASE WHEN industry_code IS NULL THEN 0 ELSE 1 END) + (CASE WHEN standard_code IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_kg_alias_one_node')),
    sa.ForeignKeyConstraint(['added_by_id'], ['account.id'], name=op.f('fk_kg_alias_added_by_id_account')),
    sa.ForeignKeyConstraint(['industry_code'], ['kg_industry.code'], name=op.f('fk_kg_alias_industry_code_kg_industry')),
    sa.ForeignKeyConstraint(['material_code'], ['kg_material.code'], name=op.f('fk_kg_alias_material_code_kg_material')),
    sa.ForeignKeyConstraint(['property_code'], ['kg_property.code'], name=op.f('fk_kg_alias_property_code_kg_property')),
    sa.ForeignKeyConstraint(['standard_code'], ['kg_standard.code'], name=op.f('fk_kg_alias_standard_code_kg_standard')),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_kg_alias_technique_code_technique')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kg_alias'))
    )
    op.create_index(op.f('ix_kg_alias_industry_code'), 'kg_alias', ['industry_code'], unique=False)
    op.create_index(op.f('ix_kg_alias_material_code'), 'kg_alias', ['material_code'], unique=False)
    op.create_index(op.f('ix_kg_alias_property_code'), 'kg_alias', ['property_code'], unique=False)
    op.create_index(op.f('ix_kg_alias_standard_code'), 'kg_alias', ['standard_code'], unique=False)
    op.create_index(op.f('ix_kg_alias_technique_code'), 'kg_alias', ['technique_code'], unique=False)
    op.create_table('kg_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('material_code', sa.String(length=32), nullable=True),
    sa.Column('property_code', sa.String(length=32), nullable=True),
    sa.Column('technique_code', sa.String(length=32), nullable=True),
    sa.Column('standard_code', sa.String(length=64), nullable=True),
    sa.Column('industry_code', sa.String(length=32), nullable=True),
    sa.Column('class_code', sa.String(length=6), nullable=True),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_core', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=256), nullable=False),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'suits' AND material_code IS NOT NULL AND property_code IS NOT NULL AND technique_code IS NOT NULL) OR (kind = 'measures' AND technique_code IS NOT NULL AND property_code IS NOT NULL) OR (kind = 'prescribes' AND standard_code IS NOT NULL AND technique_code IS NOT NULL) OR (kind = 'serves' AND industry_code IS NOT NULL AND (material_code IS NOT NULL OR standard_code IS NOT NULL)) OR (kind = 'classified_as' AND technique_code IS NOT NULL AND class_code IS NOT NULL)", name=op.f('ck_kg_link_shape')),
    sa.CheckConstraint('weight > 0 AND weight <= 1', name=op.f('ck_kg_link_weight_range')),
    sa.ForeignKeyConstraint(['added_by_id'], ['account.id'], name=op.f('fk_kg_link_added_by_id_account')),
    sa.ForeignKeyConstraint(['class_code'], ['national_class.code'], name=op.f('fk_kg_link_class_code_national_class')),
    sa.ForeignKeyConstraint(['industry_code'], ['kg_industry.code'], name=op.f('fk_kg_link_industry_code_kg_industry')),
    sa.ForeignKeyConstraint(['material_code'], ['kg_material.code'], name=op.f('fk_kg_link_material_code_kg_material')),
    sa.ForeignKeyConstraint(['property_code'], ['kg_property.code'], name=op.f('fk_kg_link_property_code_kg_property')),
    sa.ForeignKeyConstraint(['standard_code'], ['kg_standard.code'], name=op.f('fk_kg_link_standard_code_kg_standard')),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_kg_link_technique_code_technique')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kg_link'))
    )
    op.create_index(op.f('ix_kg_link_industry_code'), 'kg_link', ['industry_code'], unique=False)
    op.create_index('ix_kg_link_kind_technique', 'kg_link', ['kind', 'technique_code'], unique=False)
    op.create_index(op.f('ix_kg_link_material_code'), 'kg_link', ['material_code'], unique=False)
    op.create_index(op.f('ix_kg_link_property_code'), 'kg_link', ['property_code'], unique=False)
    op.create_index(op.f('ix_kg_link_standard_code'), 'kg_link', ['standard_code'], unique=False)
    op.create_table('kg_seed_version',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=256), nullable=False),
    sa.Column('loaded_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('loaded_by_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['loaded_by_id'], ['account.id'], name=op.f('fk_kg_seed_version_loaded_by_id_account')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_kg_seed_version'))
    )
    op.create_table('matching_need',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asked_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('organisation_type', sa.String(length=16), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('technique_code', sa.String(length=32), nullable=True),
    sa.Column('industry_code', sa.String(length=32), nullable=True),
    sa.Column('best_score', sa.Float(), nullable=False),
    sa.Column('offer_count', sa.Integer(), nullable=False),
    sa.Column('is_unmet', sa.Boolean(), nullable=False),
    sa.Column('chosen_instrument_id', sa.Integer(), nullable=True),
    sa.Column('chosen_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_matching_need_account_id_account')),
    sa.ForeignKeyConstraint(['chosen_instrument_id'], ['instrument.id'], name=op.f('fk_matching_need_chosen_instrument_id_instrument'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['industry_code'], ['kg_industry.code'], name=op.f('fk_matching_need_industry_code_kg_industry')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_matching_need_region_code_region')),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_matching_need_technique_code_technique')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_need'))
    )
    op.create_index(op.f('ix_matching_need_asked_at'), 'matching_need', ['asked_at'], unique=False)
    op.create_index(op.f('ix_matching_need_region_code'), 'matching_need', ['region_code'], unique=False)
    op.create_index('ix_matching_need_unmet_asked', 'matching_need', ['is_unmet', 'asked_at'], unique=False)
    op.create_table('demand_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('service_item_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_demand_notification_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_demand_notification_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'], name=op.f('fk_demand_notification_service_item_id_service_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscription_id'], ['demand_subscription.id'], name=op.f('fk_demand_notification_subscription_id_demand_subscription'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_notification')),
    sa.UniqueConstraint('subscription_id', 'instrument_id', name=op.f('uq_demand_notification_subscription_id_instrument_id'))
    )
    op.create_index(op.f('ix_demand_notification_account_id'), 'demand_notification', ['account_id'], unique=False)
    op.create_index(op.f('ix_demand_notification_subscription_id'), 'demand_notification', ['subscription_id'], unique=False)
    op.create_table('notification_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['demand_notification.id'], name=op.f('fk_notification_email_notification_id_demand_notification'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_email')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_notification_email_notification_id'))
    )
    op.create_index(op.f('ix_notification_email_created_at'), 'notification_email', ['created_at'], unique=False)
    op.create_index(op.f('ix_notification_email_sent_at'), 'notification_email', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_email_sent_at'), table_name='notification_email')
    op.drop_index(op.f('ix_notification_email_created_at'), table_name='notification_email')
    op.drop_table('notification_email')
    op.drop_index(op.f('ix_demand_notification_subscription_id'), table_name='demand_notification')
    op.drop_index(op.f('ix_demand_notification_account_id'), table_name='demand_notification')
    op.drop_table('demand_notification')
    op.drop_index('ix_matching_need_unmet_asked', table_name='matching_need')
    op.drop_index(op.f('ix_matching_need_region_code'), table_name='matching_need')
    op.drop_index(op.f('ix_matching_need_asked_at'), table_name='matching_need')
    op.drop_table('matching_need')
    op.drop_table('kg_seed_version')
    op.drop_index(op.f('ix_kg_link_standard_code'), table_name='kg_link')
    op.drop_index(op.f('ix_kg_link_property_code'), table_name='kg_link')
    op.drop_index(op.f('ix_kg_link_material_code'), table_name='kg_link')
    op.drop_index('ix_kg_link_kind_technique', table_name='kg_link')
    op.drop_index(op.f('ix_kg_link_industry_code'), table_name='kg_link')
    op.drop_table('kg_link')
    op.drop_index(op.f('ix_kg_alias_technique_code'), table_name='kg_alias')
    op.drop_index(op.f('ix_kg_alias_standard_code'), table_name='kg_alias')
    op.drop_index(op.f('ix_kg_alias_property_code'), table_name='kg_alias')
    op.drop_index(op.f('ix_kg_alias_material_code'), table_name='kg_alias')
    op.drop_index(op.f('ix_kg_alias_industry_code'), table_name='kg_alias')
    op.drop_table('kg_alias')
    op.drop_index(op.f('ix_demand_subscription_is_active'), table_name='demand_subscription')
    op.drop_index(op.f('ix_demand_subscription_account_id'), table_name='demand_subscription')
    op.drop_table('demand_subscription')
    op.drop_table('kg_technique_profile')
    op.drop_table('matching_text_vector')
    op.drop_table('kg_standard')
    op.drop_table('kg_property')
    op.drop_table('kg_material')
    op.drop_table('kg_industry')
