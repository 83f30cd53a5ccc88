"""No token or secret in any log line, whatever happens: whole conversations through a real
Telegram webhook process and a real VK Callback API process with DEBUG logging — public checks
with both VK tokens, an audit, API errors and retries, a redirect loop whose error text holds the
request URL, refused tokens, forged requests — then every log is searched for every secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.telegram_api import FakeTelegram, Output
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public
from tests.replicas import (
    TELEGRAM_SECRET,
    VK_CONFIRMATION,
    VK_SECRET,
    TelegramReplica,
    VkReplica,
    backing_env,
    migrate,
    start_all,
    stop_all,
)
from tests.services import PostgresServer
from tests.vk_bot_driver import VkUser

DB_PASSWORD = "Db-Pa55word-n0t-for-logs"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeVK]]:
    async with FakeTelegram() as tg, FakeVK(service_rate=50) as vk:
        yield tg, vk


def secrets_of(tg: FakeTelegram, vk: FakeVK) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        # The token's secret half alone is a leak too (the bot id before the colon is public).
        "TELEGRAM_BOT_TOKEN secret part": tg.token.split(":", 1)[1],
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "VK_GROUP_TOKEN": vk.group_token,
        "VK_USER_TOKEN": vk.user_token,
        "VK_SERVICE_TOKEN": vk.service_token,
        "VK_CALLBACK_SECRET": VK_SECRET,
        "VK_CALLBACK_CONFIRMATION": VK_CONFIRMATION,
        "database password": DB_PASSWORD,
    }


def has_chart(outputs: list[Output]) -> bool:
    return any(o.method == "sendPhoto" for o in outputs)


async def post(url: str, body: dict[str, object], headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status


async def test_no_secret_in_any_log_line(
    fakes: tuple[FakeTelegram, FakeVK],
    postgres_service: PostgresServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    tg, vk = fakes
    postgres_service.create_database("secrets")
    # Trust authentication takes any password: the URL carries one, as in production.
    database_url = postgres_service.url("secrets").replace("postgres@", f"postgres:{DB_PASSWORD}@")
    await migrate(database_url)
    vk.add_public(make_public("healthy", id=5550201, screen_name="coffee_msk"))
    vk.add_public(make_public("healthy", id=5550203, screen_name="tea_msk"))
    vk.add_public(make_public("closed", id=5550202, screen_name="closed_msk"))
    check = {
        "VK_API_URL": vk.base_url,
        "VK_USER_TOKEN": vk.user_token,
        "VK_SERVICE_TOKEN": vk.service_token,
        "VK_REQUEST_TIMEOUT": "3",
        "VK_MAX_RETRIES": "1",
        "LOG_LEVEL": "DEBUG",
    }
    env = backing_env(database_url, redis_url, **check)
    telegram = TelegramReplica(tg, tmp_path / "telegram", env)
    vk_bot = VkReplica(vk, tmp_path / "vk", env)
    await start_all([telegram, vk_bot])
    try:
        tg.spread_webhooks([telegram.url])
        vk.serve_callback([vk_bot.url], secret=VK_SECRET)

        # VK first (the fake's injected failures are per method, not per process): a
        # conversation with buttons, a public check, failures of messages.send.
        ivan = VkUser(vk, 8_000_001, bot=vk_bot)

        async def ivan_says(text: str) -> None:
            vk.user_message(ivan.peer_id, text)
            await ivan.reply(within=60, quiet=1.5)  # DEBUG logging slows the answers down

        await ivan_says("привет")
        await ivan.press("Подготовить сообщество")
        await ivan_says("vk.com/coffee_msk")
        vk.fail_next("execute", 10, times=2)
        vk.fail_next("messages.send", 10, times=2)
        await ivan_says("меню")
        vk.fail_next("messages.send", 5)  # the community token refused
        vk.user_message(ivan.peer_id, "/start")
        confirmation = {"type": "confirmation", "group_id": vk.group_id, "secret": VK_SECRET}
        assert await post(vk_bot.url, confirmation, {}) == 200
        assert await post(vk_bot.url, {**confirmation, "secret": "guess"}, {}) == 403
        assert vk.callback is not None
        await vk.callback.wait_idle()

        # Telegram: a conversation, a public check, the audit, and failures of the Bot API.
        anna = tg.user()
        await anna.say("/start", seconds=30)
        await anna.press("Подготовить сообщество", seconds=30)
        await anna.press("Коммерческое", seconds=30)
        await anna.say("vk.com/tea_msk", seconds=60, until=lambda new: has_chart(new))
        await anna.say("vk.com/closed_msk", seconds=60)
        tg.fail("sendMessage", code=500)  # the answer fails; the apology goes out
        await anna.say("меню", seconds=30)
        tg.redirect_loop("sendMessage")
        await anna.say("/start", seconds=30)
        tg.fail("editMessageText", code=400, description="Bad Request: message can't be edited")
        await anna.press("Проверить мою группу", seconds=30)
        await anna.say("vk.com/coffee_msk", seconds=60)
        # The public check's token refused, and VK failing.
        vk.fail_next("groups.getById", 5)
        await anna.say("vk.com/coffee_msk", seconds=60)
        vk.fail_next("execute", 10, times=3)
        vk.fail_next("groups.getById", 10, times=3)
        await anna.say("https://vk.com/coffee_msk", seconds=60)
        # Forged webhooks: a wrong secret, garbage.
        assert (
            await post(telegram.url, {"update_id": 1}, {"X-Telegram-Bot-Api-Secret-Token": "x"})
            == 401
        )
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        assert await post(telegram.url, {"update_id": "x"}, headers) == 400
    finally:
        codes = await stop_all([telegram, vk_bot])
    assert codes == [0, 0]

    logs = {"telegram": telegram.log_text(), "vk": vk_bot.log_text()}
    # The run did what it is meant to: DEBUG lines, checks, failures and retries were logged.
    assert " DEBUG " in logs["telegram"] and " DEBUG " in logs["vk"]
    assert "public check" in logs["telegram"] and "public check" in logs["vk"]
    assert "retry" in logs["telegram"] and "retry" in logs["vk"]
    leaks = [
        f"{name} in the {process} log: {line[:200]}"
        for process, log in logs.items()
        for line in log.splitlines()
        for name, secret in secrets_of(tg, vk).items()
        if secret in line
    ]
    assert leaks == []
    assert vk.problems == []
