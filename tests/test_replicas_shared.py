"""What replicas share besides conversations: the pace of one token's API calls (Redis), and
the Callback API's "ok" that waits for the turn (so a person's next event cannot overtake it)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from advisor import shared_state
from advisor.config import Settings
from advisor.shared_state import LocalState, RedisState, ResilientState
from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from advisor.storage.store import ConversationStore
from advisor.vk.api import VkClient
from bot.vk import callback as callback_module
from bot.vk.callback import CallbackServer
from tests.fakes.vk_api import FakeVK
from tests.services import RedisServer, free_port, redis_server


async def test_two_replicas_share_one_tokens_pace(redis_service: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first, second = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    try:
        waits = await asyncio.gather(
            *(state.pace("vk:group:abc", 0.05) for _ in range(10) for state in (first, second))
        )
        # Twenty reservations, one per 50 ms whoever made them: 0, 0.05, ..., 0.95 s ahead.
        assert sorted(round(w / 0.05) for w in waits) == list(range(20))
        assert await first.pace("vk:group:other", 0.05) == 0.0
    finally:
        await first.close()
        await second.close()


async def test_replicas_with_one_token_stay_within_vks_rate(redis_service: RedisServer) -> None:
    """Two processes' clients with the same community token: VK answers no error 6."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    async with FakeVK() as vk:
        settings = Settings(vk_api_url=vk.base_url, vk_max_retries=0)
        states = [RedisState(redis_service.url, prefix) for _ in range(2)]
        token = SecretStr(vk.group_token)
        clients = [VkClient(settings, token, "group", pacer=state.pace) for state in states]
        try:
            await asyncio.gather(
                *(client.call("groups.getById", {}) for _ in range(25) for client in clients)
            )
        finally:
            for client in clients:
                await client.close()
            for state in states:
                await state.close()
        assert [r.error for r in vk.requests] == [None] * 50
        # Paced by the arrivals the fake recorded, not by this test's clock: 50 calls made at
        # once by two processes reach VK at its 20 a second (the client keeps a 10% margin).
        assert vk.busiest_window("group", 1.0) <= 20
        assert vk.problems == []


