"""booking: a revision for booking policies; a person's rows found by the key's index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:40:00

`booking_policy.revision` counts the changes of an instrument's policy and opening hours. On
PostgreSQL a reservation is written only while the revision its request was checked against
is still stored; comparing a number costs less than the fingerprint of the rules' arrays the
booking statement computed before.

`occupancy` and `sample_order` each had an index on `requester_id` beside the unique
constraint over (`requester_id`, `idempotency_key`), whose index already serves lookups by
requester. The extra index cost every insert, and on PostgreSQL it made the idempotency-key
check of a refused booking read all of the person's rows whenever the planner's statistics
were stale (a new or just emptied table): under `make bench-booking` that check cost ~0.7 ms
of server time instead of ~0.05 ms.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking_policy") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False,
                                   server_default="1"))
    with op.batch_alter_table("occupancy") as batch:
        batch.drop_index("ix_occupancy_requester_id")
    with op.batch_alter_table("sample_order") as batch:
        batch.drop_index("ix_sample_order_requester_id")


def downgrade() -> None:
    with op.batch_alter_table("sample_order") as batch:
        batch.create_index("ix_sample_order_requester_id", ["requester_id"], unique=False)
    with op.batch_alter_table("occupancy") as batch:
        batch.create_index("ix_occupancy_requester_id", ["requester_id"], unique=False)
    with op.batch_alter_table("booking_policy") as batch:
        batch.drop_column("revision")
