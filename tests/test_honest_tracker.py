"""Issue 14, tracker polish, through the real Advisor: typed «да»/«нет» on the delete
confirmation, one syntax for adding and updating, advice per method, no CLI id in chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from advisor.app import Advisor
from advisor.dialog.types import Outgoing
from advisor.tracker.reminders import ReminderService
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.test_tracker_dialog import (
    add_by_line,
    make_settings,
    open_tracker,
    serve_post,
    stored_rows,
    vk_settings,
)


@pytest.fixture
async def advisor(tmp_path: Path) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    yield opened
    await opened.close()


async def open_row(user: ChatUser, number: int) -> None:
    await user.press("Мои размещения")
    await user.press("Изменить или удалить")
    await user.say(str(number))


@pytest.mark.parametrize("answer", ["да", "Да!", "удалить", "да, удалить"])
async def test_typed_yes_deletes_the_row(advisor: Advisor, answer: str) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня")
    await open_row(user, 1)
    await user.press("Удалить строку")
    assert "Удалить строку №1? Это нельзя отменить." in user.text
    await user.say(answer)
    assert "Строка №1 удалена." in user.text, user.text
    assert await stored_rows(advisor) == []
    assert "Мои размещения" in user.labels()


@pytest.mark.parametrize(
    "answer", ["нет", "Нет, оставить", "оставь", "нет.", "не надо", "Отмена", "передумал"]
)
async def test_typed_no_keeps_the_row(advisor: Advisor, answer: str) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня")
    await open_row(user, 1)
    await user.press("Удалить строку")
    await user.say(answer)
    assert "удалена" not in user.text
    assert "Что поменять?" in user.text, user.text
    assert len(await stored_rows(advisor)) == 1


async def test_other_answer_on_the_delete_confirmation_asks_again(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня")
    await open_row(user, 1)
    await user.press("Удалить строку")
    await user.say("может быть")
    assert "«да» или «нет»" in user.text, user.text
    assert len(await stored_rows(advisor)) == 1
    await user.press("Да, удалить")
    assert "Строка №1 удалена." in user.text


async def test_adding_and_updating_share_one_syntax(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # Named parts without colons, as the update step accepts them.
    await add_by_line(user, "паблик Кулинария; способ админ; период сегодня; просмотры 5 000")
    (row,) = await stored_rows(advisor)
    assert (row.public, row.method, row.views) == ("Кулинария", "admin", 5000)
    # And with colons in the update, as the line form accepts them.
    await open_row(user, 1)
    await user.say("переходы: 120; подписки 10")
    assert "Обновил №1: переходы, подписки." in user.text


async def test_exchange_row_asks_for_figures_in_the_exchange_cabinet(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Мамы; биржа ВК; скидка; 2000; сегодня; 5000")
    assert "в ЛК биржи" in user.text, user.text
    assert "администратор" not in user.text


async def test_export_info_shows_no_cli_id(advisor: Advisor) -> None:
    user = ChatUser(advisor, "secret-user-42")
    await open_tracker(user)
    await user.press("Выгрузить таблицу")
    assert "CSV" in user.text
    assert "secret-user-42" not in user.text
    assert "командной строки" not in user.text


@pytest.mark.parametrize(
    ("method", "where", "not_where"),
    [("биржа ВК", "в ЛК биржи ВК", "у админа"), ("админ", "у администратора паблика", "ЛК")],
)
async def test_reminder_says_where_to_look_per_method(
    advisor: Advisor, method: str, where: str, not_where: str
) -> None:
    user = ChatUser(advisor, "555", channel="telegram")
    await add_by_line(user, f"-; Кулинария; {method}; видео; 1000; сегодня")
    sent: list[Outgoing] = []

    async def send(channel: str, user_id: str, message: Outgoing) -> None:
        sent.append(message)

    later = datetime.now(UTC) + timedelta(days=4)
    assert await ReminderService(advisor.db).run_once(send, later) == 1
    (message,) = sent
    assert where in message.text and not_where not in message.text


async def test_counts_agree_with_their_numbers(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня; 8041; 21; 3; 2; 2")
    assert "8 041 просмотр · 21 переход · 3 подписки · 2 скрытия · 2 целевых действия" in (
        user.text
    )
    await add_by_line(user, "-; Мамы; админ; скидка; 2000; сегодня; 12000; 300; 40")
    await add_by_line(user, "-; Мамы; биржа ВК; скидка; 500; сегодня; 1000; 10; 5")
    await user.press("Сравнить и график")
    text = user.last[0].text
    assert text.startswith("Всего 3 размещения: бюджет 3 500 ₽, 21 041 просмотр,"), text
    assert "• Мамы: 2 размещения" in text
    assert "разм." not in text
    await user.press("Мои размещения")
    assert "12 000 просмотров · 40 подписок" in user.text


async def test_one_figure_one_rounding_on_the_card(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # 1 555 of 10 000 hid the post: 15,55% — shown once as the verdict shows it.
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня; 10000; 100; 10; 1555; 6")
    assert "скрыли 15,6%" in user.text and "Пост скрыли 15,6%" in user.text, user.text
    assert "15,55" not in user.text


@pytest.mark.parametrize("link", ["vk.com/wall-555_45", "https://vk.com/public555?w=wall-555_45"])
async def test_post_link_takes_the_public_and_members_without_asking(
    tmp_path: Path, fake_vk: FakeVK, link: str
) -> None:
    serve_post(fake_vk, views=9000, likes=90)
    advisor = await Advisor.open(vk_settings(tmp_path, fake_vk))
    try:
        user = ChatUser(advisor)
        await open_tracker(user)
        await user.press("Добавить по шагам")
        assert "Как разместили рекламу" in user.text  # the method first
        await user.say(link)  # the old habit: the link first
        assert "Сначала выберите способ размещения" in user.text, user.text
        await user.press("Напрямую у админа")
        await user.say(link)
        assert "Пост вышел в «Кулинария СПб»" in user.text
        assert "В каком паблике" not in user.text and "Сколько участников" not in user.text
        assert "Как назовём креатив" in user.text, user.text
        await user.press("Пропустить")
        await user.press("Пропустить")
        await user.say("вчера")
        await user.say("150")  # VK's views are in: the clicks come next
        await user.press("Пропустить")
        await user.press("Пропустить")
        await user.press("Пропустить")
        (row,) = await stored_rows(advisor)
        assert (row.public, row.members, row.views, row.clicks) == (
            "Кулинария СПб",
            12000,
            9000,
            150,
        )
    finally:
        await advisor.close()


async def test_a_deleted_post_still_brings_its_public(tmp_path: Path, fake_vk: FakeVK) -> None:
    serve_post(fake_vk, views=9000, likes=90)
    advisor = await Advisor.open(vk_settings(tmp_path, fake_vk))
    try:
        user = ChatUser(advisor)
        await open_tracker(user)
        await user.press("Добавить по шагам")
        await user.press("Биржа ВК")
        await user.say("https://vk.com/wall-555_999")  # no such post on the wall
        assert "не нашёлся во ВКонтакте" in user.text
        assert "Паблик из ВК: «Кулинария СПб», 12 000 участников" in user.text, user.text
        assert "Как назовём креатив" in user.text
        assert fake_vk.count("groups.getById") == 1
    finally:
        await advisor.close()


async def test_vk_ads_asks_no_public_and_no_members(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await open_tracker(user)
    await user.press("Добавить по шагам")
    await user.press("VK Реклама")
    assert "Как назовём креатив" in user.text, user.text
    await user.say("видео")
    await user.say("3000")
    await user.say("сегодня")
    await user.press("Цифр пока нет")
    assert "Записал размещение №1." in user.text
    (row,) = await stored_rows(advisor)
    assert (row.public, row.method, row.members) == ("VK Реклама", "vk_ads", None)
