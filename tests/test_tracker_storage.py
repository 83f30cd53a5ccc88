"""Tracker storage on real databases (an SQLite file and PostgreSQL): the migration, per-user
isolation, reminders that fire once across restarts and replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.dialog.types import Outgoing
from advisor.storage.db import create_engine
from advisor.storage.migrate import current_revision, downgrade, head_revision, upgrade
from advisor.storage.tables import metadata, users
from advisor.storage.tracker_tables import tracker_placements, tracker_reminders
from advisor.tracker.models import Placement, PostRef
from advisor.tracker.reminders import ReminderService, ReminderUndeliverable
from advisor.tracker.repository import PlacementRepository, reminder_due_at

# 09:00 Moscow time on 10 March 2025.
NOW = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
# Three days after a placement starting on the 10th, at 10:00 Moscow time.
DUE = datetime(2025, 3, 13, 7, 0, tzinfo=UTC)


async def open_db(database_url: str) -> AsyncEngine:
    engine = create_engine(database_url)
    await upgrade(engine)
    return engine


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_db(database_url)
    yield engine
    await engine.dispose()


async def add_user(engine: AsyncEngine, channel: str, external_id: str) -> int:
    async with engine.begin() as connection:
        result = await connection.execute(
            insert(users).values(channel=channel, external_id=external_id, created_at=NOW)
        )
    return int(result.inserted_primary_key[0])


def placement(**fields: object) -> Placement:
    base: dict[str, object] = {
        "public": "Кулинария СПб",
        "method": "vk_exchange",
        "start": date(2025, 3, 10),
    }
    return Placement(**(base | fields))


# --- migration ---------------------------------------------------------------------------------


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_downgrade_and_upgrade_keep_every_row(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "42")
    repo = PlacementRepository(db)
    first = await repo.add(
        user,
        placement(
            post=PostRef(owner_id=-1, post_id=2),
            creative="видео",
            budget=1500.55,
            end=date(2025, 3, 12),
            views=12000,
            clicks=300,
            subscribers=40,
            hides=500,
            actions=12,
            likes=5,
        ),
        NOW,
    )
    second = await repo.add(user, placement(public="Мамы Москвы", method="admin"), NOW)
    before = await repo.list(user)
    assert [p.number for p in before] == [1, 2]

    await downgrade(db, "0001_dialog_state")
    assert await current_revision(db) == "0001_dialog_state"
    names = await _table_names(db)
    assert "tracker_placements" not in names and "tracker_reminders" not in names
    async with db.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(users))).scalar() == 1

    await upgrade(db)
    assert await current_revision(db) == head_revision()
    after = await repo.list(user)
    assert after == before
    assert after[0] == first and after[1] == second
    async with db.connect() as connection:
        reminders = (await connection.execute(select(tracker_reminders))).all()
    assert len(reminders) == 2
    # The reminders still point at their placements and still fire.
    claimed = await ReminderService(db).due_reminders(DUE)
    assert sorted(r.message.text.split("№")[1][0] for r in claimed) == ["1", "2"]
    # So does the counter: numbers go on where they stopped.
    assert (await repo.add(user, placement(), NOW)).number == 3


async def test_downgrade_and_upgrade_of_an_empty_tracker(db: AsyncEngine) -> None:
    await downgrade(db, "0001_dialog_state")
    await upgrade(db)
    user = await add_user(db, "vk", "7")
    stored = await PlacementRepository(db).add(user, placement(), NOW)
    assert stored.number == 1


async def test_fresh_database_gets_the_tables(database_url: str) -> None:
    engine = await open_db(database_url)
    try:
        assert {"tracker_placements", "tracker_reminders"} <= await _table_names(engine)
    finally:
        await engine.dispose()


async def test_migration_matches_the_table_definitions(db: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with db.connect() as connection:
        assert await connection.run_sync(differences) == []


# --- rows --------------------------------------------------------------------------------------


async def test_rows_round_trip_exactly(db: AsyncEngine) -> None:
    user = await add_user(db, "console", "local:anna")
    repo = PlacementRepository(db)
    data = placement(
        post=PostRef(owner_id=-123, post_id=45),
        creative="скидка 20%",
        budget=99.99,
        end=date(2025, 3, 15),
        views=10**10,
        clicks=0,
        subscribers=1,
        hides=2,
        actions=3,
        likes=4,
        reposts=5,
        comments=6,
        members=7,
    )
    stored = await repo.add(user, data, NOW)
    assert Placement.model_validate(stored.model_dump(include=set(Placement.model_fields))) == data
    assert stored.created_at == NOW
    assert await repo.find_user("console", "local:anna") == user
    assert await repo.find_user("console", "local:boris") is None


async def test_numbers_are_per_user_and_never_reused(db: AsyncEngine) -> None:
    anna = await add_user(db, "telegram", "1")
    boris = await add_user(db, "telegram", "2")
    repo = PlacementRepository(db)
    for _ in range(3):
        await repo.add(anna, placement(), NOW)
    await repo.add(boris, placement(public="Бориса"), NOW)
    assert await repo.delete(anna, 3)
    assert (await repo.add(anna, placement(), NOW)).number == 4
    assert (await repo.add(boris, placement(), NOW)).number == 2


async def test_users_see_and_change_only_their_own_rows(db: AsyncEngine) -> None:
    anna = await add_user(db, "telegram", "1")
    boris = await add_user(db, "vk", "1")  # the same id in another channel is another person
    repo = PlacementRepository(db)
    await repo.add(anna, placement(public="Анны-1"), NOW)
    await repo.add(anna, placement(public="Анны-2"), NOW)
    await repo.add(boris, placement(public="Бориса-1"), NOW)

    assert [p.public for p in await repo.list(anna)] == ["Анны-1", "Анны-2"]
    assert [p.public for p in await repo.list(boris)] == ["Бориса-1"]
    assert await repo.get(boris, 2) is None
    assert await repo.update(boris, 2, placement(public="чужое"), NOW) is None
    assert not await repo.delete(boris, 2)
    assert await repo.set_post_figures(boris, 2, {"views": 1}, NOW) is None
    # Boris's row 1 and Anna's row 1 are different rows.
    await repo.update(boris, 1, placement(public="Бориса-изм"), NOW)
    assert (await repo.get(anna, 1)).public == "Анны-1"  # type: ignore[union-attr]
    assert [p.public for p in await repo.list(anna)] == ["Анны-1", "Анны-2"]


async def test_concurrent_adds_get_distinct_numbers(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "1")
    repo = PlacementRepository(db)
    stored = await asyncio.gather(*(repo.add(user, placement(), NOW) for _ in range(5)))
    assert sorted(p.number for p in stored) == [1, 2, 3, 4, 5]


async def test_vk_figures_keep_what_vk_did_not_report(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "1")
    repo = PlacementRepository(db)
    await repo.add(user, placement(views=100, clicks=10, likes=1), NOW)
    later = NOW + timedelta(hours=5)
    updated = await repo.set_post_figures(
        user, 1, {"views": 900, "likes": None, "reposts": 3}, later
    )
    assert updated is not None
    assert (updated.views, updated.clicks, updated.likes, updated.reposts) == (900, 10, 1, 3)
    assert updated.vk_fetched_at == later


# --- reminders ---------------------------------------------------------------------------------


def test_reminder_moment() -> None:
    assert reminder_due_at(date(2025, 3, 10), 3, NOW) == DUE
    assert reminder_due_at(date(2025, 3, 10), 5, NOW) == DUE + timedelta(days=2)
    # A placement that started long ago gets no reminder: its numbers are final.
    assert reminder_due_at(date(2025, 2, 1), 3, NOW) is None


async def test_reminder_fires_once_across_a_restart(database_url: str) -> None:
    engine = await open_db(database_url)
    user = await add_user(engine, "telegram", "555")
    await PlacementRepository(engine).add(user, placement(creative="видео"), NOW)
    sent: list[tuple[str, str, Outgoing]] = []

    async def send(channel: str, user_id: str, message: Outgoing) -> None:
        sent.append((channel, user_id, message))

    service = ReminderService(engine)
    assert await service.run_once(send, DUE - timedelta(minutes=1)) == 0
    assert await service.run_once(send, DUE) == 1
    assert await service.run_once(send, DUE + timedelta(minutes=1)) == 0
    await engine.dispose()

    engine = create_engine(database_url)  # a new process opens the same database
    try:
        assert await ReminderService(engine).run_once(send, DUE + timedelta(days=30)) == 0
    finally:
        await engine.dispose()
    assert len(sent) == 1
    channel, user_id, message = sent[0]
    assert (channel, user_id) == ("telegram", "555")
    assert message.text.startswith(
        "Пора обновить цифры по размещению №1 в «Кулинария СПб»: пост вышел 10.03.2025, "
        "прошло дней: 3."
    )
    assert "Креатив: «видео»" in message.text
    assert [[b.payload for b in row] for row in message.buttons] == [["s:tr_update"], ["m"]]


async def test_a_crash_after_claiming_retries_only_after_the_lease(database_url: str) -> None:
    engine = await open_db(database_url)
    user = await add_user(engine, "vk", "9")
    await PlacementRepository(engine).add(user, placement(), NOW)
    lease = timedelta(minutes=10)
    claimed = await ReminderService(engine, lease=lease).due_reminders(DUE)
    assert len(claimed) == 1
    await engine.dispose()  # the sender died before sending

    engine = create_engine(database_url)
    try:
        service = ReminderService(engine, lease=lease)
        assert await service.due_reminders(DUE + timedelta(minutes=5)) == []
        again = await service.due_reminders(DUE + lease + timedelta(seconds=1))
        assert [r.id for r in again] == [claimed[0].id]
        # The dead sender's claim is void; the new holder's is the one that counts.
        assert not await service.mark_sent(claimed[0], DUE + lease)
        assert await service.mark_sent(again[0], DUE + lease)
        assert await service.due_reminders(DUE + timedelta(days=1)) == []
    finally:
        await engine.dispose()


async def test_two_replicas_never_claim_one_reminder(database_url: str) -> None:
    first = await open_db(database_url)
    second = create_engine(database_url)
    try:
        user = await add_user(first, "telegram", "1")
        repo = PlacementRepository(first)
        for _ in range(20):
            await repo.add(user, placement(), NOW)
        one, two = await asyncio.gather(
            ReminderService(first).due_reminders(DUE),
            ReminderService(second).due_reminders(DUE),
        )
        ids = [r.id for r in one] + [r.id for r in two]
        assert len(ids) == 20 and len(set(ids)) == 20
    finally:
        await first.dispose()
        await second.dispose()


async def test_failed_sends_are_retried_then_dropped(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "1")
    repo = PlacementRepository(db)
    await repo.add(user, placement(), NOW)
    await repo.add(user, placement(), NOW)
    attempts: list[str] = []

    async def flaky(channel: str, user_id: str, message: Outgoing) -> None:
        attempts.append(message.text[:40])
        raise ConnectionError("network down")

    service = ReminderService(db, max_attempts=3)
    for minute in range(5):
        assert await service.run_once(flaky, DUE + timedelta(minutes=minute)) == 0
    assert len(attempts) == 6  # two reminders, three attempts each
    async with db.connect() as connection:
        failed = (
            await connection.execute(
                select(func.count())
                .select_from(tracker_reminders)
                .where(tracker_reminders.c.failed_at.is_not(None))
            )
        ).scalar()
    assert failed == 2


async def test_a_blocked_user_is_not_asked_again(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "1")
    await PlacementRepository(db).add(user, placement(), NOW)
    calls = 0

    async def blocked(channel: str, user_id: str, message: Outgoing) -> None:
        nonlocal calls
        calls += 1
        raise ReminderUndeliverable(user_id)

    service = ReminderService(db)
    await service.run_once(blocked, DUE)
    await service.run_once(blocked, DUE + timedelta(hours=1))
    assert calls == 1


async def test_start_change_moves_an_unsent_reminder_and_numbers_answer_a_sent_one(
    db: AsyncEngine,
) -> None:
    user = await add_user(db, "telegram", "1")
    repo = PlacementRepository(db)
    await repo.add(user, placement(), NOW)
    await repo.update(user, 1, placement(start=date(2025, 3, 12)), NOW)
    service = ReminderService(db)
    assert await service.due_reminders(DUE) == []
    claimed = await service.due_reminders(DUE + timedelta(days=2))
    assert len(claimed) == 1
    assert await service.mark_sent(claimed[0], DUE + timedelta(days=2))

    assert (await repo.pending_reminder(user)).number == 1  # type: ignore[union-attr]
    assert await repo.pending_numbers(user) == [1]
    # Moving the start again never re-fires a sent reminder.
    await repo.update(user, 1, placement(start=date(2025, 3, 20)), NOW)
    assert await service.due_reminders(DUE + timedelta(days=30)) == []
    # Fresh numbers answer it.
    await repo.update(user, 1, placement(start=date(2025, 3, 20), views=500), NOW)
    assert await repo.pending_reminder(user) is None


async def test_deleting_a_row_deletes_its_reminder(db: AsyncEngine) -> None:
    user = await add_user(db, "telegram", "1")
    repo = PlacementRepository(db)
    await repo.add(user, placement(), NOW)
    assert await repo.delete(user, 1)
    assert await ReminderService(db).due_reminders(DUE) == []
    async with db.connect() as connection:
        left = (
            await connection.execute(select(func.count()).select_from(tracker_placements))
        ).scalar()
    assert left == 0
