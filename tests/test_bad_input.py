"""The bad-input corpus (tests/bad_input_corpus.py) replayed through both real front-ends.

One Telegram webhook process and one VK Callback API process share a PostgreSQL database and
Redis, as in production, with the public check configured against the fake VK API. Every case
that reaches a conversation must get a clear Russian answer (no apology for an internal
failure), and the person's stored state must be as it was unless the case may change it;
transport-level garbage must get a clean HTTP refusal and leave the database alone. Neither
process may crash or log a traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from advisor.storage.db import create_engine
from advisor.storage.tables import conversations, users
from advisor.texts import t
from bot.telegram.keyboards import EnginePress
from tests.bad_input_corpus import CASES, PRIMING, TELEGRAM_BODIES, Body, Case, vk_bodies
from tests.db_snapshot import column_names, rows_of, snapshot, user_columns, user_ids
from tests.fakes.telegram_api import BotMessage, FakeTelegram, TelegramUser
from tests.fakes.vk_api import FakeVK
from tests.replicas import (
    TELEGRAM_SECRET,
    VK_SECRET,
    TelegramReplica,
    VkReplica,
    backing_env,
    log_problems,
    migrate,
    start_all,
    stop_all,
)
from tests.services import PostgresServer, RedisServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

CASES_PER_PERSON = 14  # well under the flood limit with the priming turns
APOLOGIES = (t("dialog.error"), t("telegram.apology"), t("vk.send_failed"))
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@dataclass
class Setup:
    tg: FakeTelegram
    vk: FakeVK
    database_url: str
    telegram: TelegramReplica
    vk_bot: VkReplica


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def setup(
    postgres_service: PostgresServer,
    redis_service: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Setup]:
    postgres_service.create_database("bad_input")
    database_url = postgres_service.url("bad_input")
    await migrate(database_url)
    await redis_service.flush()
    root = tmp_path_factory.mktemp("bad-input")
    async with FakeTelegram() as tg, FakeVK(service_rate=200) as vk:
        check = {
            "VK_API_URL": vk.base_url,
            "VK_SERVICE_TOKEN": vk.service_token,
            "VK_SERVICE_RATE_PER_SECOND": "150",
            "VK_REQUEST_TIMEOUT": "5",
        }
        env = backing_env(database_url, redis_service.url, **check)
        telegram = TelegramReplica(tg, root / "telegram", env)
        vk_bot = VkReplica(vk, root / "vk", {**env, "VK_USER_TOKEN": None})  # type: ignore[dict-item]
        await start_all([telegram, vk_bot])
        tg.spread_webhooks([telegram.url])
        vk.serve_callback([vk_bot.url], secret=VK_SECRET)
        try:
            yield Setup(tg, vk, database_url, telegram, vk_bot)
        finally:
            codes = await stop_all([telegram, vk_bot])
            assert codes == [0, 0]
        assert vk.problems == []
    for replica in (telegram, vk_bot):
        log = replica.log_text()
        assert log_problems(log) == [], log_problems(log)[:20]


# --- people on either front-end ----------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    texts: list[str]
    problem: str | None = None


class TelegramPerson:
    channel = "telegram"

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.user: TelegramUser = tg.user()
        self.id = str(self.user.id)

    def _last_bot_message(self) -> BotMessage:
        return self.user.messages()[-1]

    async def _press_data(self, data: str) -> list[str]:
        mark = len(self.user.outputs)
        update = self.tg.enqueue(
            self.tg.callback_update(self.user.id, self._last_bot_message(), data)
        )
        query = update["callback_query"]["id"]

        def done(new: list[Any]) -> bool:
            answered = self.tg.callbacks[query]["answered"]
            return answered and any(o.kind != "action" for o in new)

        try:
            await self.tg.settle(self.user.id, mark, until=done, seconds=30, quiet=0.2)
        except TimeoutError:
            pass  # judged below: whatever came (maybe nothing) is the answer
        return [o.text for o in self.user.outputs[mark:] if o.kind != "action"]

    async def prime(self, payloads: list[str]) -> None:
        await self.user.say("/start", seconds=30, quiet=0.2)
        for payload in payloads:
            await self._press_data(EnginePress(payload=payload).pack())

    async def send(self, case: Case) -> list[str]:
        if case.kind == "text":
            mark = len(self.user.outputs)
            self.user.send_text(case.value)
            try:
                await self.tg.settle(self.user.id, mark, seconds=30, quiet=0.2)
            except TimeoutError:
                pass
            return [o.text for o in self.user.outputs[mark:] if o.kind != "action"]
        if case.kind == "press":
            try:
                data = EnginePress(payload=case.value).pack()
            except ValueError:
                data = f"e:{case.value}"  # longer than this bot ever makes: forged
            return await self._press_data(data)
        assert case.kind == "tg_data"
        return await self._press_data(case.value)


class VkPerson:
    channel = "vk"
    _peers = itertools.count(7_000_001)

    def __init__(self, vk: FakeVK) -> None:
        self.vk = vk
        self.peer = next(self._peers)
        self.id = str(self.peer)
        self.seen = 0

    async def _answer(self) -> list[str]:
        deadline = time.monotonic() + 30
        settled_at, count = time.monotonic(), self.seen
        while True:
            sent = self.vk.messages_to(self.peer)
            if len(sent) != count:
                settled_at, count = time.monotonic(), len(sent)
            if len(sent) > self.seen and time.monotonic() - settled_at >= 0.25:
                break
            if time.monotonic() > deadline:
                return []
            await asyncio.sleep(0.02)
        new, self.seen = sent[self.seen :], len(sent)
        return [m.message for m in new]

    async def prime(self, payloads: list[str]) -> None:
        self.vk.user_message(self.peer, "/start")
        await self._answer()
        for payload in payloads:
            self.vk.message_event(self.peer, {"p": payload})
            await self._answer()

    async def send(self, case: Case) -> list[str]:
        if case.kind == "text":
            self.vk.user_message(self.peer, case.value)
        elif case.kind == "press":
            self.vk.message_event(self.peer, {"p": case.value})
        elif isinstance(case.value, str):
            self.vk.user_message(self.peer, "Кнопка", payload=case.value)
        else:
            self.vk.message_event(self.peer, case.value)
        return await self._answer()


def judge(case: Case, texts: list[str]) -> str | None:
    """What is wrong with an answer, or None for a clear one."""
    if not texts:
        return "no answer"
    if not any(CYRILLIC.search(text) for text in texts):
        return f"no Russian text in {texts!r:.200}"
    apology = next((a for a in APOLOGIES if any(a in text for text in texts)), None)
    if apology is not None:
        return f"an apology for a failure: {apology!r}"
    return None


@dataclass
class Group:
    state: str
    cases: list[Case]
    person: Any = None
    outcomes: list[Outcome] = field(default_factory=list)


def groups_of(cases: list[Case]) -> list[Group]:
    groups: list[Group] = []
    for state in PRIMING:
        steady = [c for c in cases if c.state == state and not c.changes]
        for start in range(0, len(steady), CASES_PER_PERSON):
            groups.append(Group(state, steady[start : start + CASES_PER_PERSON]))
        groups += [Group(state, [c]) for c in cases if c.state == state and c.changes]
    return groups


async def replay(setup: Setup, front: str, cases: list[Case]) -> None:
    groups = groups_of(cases)
    for group in groups:
        group.person = TelegramPerson(setup.tg) if front == "telegram" else VkPerson(setup.vk)
    # At most a few dozen people at once: the bots' answers then stay within the timeouts.
    limit = asyncio.Semaphore(24)

    async def prime(group: Group) -> None:
        async with limit:
            await group.person.prime(PRIMING[group.state])

    channel = "telegram" if front == "telegram" else "vk"
    engine = create_engine(setup.database_url)

    async def state_of(person: Any) -> Any:
        query = (
            select(
                conversations.c.scenario,
                conversations.c.step,
                conversations.c.data,
                conversations.c.version,
            )
            .select_from(users.join(conversations, conversations.c.user_id == users.c.id))
            .where(users.c.channel == channel, users.c.external_id == person.id)
        )
        async with engine.connect() as connection:
            return tuple((await connection.execute(query)).one())

    async def play(group: Group) -> None:
        async with limit:
            for case in group.cases:
                before = await state_of(group.person)
                texts = await group.person.send(case)
                problem = judge(case, texts)
                after = await state_of(group.person)
                if problem is None and before != after and not case.changes:
                    problem = f"state {before} -> {after}"
                group.outcomes.append(Outcome(case, texts, problem))

    await asyncio.gather(*(prime(g) for g in groups))
    columns = user_columns(await column_names(setup.database_url))
    before = await snapshot(setup.database_url)
    try:
        await asyncio.gather(*(play(g) for g in groups))
    finally:
        await engine.dispose()
    await asyncio.sleep(0.5)
    after = await snapshot(setup.database_url)

    problems = [
        f"{o.case.name}@{o.case.state}: {o.problem}"
        for g in groups
        for o in g.outcomes
        if o.problem is not None
    ]
    ids = user_ids(before, channel, [g.person.id for g in groups])
    for group in groups:
        if any(case.changes for case in group.cases):
            continue
        user_id = ids[group.person.id]
        if rows_of(before, user_id, columns) != rows_of(after, user_id, columns):
            problems.append(
                f"state changed by {[c.name for c in group.cases]}: "
                f"{rows_of(before, user_id, columns)} -> {rows_of(after, user_id, columns)}"
            )
    assert problems == [], "\n".join(problems[:40]) + f"\n({len(problems)} problems)"


def telegram_cases() -> list[Case]:
    return [c for c in CASES if c.kind in ("text", "press", "tg_data")]


def vk_cases() -> list[Case]:
    return [c for c in CASES if c.kind in ("text", "press", "vk_payload")]


async def test_the_corpus_is_big_and_travels_as_json() -> None:
    bodies = len(TELEGRAM_BODIES) + len(vk_bodies(1))
    assert len(CASES) + bodies >= 300
    assert len({c.name for c in CASES}) == len(CASES)
    # The cases travel as JSON through the fakes: every one must survive it unchanged.
    for case in CASES:
        assert json.loads(json.dumps(case.value)) == case.value, case.name


async def test_telegram_answers_every_case_clearly(setup: Setup) -> None:
    await replay(setup, "telegram", telegram_cases())
    assert setup.telegram.alive()


async def test_vk_answers_every_case_clearly(setup: Setup) -> None:
    await replay(setup, "vk", vk_cases())
    assert setup.vk_bot.alive()


# --- transport level ---------------------------------------------------------------------------


async def post(url: str, body: Body, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.post(
            url, data=body.data(), headers={"Content-Type": body.content_type, **headers}
        ) as response,
    ):
        return response.status, await response.text()


async def test_telegram_refuses_garbage_updates_cleanly(setup: Setup) -> None:
    before = await snapshot(setup.database_url)
    problems = []
    for body in TELEGRAM_BODIES:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET} if body.secret else {}
        status, _ = await post(setup.telegram.url, body, headers)
        if status not in body.statuses:
            problems.append(f"{body.name}: HTTP {status}, expected {body.statuses}")
    assert problems == []
    assert await snapshot(setup.database_url) == before
    assert setup.telegram.alive()
    assert "Traceback" not in setup.telegram.log_text()


async def test_vk_refuses_forged_and_broken_callbacks_cleanly(setup: Setup) -> None:
    before = await snapshot(setup.database_url)
    problems = []
    for body in vk_bodies(setup.vk.group_id):
        if body.secret and isinstance(body.json, dict):
            body = Body(
                body.name,
                json={**body.json, "secret": VK_SECRET},
                statuses=body.statuses,
                content_type=body.content_type,
            )
        status, text = await post(setup.vk_bot.url, body, {})
        if status not in body.statuses or (status == 200 and text != "ok"):
            problems.append(f"{body.name}: HTTP {status} {text[:40]!r}, expected {body.statuses}")
    assert problems == []
    await asyncio.sleep(0.5)  # anything handled would be stored by now
    assert await snapshot(setup.database_url) == before
    assert [m for m in setup.vk.sent_messages if m.peer_id == 555_000_001] == []
    assert setup.vk_bot.alive()
    assert "Traceback" not in setup.vk_bot.log_text()
