"""Placements in the database. Every query is filtered by the owner, so people see only their rows.

Rows are addressed by the owner's ``user_pk`` (``users.id``) and the row ``number`` they see.
A placement and its reminder are written in one transaction: a reminder exists for a placement
whose start plus the reminder delay is still ahead; changing the start moves an unsent reminder.
"""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, overload

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from advisor.numbers import format_number
from advisor.storage.tables import users
from advisor.storage.tracker_tables import tracker_counters as counters
from advisor.storage.tracker_tables import tracker_placements as placements
from advisor.storage.tracker_tables import tracker_reminders as reminders
from advisor.texts import t
from advisor.tracker.models import COUNT_FIELDS, Placement, PostRef, StoredPlacement

DEFAULT_REMINDER_DAYS = 3
# People are mostly in Russia; a reminder at 10:00 Moscow time lands in the working day.
MOSCOW = timezone(timedelta(hours=3), "MSK")
REMINDER_HOUR = time(10, 0)
# Changes that answer a reminder's "send fresh numbers".
NUMBER_FIELDS = ("views", "clicks", "subscribers", "hides", "actions")
# Rows one person may keep: far more than a small business places, few enough that a report,
# a chart and an export stay quick and one person's table cannot grow without end.
MAX_ROWS_PER_PERSON = 1000


class TrackerFull(Exception):
    """The person's table holds MAX_ROWS_PER_PERSON rows already."""


def today_in_moscow(now: datetime) -> date:
    return now.astimezone(MOSCOW).date()


def reminder_due_at(start: date, days: int, now: datetime) -> datetime | None:
    """When to ask for fresh numbers; ``None`` when that moment has already passed."""
    due = datetime.combine(start + timedelta(days=days), REMINDER_HOUR, MOSCOW).astimezone(UTC)
    return due if due > now else None


@overload
def as_utc(value: datetime) -> datetime: ...


@overload
def as_utc(value: None) -> None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything here is written in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _values(placement: Placement) -> dict[str, Any]:
    post = placement.post
    return {
        "post_link": post.link if post else None,
        "post_owner_id": post.owner_id if post else None,
        "post_id": post.post_id if post else None,
        "public": placement.public,
        "method": placement.method,
        "creative": placement.creative,
        "budget_kop": round(placement.budget * 100) if placement.budget is not None else None,
        "start_date": placement.start,
        "end_date": placement.end,
        **{name: getattr(placement, name) for name in COUNT_FIELDS},
    }


def stored_from_row(row: Row[Any]) -> StoredPlacement:
    post = None
    if row.post_owner_id is not None and row.post_id is not None:
        post = PostRef(owner_id=row.post_owner_id, post_id=row.post_id)
    return StoredPlacement(
        id=row.id,
        number=row.number,
        post=post,
        public=row.public,
        method=row.method,
        creative=row.creative,
        budget=row.budget_kop / 100 if row.budget_kop is not None else None,
        start=row.start_date,
        end=row.end_date,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        vk_fetched_at=as_utc(row.vk_fetched_at),
        **{name: getattr(row, name) for name in COUNT_FIELDS},
    )


