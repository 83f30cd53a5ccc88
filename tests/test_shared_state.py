"""Shared short-lived state on a real Redis, and the fallback when Redis goes away."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from advisor.check_budget import CheckBudget
from advisor.shared_state import LocalState, RedisState, ResilientState
from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from advisor.storage.store import ConversationStore
from tests.services import RedisServer, redis_server


@pytest.fixture
async def store(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await upgrade(engine)
    yield ConversationStore(engine)
    await engine.dispose()


@pytest.fixture
async def redis_state(redis_service: RedisServer):
    state = RedisState(redis_service.url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield state
    await state.close()


async def test_redis_dedup_across_two_replicas(redis_service: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first, second = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    try:
        assert await first.first_time("telegram", "1") is True
        await first.finished("telegram", "1")
        assert await second.first_time("telegram", "1") is False
        assert await second.first_time("vk", "1") is True
    finally:
        await first.close()
        await second.close()


async def test_redis_lock_serialises_holders(redis_state: RedisState) -> None:
    order: list[str] = []

    async def worker(name: str) -> None:
        async with redis_state.lock("conversation:1"):
            order.append(f"{name}+")
            await asyncio.sleep(0.05)
            order.append(f"{name}-")

    await asyncio.gather(worker("a"), worker("b"), worker("c"))
    assert all(order[i][0] == order[i + 1][0] for i in range(0, len(order), 2))


async def test_flood_counter_windows(redis_state: RedisState) -> None:
    counts = [await redis_state.hit("user:1", 1) for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    await asyncio.sleep(1.2)
    assert await redis_state.hit("user:1", 1) == 1


async def test_cache_with_ttl(redis_state: RedisState) -> None:
    await redis_state.set("public:1", '{"a": 1}', 0.2)
    assert await redis_state.get("public:1") == '{"a": 1}'
    await asyncio.sleep(0.3)
    assert await redis_state.get("public:1") is None


async def test_check_budget_is_counted_across_replicas_and_per_process(
    redis_service: RedisServer, store: ConversationStore
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first, second = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    try:
        one, two = CheckBudget(first, per_hour=5), CheckBudget(second, per_hour=5)
        assert await one.allow("vk", "7", 3) == 3
        # The other replica counts the same person's checks: two of five are left.
        assert await two.allow("vk", "7", 3) == 2
        assert await one.allow("vk", "7", 1) == 0
        assert await two.allow("vk", "8", 5) == 5  # another person has their own budget
        assert await one.allow("console", "7", 5) == 5  # the local operator is not counted
        assert await CheckBudget(first, per_hour=0).allow("vk", "7", 4) == 4  # no budget set
    finally:
        await first.close()
        await second.close()
    local = CheckBudget(LocalState(store), per_hour=2)
    assert [await local.allow("telegram", "1", 1) for _ in range(3)] == [1, 1, 0]


async def test_local_state(store: ConversationStore) -> None:
    local = LocalState(store)
    assert await local.first_time("telegram", "9") is True
    assert await local.first_time("telegram", "9") is False
    assert [await local.hit("u", 60) for _ in range(3)] == [1, 2, 3]
    await local.set("k", "v", 60)
    assert await local.get("k") == "v"


async def test_redis_down_degrades_to_local_with_warning(
    tmp_path: Path, store: ConversationStore, caplog: pytest.LogCaptureFixture
) -> None:
    with redis_server(tmp_path) as server:
        state = ResilientState(RedisState(server.url), LocalState(store))
        assert await state.first_time("telegram", "a") is True
        assert await state.ping() is True
        server.stop()
        with caplog.at_level(logging.WARNING):
            # Locks, counters, cache and dedup keep working, per process.
            async with state.lock("conversation:x"):
                pass
            assert await state.hit("user:x", 60) == 1
            await state.set("c", "v", 60)
            assert await state.get("c") == "v"
            assert await state.first_time("telegram", "b") is True
            assert await state.first_time("telegram", "b") is False
        assert await state.ping() is False
        warnings = [r for r in caplog.records if "Redis is unavailable" in r.getMessage()]
        assert len(warnings) == 1
        await state.close()
