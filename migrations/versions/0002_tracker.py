"""Campaign tracker: ad placements, their reminders and per-person row counters.

A downgrade must not destroy what people recorded, so it moves the tables aside under archive
names (unknown to revision 0001) instead of dropping them; the next upgrade moves them back, rows
intact. Only when no archive exists does the upgrade create the tables.

Revision ID: 0002_tracker
Revises: 0001_dialog_state
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tracker"
down_revision = "0001_dialog_state"
branch_labels = None
depends_on = None

PLACEMENTS = "tracker_placements"
REMINDERS = "tracker_reminders"
COUNTERS = "tracker_counters"
ARCHIVE_SUFFIX = "_archive_0002"


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def _create() -> None:
    op.create_table(
        PLACEMENTS,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("post_link", sa.String(255)),
        sa.Column("post_owner_id", sa.BigInteger()),
        sa.Column("post_id", sa.BigInteger()),
        sa.Column("public", sa.String(100), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("creative", sa.String(100)),
        sa.Column("budget_kop", sa.BigInteger()),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date()),
        sa.Column("views", sa.BigInteger()),
        sa.Column("clicks", sa.BigInteger()),
        sa.Column("subscribers", sa.BigInteger()),
        sa.Column("hides", sa.BigInteger()),
        sa.Column("actions", sa.BigInteger()),
        sa.Column("likes", sa.BigInteger()),
        sa.Column("reposts", sa.BigInteger()),
        sa.Column("comments", sa.BigInteger()),
        sa.Column("members", sa.BigInteger()),
        sa.Column("vk_fetched_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_tracker_placements_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tracker_placements"),
        sa.UniqueConstraint("user_id", "number", name="uq_tracker_placements_user_id_number"),
    )
    op.create_table(
        REMINDERS,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            [f"{PLACEMENTS}.id"],
            name="fk_tracker_reminders_placement_id_tracker_placements",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tracker_reminders"),
        sa.UniqueConstraint("placement_id", name="uq_tracker_reminders_placement_id"),
    )
    op.create_index("ix_tracker_reminders_due_at", REMINDERS, ["due_at"])
    op.create_table(
        COUNTERS,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_tracker_counters_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_tracker_counters"),
    )


def upgrade() -> None:
    if _has_table(PLACEMENTS + ARCHIVE_SUFFIX):
        op.rename_table(PLACEMENTS + ARCHIVE_SUFFIX, PLACEMENTS)
        op.rename_table(REMINDERS + ARCHIVE_SUFFIX, REMINDERS)
        op.rename_table(COUNTERS + ARCHIVE_SUFFIX, COUNTERS)
        return
    _create()


def downgrade() -> None:
    # Reminders first: renaming the placements rewrites the reminders' foreign key to follow it.
    op.rename_table(REMINDERS, REMINDERS + ARCHIVE_SUFFIX)
    op.rename_table(PLACEMENTS, PLACEMENTS + ARCHIVE_SUFFIX)
    op.rename_table(COUNTERS, COUNTERS + ARCHIVE_SUFFIX)