class PlacementRepository:
    def __init__(self, engine: AsyncEngine, reminder_days: int = DEFAULT_REMINDER_DAYS) -> None:
        self.engine = engine
        self.reminder_days = reminder_days

    # --- reading -------------------------------------------------------------------------------

    async def find_user(self, channel: str, external_id: str) -> int | None:
        query = select(users.c.id).where(
            and_(users.c.channel == channel, users.c.external_id == external_id)
        )
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).scalar()

    async def list(self, user_pk: int) -> list[StoredPlacement]:
        query = (
            select(placements).where(placements.c.user_id == user_pk).order_by(placements.c.number)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [stored_from_row(row) for row in rows]

    async def count(self, user_pk: int) -> int:
        async with self.engine.connect() as connection:
            return await self._count(connection, user_pk)

    @staticmethod
    async def _count(connection: AsyncConnection, user_pk: int) -> int:
        query = select(func.count()).select_from(placements).where(placements.c.user_id == user_pk)
        return int((await connection.execute(query)).scalar_one())

    async def full_text(self, user_pk: int) -> str | None:
        """The person's "table is full" message, or None while there is room for a row."""
        if await self.count(user_pk) < MAX_ROWS_PER_PERSON:
            return None
        return t("tracker.full", max=format_number(MAX_ROWS_PER_PERSON, 0))

    async def get(self, user_pk: int, number: int) -> StoredPlacement | None:
        async with self.engine.connect() as connection:
            row = await self._row(connection, user_pk, number)
        return stored_from_row(row) if row is not None else None

    async def _row(self, connection: AsyncConnection, user_pk: int, number: int) -> Row[Any] | None:
        query = select(placements).where(
            and_(placements.c.user_id == user_pk, placements.c.number == number)
        )
        return (await connection.execute(query)).first()

    async def _written_row(
        self, connection: AsyncConnection, user_pk: int, number: int
    ) -> Row[Any]:
        """The row this transaction has just written: it is there."""
        row = await self._row(connection, user_pk, number)
        if row is None:
            raise LookupError(f"placement {number} is missing right after it was written")
        return row

    async def pending_reminder(self, user_pk: int) -> StoredPlacement | None:
        """The oldest placement whose reminder was sent and not yet answered with numbers."""
        query = (
            select(placements)
            .join(reminders, reminders.c.placement_id == placements.c.id)
            .where(
                and_(
                    placements.c.user_id == user_pk,
                    reminders.c.sent_at.is_not(None),
                    reminders.c.answered_at.is_(None),
                )
            )
            .order_by(reminders.c.due_at, placements.c.number)
            .limit(1)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return stored_from_row(row) if row is not None else None

    # ``builtins.list``: in this class the bare name is the method ``list`` above.
    async def pending_numbers(self, user_pk: int) -> builtins.list[int]:
        """Row numbers whose reminder was sent and not yet answered, oldest reminder first."""
        query = (
            select(placements.c.number)
            .join(reminders, reminders.c.placement_id == placements.c.id)
            .where(
                and_(
                    placements.c.user_id == user_pk,
                    reminders.c.sent_at.is_not(None),
                    reminders.c.answered_at.is_(None),
                )
            )
            .order_by(reminders.c.due_at, placements.c.number)
        )
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    # --- writing -------------------------------------------------------------------------------

    async def add(self, user_pk: int, placement: Placement, now: datetime) -> StoredPlacement:
        """Store a new row with the person's next number; schedule its reminder. TrackerFull
        when the person has MAX_ROWS_PER_PERSON rows (checked after the number is taken, which
        serialises the person's adds, so two at once cannot both pass the cap)."""
        async with self.engine.begin() as connection:
            number = await self._next_number(connection, user_pk)
            if await self._count(connection, user_pk) >= MAX_ROWS_PER_PERSON:
                raise TrackerFull(user_pk)
            result = await connection.execute(
                insert(placements).values(
                    user_id=user_pk,
                    number=number,
                    created_at=now,
                    updated_at=now,
                    **_values(placement),
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # a single-row INSERT always reports its primary key
            placement_id = int(key[0])
            due = reminder_due_at(placement.start, self.reminder_days, now)
            if due is not None:
                await connection.execute(
                    insert(reminders).values(placement_id=placement_id, due_at=due, attempts=0)
                )
            row = await self._written_row(connection, user_pk, number)
        return stored_from_row(row)

    async def _next_number(self, connection: AsyncConnection, user_pk: int) -> int:
        # Writing first matters: SQLite takes its write lock at the first write, so concurrent
        # adds wait for each other (busy_timeout) instead of failing after a read; PostgreSQL
        # locks the counter row. Either way two adds never get the same number.
        module = postgresql if connection.dialect.name == "postgresql" else sqlite
        await connection.execute(
            module.insert(counters)
            .values(user_id=user_pk, last_number=0)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        await connection.execute(
            update(counters)
            .where(counters.c.user_id == user_pk)
            .values(last_number=counters.c.last_number + 1)
        )
        query = select(counters.c.last_number).where(counters.c.user_id == user_pk)
        return int((await connection.execute(query)).scalar_one())

    async def update(
        self, user_pk: int, number: int, placement: Placement, now: datetime
    ) -> StoredPlacement | None:
        """Replace a row's fields. New numbers answer a sent reminder; a new start moves an
        unsent one (or drops it when the new moment has passed, or adds one)."""
        async with self.engine.begin() as connection:
            old_row = await self._row(connection, user_pk, number)
            if old_row is None:
                return None
            old = stored_from_row(old_row)
            await connection.execute(
                update(placements)
                .where(placements.c.id == old.id)
                .values(updated_at=now, **_values(placement))
            )
            if any(getattr(old, n) != getattr(placement, n) for n in NUMBER_FIELDS):
                await connection.execute(
                    update(reminders)
                    .where(
                        and_(
                            reminders.c.placement_id == old.id,
                            reminders.c.sent_at.is_not(None),
                            reminders.c.answered_at.is_(None),
                        )
                    )
                    .values(answered_at=now)
                )
            if old.start != placement.start:
                await self._reschedule(connection, old.id, placement.start, now)
            row = await self._written_row(connection, user_pk, number)
        return stored_from_row(row)

    async def _reschedule(
        self, connection: AsyncConnection, placement_id: int, start: date, now: datetime
    ) -> None:
        current = (
            await connection.execute(
                select(reminders.c.id, reminders.c.sent_at).where(
                    reminders.c.placement_id == placement_id
                )
            )
        ).first()
        if current is not None and current.sent_at is not None:
            return  # a reminder that fired never fires again
        due = reminder_due_at(start, self.reminder_days, now)
        if current is None:
            if due is not None:
                await connection.execute(
                    insert(reminders).values(placement_id=placement_id, due_at=due, attempts=0)
                )
        elif due is None:
            await connection.execute(delete(reminders).where(reminders.c.id == current.id))
        else:
            await connection.execute(
                update(reminders)
                .where(and_(reminders.c.id == current.id, reminders.c.sent_at.is_(None)))
                .values(due_at=due, claim_token=None, claimed_until=None)
            )

    async def delete(self, user_pk: int, number: int) -> bool:
        async with self.engine.begin() as connection:
            row = await self._row(connection, user_pk, number)
            if row is None:
                return False
            # Explicit, so the reminder goes even where foreign keys are not enforced.
            await connection.execute(delete(reminders).where(reminders.c.placement_id == row.id))
            await connection.execute(delete(placements).where(placements.c.id == row.id))
        return True

    async def set_post_figures(
        self, user_pk: int, number: int, figures: dict[str, int | None], now: datetime
    ) -> StoredPlacement | None:
        """Store what VK reported for the row's post (views, likes, ...); ``None`` values keep
        what was there."""
        changes = {k: v for k, v in figures.items() if k in COUNT_FIELDS and v is not None}
        async with self.engine.begin() as connection:
            row = await self._row(connection, user_pk, number)
            if row is None:
                return None
            await connection.execute(
                update(placements)
                .where(placements.c.id == row.id)
                .values(vk_fetched_at=now, updated_at=now, **changes)
            )
            row = await self._written_row(connection, user_pk, number)
        return stored_from_row(row)
