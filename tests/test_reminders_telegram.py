"""Tracker reminders through the real `promo-advisor telegram` process and the fake Bot API: a
placement recorded in the chat is reminded about once it is due (the test moves its due time in
the database), exactly once across restarts, its button opens the update, a blocked chat's
reminder is dropped, and another channel's reminders are left alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from advisor.app import Advisor
from advisor.config import Settings
from advisor.storage.db import create_engine
from advisor.storage.tables import users
from advisor.storage.tracker_tables import tracker_placements as placements
from advisor.storage.tracker_tables import tracker_reminders as reminders
from advisor.texts import t
from tests.chat_helpers import ChatUser
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.telegram_driver import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLL_SECONDS = 0.1
REMINDER = "Пора обновить цифры по размещению"
BUTTON = "Обновить цифры"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(
    tg: FakeTelegram, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    process = BotProcess(
        tg,
        tmp_path_factory.mktemp("reminders"),
        {"REMINDER_POLL_SECONDS": str(POLL_SECONDS)},
    )
    await process.start()
    yield process
    code = await process.stop()
    log = process.log_text()
    assert code == 0, log
    assert " ERROR " not in log and "Traceback" not in log, log


def database_url(bot: BotProcess) -> str:
    return f"sqlite+aiosqlite:///{bot.workdir / 'telegram.db'}"


async def reminder_rows(bot: BotProcess, channel: str, external_id: str) -> list[Any]:
    engine = create_engine(database_url(bot))
    try:
        async with engine.connect() as connection:
            query = (
                select(reminders, placements.c.number)
                .join(placements, placements.c.id == reminders.c.placement_id)
                .join(users, users.c.id == placements.c.user_id)
                .where(users.c.channel == channel, users.c.external_id == external_id)
                .order_by(placements.c.number)
            )
            return list((await connection.execute(query)).all())
    finally:
        await engine.dispose()


async def make_due(bot: BotProcess, reminder_id: int) -> None:
    """What three days of waiting would do: the reminder's moment is now in the past."""
    engine = create_engine(database_url(bot))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id)
                .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
            )
    finally:
        await engine.dispose()


async def record_placement(user: TelegramUser, line: str) -> None:
    await user.say("меню")
    await user.press("Учёт размещений")
    await user.press("Добавить одной строкой")
    await user.say(line)
    assert "Записал размещение" in user.text, user.text
    assert "напомню прислать свежие цифры" in user.text, user.text


def reminders_shown(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [m.shown_text for m in tg.messages(chat_id) if REMINDER in m.shown_text]


async def quiet_ticks(count: int = 5) -> None:
    await asyncio.sleep(POLL_SECONDS * count)


async def test_due_reminder_arrives_once_across_a_restart_and_opens_the_update(
    tg: FakeTelegram, bot: BotProcess
) -> None:
    anna, boris = tg.user(first_name="Анна"), tg.user(first_name="Борис")
    await record_placement(anna, "-; Кулинария; админ; видео; 1000; сегодня")
    await record_placement(boris, "-; Мамы Москвы; биржа ВК; -; 500; сегодня")
    (first,) = await reminder_rows(bot, "telegram", str(anna.id))
    (second,) = await reminder_rows(bot, "telegram", str(boris.id))
    await quiet_ticks()
    assert reminders_shown(tg, anna.id) == [], "a reminder went out before it was due"

    await make_due(bot, first.id)
    await tg.wait_for(lambda: len(reminders_shown(tg, anna.id)) == 1, 10)
    (text,) = reminders_shown(tg, anna.id)
    assert "№1 в «Кулинария»" in text and "Креатив: «видео»" in text, text
    assert tg.messages(anna.id)[-1].labels == [BUTTON, t("dialog.menu")]
    await quiet_ticks()
    assert len(reminders_shown(tg, anna.id)) == 1
    (first,) = await reminder_rows(bot, "telegram", str(anna.id))
    assert first.sent_at is not None and first.attempts == 1
    assert reminders_shown(tg, boris.id) == []

    # Boris's reminder falls due while the process is down: the next one sends it, only it.
    assert await bot.stop() == 0
    await make_due(bot, second.id)
    await bot.start()
    await tg.wait_for(lambda: len(reminders_shown(tg, boris.id)) == 1, 10)
    await quiet_ticks()
    assert len(reminders_shown(tg, boris.id)) == 1
    assert len(reminders_shown(tg, anna.id)) == 1, "the restarted process sent it again"
    assert len(tg.calls_to("sendMessage", anna.id)) == len(tg.messages(anna.id))

    await anna.press(BUTTON)
    assert "Пришлите свежие цифры по размещению №1." in anna.text, anna.text
    assert "№1 · Кулинария · Напрямую у админа" in anna.text
    await anna.say("просмотры 4 000; переходы 80; подписки 20; скрытия 100; действия 250")
    assert "Обновил №1" in anna.text, anna.text
    (first,) = await reminder_rows(bot, "telegram", str(anna.id))
    assert first.answered_at is not None


async def test_blocked_chat_drops_the_reminder_with_one_line(
    tg: FakeTelegram, bot: BotProcess
) -> None:
    user = tg.user(first_name="Вера")
    await record_placement(user, "-; Кулинария; админ; -; 700; сегодня")
    (row,) = await reminder_rows(bot, "telegram", str(user.id))
    tg.block(user.id)
    tries = len(tg.calls_to("sendMessage", user.id))
    await make_due(bot, row.id)
    deadline = asyncio.get_running_loop().time() + 60
    while (await reminder_rows(bot, "telegram", str(user.id)))[0].failed_at is None:
        assert asyncio.get_running_loop().time() < deadline, bot.log_text()[-3000:]
        await asyncio.sleep(0.05)
    await quiet_ticks()
    (row,) = await reminder_rows(bot, "telegram", str(user.id))
    assert row.sent_at is None and row.attempts == 1
    assert len(tg.calls_to("sendMessage", user.id)) == tries + 1, "a refused reminder was retried"
    log = bot.log_text()
    assert log.count(f"reminder {row.id} dropped") == 1, log
    assert f"chat {user.id} refuses messages" not in log, "the front-end logged the drop too"
    tg.unblock(user.id)


async def test_other_channels_reminders_are_left_alone(tg: FakeTelegram, bot: BotProcess) -> None:
    # A VK person of the same database: only a VK process may claim their reminder.
    settings = Settings(database_url=database_url(bot), vk_user_token=None, vk_service_token=None)
    advisor = await Advisor.open(settings)
    try:
        person = ChatUser(advisor, "424242", channel="vk")
        await person.say("меню")
        await person.press("Учёт размещений")
        await person.press("Добавить одной строкой")
        await person.say("-; Кулинария; админ; -; 900; сегодня")
        assert "Записал размещение" in person.text, person.text
    finally:
        await advisor.close()
    (row,) = await reminder_rows(bot, "vk", "424242")
    await make_due(bot, row.id)
    await quiet_ticks()
    (row,) = await reminder_rows(bot, "vk", "424242")
    assert (row.attempts, row.claim_token, row.sent_at, row.failed_at) == (0, None, None, None)
