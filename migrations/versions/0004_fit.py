"""The owner's target (city, sex, age range) beside the profile, and a snapshot per checked public.

The target lives in ``users`` next to the type, goal and community link it refines. Each public
check stores the public's members count and metrics at that moment, so a later check (by anyone)
can report the members' growth per day since then. A downgrade drops both: the target is asked
again, and growth starts from the next check.

Revision ID: 0004_fit
Revises: 0003_vk_longpoll
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_fit"
down_revision = "0003_vk_longpoll"
branch_labels = None
depends_on = None

SNAPSHOTS = "public_snapshots"
TARGET_COLUMNS = ("target_city", "target_sex", "target_age_min", "target_age_max")


def upgrade() -> None:
    op.add_column("users", sa.Column("target_city", sa.String(100), nullable=True))
    op.add_column("users", sa.Column("target_sex", sa.String(8), nullable=True))
    op.add_column("users", sa.Column("target_age_min", sa.SmallInteger(), nullable=True))
    op.add_column("users", sa.Column("target_age_max", sa.SmallInteger(), nullable=True))
    op.create_table(
        SNAPSHOTS,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("members_count", sa.BigInteger(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{SNAPSHOTS}"),
    )
    op.create_index(
        "ix_public_snapshots_group_fetched", SNAPSHOTS, ["group_id", "fetched_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_public_snapshots_group_fetched", table_name=SNAPSHOTS)
    op.drop_table(SNAPSHOTS)
    # A plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of ``users`` would drop the old
    # table, and with foreign keys on that cascades to every person's conversation.
    for column in reversed(TARGET_COLUMNS):
        op.drop_column("users", column)
