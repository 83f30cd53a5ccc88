"""Issue 14, «say whose number it is»: the public calculator and the results calculator through
the real Advisor, as a person would use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from advisor.app import Advisor
from advisor.config import Settings
from tests.chat_helpers import ChatUser


@pytest.fixture
async def advisor(tmp_path: Path) -> AsyncIterator[Advisor]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_user_token=None,
        vk_service_token=None,
    )
    opened = await Advisor.open(settings)
    yield opened
    await opened.close()


async def public_calculator(user: ChatUser, *answers: str) -> str:
    await user.say("/start")
    await user.press("Проверить паблик")
    await user.press("Посчитать по цифрам")
    for answer in answers:
        if answer == "-":
            await user.press("Пропустить")
        else:
            await user.say(answer)
    return user.text


async def results_calculator(user: ChatUser, *answers: str) -> str:
    await user.say("меню")
    await user.press("Оценить результаты")
    await user.press("Посчитать размещение")
    for answer in answers:
        if answer == "-":
            await user.press("Пропустить")
        else:
            await user.say(answer)
    return user.text


# --- point 1: the ER norm between the guide's anchors is the bot's -----------------------------


async def test_interpolated_er_norm_is_labelled_and_does_not_downgrade(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # 20 000 members: the bot's interpolated 7,2%; ER 6%, reach 15%, 12% inactive.
    text = await public_calculator(user, "20 000", "1 200", "3 000", "12")
    assert "Вовлеченность: 6% (ориентир бота (в руководстве нормы нет)" in text
    assert "норма для такого размера" not in text
    assert "Вывод: можно брать рекламу." in text, text
    assert "осторожно" not in text


async def test_guides_own_er_norm_is_called_the_guides(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    text = await public_calculator(user, "800", "80", "120", "12")
    assert "норма руководства для такого размера — от 15%" in text
    assert "ориентир бота" not in text
    assert "Вывод: осторожно" in text


async def test_padding_bots_and_low_reach_together_is_avoid(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # 5 000 members, ER 2% (padding), reach 6% (< 10%), 22% inactive (> 20%).
    text = await public_calculator(user, "5 000", "100", "300", "22")
    assert "Вывод: покупать рекламу здесь не стоит." in text, text
    assert "выбор бота" in text  # the 180-day definition says whose it is


# --- point 2: the results calculator --------------------------------------------------------------


async def test_target_actions_are_judged_against_clicks(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # 30 actions of 400 clicks = 7,5% (of 10 000 views it would be 0,3%, «below 5%»).
    text = await results_calculator(user, "1 000", "10 000", "400", "20", "500", "30")
    assert "Целевые действия от переходов: 7,5%" in text, text
    assert "Вывод: размещение сработало нормально." in text
    assert "0,3%" not in text


async def test_missing_figures_give_too_little_data(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    text = await results_calculator(user, "1 000", "10 000", "16", "-", "-", "-")
    assert "Вывод: мало данных" in text, text
    assert "есть что улучшить" not in text
    # One figure, one rounding: CTR 0,16% on the line and nowhere «0,2%».
    assert "CTR (переходы от просмотров): 0,16%" in text
    assert "0,2%" not in text


async def test_results_say_the_guide_has_no_cost_norms(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    text = await results_calculator(user, "3 000", "10000", "200", "50", "2500", "100")
    assert "Норм для CPM и цены подписчика в руководстве нет" in text
    assert "сравнивая размещения" in text and "/track" in text
    # The costs are shown once, on their lines; the reasons do not repeat them.
    assert text.count("300") == 1, text


# --- point 4: the contest linter in chat ---------------------------------------------------------


async def test_contest_with_ours_and_a_partners_group_is_forbidden_in_chat(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("/contest")
    await user.say(
        "Совместный розыгрыш с кофейней «Зерно»! Условия: подпишитесь на наш паблик и паблик "
        "партнёра, сделайте репост. Победитель должен быть подписан на группу."
    )
    text = user.text
    assert "подписка на несколько групп" in text, text
    assert "«подпишитесь на наш паблик и паблик партнёра»" in text.lower()
    assert "среди общих подписчиков" in text


async def test_public_calculator_prints_each_share_once_alike(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    # ER 8,96% at 10 000 members beside the bot's 9%; reach 19,96% beside the guide's 20%;
    # 24,96% inactive beside the guide's 25%: each printed as the reasons print it.
    text = await public_calculator(user, "10 000", "896", "1 996", "24,96")
    assert "Вовлеченность: 8,96%" in text, text
    assert "Вовлеченность 8,96%" in text
    assert "Охват рекламных постов: 19,96%" in text
    assert "Неактивных аккаунтов: 24,96%" in text
    assert "Вовлеченность: 9%" not in text
