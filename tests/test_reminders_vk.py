"""Tracker reminders through the real `promo-advisor vk` process and the fake VK API: a placement
recorded in the community's messages is reminded about once it is due (the test moves its due
time in the database), exactly once even when the process crashed mid-send, its button opens
the update, a person who disallowed messages (901) is dropped, and SIGTERM lets a send finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from advisor.storage.db import create_engine
from advisor.storage.tables import users
from advisor.storage.tracker_tables import tracker_placements as placements
from advisor.storage.tracker_tables import tracker_reminders as reminders
from advisor.texts import t
from tests.fakes.vk_api import FakeVK, SentMessage, VKRequest
from tests.vk_bot_driver import BotProcess, VkUser

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLL_SECONDS = 0.1
REMINDER = "Пора обновить цифры по размещению"
BUTTON = "Обновить цифры"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake
    assert fake.schema_violations == [] and fake.internal_errors == []
    assert fake.unimplemented_calls == []


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(vk: FakeVK, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        vk, tmp_path_factory.mktemp("vk-reminders"), {"REMINDER_POLL_SECONDS": str(POLL_SECONDS)}
    )
    await process.start()
    yield process
    code = await process.stop()
    log = process.log_text()
    await process.kill()
    assert code == 0, log
    assert " ERROR " not in log and "Traceback" not in log, log


def database_url(bot: BotProcess) -> str:
    return f"sqlite+aiosqlite:///{bot.workdir / 'vk.db'}"


async def reminder_row(bot: BotProcess, peer_id: int) -> Any:
    engine = create_engine(database_url(bot))
    try:
        async with engine.connect() as connection:
            query = (
                select(reminders)
                .join(placements, placements.c.id == reminders.c.placement_id)
                .join(users, users.c.id == placements.c.user_id)
                .where(users.c.channel == "vk", users.c.external_id == str(peer_id))
            )
            return (await connection.execute(query)).one()
    finally:
        await engine.dispose()


async def change_reminder(bot: BotProcess, reminder_id: int, **values: Any) -> None:
    engine = create_engine(database_url(bot))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(reminders).where(reminders.c.id == reminder_id).values(**values)
            )
    finally:
        await engine.dispose()


async def make_due(bot: BotProcess, peer_id: int) -> int:
    """What three days of waiting would do: the reminder's moment is now in the past."""
    row = await reminder_row(bot, peer_id)
    await change_reminder(bot, row.id, due_at=datetime.now(UTC) - timedelta(minutes=1))
    return int(row.id)


async def record_placement(user: VkUser, line: str) -> None:
    await user.say("меню")
    await user.press_through_pages("Учёт размещений")
    await user.press_through_pages("Добавить одной строкой")
    await user.say(line)
    assert "Записал размещение" in user.text, user.text
    assert "напомню прислать свежие цифры" in user.text, user.text


def shown(vk: FakeVK, peer_id: int) -> list[SentMessage]:
    return [m for m in vk.messages_to(peer_id) if REMINDER in m.message]


def send_requests(vk: FakeVK, peer_id: int) -> list[VKRequest]:
    return [
        r
        for r in vk.requests
        if r.method == "messages.send"
        and r.params.get("peer_id") == str(peer_id)
        and REMINDER in r.params.get("message", "")
    ]


