"""Two real `promo-advisor vk` replicas (Callback API servers) on one PostgreSQL and one Redis.

The fake VK API posts events the way VK's Callback API and a reverse proxy in front of the
replicas would: a person's events one at a time, the next after "ok"; people at once; each post
to a replica picked at random, some events posted to both at the same moment. Every person must
get every answer exactly once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.vk_api import FakeVK
from tests.replicas import (
    EXPECTED_ANSWERS,
    PRESSES,
    VK_SECRET,
    VkReplica,
    backing_env,
    health,
    log_problems,
    migrate,
    start_all,
    stop_all,
    stored_answers,
)
from tests.vk_bot_driver import VkUser
from tests.vk_flow import answers_of, play_burst, play_control, send_calls, wait_answered

FIRST_PEER = 3_000_001


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake
    assert fake.problems == []


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
        stored = await stored_answers(postgres_url, "vk")
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
