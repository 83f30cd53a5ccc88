"""The conversation store on a real SQLite file: group commit, version checks, migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from advisor.storage.db import create_engine
from advisor.storage.migrate import (
    SchemaOutdatedError,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    upgrade,
)
from advisor.storage.store import ConcurrentUpdateError, ConversationStore
from advisor.storage.tables import checklist_answers, conversations


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_many_concurrent_saves_all_commit(engine) -> None:
    store = ConversationStore(engine)

    async def turn(index: int) -> None:
        conversation = await store.load("telegram", f"user-{index}")
        conversation.scenario, conversation.step = "prepare", "checklist"
        conversation.data["i"] = index
        conversation.checklist_writes[("readiness", "cover")] = "yes"
        await store.save(conversation)

    await asyncio.gather(*(turn(i) for i in range(120)))
    await store.close()
    fresh = ConversationStore(engine)
    for index in (0, 57, 119):
        conversation = await fresh.load("telegram", f"user-{index}")
        assert conversation.data == {"i": index}
        assert conversation.version == 1
    async with engine.connect() as connection:
        answers = await connection.execute(select(func.count()).select_from(checklist_answers))
        assert answers.scalar() == 120


async def test_second_writer_with_stale_version_is_refused(engine) -> None:
    first, second = ConversationStore(engine), ConversationStore(engine)
    created = await first.load("vk", "42")
    await first.save(created)
    mine = await first.load("vk", "42")
    theirs = await second.load("vk", "42")
    mine.step = "a"
    await first.save(mine)
    theirs.step = "b"
    with pytest.raises(ConcurrentUpdateError):
        await second.save(theirs)
    assert (await ConversationStore(engine).load("vk", "42")).step == "a"


async def test_conflict_in_a_batch_fails_only_the_loser(engine) -> None:
    store, other = ConversationStore(engine), ConversationStore(engine)
    a = await store.load("vk", "a")
    b = await store.load("vk", "b")
    stale_b = await other.load("vk", "b")
    stale_b.step = "moved"
    await other.save(stale_b)
    a.step, b.step = "x", "y"
    results = await asyncio.gather(store.save(a), store.save(b), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], ConcurrentUpdateError)
    assert (await ConversationStore(engine).load("vk", "a")).step == "x"


async def test_cache_serves_loads_and_is_dropped_on_conflict(engine) -> None:
    cached = ConversationStore(engine, cache_size=10)
    conversation = await cached.load("console", "me")
    conversation.step = "one"
    await cached.save(conversation)
    outsider = ConversationStore(engine)
    changed = await outsider.load("console", "me")
    changed.step = "two"
    await outsider.save(changed)
    stale = await cached.load("console", "me")
    assert stale.step == "one"  # served from memory
    stale.step = "three"
    with pytest.raises(ConcurrentUpdateError):
        await cached.save(stale)
    assert (await cached.load("console", "me")).step == "two"


async def test_processed_events_dedup(engine) -> None:
    store = ConversationStore(engine)
    assert await store.mark_processed("telegram", "update:1") is True
    assert await store.mark_processed("telegram", "update:1") is False
    assert await store.mark_processed("vk", "update:1") is True


async def test_migrations_down_and_up_keep_schema_usable(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        with pytest.raises(SchemaOutdatedError, match="promo-advisor migrate"):
            await ensure_schema(engine, auto_upgrade=False)
        await ensure_schema(engine, auto_upgrade=True)
        assert await current_revision(engine) == head_revision()
        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        await upgrade(engine)
        store = ConversationStore(engine)
        conversation = await store.load("console", "x")
        await store.save(conversation)
        async with engine.connect() as connection:
            count = await connection.execute(select(func.count()).select_from(conversations))
            assert count.scalar() == 1
    finally:
        await engine.dispose()


async def test_a_burst_of_updates_is_deduplicated_in_one_go(engine) -> None:
    store = ConversationStore(engine)
    ids = [str(i % 50) for i in range(200)]
    results = await asyncio.gather(*(store.mark_processed("telegram", i) for i in ids))
    assert sum(results) == 50
    firsts = {i: r for i, r in zip(ids, results, strict=True) if r}
    assert sorted(firsts, key=int) == [str(i) for i in range(50)]
    assert await store.mark_processed("telegram", "7") is False


async def test_a_crowd_of_newcomers_is_created_in_a_few_sqlite_transactions(engine) -> None:
    commits = 0

    def count(_connection: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    try:
        store = ConversationStore(engine)
        loaded = await asyncio.gather(*(store.load("telegram", f"new-{i}") for i in range(200)))
    finally:
        event.remove(engine.sync_engine, "commit", count)
    if engine.dialect.name == "sqlite":
        # One at a time, each newcomer held the single SQLite writer and the saves of everyone
        # else waited behind the crowd. (PostgreSQL creates each in its own transaction, at once.)
        assert commits <= 10, commits
    assert len({c.user_pk for c in loaded}) == 200
    assert all(c.version == 0 and c.data == {} for c in loaded)
    async with engine.connect() as connection:
        rows = await connection.execute(select(func.count()).select_from(conversations))
        assert rows.scalar() == 200
    # Each is a real, saveable conversation.
    loaded[7].step = "a"
    await store.save(loaded[7])
    assert (await ConversationStore(engine).load("telegram", "new-7")).step == "a"


async def test_two_replicas_creating_the_same_newcomers_agree(engine) -> None:
    first, second = ConversationStore(engine), ConversationStore(engine)
    people = [f"both-{i}" for i in range(30)]
    mine, theirs = await asyncio.gather(
        asyncio.gather(*(first.load("vk", p) for p in people)),
        asyncio.gather(*(second.load("vk", p) for p in people)),
    )
    assert [c.user_pk for c in mine] == [c.user_pk for c in theirs]
    async with engine.connect() as connection:
        rows = await connection.execute(select(func.count()).select_from(conversations))
        assert rows.scalar() == 30
