"""Tables of the campaign tracker (migration ``0002_tracker``): placements and their reminders.

They live on the shared ``metadata`` of ``tables.py`` so Alembic and the tests see one schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from advisor.storage.tables import metadata

# One ad placement of one person. ``number`` is the row number the person sees: it is never
# reused, so deleting row 2 leaves row 3 as 3. Money is kept in kopecks, exact in every database.
tracker_placements = Table(
    "tracker_placements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("post_link", String(255)),
    Column("post_owner_id", BigInteger),
    Column("post_id", BigInteger),
    Column("public", String(100), nullable=False),
    Column("method", String(16), nullable=False),
    Column("creative", String(100)),
    Column("budget_kop", BigInteger),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("views", BigInteger),
    Column("clicks", BigInteger),
    Column("subscribers", BigInteger),
    Column("hides", BigInteger),
    Column("actions", BigInteger),
    Column("likes", BigInteger),
    Column("reposts", BigInteger),
    Column("comments", BigInteger),
    Column("members", BigInteger),
    Column("vk_fetched_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "number", name="uq_tracker_placements_user_id_number"),
)

# The last row number given to each person, so numbers are never reused after a delete.
tracker_counters = Table(
    "tracker_counters",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

# "Send fresh numbers" a few days after a placement starts: one per placement. A sender claims a
# row for ``claimed_until`` with its ``claim_token``; ``sent_at`` set means it never fires again.
tracker_reminders = Table(
    "tracker_reminders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "placement_id",
        Integer,
        ForeignKey("tracker_placements.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("claim_token", String(32)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("answered_at", DateTime(timezone=True)),
)
