"""Two Telegram webhook replicas while their backing servers fail: PostgreSQL restarted under
load (turns in flight end in an apology, service resumes by itself), Redis stopped (the replicas
go on per process, warn once, report it on /healthz, and share again when Redis is back).

Each test runs its own server of the kind it breaks, so the suite's shared ones stay up.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path

from advisor.shared_state import RETRY_REDIS_AFTER_SECONDS
from advisor.texts import t
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.replicas import TelegramReplica, backing_env, health, migrate, start_all, stop_all
from tests.services import RedisServer, postgres_server

GREETING = "Здравствуйте"
MENU = "Выберите раздел"
APOLOGIES = (t("dialog.error"), t("telegram.apology"))


def outcome(text: str) -> str:
    if GREETING in text or MENU in text:
        return "answer"
    if any(apology in text for apology in APOLOGIES):
        return "apology"
    return f"unexpected: {text[:80]!r}"


async def chat_until(person: TelegramUser, stop: asyncio.Event, seen: Counter[str]) -> None:
    """Typing /start and «меню» in turn, each after the answer to the one before."""
    for text in itertools.cycle(["/start", "меню"]):
        if stop.is_set():
            return
        await person.say(text, seconds=30)
        seen[outcome(person.text)] += 1


def replicas_of(tg: FakeTelegram, root: Path, env: dict[str, str]) -> list[TelegramReplica]:
    return [TelegramReplica(tg, root / f"replica-{n}", env) for n in (1, 2)]


async def test_postgres_restarted_mid_load_costs_an_apology_not_the_bot(
    tg: FakeTelegram, redis_url: str, tmp_path: Path
) -> None:
    with postgres_server() as pg:
        pg.create_database("advisor")
        await migrate(pg.url("advisor"))
        replicas = replicas_of(tg, tmp_path, backing_env(pg.url("advisor"), redis_url))
        await start_all(replicas)
        processes = [r.process for r in replicas]
        try:
            tg.spread_webhooks([r.url for r in replicas], duplicates=0.2, seed=11)
            people = [tg.user() for _ in range(20)]
            seen: Counter[str] = Counter()
            stop = asyncio.Event()
            chats = [asyncio.create_task(chat_until(p, stop, seen)) for p in people]
            await asyncio.sleep(2.0)
            before = sum(seen.values())

            # pg_ctl -m fast: sessions are cut, the queries in flight fail.
            await asyncio.to_thread(pg.stop, "fast")
            await asyncio.sleep(1.0)
            for replica in replicas:
                status, body = await health(replica.health_port)
                assert (status, body["database"], body["redis"]) == (503, False, True)
            await asyncio.to_thread(pg.start)
            await asyncio.sleep(3.0)
            stop.set()
            await asyncio.gather(*chats)

            # Every message was answered: normally, or during the outage with an apology.
            assert set(seen) <= {"answer", "apology"}, seen
            assert seen["apology"] > 0 and before > 0
            assert tg.pending == []
            # The same processes serve again, without a restart.
            assert [r.process for r in replicas] == processes
            assert all(r.alive() for r in replicas)
            await asyncio.gather(*(person.say("/start", seconds=30) for person in people))
            assert all(GREETING in person.text for person in people)
            for replica in replicas:
                status, body = await health(replica.health_port)
                assert (status, body) == (200, {"status": "ok", "database": True, "redis": True})
        finally:
            codes = await stop_all(replicas)
        assert codes == [0, 0]
        logs = [replica.log_text() for replica in replicas]
        # The operator's log says which turns failed, and the token stays out of it.
        assert any("dialog turn failed" in log for log in logs), logs[0][-3000:]
        assert all(tg.token not in log for log in logs)


async def test_redis_down_degrades_to_per_process_and_recovers(
    tg: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    await migrate(postgres_url)
    folder = tmp_path / "redis"
    folder.mkdir()
    redis = RedisServer(folder)
    redis.start()
    replicas = replicas_of(tg, tmp_path, backing_env(postgres_url, redis.url))
    try:
        await start_all(replicas)
        # Some updates reach both replicas: without Redis they are still answered once (the
        # database keeps the seen ids then).
        tg.spread_webhooks([r.url for r in replicas], duplicates=0.3, seed=2)
        people = [tg.user() for _ in range(12)]

        async def greet(person: TelegramUser) -> None:
            mark = len(person.outputs)
            await person.say("/start", seconds=30)
            sent = [o for o in person.outputs[mark:] if o.kind != "action"]
            assert GREETING in sent[0].text, person.text
            assert len(sent) == 2, [o.text[:40] for o in sent]  # greeting, menu: once

        async def round_of_greetings() -> None:
            await asyncio.gather(*(greet(person) for person in people))

        await round_of_greetings()
        redis.stop()
        await round_of_greetings()
        for replica in replicas:
            status, body = await health(replica.health_port)
            assert (status, body) == (503, {"status": "degraded", "database": True, "redis": False})
            log = replica.log_text()
            assert log.count("Redis is unavailable") == 1, log[-3000:]
            assert "working per process" in log

        # A replica (re)started while Redis is down starts and serves. Its stop leaves the
        # webhook alone: the other replica goes on receiving updates meanwhile.
        assert await replicas[1].stop() == 0
        assert tg.calls_to("deleteWebhook") == [] and tg.webhook is not None
        await round_of_greetings()
        await replicas[1].start()
        await round_of_greetings()

        # Redis back: the replicas share again after their retry pause.
        redis.start()
        await asyncio.sleep(RETRY_REDIS_AFTER_SECONDS + 0.5)
        await round_of_greetings()
        deadline = time.monotonic() + 10
        for replica in replicas:
            while (await health(replica.health_port))[0] != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
        assert "Redis is back" in replicas[0].log_text()
        assert tg.pending == []
    finally:
        codes = await stop_all(replicas)
        redis.stop()
    assert codes == [0, 0]
    for replica in replicas:
        assert "Traceback" not in replica.log_text(), replica.log_text()[-3000:]
