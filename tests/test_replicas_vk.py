"""Two real `promo-advisor vk` replicas (Callback API servers) on one PostgreSQL and one Redis.

The fake VK API posts events the way VK's Callback API and a reverse proxy in front of the
replicas would: a person's events one at a time, the next after "ok"; people at once; each post
to a replica picked at random, some events posted to both at the same moment. Every person must
get every answer exactly once and in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from advisor.storage.db import create_engine
from advisor.storage.tables import checklist_answers, users
from tests.fakes.vk_api import FakeVK
from tests.replicas import (
    VK_SECRET,
    VkReplica,
    backing_env,
    health,
    log_problems,
    migrate,
    start_all,
    stop_all,
)
from tests.services import RedisServer
from tests.vk_bot_driver import VkUser

# The presses after the greeting (see test_replicas_telegram.py for why these).
PRESSES = [
    "s:prepare",
    "a:profile:type:0:commercial",
    "a:profile:goal:0:sales_any_region",
    "g:prepare:checklist",
    "a:prepare:checklist:0:y",
    "a:prepare:checklist:1:n",
    "a:prepare:checklist:2:u",
    "a:prepare:checklist:3:y",
]
EXPECTED_ANSWERS = {"starter_posts": "yes", "cover": "no", "info_block": "unsure", "goods": "yes"}
FIRST_PEER = 3_000_001


@pytest.fixture
async def redis_url(redis_service: RedisServer) -> str:
    client = Redis.from_url(redis_service.url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return redis_service.url


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake
    assert fake.problems == []


def answers_of(vk: FakeVK, peer_id: int) -> list[tuple[str, list[str]]]:
    return [(m.message, m.button_labels()) for m in vk.messages_to(peer_id)]


def send_calls(vk: FakeVK, peer_id: int) -> int:
    """messages.send calls VK accepted for the person: a doubled turn shows here even though
    VK does not show a message whose random_id it has seen."""
    return sum(
        1
        for r in vk.requests
        if r.method == "messages.send"
        and r.params.get("peer_id") == str(peer_id)
        and r.error is None  # a send refused (too many requests) and retried shows nothing
    )


def press(vk: FakeVK, peer_id: int, payload: str) -> None:
    vk.message_event(peer_id, {"p": payload})


async def play_control(vk: FakeVK, user: VkUser) -> None:
    await user.say("привет")
    assert "Выберите раздел" in user.text, user.text
    for payload in PRESSES:
        press(vk, user.peer_id, payload)
        await user.reply(within=60)


async def play_burst(vk: FakeVK, user: VkUser) -> None:
    await user.say("привет")
    for payload in PRESSES:
        press(vk, user.peer_id, payload)


async def wait_answered(vk: FakeVK, people: list[VkUser], expected: int) -> None:
    """Until every event was answered "ok" and nothing more arrived for a while: everyone has
    the answers expected, or 3 s passed without any (anything doubled would arrive then)."""
    assert vk.callback is not None
    deadline = time.monotonic() + 120
    quiet_since, count = time.monotonic(), len(vk.sent_messages)
    while True:
        if len(vk.sent_messages) != count:
            quiet_since, count = time.monotonic(), len(vk.sent_messages)
        quiet = time.monotonic() - quiet_since
        complete = all(len(vk.messages_to(p.peer_id)) >= expected for p in people)
        if not vk.callback.pending and (quiet > 3.0 or (complete and quiet > 1.0)):
            return
        assert time.monotonic() < deadline, f"{len(vk.callback.pending)} events undelivered"
        await asyncio.sleep(0.1)


async def stored_answers(database_url: str) -> dict[str, dict[str, str]]:
    engine = create_engine(database_url)
    query = (
        select(users.c.external_id, checklist_answers.c.item_id, checklist_answers.c.answer)
        .select_from(users.join(checklist_answers, checklist_answers.c.user_id == users.c.id))
        .where(users.c.channel == "vk")
    )
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    stored: dict[str, dict[str, str]] = {}
    for row in rows:
        stored.setdefault(row.external_id, {})[row.item_id] = row.answer
    return stored


def replicas_of(vk: FakeVK, root: Path, env: dict[str, str]) -> list[VkReplica]:
    return [VkReplica(vk, root / f"replica-{n}", env) for n in (1, 2)]


def check_logs(vk: FakeVK, replicas: list[VkReplica], allowed: tuple[str, ...] = ()) -> None:
    for replica in replicas:
        log = replica.log_text()
        assert log_problems(log, allowed) == [], log[-4000:]
        for secret in (vk.group_token, vk.user_token, VK_SECRET):
            assert secret not in log


async def test_every_answer_once_and_in_order_across_two_replicas(
    vk: FakeVK, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    await migrate(postgres_url)
    replicas = replicas_of(vk, tmp_path, backing_env(postgres_url, redis_url))
    await start_all(replicas)
    try:
        vk.serve_callback([r.url for r in replicas], secret=VK_SECRET, duplicates=0.3, seed=5)
        for replica in replicas:
            assert await health(replica.health_port) == (
                200,
                {"status": "ok", "database": True, "redis": True},
            )

        control = VkUser(vk, FIRST_PEER)
        await play_control(vk, control)
        expected = answers_of(vk, control.peer_id)
        assert len(expected) >= len(PRESSES) + 1
        assert "Вопрос 5 из" in expected[-1][0]

        people = [VkUser(vk, FIRST_PEER + n) for n in range(1, 41)]
        await asyncio.gather(*(play_burst(vk, person) for person in people))
        await wait_answered(vk, people, len(expected))

        for person in people:
            assert answers_of(vk, person.peer_id) == expected, person.peer_id
            assert send_calls(vk, person.peer_id) == send_calls(vk, control.peer_id)
        answered = [a.peer_id for a in vk.event_answers]
        assert sorted(answered) == sorted(p.peer_id for p in [control, *people] for _ in PRESSES), (
            "every pressed button's spinner is stopped once"
        )
        stored = await stored_answers(postgres_url)
        assert len(stored) == 41
        assert all(answers == EXPECTED_ANSWERS for answers in stored.values()), stored

        assert vk.callback is not None
        served = {p.url for p in vk.callback.posts if p.ok}
        assert served == {r.url for r in replicas}
        assert len(vk.callback.posts) > len(vk.callback.delivered) + 20
    finally:
        codes = await stop_all(replicas)
    assert codes == [0, 0]
    check_logs(vk, replicas)
