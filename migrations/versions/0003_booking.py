"""booking: availability, reservations, sample-testing orders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:15:00

Reservations and blackouts are rows of one table, `occupancy`; no two active rows of one
instrument may overlap over `[starts_at, held_until)` (the booked period plus the buffer after
it). The guard lives in the database, in a dialect-aware step: on PostgreSQL an exclusion
constraint over (instrument, time range) using btree_gist; on SQLite triggers that abort an
INSERT or UPDATE creating an overlap (writers that check first also start with BEGIN
IMMEDIATE, see `core.database`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scishare.core.database

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Also the message of the SQLite triggers: the services recognise the guard by this name.
OVERLAP_GUARD = "occupancy_no_overlap"

POSTGRES_GUARD = (
    f"ALTER TABLE occupancy ADD CONSTRAINT {OVERLAP_GUARD} "
    "EXCLUDE USING gist (instrument_id WITH =, tstzrange(starts_at, held_until, '[)') WITH &&) "
    "WHERE (is_active)"
)

# Half-open ranges [starts_at, ends_at) overlap when each starts before the other ends.
# SQLite stores these times as fixed-width UTC text, so text comparison orders them.
_CLASH = ("SELECT RAISE(ABORT, '{guard}') WHERE EXISTS (SELECT 1 FROM occupancy AS o "
          "WHERE o.instrument_id = NEW.instrument_id AND o.is_active AND o.id IS NOT NEW.id "
          "AND o.starts_at < NEW.held_until AND NEW.starts_at < o.held_until);")
SQLITE_GUARDS = (
    f"CREATE TRIGGER {OVERLAP_GUARD}_insert BEFORE INSERT ON occupancy "
    f"WHEN NEW.is_active BEGIN {_CLASH.format(guard=OVERLAP_GUARD)} END",
    f"CREATE TRIGGER {OVERLAP_GUARD}_update "
    "BEFORE UPDATE OF instrument_id, starts_at, held_until, is_active ON occupancy "
    f"WHEN NEW.is_active BEGIN {_CLASH.format(guard=OVERLAP_GUARD)} END",
)


def upgrade() -> None:
    op.create_table('booking_policy',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('min_minutes', sa.Integer(), nullable=False),
    sa.Column('max_minutes', sa.Integer(), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('cancel_deadline_minutes', sa.Integer(), nullable=False),
    sa.Column('no_show_after_minutes', sa.Integer(), nullable=False),
    sa.Column('requires_approval', sa.Boolean(), nullable=False),
    sa.Column('updated_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('lead_minutes >= 0 AND horizon_days > 0 AND buffer_minutes >= 0 AND cancel_deadline_minutes >= 0 AND no_show_after_minutes > 0', name=op.f('ck_booking_policy_limits')),
    sa.CheckConstraint('slot_minutes > 0 AND min_minutes >= slot_minutes AND max_minutes >= min_minutes', name=op.f('ck_booking_policy_durations')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_booking_policy_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['account.id'], name=op.f('fk_booking_policy_updated_by_id_account')),
    sa.PrimaryKeyConstraint('instrument_id', name=op.f('pk_booking_policy'))
    )

    op.create_table('opening_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens_minute', sa.Integer(), nullable=False),
    sa.Column('closes_minute', sa.Integer(), nullable=False),
    sa.CheckConstraint('opens_minute >= 0 AND closes_minute > opens_minute AND closes_minute <= 1440', name=op.f('ck_opening_period_minutes')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_opening_period_weekday')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_opening_period_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_period'))
    )
    with op.batch_alter_table('opening_period', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_period_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('holiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_holiday_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday')),
    sa.UniqueConstraint('instrument_id', 'closed_on', name=op.f('uq_holiday_instrument_id_closed_on'))
    )

    op.create_table('occupancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('starts_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('held_until', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('blackout_kind', sa.String(length=16), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('requester_id', sa.Integer(), nullable=True),
    sa.Column('service_item_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('price_category', sa.String(length=12), nullable=True),
    sa.Column('price_estimate_fen', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind <> 'blackout' OR blackout_kind IS NOT NULL", name=op.f('ck_occupancy_blackout_fields')),
    sa.CheckConstraint("kind <> 'reservation' OR (requester_id IS NOT NULL AND mode IS NOT NULL AND status IS NOT NULL AND purpose IS NOT NULL AND idempotency_key IS NOT NULL AND price_category IS NOT NULL)", name=op.f('ck_occupancy_reservation_fields')),
    sa.CheckConstraint('ends_at > starts_at AND held_until >= ends_at', name=op.f('ck_occupancy_period')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['account.id'], name=op.f('fk_occupancy_cancelled_by_id_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_occupancy_created_by_id_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_occupancy_decided_by_id_account')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_occupancy_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['account.id'], name=op.f('fk_occupancy_lifted_by_id_account')),
    sa.ForeignKeyConstraint(['requester_id'], ['account.id'], name=op.f('fk_occupancy_requester_id_account')),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'], name=op.f('fk_occupancy_service_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupancy')),
    sa.UniqueConstraint('requester_id', 'idempotency_key', name=op.f('uq_occupancy_requester_id_idempotency_key'))
    )
    with op.batch_alter_table('occupancy', schema=None) as batch_op:
        batch_op.create_index('ix_occupancy_instrument_starts', ['instrument_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_occupancy_requester_id', ['requester_id'], unique=False)
        batch_op.create_index('ix_occupancy_status_starts', ['status', 'starts_at'], unique=False)

    op.create_table('qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('trained_on', sa.Date(), nullable=False),
    sa.Column('expires_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=256), nullable=False),
    sa.Column('granted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_qualification_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['account.id'], name=op.f('fk_qualification_granted_by_id_account')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_qualification_instrument_id_instrument'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification'))
    )
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.create_index('ix_qualification_account_instrument', ['account_id', 'instrument_id'], unique=False)

    op.create_table('sample_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('service_item_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('sample_count', sa.Integer(), nullable=False),
    sa.Column('sample_description', sa.Text(), nullable=False),
    sa.Column('requested_tests', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('price_category', sa.String(length=12), nullable=False),
    sa.Column('price_estimate_fen', sa.BigInteger(), nullable=False),
    sa.Column('submitted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('samples_received_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('testing_started_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('report_issued_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', scishare.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_seconds', sa.Integer(), nullable=True),
    sa.Column('turnaround_seconds', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint('sample_count > 0', name=op.f('ck_sample_order_sample_count')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_sample_order_instrument_id_instrument'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['account.id'], name=op.f('fk_sample_order_requester_id_account')),
    sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'], name=op.f('fk_sample_order_service_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_order')),
    sa.UniqueConstraint('requester_id', 'idempotency_key', name=op.f('uq_sample_order_requester_id_idempotency_key'))
    )
    with op.batch_alter_table('sample_order', schema=None) as batch_op:
        batch_op.create_index('ix_sample_order_instrument_status', ['instrument_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_order_requester_id'), ['requester_id'], unique=False)

    op.create_table('order_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['account.id'], name=op.f('fk_order_event_actor_id_account')),
    sa.ForeignKeyConstraint(['order_id'], ['sample_order.id'], name=op.f('fk_order_event_order_id_sample_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event'))
    )
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_event_order_id'), ['order_id'], unique=False)

    op.create_table('order_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sample_order.id'], name=op.f('fk_order_report_order_id_sample_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['account.id'], name=op.f('fk_order_report_uploaded_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_report')),
    sa.UniqueConstraint('order_id', name=op.f('uq_order_report_order_id'))
    )

    op.create_table('calendar_feed',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', scishare.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_calendar_feed_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_calendar_feed')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_calendar_feed_secret_hash'))
    )

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(POSTGRES_GUARD)
    elif dialect == "sqlite":
        for statement in SQLITE_GUARDS:
            op.execute(statement)
    else:
        raise RuntimeError(f"no overlap guard for {dialect}: SciShare runs on SQLite and "
                           "PostgreSQL")


def downgrade() -> None:
    # Dropping `occupancy` drops its constraint or triggers. btree_gist stays: extensions are
    # per database and may serve others.
    for table in ("calendar_feed", "order_report", "order_event", "sample_order",
                  "qualification", "occupancy", "holiday", "opening_period", "booking_policy"):
        op.drop_table(table)
