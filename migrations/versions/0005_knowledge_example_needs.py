"""knowledge: example needs (需求范例) per technique

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scishare.core.database

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kg_example_need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technique_code", sa.String(length=32), nullable=False),
        sa.Column("text_zh", sa.String(length=200), nullable=False),
        sa.Column("text_en", sa.String(length=400), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", scishare.core.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["account.id"],
                                name=op.f("fk_kg_example_need_added_by_id_account")),
        sa.ForeignKeyConstraint(["technique_code"], ["technique.code"],
                                name=op.f("fk_kg_example_need_technique_code_technique"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kg_example_need")),
    )
    op.create_index(op.f("ix_kg_example_need_technique_code"), "kg_example_need",
                    ["technique_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kg_example_need_technique_code"), table_name="kg_example_need")
    op.drop_table("kg_example_need")
