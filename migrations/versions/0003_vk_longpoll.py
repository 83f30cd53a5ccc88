"""VK Bots Long Poll position in the database, not in a file beside it.

The ``ts`` up to which every event was handled used to live in a file under the home folder
(outside a container's volume), so a recreated container asked VK from "now" and skipped what
arrived meanwhile. A downgrade keeps nothing to lose: the position is re-read from VK's fresh ts.

Revision ID: 0003_vk_longpoll
Revises: 0002_tracker
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_vk_longpoll"
down_revision = "0002_tracker"
branch_labels = None
depends_on = None

TABLE = "vk_longpoll_positions"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("group_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name=f"pk_{TABLE}"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