async def test_pace_without_redis_falls_back_to_the_process(tmp_path: Path, caplog: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await upgrade(engine)
    (tmp_path / "redis").mkdir()
    with redis_server(tmp_path / "redis") as server:
        state = ResilientState(RedisState(server.url), LocalState(ConversationStore(engine)))
        assert await state.pace("k", 1.0) == 0.0
        assert await state.pace("k", 1.0) > 0.9
        server.stop()
        with caplog.at_level(logging.WARNING):
            assert await state.pace("k", 1.0) == 0.0
        assert "Redis is unavailable" in caplog.text
        await state.close()
    await engine.dispose()


async def _post(url: str, body: dict[str, Any]) -> tuple[str, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return await response.text(), time.monotonic() - started


@pytest.mark.parametrize("turn_seconds", [0.2, 5.0])
async def test_callback_answers_ok_after_the_turn_or_in_time(
    turn_seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callback_module, "ANSWER_WITHIN", 0.6)
    finished: list[float] = []

    def sink(event: dict[str, Any], done: Any) -> None:
        async def turn() -> None:
            await asyncio.sleep(turn_seconds)
            finished.append(time.monotonic())
            done()

        tasks.append(asyncio.create_task(turn()))

    tasks: list[asyncio.Task[None]] = []
    server = CallbackServer(
        sink, confirmation=SecretStr("c0nf"), secret=SecretStr("s3cret"), group_id=1
    )
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        text, _ = await _post(
            f"http://127.0.0.1:{port}/",
            {"type": "message_new", "group_id": 1, "secret": "s3cret"},
        )
    finally:
        await server.stop()
    assert text == "ok"
    # Told by the order of events, not by a clock: "ok" came after the turn when it was short,
    # and while the turn was still running when it was slow.
    if turn_seconds < 0.6:
        assert finished  # after the turn
    else:
        assert not finished  # a slow turn does not hold VK up
    for task in tasks:
        task.cancel()


async def test_a_claimed_update_waits_for_its_holders_outcome(redis_service: RedisServer) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first, second = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    try:
        # Handled by the first replica: the second, given it meanwhile, waits and skips it.
        assert await first.first_time("telegram", "1") is True
        waiting = asyncio.create_task(second.first_time("telegram", "1"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.finished("telegram", "1")
        assert await asyncio.wait_for(waiting, 2) is False

        # Given up (shutdown): the redelivery is handled afresh.
        assert await first.first_time("vk", "e") is True
        waiting = asyncio.create_task(second.first_time("vk", "e"))
        await first.finished("vk", "e", handled=False)
        assert await asyncio.wait_for(waiting, 2) is True
        await second.finished("vk", "e")
        assert await first.first_time("vk", "e") is False
    finally:
        await first.close()
        await second.close()


async def test_the_claim_of_a_dead_replica_lapses(
    redis_service: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_state, "LEASE_SECONDS", 1)
    monkeypatch.setattr(shared_state, "RENEW_EVERY_SECONDS", 0.3)
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    dead, alive = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    try:
        assert await dead.first_time("telegram", "7") is True
        # While the holder lives, it renews the lease well past LEASE_SECONDS.
        waiting = asyncio.create_task(alive.first_time("telegram", "7"))
        await asyncio.sleep(1.8)
        assert not waiting.done()
        await dead.close()  # SIGKILL: no renewal, no outcome
        # Counted, not timed: what is left of the claim is at most one lease.
        left = await alive.redis.pttl(alive._seen_key("telegram", "7"))
        assert left <= shared_state.LEASE_SECONDS * 1000
        assert await asyncio.wait_for(waiting, 10) is True  # a hang guard
        await alive.finished("telegram", "7")
    finally:
        await alive.close()


async def test_a_conversation_lock_outlives_its_lease_while_held_and_lapses_after_death(
    redis_service: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_state, "LEASE_SECONDS", 1)
    monkeypatch.setattr(shared_state, "RENEW_EVERY_SECONDS", 0.3)
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    first, second = RedisState(redis_service.url, prefix), RedisState(redis_service.url, prefix)
    order: list[str] = []

    async def hold(state: RedisState, name: str, seconds: float, key: str = "telegram:1") -> None:
        async with state.lock(key):
            order.append(f"{name}+")
            await asyncio.sleep(seconds)
            order.append(f"{name}-")

    try:
        long_turn = asyncio.create_task(hold(first, "a", 2.0))
        await asyncio.sleep(0.1)
        await hold(second, "b", 0.0)
        await long_turn
        assert order == ["a+", "a-", "b+", "b-"]  # a 2 s turn kept its 1 s lease

        # A replica killed mid-turn leaves its lock unrenewed: it is free within a lease.
        dead = first.redis.lock(f"{prefix}lock:telegram:2", timeout=shared_state.LEASE_SECONDS)
        assert await dead.acquire()
        # Counted, not timed: the lock is held, for at most one lease, and then taken.
        left = await second.redis.pttl(f"{prefix}lock:telegram:2")
        assert 0 < left <= shared_state.LEASE_SECONDS * 1000
        await asyncio.wait_for(hold(second, "d", 0.0, "telegram:2"), 10)  # a hang guard
        assert order[-2:] == ["d+", "d-"]
    finally:
        await first.close()
        await second.close()


async def test_a_turn_committed_by_a_replica_that_died_is_not_handled_again(
    tmp_path: Path, redis_service: RedisServer
) -> None:
    """The update id is stored with the turn's state; a claim Redis grants later (the dead
    holder's lapsed, or Redis restarted) is checked against it."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await upgrade(engine)
    store = ConversationStore(engine)
    state = ResilientState(
        RedisState(redis_service.url, f"t{uuid.uuid4().hex[:8]}:"), LocalState(store)
    )
    try:
        conversation = await store.load("telegram", "5")
        conversation.step = "somewhere"
        await store.save(conversation, event=("telegram", "42:7"))
        assert await state.first_time("telegram", "42:7") is False
        assert await state.first_time("telegram", "42:8") is True
        await state.finished("telegram", "42:8")
    finally:
        await state.close()
        await engine.dispose()


async def test_a_redis_restart_is_not_taken_for_an_outage(tmp_path: Path, caplog: Any) -> None:
    """Connections Redis closed while restarting fail once; that must not switch a replica to
    its own seen ids while the others share theirs (an update posted to both was doubled)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await upgrade(engine)
    (tmp_path / "redis").mkdir()
    with redis_server(tmp_path / "redis") as server:
        state = ResilientState(RedisState(server.url), LocalState(ConversationStore(engine)))
        assert await state.first_time("telegram", "1") is True
        await state.finished("telegram", "1")
        server.stop()
        server.start()
        with caplog.at_level(logging.WARNING):
            assert await state.first_time("telegram", "2") is True
        assert "Redis is unavailable" not in caplog.text
        await state.close()
    await engine.dispose()


@pytest.mark.parametrize("stored", [True, False])
async def test_callback_says_ok_only_for_a_stored_event(stored: bool) -> None:
    """Issue 17.1: the event is in the inbox before VK hears "ok"; when it cannot be stored
    VK gets a 500 (it retries) and the event is not handled."""
    steps: list[str] = []

    async def store(event: dict[str, Any]) -> None:
        if not stored:
            raise OSError("database unreachable")
        steps.append(f"stored {event['event_id']}")

    def sink(event: dict[str, Any], done: Any) -> None:
        steps.append(f"handled {event['event_id']}")
        done()

    server = CallbackServer(
        sink, confirmation=SecretStr("c0nf"), secret=SecretStr("s3cret"), group_id=1, store=store
    )
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        body = {"type": "message_new", "group_id": 1, "secret": "s3cret", "event_id": "e1"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/", json=body) as response,
        ):
            status, text = response.status, await response.text()
    finally:
        await server.stop()
    if stored:
        assert (status, text, steps) == (200, "ok", ["stored e1", "handled e1"])
    else:
        assert (status, steps) == (500, [])
