"""Issue 14, «connect the tools», through the real Advisor with the fake VK API: a public check
and the results calculator hand their figures to the tracker («Записать в учёт»), a check offers
another link and a comparison, and the guide's tracking topics lead to the tracker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from advisor.app import Advisor
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public
from tests.test_tracker_dialog import make_settings, stored_rows, vk_settings


@pytest.fixture
async def advisor(tmp_path: Path, fake_vk: FakeVK) -> AsyncIterator[Advisor]:
    fake_vk.add_public(
        make_public("healthy", id=555, screen_name="kulinaria_spb", name="Кулинария СПб")
    )
    fake_vk.add_public(make_public("small", id=777, screen_name="mamy_tver", name="Мамы Твери"))
    opened = await Advisor.open(vk_settings(tmp_path, fake_vk))
    yield opened
    await opened.close()


async def test_a_checked_public_goes_to_the_tracker_with_its_members_and_reach(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("vk.com/kulinaria_spb")
    assert "Вердикт" in user.text
    labels = user.labels()
    assert {"Записать в учёт", "Пришлите ещё ссылку", "Сравнить с другим пабликом"} <= set(labels)
    await user.press("Записать в учёт")
    assert "Записываю по проверке паблика: «Кулинария СПб», 12 000 участников в паблике" in (
        user.text
    )
    assert "охват постов 11,2% участников (по проверке)" in user.text, user.text
    assert "Как разместили рекламу" in user.text
    await user.press("Напрямую у админа")
    await user.press("Без ссылки")
    # The public and its members are known: neither is asked.
    assert "Как назовём креатив" in user.text, user.text
    await user.press("Пропустить")
    await user.say("1 000")
    await user.say("вчера")
    await user.say("1 500")
    for _ in range(4):  # clicks, subscribers, hides, actions
        await user.press("Пропустить")
    assert "Записал размещение №1." in user.text
    # The check's reach beside this post's: 1 500 of 12 000 is 12,5%.
    assert "Этот пост увидели 12,5% участников паблика; по проверке паблика его посты видели " \
        "11,2%" in user.text, user.text  # fmt: skip
    (row,) = await stored_rows(advisor)
    assert (row.public, row.members, row.method, row.views) == (
        "Кулинария СПб",
        12000,
        "admin",
        1500,
    )


async def test_several_checked_publics_ask_which_one_to_record(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("vk.com/kulinaria_spb vk.com/mamy_tver")
    await user.press("Записать в учёт")
    assert "Какой паблик записать?" in user.text
    await user.say("2")
    assert "Записываю по проверке паблика: «Мамы Твери», 150 участников в паблике" in user.text
    assert "Как разместили рекламу" in user.text


async def test_another_link_and_compare_with_the_checked_public(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    user = ChatUser(advisor)
    await user.say("vk.com/mamy_tver")
    await user.press("Пришлите ещё ссылку")
    assert "Пришлите ссылку на паблик" in user.text
    await user.say("vk.com/kulinaria_spb")
    assert "Паблик «Кулинария СПб»" in user.text
    assert "Сравнение пабликов" not in user.text  # one public: a report, no comparison
    await user.press("Сравнить с другим пабликом")
    assert "с которым сравнить «Кулинария СПб»" in user.text, user.text
    await user.say("vk.com/mamy_tver")
    comparison = user.last[0].text
    assert comparison.startswith("Сравнение пабликов"), comparison
    assert "«Кулинария СПб»" in comparison and "«Мамы Твери»" in comparison
    assert "Записать в учёт" in user.labels()


async def test_the_results_calculator_goes_to_the_tracker_with_its_figures(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("меню")
    await user.press("Оценить результаты")
    await user.press("Посчитать размещение")
    for answer in ("1500", "9000", "150", "30"):
        await user.say(answer)
    await user.press("Пропустить")  # hides
    await user.press("Пропустить")  # actions
    assert "Записать в учёт" in user.labels(), user.labels()
    await user.press("Записать в учёт")
    assert (
        "Записываю цифры из калькулятора: бюджет 1 500 ₽, 9 000 просмотров, 150 переходов, "
        "30 подписок" in user.text
    ), user.text
    await user.press("Напрямую у админа")
    await user.press("Без ссылки")
    await user.say("Кулинария СПб")
    await user.press("Пропустить")  # members
    await user.press("Пропустить")  # creative
    assert "Когда вышел пост" in user.text, user.text  # the budget is known
    await user.say("сегодня")
    assert "Сколько человек скрыли пост" in user.text, user.text  # views, clicks, joins known
    await user.press("Пропустить")
    await user.press("Пропустить")
    assert "Записал размещение №1." in user.text
    (row,) = await stored_rows(advisor)
    assert (row.budget_kop, row.views, row.clicks, row.subscribers, row.hides) == (
        150000,
        9000,
        150,
        30,
        None,
    )


@pytest.mark.parametrize("topic_button", ["Таблица для учёта", "Где смотреть статистику"])
async def test_the_guides_tracking_topics_lead_to_the_tracker(
    tmp_path: Path, topic_button: str
) -> None:
    advisor = await Advisor.open(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    try:
        user = ChatUser(advisor)
        await user.say("меню")
        await user.press("Оценить результаты")
        await user.press(topic_button)
        await user.press("Открыть учёт размещений")
        assert "Учёт размещений: записывайте каждую рекламу" in user.text
        assert "Добавить по шагам" in user.labels()
    finally:
        await advisor.close()


async def test_an_old_check_button_takes_only_the_checks_publics(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("vk.com/kulinaria_spb")
    old_button = user.button("Записать в учёт")
    await user.say("меню")
    await user.press("Оценить результаты")
    await user.press("Посчитать размещение")
    for answer in ("1500", "9000", "150", "30"):
        await user.say(answer)
    await user.press("Пропустить")
    await user.press("Пропустить")
    await user.payload(old_button.payload)  # the check's button, after the calculator
    assert "Переносить нечего" in user.text, user.text
    assert "калькулятора" not in user.text
