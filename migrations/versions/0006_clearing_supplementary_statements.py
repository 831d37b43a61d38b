"""billing: a clearing period may have supplementary statements

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 03:40:00

A correction (a reversal or refund) of a cross-region redemption made after its period was
cleared leaves a new open line in that period. The next run for the period clears it on a
supplementary statement (sequence 2, 3, …) instead of being refused: each line is still
cleared exactly once, by the lock on the lines and their `statement_id`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAIR_AND_PERIOD = ["period_start", "period_end", "fund_region_code", "provider_region_code"]


def _old_constraint_name() -> str:
    """The first revision's name, as the backend stored it (PostgreSQL truncates it)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("clearing_statement"):
        if sorted(constraint["column_names"]) == sorted(PAIR_AND_PERIOD):
            return str(constraint["name"])
    raise RuntimeError("clearing_statement has no unique constraint over pair and period")


def upgrade() -> None:
    old = _old_constraint_name()
    with op.batch_alter_table("clearing_statement") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False,
                                   server_default="1"))
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_clearing_statement_run",
                                       [*PAIR_AND_PERIOD, "sequence"])


def downgrade() -> None:
    with op.batch_alter_table("clearing_statement") as batch:
        batch.drop_constraint("uq_clearing_statement_run", type_="unique")
        batch.create_unique_constraint(op.f(
            "uq_clearing_statement_period_start_period_end_fund_region_code_provider_region_code"),
            PAIR_AND_PERIOD)
        batch.drop_column("sequence")
