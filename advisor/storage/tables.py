"""The database schema. Changes go through an Alembic migration in ``migrations/versions``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per person per channel: who they are and what they told us about their community.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("community_type", String(32)),
    Column("goal", String(32)),
    Column("community_link", String(255)),
    # The owner's target for the public check's fit (migration 0004_fit): whom they sell to.
    Column("target_city", String(100)),
    Column("target_sex", String(8)),
    Column("target_age_min", SmallInteger),
    Column("target_age_max", SmallInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_users_channel_external_id"),
)

# Where each person is in the dialog; ``data`` is compact JSON (step inputs, back stack).
conversations = Table(
    "conversations",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("scenario", String(32)),
    Column("step", String(48)),
    Column("data", Text, nullable=False, default="{}"),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The owner's answers to a checklist: kept after the scenario ends, so a to-do list can be rebuilt.
checklist_answers = Table(
    "checklist_answers",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("checklist_id", String(32), primary_key=True),
    Column("item_id", String(48), primary_key=True),
    Column("answer", String(8), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Free-text answers to a questionnaire (the target-audience portrait).
questionnaire_answers = Table(
    "questionnaire_answers",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("questionnaire_id", String(32), primary_key=True),
    Column("question_id", String(48), primary_key=True),
    Column("answer", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Updates and events already handled, so a platform's redelivery is processed once.
processed_events = Table(
    "processed_events",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("event_id", String(96), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
)

# Where each community's Bots Long Poll stands: every event up to ``ts`` has been handled.
vk_longpoll_positions = Table(
    "vk_longpoll_positions",
    metadata,
    Column("group_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A checked public as it was at one moment: members and metrics (JSON), for growth between checks.
public_snapshots = Table(
    "public_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", BigInteger, nullable=False),
    Column("members_count", BigInteger, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Index("ix_public_snapshots_group_fetched", "group_id", "fetched_at"),
)

# Updates and events as they arrived, stored before the platform is told they were received
# (the Telegram offset, the VK long poll ts, the Callback API "ok"); ``handled_at`` is set in the
# transaction that commits their turn. A restarted bot handles the rows still unhandled.
inbox = Table(
    "inbox",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("event_id", String(96), primary_key=True),
    Column("chat_id", String(64)),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True), index=True),
)

# A turn's replies, committed with its conversation state; sent in ``id`` order per chat and
# marked ``sent_at`` once the platform accepted them (``sent_parts``: the platform messages of
# the row accepted so far). A restarted bot sends the rows still unsent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("event_id", String(96)),
    Column("body", Text, nullable=False),
    Column("context", Text, nullable=False, default="{}"),
    Column("sent_parts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), index=True),
    Index("ix_outbox_unsent", "channel", "chat_id", "sent_at", "id"),
)
