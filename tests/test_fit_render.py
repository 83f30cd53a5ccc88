"""The audience portrait and the price in the chat answer (issue 15, the chat side): a real
check on the fake VK API, given the fit figures the check computes (constructed here)."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.texts import t
from advisor.vk.check import PublicResult
from advisor.vk.fit import AudienceOut, CityShare, OwnerTarget, PriceOut
from advisor.vk.render import chat_messages, portrait_lines, price_line
from tests.fakes.vk_api import FakeVK
from tests.test_public_check import checker_for, public

PNG = b"\x89PNG\r\n\x1a\n"


def audience(**fields: Any) -> AudienceOut:
    values: dict[str, Any] = {
        "active_sampled": 400,
        "female_percent": 62.0,
        "age_percent": {"до 18": 5.0, "18–24": 20.0, "25–34": 40.0, "35–44": 25.0, "45+": 10.0},
        "top_cities": [
            CityShare(city="Тверь", percent=31.0),
            CityShare(city="Москва", percent=12.5),
        ],
        "city_percent": 31.0,
        "target_percent": 14.2,
        "target_ci95": (10.1, 18.3),
        "sex_known": 380,
        "age_known": 120,
        "city_known": 300,
    }
    values.update(fields)
    return AudienceOut(**values)


TARGET = OwnerTarget(city="Тверь", local_goal=True, sex="female", age_min=25, age_max=40)


@pytest.fixture
async def result(fake_vk: FakeVK) -> PublicResult:
    spec = public(fake_vk)
    async with checker_for(fake_vk) as checker:
        (checked,) = await checker.check([spec.screen_name])
    assert checked.ok
    return checked


def test_portrait_lines_say_whose_the_numbers_are() -> None:
    lines = portrait_lines(audience(), TARGET)
    text = "\n".join(lines)
    assert lines[0] == t("portrait.title", active="400")
    assert "оценка бота по выборке" in lines[0] and "не статистика паблика" in lines[0]
    assert "женщин 62%, мужчин 38%" in text
    assert "(пол указан у 95%)" in text  # 380 of 400 show their sex
    assert "до 18 — 5%, 18–24 — 20%, 25–34 — 40%, 35–44 — 25%, 45+ — 10%" in text
    assert "Возраст (год рождения указан у 30%)" in text
    assert "Города (город указан у 75%)" in text
    assert "Тверь 31%, Москва 12,5%" in text
    assert t("portrait.city_share", city="Тверь", value="31") in text
    assert "Ваши клиенты (женщины, 25–40 лет, Тверь): 14,2% (95%: 10,1–18,3%)" in text


def test_a_missing_figure_says_why() -> None:
    hidden = audience(
        age_percent=None,
        age_known=0,
        female_percent=None,
        sex_known=0,
        top_cities=[],
        city_percent=None,
        city_known=0,
        target_percent=None,
        target_ci95=None,
    )
    text = "\n".join(portrait_lines(hidden, TARGET))
    assert "• Возраст: не посчитать — год рождения скрыт у всех активных подписчиков" in text
    assert "• Пол: не посчитать — пол скрыт у всех" in text
    assert "• Из вашего города (Тверь): не посчитать — город скрыт у всех" in text
    assert t("portrait.target_hidden") in text
    uncounted = "\n".join(portrait_lines(audience(female_percent=None, sex_known=None)))
    assert "• Пол: не посчитать — пол скрыт у подписчиков в выборке" in uncounted
    partly = "\n".join(portrait_lines(audience(age_percent=None, age_known=120), None))
    assert "год рождения скрыт у 70% активных подписчиков в выборке" in partly
    # Without a target nothing about the owner's city or customers is said.
    assert "вашего города" not in partly and "Ваши клиенты" not in partly
    assert portrait_lines(audience(active_sampled=0)) == [t("portrait.title_none")]


def test_a_whole_list_has_no_interval() -> None:
    whole = audience(target_ci95=(14.2, 14.2))
    text = "\n".join(portrait_lines(whole, TARGET))
    assert "Ваши клиенты (женщины, 25–40 лет, Тверь): 14,2%" in text and "95%:" not in text


async def test_the_portrait_chart_goes_next_to_the_reach_chart(result: PublicResult) -> None:
    with_portrait = result.model_copy(update={"audience": audience()})
    report, portrait, admin = chat_messages([with_portrait], target=TARGET)
    assert report.image is not None and report.image.png.startswith(PNG)
    assert portrait.image is not None and portrait.image.png.startswith(PNG)
    assert portrait.image.png != report.image.png
    assert portrait.image.caption == t("portrait.chart_caption", name="Кофейня «Зерно»")
    assert portrait.text.startswith(t("portrait.title", active="400"))
    assert "промаркирована" in admin.text
    # Hidden figures are drawn as «скрыто», never as zero bars.
    hidden = result.model_copy(
        update={"audience": audience(age_percent=None, female_percent=None, top_cities=[])}
    )
    _, portrait, _ = chat_messages([hidden])
    assert portrait.image is not None and portrait.image.png.startswith(PNG)
    # The terminal's text answer draws nothing.
    texts = chat_messages([with_portrait], charts=False, target=TARGET)
    assert [m.image for m in texts] == [None, None, None]


async def test_no_portrait_message_without_the_figures(result: PublicResult) -> None:
    assert len(chat_messages([result.model_copy(update={"audience": None})])) == 2


async def test_price_line_with_and_without_views(result: PublicResult) -> None:
    priced = result.model_copy(
        update={
            "audience": None,
            "price": PriceOut(
                rub=3000, expected_views=1500, cpm_rub=2000.0, target_cpm_rub=14084.51
            ),
        }
    )
    line = price_line(priced, 3000)
    assert "3 000 ₽ за пост (со слов админа)" in line
    assert "~1 500 (оценка бота" in line
    assert "Тысяча просмотров (CPM): 2 000 ₽" in line
    assert "Тысяча ваших клиентов: 14 084,51 ₽ (оценка бота" in line
    unpriced = result.model_copy(update={"price": None})
    assert price_line(unpriced, 3000) == t("portrait.price_unknown", rub="3 000")
    report, _ = chat_messages([priced], prices=[3000.0])
    assert line in report.text
    assert "💰" not in chat_messages([priced])[0].text