async def until(check: Callable[[], bool], bot: BotProcess, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, bot.log_text()[-3000:]
        await asyncio.sleep(0.02)


async def quiet_ticks(count: int = 5) -> None:
    await asyncio.sleep(POLL_SECONDS * count)


async def test_reminder_arrives_once_a_crash_does_not_show_it_twice_and_it_opens_the_update(
    vk: FakeVK, bot: BotProcess
) -> None:
    anna, boris = VkUser(vk, 5001, bot=bot), VkUser(vk, 5002, bot=bot)
    await record_placement(anna, "-; Кулинария; админ; видео; 1000; сегодня")
    await record_placement(boris, "-; Мамы Москвы; биржа ВК; -; 500; сегодня")
    await quiet_ticks()
    assert shown(vk, anna.peer_id) == [], "a reminder went out before it was due"

    await make_due(bot, anna.peer_id)
    await until(lambda: len(shown(vk, anna.peer_id)) == 1, bot)
    (message,) = shown(vk, anna.peer_id)
    assert "№1 в «Кулинария»" in message.message and "Креатив: «видео»" in message.message
    keyboard = message.keyboard_data
    assert keyboard is not None and keyboard["inline"] is True
    buttons = [button["action"] for row in keyboard["buttons"] for button in row]
    assert [(b["type"], b["label"]) for b in buttons] == [
        ("text", BUTTON),
        ("text", t("dialog.menu")),
    ]
    await quiet_ticks()
    assert len(shown(vk, anna.peer_id)) == 1
    assert (await reminder_row(bot, anna.peer_id)).sent_at is not None

    # The process dies after VK got Boris's reminder but before the send was recorded.
    vk.delay_next("messages.send", 1.0)
    reminder_id = await make_due(bot, boris.peer_id)
    await until(lambda: len(send_requests(vk, boris.peer_id)) == 1, bot)
    await bot.kill()
    await until(lambda: len(shown(vk, boris.peer_id)) == 1, bot)
    row = await reminder_row(bot, boris.peer_id)
    assert row.sent_at is None and row.claim_token is not None
    # Its claim outlives the process; once it lapses, the next process sends it again.
    await change_reminder(bot, reminder_id, claimed_until=datetime.now(UTC) - timedelta(seconds=1))
    await bot.start()
    await until(lambda: len(send_requests(vk, boris.peer_id)) == 2, bot)
    await quiet_ticks()
    first, second = send_requests(vk, boris.peer_id)
    assert first.params["random_id"] == second.params["random_id"] != "0"
    assert len(shown(vk, boris.peer_id)) == 1, "the repeated send was shown twice"
    assert (await reminder_row(bot, boris.peer_id)).sent_at is not None
    # Anna's reminder, sent before the crash, is not sent by the new process.
    assert len(shown(vk, anna.peer_id)) == len(send_requests(vk, anna.peer_id)) == 1

    anna.seen, anna.last = len(anna.messages()), [message]
    await anna.press(BUTTON)
    assert "Пришлите свежие цифры по размещению №1." in anna.text, anna.text
    assert "№1 · Кулинария · Напрямую у админа" in anna.text
    await anna.say("просмотры 4 000; переходы 80; подписки 20; скрытия 100; действия 250")
    assert "Обновил №1" in anna.text, anna.text
    assert (await reminder_row(bot, anna.peer_id)).answered_at is not None


async def test_person_who_disallowed_messages_is_dropped_with_one_line(
    vk: FakeVK, bot: BotProcess
) -> None:
    gleb = VkUser(vk, 5004, bot=bot)
    await record_placement(gleb, "-; Кулинария; админ; -; 300; сегодня")
    vk.allowed_peers.discard(gleb.peer_id)  # «Запретить сообщения от сообщества»
    reminder_id = await make_due(bot, gleb.peer_id)
    row = await reminder_row(bot, gleb.peer_id)
    deadline = time.monotonic() + 60
    while row.failed_at is None:
        assert time.monotonic() < deadline, bot.log_text()[-3000:]
        await asyncio.sleep(0.05)
        row = await reminder_row(bot, gleb.peer_id)
    await quiet_ticks()
    assert row.sent_at is None and row.attempts == 1
    assert len(send_requests(vk, gleb.peer_id)) == 1, "a refused reminder was retried"
    assert [r.error for r in send_requests(vk, gleb.peer_id)] == [901]
    log = bot.log_text()
    assert log.count(f"reminder {reminder_id} dropped") == 1, log
    assert f"peer {gleb.peer_id}" not in log, "the front-end logged the refusal too"


async def test_sigterm_lets_the_reminder_being_sent_finish(vk: FakeVK, bot: BotProcess) -> None:
    # Last in the module: it leaves the process stopped.
    vera = VkUser(vk, 5003, bot=bot)
    await record_placement(vera, "-; Кулинария; админ; -; 700; сегодня")
    vk.delay_next("messages.send", 1.0)
    await make_due(bot, vera.peer_id)
    await until(lambda: len(send_requests(vk, vera.peer_id)) == 1, bot)
    assert await bot.stop() == 0
    assert len(shown(vk, vera.peer_id)) == 1
    assert (await reminder_row(bot, vera.peer_id)).sent_at is not None
