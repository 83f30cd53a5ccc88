"""Several real bot processes on one PostgreSQL database and one Redis, behind the fakes.

Used by the replica tests (tests/test_replicas_*.py), the bad-input and secrets tests and
``bench/scale.py``. Telegram replicas run in webhook mode, VK replicas as Callback API servers;
the fakes deliver to them the way a reverse proxy in front of the replicas would (see
``FakeTelegram.spread_webhooks`` and ``FakeVK.serve_callback``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select

from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from advisor.storage.tables import checklist_answers, users
from tests import telegram_driver, vk_bot_driver
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK
from tests.launcher import run_to_end
from tests.services import free_port

REPO = Path(__file__).resolve().parents[1]

# What the operator would configure; the path is the one nginx passes on to the replicas.
TELEGRAM_PUBLIC_URL = "https://bot.example.org/telegram/"
TELEGRAM_SECRET = "replica-webhook-secret_7Hq2"
VK_CONFIRMATION = "c0nf1rm7"
VK_SECRET = "vk-callback-secret-Zx81"

# The presses after /start: a section, the profile, the checklist and four answers. Each one
# is only valid in the state the one before leaves, so a press handled out of order, twice or
# not at all shows up as a different answer.
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
# What the four answers store (the checklist's first items of a commercial community).
EXPECTED_ANSWERS = {"starter_posts": "yes", "cover": "no", "info_block": "unsure", "goods": "yes"}


async def migrate(database_url: str) -> None:
    """The schema at the code's revision (what `promo-advisor migrate` does)."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def run_cli(*args: str, env: dict[str, str], within: float = 60.0) -> tuple[int, str]:
    """`python -m bot ARGS` to its end: exit code and everything it printed."""
    code, output, _ = await run_to_end(args, env=env, cwd=REPO, merged=True, within=within)
    return code, output


async def wait_port(port: int, within: float = 30.0, process: Any = None) -> None:
    deadline = time.monotonic() + within
    while True:
        if process is not None and process.returncode is not None:
            raise AssertionError(f"the process exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return response.status, json.loads(await response.text())


class TelegramReplica(telegram_driver.BotProcess):
    """`python -m bot telegram` in webhook mode on its own port."""

    def __init__(self, tg: FakeTelegram, workdir: Path, env: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.health_port = free_port()
        super().__init__(
            tg,
            workdir,
            {
                "TELEGRAM_WEBHOOK_URL": TELEGRAM_PUBLIC_URL,
                "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                "TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
                "TELEGRAM_WEBHOOK_PORT": str(self.port),
                "HEALTH_PORT": str(self.health_port),
                "HEALTH_HOST": "127.0.0.1",
                **env,
            },
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{urlsplit(TELEGRAM_PUBLIC_URL).path}"

    async def start(self) -> None:
        await super().start()
        assert self.process is not None
        await wait_port(self.port, process=self.process)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


class VkReplica(vk_bot_driver.BotProcess):
    """`python -m bot vk` as a Callback API server on its own port."""

    def __init__(self, vk: FakeVK, workdir: Path, env: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.health_port = free_port()
        super().__init__(
            vk,
            workdir,
            {
                "VK_CALLBACK_HOST": "127.0.0.1",  # behind the balancer, as in a deployment
                "VK_CALLBACK_PORT": str(self.port),
                "VK_CALLBACK_CONFIRMATION": VK_CONFIRMATION,
                "VK_CALLBACK_SECRET": VK_SECRET,
                "HEALTH_PORT": str(self.health_port),
                "HEALTH_HOST": "127.0.0.1",
                **env,
            },
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/vk/callback"

    async def start(self, *, wait_for_poll: bool = False) -> None:
        await super().start(wait_for_poll=False)
        await wait_port(self.port, process=self.process)

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


def backing_env(database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **extra}
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    return env


async def start_all(replicas: Sequence[TelegramReplica | VkReplica]) -> None:
    await asyncio.gather(*(replica.start() for replica in replicas))


async def stop_all(replicas: Sequence[TelegramReplica | VkReplica]) -> list[int]:
    """SIGTERM to all at once; their exit codes (a replica already gone counts as 0)."""

    async def stop(replica: TelegramReplica | VkReplica) -> int:
        if not replica.alive():
            return 0
        return await replica.stop()

    return list(await asyncio.gather(*(stop(r) for r in replicas)))


def log_problems(text: str, allowed: Sequence[str] = ()) -> list[str]:
    """Lines of a log that show a crash or an unexpected error."""
    problems = []
    for line in text.splitlines():
        bad = "Traceback" in line or " ERROR " in line or " CRITICAL " in line
        if bad and not any(fragment in line for fragment in allowed):
            problems.append(line)
    return problems


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def stored_answers(
    database_url: str, channel: str, people: list[int] | None = None
) -> dict[str, dict[str, str]]:
    """The checklist answers stored per person of ``channel`` (each of ``people`` listed, even
    with none)."""
    engine = create_engine(database_url)
    query = (
        select(users.c.external_id, checklist_answers.c.item_id, checklist_answers.c.answer)
        .select_from(users.join(checklist_answers, checklist_answers.c.user_id == users.c.id))
        .where(users.c.channel == channel)
    )
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    stored: dict[str, dict[str, str]] = {str(person): {} for person in people or []}
    for row in rows:
        stored.setdefault(row.external_id, {})[row.item_id] = row.answer
    return stored


def is_subsequence(part: list[tuple[str, str]], whole: list[tuple[str, str]]) -> bool:
    rest = iter(whole)
    return all(item in rest for item in part)
