"""The tracker through the Advisor facade on real databases (SQLite and PostgreSQL), driven like a
person would; VK figures from the fake VK API; the export command."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from advisor.app import Advisor
from advisor.config import Settings, get_settings
from advisor.dialog.types import Outgoing
from advisor.storage.tracker_tables import tracker_placements
from advisor.tracker import chart as tracker_chart
from advisor.tracker import export as tracker_export
from advisor.tracker import repository as tracker_repository
from advisor.tracker.reminders import ReminderService
from advisor.tracker.repository import MOSCOW, PlacementRepository, TrackerFull
from bot.cli import main as cli_main
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import PostSpec, make_public

MENU_TITLE = "Учёт размещений"


def make_settings(database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "vk_user_token": None,
        "vk_service_token": None,
    }
    return Settings(**(values | extra))


@pytest.fixture
async def advisor(database_url: str) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(make_settings(database_url))
    yield opened
    await opened.close()


def today() -> datetime:
    return datetime.now(UTC).astimezone(MOSCOW)


async def open_tracker(user: ChatUser) -> None:
    await user.say("меню")
    await user.press(MENU_TITLE)


async def add_by_line(user: ChatUser, line: str) -> None:
    await open_tracker(user)
    await user.press("Добавить одной строкой")
    await user.say(line)
    assert "Записал размещение" in user.text, user.text


async def stored_rows(advisor: Advisor) -> list[Any]:
    async with advisor.db.connect() as connection:
        query = select(tracker_placements).order_by(tracker_placements.c.id)
        return list((await connection.execute(query)).all())


# --- the scenario file and the code agree -------------------------------------------------------


# --- step by step ------------------------------------------------------------------------------


async def test_step_by_step_entry_validates_every_field(advisor: Advisor) -> None:
    user = ChatUser(advisor, "anna")
    await user.say("/start")
    assert MENU_TITLE in user.labels()
    await user.press(MENU_TITLE)
    assert "Размещений пока нет" in user.text
    await user.press("Добавить по шагам")
    # The method first: it decides whether there is a public to ask about.
    assert "Как разместили рекламу" in user.text
    await user.say("биржа")
    assert "Уточните, какая биржа" in user.text
    await user.say("через телеграм")
    assert "Не понял способ «через телеграм»" in user.text
    await user.press("Биржа ВК")
    assert "Способ: Биржа ВК." in user.text
    assert "ссылку на рекламный пост" in user.text

    await user.say("https://vk.com/club123")
    assert "Это не ссылка на пост в сообществе" in user.text
    await user.say("https://vk.com/wall-123_45")
    assert "В каком паблике" in user.text  # no VK token here: asked
    await user.say("Кулинария СПб")
    assert "Сколько участников в этом паблике?" in user.text
    await user.say("12,5 тыс")
    assert "Как назовём креатив" in user.text
    await user.say("видео с отзывом")
    await user.say("-300")
    assert user.text == "Бюджет: число не может быть меньше нуля."
    await user.say("1,5 тыс")
    assert "Когда вышел пост" in user.text
    await user.say("05.03.2025 — 01.03.2025")
    assert "Конец периода (01.03.2025) раньше начала (05.03.2025)." in user.text
    await user.say("вчера")
    assert "Сколько просмотров" in user.text
    await user.say("двенадцать тысяч")
    assert "Просмотры: не понял число «двенадцать тысяч»" in user.text
    await user.say("12 000")
    await user.say("20 000")
    assert "Переходы: 20 000 — больше, чем просмотров (12 000)." in user.text
    await user.say("300")
    await user.say("40")
    await user.say("1 800")
    assert "других целевых действий" in user.text
    await user.say("18")

    assert "Записал размещение №1." in user.text
    assert "№1 · Кулинария СПб · Биржа ВК" in user.text
    assert (
        "CPM 125 ₽ · CPC 5 ₽ · CTR 2,5% · подписчик 37,5 ₽ · действия от переходов 6% · скрыли 15%"
        in user.text
    )
    assert "Вывод: размещение сработало нормально." in user.text
    assert "напомню прислать свежие цифры" in user.text
    assert {"Добавить ещё", "Мои размещения", "Сравнить и график"} <= set(user.labels())

    (row,) = await stored_rows(advisor)
    yesterday = (today() - timedelta(days=1)).date()
    assert (row.public, row.method, row.creative, row.budget_kop) == (
        "Кулинария СПб",
        "vk_exchange",
        "видео с отзывом",
        150000,
    )
    assert (row.post_owner_id, row.post_id, row.start_date, row.end_date) == (
        -123,
        45,
        yesterday,
        None,
    )
    assert (row.views, row.clicks, row.subscribers, row.hides, row.actions, row.members) == (
        12000,
        300,
        40,
        1800,
        18,
        12500,
    )


async def test_back_returns_to_the_previous_field_and_skips_work(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await open_tracker(user)
    await user.press("Добавить по шагам")
    await user.press("Напрямую у админа")
    await user.press("Без ссылки")
    await user.say("Мамы Москвы")
    await user.press("Пропустить")  # the public's size
    await user.press("Пропустить")  # no creative
    assert "Сколько заплатили" in user.text
    await user.press("← Назад")
    assert "Как назовём креатив" in user.text
    await user.say("скидка")
    await user.say("3000")
    await user.say("сегодня")
    await user.press("Цифр пока нет")
    assert "Записал размещение №1." in user.text
    assert "Цифр пока нет: пришлите их" in user.text
    assert "Вывод будет, когда появятся просмотры." in user.text
    (row,) = await stored_rows(advisor)
    assert (row.creative, row.budget_kop, row.views) == ("скидка", 300000, None)


async def test_free_placement_costs_nothing(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await open_tracker(user)
    await user.press("Добавить по шагам")
    await user.press("Бесплатно")
    await user.press("Без ссылки")
    await user.say("Доска объявлений района")
    await user.press("Пропустить")
    await user.press("Пропустить")
    await user.press("Пропустить")  # budget
    await user.say("сегодня")
    await user.say("500")
    await user.press("Пропустить")
    await user.say("5")
    await user.press("Пропустить")
    await user.press("Пропустить")
    assert "подписчик 0 ₽" in user.text
    (row,) = await stored_rows(advisor)
    assert row.budget_kop == 0


# --- one line ----------------------------------------------------------------------------------


async def test_one_line_entry_reports_all_problems_then_saves(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await open_tracker(user)
    await user.press("Добавить одной строкой")
    await user.say("vk.com/club1; Кулинария; биржа ВК; видео; -5; 31.02.2025; 100; 200")
    assert "Нужно поправить:" in user.text
    assert "• Это не ссылка на пост в сообществе: «vk.com/club1»." in user.text
    assert "• Бюджет: число не может быть меньше нуля." in user.text
    assert "• Такой даты нет: 31.02.2025." in user.text
    assert "Исправьте и пришлите строку ещё раз." in user.text
    await user.say("-; Кулинария; биржа ВК; видео; 1 500; 01.03.2025; 100; 200")
    assert "Переходы: 200 — больше, чем просмотров (100)." in user.text
    assert await stored_rows(advisor) == []
    await user.say("-; Кулинария; биржа ВК; видео; 1 500; 01.03.2025–05.03.2025; 1 000; 200")
    assert "Записал размещение №1." in user.text
    await user.press("Добавить ещё")
    assert "Как разместили рекламу" in user.text

    await open_tracker(user)
    await user.press("Добавить одной строкой")
    await user.say("паблик: Фитнес Казань; способ: VK Реклама; период: сегодня; бюджет: 2 тыс")
    assert "Записал размещение №2." in user.text
    rows = await stored_rows(advisor)
    assert [(r.number, r.public, r.method, r.budget_kop) for r in rows] == [
        (1, "Кулинария", "vk_exchange", 150000),
        (2, "Фитнес Казань", "vk_ads", 200000),
    ]


# --- table, edit, delete -----------------------------------------------------------------------


async def test_table_edit_and_delete(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня")
    await add_by_line(user, "-; Мамы; биржа ВК; скидка; 2000; сегодня; 5000; 100; 10")
    await user.press("Мои размещения")
    assert "Ваши размещения (2):" in user.text
    assert "№1. Кулинария — Напрямую у админа, «видео»" in user.text
    assert "⏳ ждём цифры" in user.text
    assert "№2. Мамы — Биржа ВК, «скидка»" in user.text

    await user.press("Изменить или удалить")
    await user.say("1")
    assert "№1 · Кулинария · Напрямую у админа" in user.text
    assert "Что поменять?" in user.text
    await user.say("просмотры 1 000; переходы 2 000")
    assert user.text == "Переходы: 2 000 — больше, чем просмотров (1 000). Проверьте цифры."
    await user.say("всё отлично")
    assert "Не понял, к какому полю относится «всё отлично»" in user.text
    await user.say("просмотры 10 000; подписки: 25; скрытия 300; действия 600; креатив -")
    assert "Обновил №1: просмотры, подписки, скрытия, целевые действия, креатив." in user.text
    assert "подписчик 40 ₽" in user.text
    assert "Креатив:" not in user.text
    await user.press("Изменить ещё")
    await user.say("период 01.03.2025 - 05.03.2025")
    assert "Период: 01.03.2025 — 05.03.2025" in user.text

    await user.press("Другая строка")
    await user.say("№2")
    await user.press("Удалить строку")
    assert "Удалить строку №2? Это нельзя отменить." in user.text
    await user.press("Нет, оставить")
    assert len(await stored_rows(advisor)) == 2
    await user.press("Удалить строку")
    await user.press("Да, удалить")
    assert "Строка №2 удалена." in user.text
    assert [r.number for r in await stored_rows(advisor)] == [1]
    # A stale «Да, удалить» deletes nothing more.
    await user.payload("g:tracker:del_yes")
    assert "Этой строки уже нет в таблице" in user.text
    assert [r.number for r in await stored_rows(advisor)] == [1]


async def test_pick_row_messages(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "-; Кулинария; админ; -; 1000; сегодня")
    await user.press("Мои размещения")
    await user.press("Изменить или удалить")
    await user.say("первую")
    assert user.text == "Нужен номер строки из таблицы, например 3."
    await user.say("7")
    assert user.text == "Строки №7 нет в вашей таблице."
    await user.say("строка 1")
    assert "№1 · Кулинария" in user.text


async def test_two_people_see_only_their_own_rows(advisor: Advisor) -> None:
    anna = ChatUser(advisor, "100", channel="telegram")
    boris = ChatUser(advisor, "100", channel="vk")  # same id, other channel: another person
    await add_by_line(anna, "-; Паблик Анны; админ; -; 1000; сегодня; 1000; 10; 5")
    await add_by_line(anna, "-; Второй паблик Анны; админ; -; 500; сегодня")
    await add_by_line(boris, "-; Паблик Бориса; биржа ВК; -; 700; сегодня")

    await boris.press("Мои размещения")
    assert "Ваши размещения (1):" in boris.text
    assert "Паблик Бориса" in boris.text and "Анны" not in boris.text
    await boris.press("Изменить или удалить")
    await boris.say("2")
    assert boris.text == "Строки №2 нет в вашей таблице."
    await boris.press("Мои размещения")
    await boris.press("Сравнить и график")
    assert "Всего 1 размещение" in boris.text and "Анны" not in boris.text

    await anna.press("Мои размещения")
    assert "Ваши размещения (2):" in anna.text and "Бориса" not in anna.text
    await anna.press("Выгрузить таблицу")
    await anna.press("CSV")
    document = anna.last[-1].document
    assert document is not None
    text = document.data.decode("utf-8-sig")
    assert "Паблик Анны" in text and "Бориса" not in text


# --- report and export -------------------------------------------------------------------------


async def test_report_chart_and_both_exports(advisor: Advisor) -> None:
    user = ChatUser(advisor, "local:anna")
    await add_by_line(user, "-; Кулинария; биржа ВК; видео; 1500; 01.03.2025; 12000; 300; 40")
    await add_by_line(user, "-; Мамы; админ; скидка; 3000; 02.03.2025; 8000; 100; 0")
    await user.press("Сравнить и график")
    (message,) = user.last
    assert "Лучше всего: «Кулинария» — 37,5 ₽ за подписчика." in message.text
    assert "Хуже всего: «Мамы» — потрачено 3 000 ₽, а подписчиков нет." in message.text
    assert message.image is not None and message.image.png.startswith(b"\x89PNG")
    assert "Зелёный — дешевле всего" in message.image.caption

    await user.press("Выгрузить таблицу")
    assert "CSV" in user.text and "local:anna" not in user.text  # the CLI id is not for chat
    await user.press("CSV")
    csv_message = user.last[-1]
    assert csv_message.document is not None
    assert csv_message.document.filename.endswith(".csv")
    assert csv_message.document.mime == "text/csv"
    rows = list(
        csv.reader(io.StringIO(csv_message.document.data.decode("utf-8-sig")), delimiter=";")
    )
    assert [row[2] for row in rows] == ["Паблик", "Кулинария", "Мамы"]
    assert rows[1][20] == "37,5"

    await user.press("Другой формат")
    await user.press("Excel (XLSX)")
    xlsx = user.last[-1].document
    assert xlsx is not None and xlsx.filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Размещения"]
    assert [c.value for c in sheet["C"]] == ["Паблик", "Кулинария", "Мамы"]
    assert sheet["U2"].value == 37.5


@pytest.mark.parametrize(
    ("module", "function", "buttons"),
    [
        (tracker_export, "export", ["Выгрузить таблицу", "Excel (XLSX)"]),
        (tracker_chart, "comparison_chart", ["Сравнить и график"]),
    ],
)
async def test_an_export_or_chart_does_not_hold_up_another_person(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    function: str,
    buttons: list[str],
) -> None:
    """Proven by the order of events, not by a clock: the other person's whole turn is over
    while the file is still being written (the writer is held until then)."""
    advisor = await Advisor.open(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    writing, release = threading.Event(), threading.Event()
    draw = getattr(module, function)

    def held(*args: Any) -> Any:
        writing.set()
        # On the event loop this would stall everything; bounded so such a failure ends.
        release.wait(10)
        return draw(*args)

    monkeypatch.setattr(module, function, held)
    try:
        anna, boris = ChatUser(advisor, "anna"), ChatUser(advisor, "boris")
        await add_by_line(anna, "-; Кулинария; биржа ВК; видео; 1500; 01.03.2025; 12000; 300; 40")
        await open_tracker(anna)
        for label in buttons[:-1]:
            await anna.press(label)
        exporting = asyncio.create_task(anna.press(buttons[-1]))
        await asyncio.to_thread(writing.wait, 10)
        assert writing.is_set() and not exporting.done()
        await boris.say("меню")
        assert "Выберите раздел" in boris.text
        assert not exporting.done(), "the file was written before the other person was served"
        release.set()
        replies = await exporting
        assert replies[-1].document is not None or replies[-1].image is not None
    finally:
        release.set()
        await advisor.close()


async def test_a_full_table_takes_no_more_rows(
    advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_repository, "MAX_ROWS_PER_PERSON", 2)
    user = ChatUser(advisor, "local:anna")
    await add_by_line(user, "-; Кулинария; биржа ВК; видео; 1500; 01.03.2025")
    await add_by_line(user, "-; Мамы; админ; скидка; 3000; 02.03.2025")
    await open_tracker(user)
    await user.press("Добавить одной строкой")
    await user.say("-; Спорт; админ; фото; 900; 03.03.2025")
    assert "В таблице уже 2 размещений — это предел" in user.text
    assert "Записал размещение" not in user.text
    assert len(await stored_rows(advisor)) == 2
    # The store itself refuses too (two adds at once cannot both pass the check above).
    repo = PlacementRepository(advisor.db)
    user_pk = await repo.find_user("console", "local:anna")
    assert user_pk is not None
    row = (await repo.list(user_pk))[0]
    with pytest.raises(TrackerFull):
        await repo.add(user_pk, row, datetime.now(UTC))
    assert len(await stored_rows(advisor)) == 2


async def test_empty_report_and_export(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await open_tracker(user)
    await user.press("Сравнить и график")
    assert "Размещений пока нет" in user.text
    assert user.last[-1].image is None
    await user.press("Выгрузить таблицу")
    await user.press("CSV")
    assert user.last[-1].document is None
    assert "Размещений пока нет" in user.text


# --- reminders ---------------------------------------------------------------------------------


async def test_reminder_asks_for_numbers_once_and_the_button_opens_the_row(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    advisor = await Advisor.open(settings)
    user = ChatUser(advisor, "555", channel="telegram")
    await add_by_line(user, "-; Кулинария; админ; видео; 1000; сегодня")
    await add_by_line(user, "-; Мамы; админ; -; 500; 01.01.2020")  # too old to remind
    assert "напомню" not in user.text
    sent: list[tuple[str, str, Outgoing]] = []

    async def send(channel: str, user_id: str, message: Outgoing) -> None:
        sent.append((channel, user_id, message))

    later = datetime.now(UTC) + timedelta(days=4)
    assert await ReminderService(advisor.db).run_once(send, later) == 1
    await advisor.close()

    advisor = await Advisor.open(settings)  # a restart
    try:
        assert await ReminderService(advisor.db).run_once(send, later + timedelta(days=1)) == 0
        ((channel, user_id, message),) = sent
        assert (channel, user_id) == ("telegram", "555")
        assert "Пора обновить цифры по размещению №1 в «Кулинария»" in message.text
        user = ChatUser(advisor, "555", channel="telegram")
        await open_tracker(user)
        assert "Ждут свежих цифр: №1." in user.text

        # The person is elsewhere in the dialog when the reminder's button is pressed.
        await user.say("меню")
        await user.payload(message.buttons[0][0].payload)
        assert "Пришлите свежие цифры по размещению №1." in user.text
        assert "№1 · Кулинария · Напрямую у админа" in user.text
        await user.say("просмотры 4 000; переходы 80; подписки 20; скрытия 100; действия 250")
        assert "Обновил №1" in user.text
        assert "подписчик 50 ₽" in user.text
        assert "Следующее напоминание" in user.labels()
        await user.press("Следующее напоминание")
        assert "Сейчас ни одна строка не ждёт свежих цифр" in user.text
        await user.say("2")
        assert "№2 · Мамы" in user.text
        await open_tracker(user)
        assert "Ждут свежих цифр" not in user.text
    finally:
        await advisor.close()


# --- VK ----------------------------------------------------------------------------------------


def vk_settings(tmp_path: Path, vk: FakeVK, **extra: Any) -> Settings:
    return make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_api_url=vk.base_url,
        vk_service_token=vk.service_token,
        vk_service_rate_per_second=vk.service_rate,
        **extra,
    )


def serve_post(vk: FakeVK, views: int, likes: int) -> None:
    post = PostSpec(
        id=45, date=vk.now - 86_400, likes=likes, reposts=7, comments=4, views=views, text="Реклама"
    )
    vk.add_public(
        make_public("healthy", id=555, screen_name="kulinaria_spb", name="Кулинария СПб",
                    posts=(post,))
    )  # fmt: skip


async def test_post_link_brings_figures_from_vk_and_refresh(
    tmp_path: Path, fake_vk: FakeVK
) -> None:
    serve_post(fake_vk, views=9000, likes=90)
    advisor = await Advisor.open(vk_settings(tmp_path, fake_vk))
    try:
        user = ChatUser(advisor)
        await open_tracker(user)
        await user.press("Добавить по шагам")
        await user.press("Напрямую у админа")
        await user.say("https://vk.com/kulinaria_spb?w=wall-555_45")
        assert "Из ВК: 9 000 просмотров, 90 лайков, 7 репостов, 4 комментария, " in user.text
        assert "12 000 участников в паблике" in user.text
        # The public and its size are taken from VK, not asked.
        assert "Пост вышел в «Кулинария СПб»" in user.text
        assert "Как назовём креатив" in user.text
        await user.say("видео")
        await user.say("1 500")
        await user.say("вчера")
        assert "ВКонтакте показывает 9 000 просмотров — я их записал." in user.text
        assert "Сколько было переходов" in user.text  # VK's views are not asked again
        await user.say("150")
        await user.say("30")
        await user.say("200")
        await user.say("3")
        assert "№1 · Кулинария СПб · Напрямую у админа" in user.text
        assert "90 лайков · 7 репостов · 4 комментария · 12 000 участников в паблике" in (user.text)
        # 9 000 views in a public of 12 000 is a 75% reach: high; 2% of the 150 who clicked acted.
        assert "формат поста не подходит аудитории" in user.text
        assert fake_vk.count("wall.getById") == 1

        serve_post(fake_vk, views=15000, likes=120)
        await user.press("Мои размещения")
        await user.press("Обновить из ВК")
        assert "Обновил цифры из ВК:" in user.text
        assert "№1: Просмотры 9 000 → 15 000, Лайки 90 → 120" in user.text
        (row,) = await stored_rows(advisor)
        assert (row.views, row.likes, row.clicks) == (15000, 120, 150)
        assert row.vk_fetched_at is not None

        # A typed number (the admin's report) wins over VK's counter in the one-line form.
        await add_by_line(user, "vk.com/wall-555_45; Кулинария СПб; админ; -; 500; сегодня; 777")
        assert "777 просмотров" in user.text
        assert "120 лайков" in user.text

        fake_vk.add_public(make_public("healthy", id=555, posts=(), n_posts=0))  # the post is gone
        await user.press("Мои размещения")
        await user.press("Изменить или удалить")
        await user.say("1")
        await user.press("Обновить из ВК")
        assert "не нашёлся во ВКонтакте" in user.text
    finally:
        await advisor.close()


async def test_vk_failure_keeps_the_entry_going(tmp_path: Path, fake_vk: FakeVK) -> None:
    serve_post(fake_vk, views=9000, likes=90)
    advisor = await Advisor.open(vk_settings(tmp_path, fake_vk, vk_max_retries=0))
    try:
        fake_vk.fail_next("wall.getById", 10, times=5)
        user = ChatUser(advisor)
        await open_tracker(user)
        await user.press("Добавить по шагам")
        await user.press("Напрямую у админа")
        await user.say("https://vk.com/wall-555_45")
        assert "ВКонтакте сейчас не отвечает" in user.text
        assert "В каком паблике" in user.text
    finally:
        await advisor.close()


async def test_refresh_without_vk_token_says_so(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await add_by_line(user, "vk.com/wall-1_2; Кулинария; админ; -; 1000; сегодня")
    await user.press("Мои размещения")
    await user.press("Обновить из ВК")
    assert "не настроен доступ к VK API" in user.text


# --- the export command ------------------------------------------------------------------------


def test_export_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}")

    async def prepare() -> None:
        advisor = await Advisor.open(settings)
        try:
            user = ChatUser(advisor, "12345", channel="telegram")
            await add_by_line(user, "-; Кулинария; админ; видео; 1000; 01.03.2025; 5000; 50; 20")
        finally:
            await advisor.close()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        out = tmp_path / "table.xlsx"
        code = cli_main(
            ["export", "--user", "telegram:12345", "--format", "xlsx", "--out", str(out)]
        )
        assert code == 0
        assert f"Записал строк: 1 → {out}" in capsys.readouterr().out
        sheet = openpyxl.load_workbook(out)["Размещения"]
        assert [c.value for c in sheet[2]][:5] == [
            1,
            None,
            "Кулинария",
            "Напрямую у админа",
            "видео",
        ]

        out_csv = tmp_path / "table.csv"
        assert cli_main(["export", "--user", "telegram:12345", "--format", "csv", "--out",
                         str(out_csv)]) == 0  # fmt: skip
        assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")

        assert cli_main(["export", "--user", "12345", "--format", "csv", "--out", "x"]) == 2
        assert "Не понял ID «12345»" in capsys.readouterr().err
        assert cli_main(["export", "--user", "vk:12345", "--format", "csv", "--out", "x"]) == 2
        assert "Пользователь vk:12345 не найден" in capsys.readouterr().err
        missing = tmp_path / "no-such-dir" / "t.csv"
        args = ["export", "--user", "telegram:12345", "--format", "csv", "--out", str(missing)]
        assert cli_main(args) == 1
        assert "Не удалось записать файл" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
