"""Dialog state: users, conversations, checklist and questionnaire answers, processed events.

Revision ID: 0001_dialog_state
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_dialog_state"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("community_type", sa.String(32)),
        sa.Column("goal", sa.String(32)),
        sa.Column("community_link", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),
    )
    op.create_table(
        "conversations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(32)),
        sa.Column("step", sa.String(48)),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_conversations_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_conversations"),
    )
    op.create_table(
        "checklist_answers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(48), nullable=False),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_checklist_answers_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "checklist_id", "item_id", name="pk_checklist_answers"),
    )
    op.create_table(
        "questionnaire_answers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.String(32), nullable=False),
        sa.Column("question_id", sa.String(48), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_questionnaire_answers_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "questionnaire_id", "question_id", name="pk_questionnaire_answers"
        ),
    )
    op.create_table(
        "processed_events",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(96), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_table("processed_events")
    op.drop_table("questionnaire_answers")
    op.drop_table("checklist_answers")
    op.drop_table("conversations")
    op.drop_table("users")
