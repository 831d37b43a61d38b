"""regions, accounts and catalog

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 00:07:41.135547
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scishare.core.database

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('national_class',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('aliases', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['national_class.code'], name=op.f('fk_national_class_parent_code_national_class')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_national_class'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['region.code'], name=op.f('fk_region_parent_code_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('technique',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_technique'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('org_type', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('cma_number', sa.String(length=32), nullable=True),
    sa.Column('cnas_number', sa.String(length=32), nullable=True),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_organisation_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_code')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_organisation_credit_code')),
    sa.UniqueConstraint('name_zh', name=op.f('uq_organisation_name_zh'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_region_code'), ['region_code'], unique=False)

    op.create_table('technique_class',
    sa.Column('technique_code', sa.String(length=32), nullable=False),
    sa.Column('class_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['class_code'], ['national_class.code'], name=op.f('fk_technique_class_class_code_national_class')),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_technique_class_technique_code_technique'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('technique_code', 'class_code', name=op.f('pk_technique_class'))
    )
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('email', name=op.f('uq_account_email'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('access_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_access_token_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_token')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_access_token_secret_hash'))
    )
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_token_account_id'), ['account_id'], unique=False)

    op.create_table('instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.String(length=24), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('manufacturer', sa.String(length=100), nullable=False),
    sa.Column('country_of_origin', sa.String(length=64), nullable=False),
    sa.Column('class_code', sa.String(length=6), nullable=False),
    sa.Column('specifications', sa.Text(), nullable=False),
    sa.Column('functions', sa.Text(), nullable=False),
    sa.Column('original_value_fen', sa.BigInteger(), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('lifecycle_state', sa.String(length=24), nullable=False),
    sa.Column('is_open_external', sa.Boolean(), nullable=False),
    sa.Column('has_cma', sa.Boolean(), nullable=False),
    sa.Column('has_cnas', sa.Boolean(), nullable=False),
    sa.Column('contact_operator_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=64), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('original_value_fen >= 0', name=op.f('ck_instrument_value_not_negative')),
    sa.ForeignKeyConstraint(['class_code'], ['national_class.code'], name=op.f('fk_instrument_class_code_national_class')),
    sa.ForeignKeyConstraint(['contact_operator_id'], ['account.id'], name=op.f('fk_instrument_contact_operator_id_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_instrument_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_instrument_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument')),
    sa.UniqueConstraint('exchange_id', name=op.f('uq_instrument_exchange_id'))
    )
    with op.batch_alter_table('instrument', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_class_code'), ['class_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_is_open_external'), ['is_open_external'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_lifecycle_state'), ['lifecycle_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_instrument_region_class', ['region_code', 'class_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_region_code'), ['region_code'], unique=False)

    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('granted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_role_grant_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_role_grant_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('account_id', 'role', 'region_code', name=op.f('uq_role_grant_account_id_role_region_code'))
    )
    op.create_table('instrument_technique',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('technique_code', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_instrument_technique_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['technique_code'], ['technique.code'], name=op.f('fk_instrument_technique_technique_code_technique')),
    sa.PrimaryKeyConstraint('instrument_id', 'technique_code', name=op.f('pk_instrument_technique'))
    )
    with op.batch_alter_table('instrument_technique', schema=None) as batch_op:
        batch_op.create_index('ix_instrument_technique_technique', ['technique_code', 'instrument_id'], unique=False)

    op.create_table('lifecycle_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('changed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['account.id'], name=op.f('fk_lifecycle_change_changed_by_id_account')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_lifecycle_change_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_change'))
    )
    with op.batch_alter_table('lifecycle_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_change_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('service_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('price_internal_fen', sa.BigInteger(), nullable=False),
    sa.Column('price_nonprofit_fen', sa.BigInteger(), nullable=False),
    sa.Column('price_enterprise_fen', sa.BigInteger(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('price_internal_fen >= 0 AND price_nonprofit_fen >= 0 AND price_enterprise_fen >= 0', name=op.f('ck_service_item_prices_not_negative')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_service_item_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_item'))
    )
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_item_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index('ix_service_item_price', ['price_enterprise_fen'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.drop_index('ix_service_item_price')
        batch_op.drop_index(batch_op.f('ix_service_item_instrument_id'))

    op.drop_table('service_item')
    with op.batch_alter_table('lifecycle_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_change_instrument_id'))

    op.drop_table('lifecycle_change')
    with op.batch_alter_table('instrument_technique', schema=None) as batch_op:
        batch_op.drop_index('ix_instrument_technique_technique')

    op.drop_table('instrument_technique')
    op.drop_table('role_grant')
    with op.batch_alter_table('instrument', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_region_code'))
        batch_op.drop_index('ix_instrument_region_class')
        batch_op.drop_index(batch_op.f('ix_instrument_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_instrument_lifecycle_state'))
        batch_op.drop_index(batch_op.f('ix_instrument_is_open_external'))
        batch_op.drop_index(batch_op.f('ix_instrument_class_code'))

    op.drop_table('instrument')
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_token_account_id'))

    op.drop_table('access_token')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_organisation_id'))

    op.drop_table('account')
    op.drop_table('technique_class')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_region_code'))

    op.drop_table('organisation')
    op.drop_table('technique')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')
    op.drop_table('national_class')
