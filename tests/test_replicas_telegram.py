"""Two real `promo-advisor telegram` replicas (webhook mode) on one PostgreSQL and one Redis.

The fake Bot API delivers updates the way Telegram and a reverse proxy in front of the replicas
do: a chat's updates one at a time and in order, chats at once, each delivery to a replica
picked at random, some updates posted to both replicas at the same moment. Every person must see
every answer exactly once and in order; a replica killed with SIGKILL loses nothing that was
confirmed; PostgreSQL restarted under load costs an apology, not the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from tests.fakes.telegram_api import FakeTelegram
from tests.replicas import (
    EXPECTED_ANSWERS,
    PRESSES,
    TelegramReplica,
    backing_env,
    health,
    log_problems,
    migrate,
    start_all,
    stop_all,
    stored_answers,
)
from tests.services import PostgresServer, RedisServer
from tests.telegram_flow import (
    answers_of,
    check_nothing_lost_or_doubled,
    check_one_more_press_answered,
    greet,
    play_burst,
    play_control,
    press_all,
    send_calls,
    until_posted,
    wait_delivered,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Deployment:
    """Two replicas on one database and Redis, shared by this module's tests (the last one
    kills a replica)."""

    tg: FakeTelegram
    database_url: str
    replicas: list[TelegramReplica]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def deployment(
    postgres_service: PostgresServer,
    redis_service: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Deployment]:
    postgres_service.create_database("replicas_telegram")
    database_url = postgres_service.url("replicas_telegram")
    await migrate(database_url)
    await redis_service.flush()
    root = tmp_path_factory.mktemp("replicas-telegram")
    async with FakeTelegram() as tg:
        env = backing_env(database_url, redis_service.url)
        replicas = [TelegramReplica(tg, root / f"replica-{n}", env) for n in (1, 2)]
        await start_all(replicas)
        try:
            yield Deployment(tg, database_url, replicas)
        finally:
            codes = await stop_all(replicas)
        assert codes == [0, 0]  # the killed one counts as gone
        for replica in replicas:  # the killed one's log too, up to its death
            log = replica.log_text()
            assert tg.token not in log
            assert log_problems(log) == [], log[-4000:]


async def test_every_answer_once_and_in_order_across_two_replicas(
    deployment: Deployment,
) -> None:
    tg, replicas = deployment.tg, deployment.replicas
    tg.spread_webhooks([r.url for r in replicas], duplicates=0.3, seed=8)
    for replica in replicas:
        assert await health(replica.health_port) == (
            200,
            {"status": "ok", "database": True, "redis": True},
        )

    control = tg.user()
    await play_control(tg, control)
    expected = answers_of(tg, control.id)
    assert len(expected) >= len(PRESSES) + 1
    assert "Вопрос 5 из" in expected[-1][1]

    people = [tg.user() for _ in range(40)]
    await asyncio.gather(*(play_burst(tg, person) for person in people))
    await wait_delivered(tg, people, len(expected))

    for person in people:
        assert answers_of(tg, person.id) == expected, person.id
        assert send_calls(tg, person.id) == send_calls(tg, control.id), person.id
    assert tg.unanswered_callbacks() == []
    chats = [p.id for p in [control, *people]]
    stored = await stored_answers(deployment.database_url, "telegram", chats)
    assert all(stored[str(chat)] == EXPECTED_ANSWERS for chat in chats), stored

    # Both replicas did part of the work, and some updates reached both of them.
    served = {d.url for d in tg.webhook_log if d.status == 200}
    assert served == {r.url for r in replicas}
    doubled = {d.update_id for d in tg.webhook_log if d.status == 200}
    posts = [d.update_id for d in tg.webhook_log]
    assert len(posts) > len(doubled) + 20, "too few updates were posted twice"


async def test_a_replica_killed_mid_load_loses_nothing_confirmed(deployment: Deployment) -> None:
    tg, replicas = deployment.tg, deployment.replicas
    doomed, survivor = replicas
    tg.spread_webhooks([r.url for r in replicas], duplicates=0.1, seed=3)
    control = tg.user()
    await play_control(tg, control)
    expected = answers_of(tg, control.id)

    people = [tg.user() for _ in range(40)]
    menus = await asyncio.gather(*(greet(tg, person) for person in people))
    posted = len(tg.webhook_log)
    press_all(tg, people, menus)
    # SIGKILL while a third of the presses are answered and many are being handled: the
    # updates it was handling get no answer, and Telegram delivers them again (here: the
    # fake retries on another pick, which ends at the survivor).
    await until_posted(tg, posted, len(people) * len(PRESSES) // 3)
    await doomed.kill()
    await wait_delivered(tg, people, len(expected))
    unanswered = {
        d.update_id for d in tg.webhook_log[posted:] if d.url == doomed.url and not d.status
    }
    assert unanswered, "the replica was killed with nothing in hand"

    # Every press was confirmed in the end, and everything confirmed is stored.
    assert tg.pending == []
    await check_nothing_lost_or_doubled(tg, deployment.database_url, people, expected)

    # The survivor carries on: one more press each, answered.
    await check_one_more_press_answered(tg, people, menus)
    assert await health(survivor.health_port) == (
        200,
        {"status": "ok", "database": True, "redis": True},
    )
