"""Restarting the real `promo-advisor vk` process mid-scenario: the dialog goes on at its step.

The user keeps pressing while the bot is down; the restarted process asks VK's long poll from
the last handled position, so that press is not lost, and nothing is answered twice.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.fakes.vk_api import FakeVK
from tests.vk_bot_driver import BotProcess, VkUser


def _question(text: str) -> int:
    found = re.findall(r"Вопрос (\d+) из \d+", text)
    assert found, text
    return int(found[-1])


def _long_poll_state(folder: Path) -> list[tuple[int, str]]:
    """The positions the bot kept in its database (not in a file: nothing else is saved)."""
    assert not list(folder.glob("vk-longpoll-*.json"))
    with sqlite3.connect(folder / "vk.db") as db:
        return list(db.execute("SELECT group_id, ts FROM vk_longpoll_positions"))


async def _press_while_down(user: VkUser, label: str) -> None:
    action, _ = user.button(label)
    user.vk.message_event(user.peer_id, json.loads(action["payload"]))


async def test_restart_mid_checklist_continues_at_the_same_step(
    fake_vk: FakeVK, tmp_path: Path
) -> None:
    vk = fake_vk
    bot = BotProcess(vk, tmp_path)
    user = VkUser(vk, 3001, bot=bot)
    try:
        await bot.start()
        await user.say("Начать")
        await user.press_through_pages("Подготовить сообщество")
        await user.press("Коммерческое")
        await user.press_through_pages("Продажи по любому ГЕО")
        await user.press("Пройти чек-лист")
        await user.press("Да")
        await user.press("Нет")
        assert _question(user.text) == 3

        # A graceful stop (SIGTERM), and a press while nobody listens.
        assert await bot.stop() == 0
        assert _long_poll_state(tmp_path), "the long poll position was not kept"
        sent_before = len(user.messages())
        await _press_while_down(user, "Да")
        await bot.start()
        await user.reply()
        assert _question(user.text) == 4
        assert len(user.messages()) == sent_before + 1  # nothing earlier was answered again

        # A crash (SIGKILL): the position on disk may lag behind; redelivered events are
        # recognised, and the dialog still goes on from where it was.
        await user.press("Не знаю")
        assert _question(user.text) == 5
        await bot.kill()
        sent_before = len(user.messages())
        await _press_while_down(user, "Да")
        await bot.start()
        await user.reply()
        assert _question(user.text) == 6
        assert len(user.messages()) == sent_before + 1
        assert await bot.stop() == 0
    finally:
        await bot.kill()
