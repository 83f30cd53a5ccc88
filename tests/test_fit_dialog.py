"""The owner's target and the admin's price in the chat (issue 15, the chat side), through the
Advisor on a real database and, for checks, the fake VK API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from advisor.app import Advisor
from advisor.dialog.fields import Refused
from advisor.dialog.prices import PriceRefused, parse_prices, prices_for_links
from advisor.dialog.target import StoredTarget, owner_target, parse_city, parse_sex_age
from advisor.storage.tables import users
from advisor.texts import t
from advisor.vk.links import extract_links
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.test_dialog import make_settings
from tests.test_public_check import public, settings_for

LOCAL = "Подписчики из своего города"
CITY_QUESTION = "В каком городе ваши клиенты?"


@pytest.fixture
async def advisor(tmp_path: Path, database_url: str) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(make_settings(tmp_path, database_url))
    yield opened
    await opened.close()


async def profile(user: ChatUser, goal: str = LOCAL, kind: str = "Коммерческое") -> None:
    await user.say("меню")
    await user.press("Тип сообщества и цель")
    await user.press(kind)
    await user.press(goal)


async def stored(advisor: Advisor, user_id: str = "u1") -> Any:
    async with advisor.db.connect() as connection:
        query = select(users).where(users.c.external_id == user_id)
        return (await connection.execute(query)).one()


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("в основном женщины 25–40", ("female", 25, 40)),
        ("мужчины от 18 до 30", ("male", 18, 30)),
        ("Женщины", ("female", None, None)),
        ("от 30 лет", (None, 30, None)),
        ("до 25", (None, None, 25)),
        ("18+", (None, 18, None)),
        ("все", (None, None, None)),
        ("женщины и мужчины 20-35", (None, 20, 35)),
    ],
)
def test_sex_and_age_as_people_type_them(text: str, expected: tuple[Any, ...]) -> None:
    parsed = parse_sex_age(text)
    assert parsed is not None
    assert (parsed.sex, parsed.age_min, parsed.age_max) == expected


@pytest.mark.parametrize("text", ["от 40 до 20", "женщины -5", "от 18 до 300"])
def test_impossible_ages_are_refused_in_russian(text: str) -> None:
    with pytest.raises(Refused) as refused:
        parse_sex_age(text)
    assert "Возраст" in refused.value.message


def test_a_text_naming_neither_sex_nor_age_is_not_read() -> None:
    assert parse_sex_age("синий трактор") is None


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("Тверь", "Тверь"),
        ("г. тверь", "Тверь"),
        ("мой город — Тверь", "Тверь"),
        ("из Твери", "Тверь"),
        ("санкт-петербург", "Санкт-Петербург"),
        ("ростов-на-дону", "Ростов-на-Дону"),
        ("Нижний Новгород", "Нижний Новгород"),
    ],
)
def test_city_as_vk_spells_it(text: str, city: str) -> None:
    assert parse_city(text) == city


@pytest.mark.parametrize("text", ["123", "vk.com/club1", "а" * 80, "!!!"])
def test_what_is_not_a_city_is_refused(text: str) -> None:
    with pytest.raises(Refused):
        parse_city(text)


@pytest.mark.parametrize(
    ("text", "prices"),
    [
        ("vk.com/xyz за 3000", [3000.0]),
        ("просят 2 500 ₽ за vk.com/xyz", [2500.0]),
        ("vk.com/a 3000р, vk.com/b 5 тыс", [3000.0, 5000.0]),
        ("vk.com/a просят 1,5 т.р.", [1500.0]),
        ("vk.com/a, vk.com/b за 4000", [None, 4000.0]),
        ("стоит ли брать рекламу в vk.com/club1?", [None]),
        ("vk.com/a за 3 дня", [None]),
        ("vk.com/a 2 поста в день", [None]),
    ],
)
def test_prices_beside_links(text: str, prices: list[float | None]) -> None:
    typed = prices_for_links(text, extract_links(text))
    assert typed.prices == prices
    assert typed.problems == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("vk.com/xyz за -500", "target.price_negative"),
        ("vk.com/xyz за 0 ₽", "target.price_zero"),
        ("vk.com/xyz за 99 999 999 999 ₽", "target.price_too_big"),
        ("vk.com/xyz за 3 ₽", "target.price_too_small"),
    ],
)
def test_unusable_prices_beside_links_are_named(text: str, key: str) -> None:
    typed = prices_for_links(text, extract_links(text))
    assert typed.prices == [None]
    assert len(typed.problems) == 1
    assert typed.problems[0].split(":")[0] == t(key, min="10", max="10 000 000").split(":")[0]


def test_prices_typed_alone() -> None:
    assert parse_prices("3000", 1) == [3000.0]
    assert parse_prices("2 500 ₽", 1) == [2500.0]
    assert parse_prices("3000 и 5 тыс", 2) == [3000.0, 5000.0]
    for text, count in (("-100", 1), ("0", 1), ("дорого", 1), ("3000", 2)):
        with pytest.raises(PriceRefused):
            parse_prices(text, count)


def test_owner_target_from_the_profile_and_the_portrait_answer() -> None:
    base = StoredTarget("local_subscribers", "Тверь", None, None, None, "vk.com/mine")
    target = owner_target(base, "в основном женщины 25-40")
    assert target.city == "Тверь" and target.local_goal
    assert (target.sex, target.age_min, target.age_max) == ("female", 25, 40)
    assert target.my_group == "vk.com/mine"
    # The profile's own answer wins over the questionnaire's.
    own = StoredTarget("sales_any_region", "Тверь", "male", 18, None, None)
    target = owner_target(own, "женщины 25-40")
    assert not target.local_goal
    assert (target.sex, target.age_min, target.age_max) == ("male", 18, None)
    assert not owner_target(StoredTarget(None, None, None, None, None, None)).criteria_given


# --- the target in the profile -----------------------------------------------------------------


async def test_city_is_asked_once_for_a_local_goal_and_kept_across_restarts(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    advisor = await Advisor.open(settings)
    try:
        user = ChatUser(advisor)
        await profile(user)
        assert CITY_QUESTION in user.text
        await user.say("из Твери")
        assert t("target.city_saved", city="Тверь") in user.text
        assert t("target.summary_city_local", city="Тверь") in user.text
        # Asked once: the profile again goes straight to the summary.
        await profile(user, kind="Брендовое")
        assert CITY_QUESTION not in user.text
        assert t("target.summary_city_local", city="Тверь") in user.text
        # Another goal needs no city.
        other = ChatUser(advisor, user_id="u2")
        await profile(other, goal="Продажи по любому ГЕО")
        assert CITY_QUESTION not in other.text
        assert t("target.summary_city_none") in other.text
    finally:
        await advisor.close()
    reopened = await Advisor.open(settings)
    try:
        assert (await stored(reopened)).target_city == "Тверь"
        user = ChatUser(reopened)
        await profile(user)
        assert CITY_QUESTION not in user.text
        assert t("target.summary_city_local", city="Тверь") in user.text
    finally:
        await reopened.close()


async def test_a_skipped_city_is_not_asked_again(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await profile(user)
    await user.say("123")
    assert t("target.city_invalid") in user.text  # stays on the question
    await user.say("vk.com/club1")
    assert t("target.city_is_a_link") in user.text
    await user.press(t("dialog.skip"))
    assert t("target.city_skipped") in user.text
    await profile(user)
    assert CITY_QUESTION not in user.text
    assert t("target.summary_city_none") in user.text
    assert (await stored(advisor)).target_city is None


async def test_profile_shows_and_edits_the_target(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await profile(user)
    await user.say("Тверь")
    for line in ("summary_who_none", "summary_group_none"):
        assert t(f"target.{line}") in user.text
    await user.press("Пол и возраст клиентов")
    await user.say("от 40 до 20")
    assert t("target.age_order", low=40, high=20) in user.text
    await user.say("в основном женщины 25–40")
    assert t("target.audience_saved", who="женщины 25–40 лет") in user.text
    assert t("target.summary_who", who="женщины 25–40 лет") in user.text
    assert t("actions.profile_advice_title") not in user.text, "an edit shows the target only"
    await user.press("Моё сообщество")
    await user.say("vk.com/tver_salon")
    assert t("target.summary_group", link="vk.com/tver_salon") in user.text
    await user.say("город клиентов")  # a button's label typed works as the button
    assert CITY_QUESTION in user.text
    await user.press(t("dialog.skip"))
    assert t("target.city_kept", city="Тверь") in user.text
    await user.press("Город клиентов")
    await user.say("Санкт-Петербург")
    assert t("target.summary_city_local", city="Санкт-Петербург") in user.text
    row = await stored(advisor)
    assert (row.target_city, row.target_sex, row.target_age_min, row.target_age_max) == (
        "Санкт-Петербург",
        "female",
        25,
        40,
    )
    assert row.community_link == "vk.com/tver_salon"
    # «все»: no preference, stored as such.
    await user.press("Пол и возраст клиентов")
    await user.say("все")
    assert t("target.audience_all") in user.text
    assert t("target.summary_who_none") in user.text
    assert (await stored(advisor)).target_sex is None


async def test_the_portraits_sex_age_answer_fills_the_target(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await profile(user, goal="Продажи по любому ГЕО")
    await user.say("меню")
    await user.press("Найти целевую аудиторию")
    await user.press("Составить портрет")
    await user.press(t("dialog.skip"))  # interests
    await user.press(t("dialog.skip"))  # needs
    await user.say("мужчины от 18 до 30")
    await profile(user, goal="Продажи по любому ГЕО")
    assert t("target.summary_who_portrait", who="мужчины 18–30 лет") in user.text


# --- the check with the target and the price ---------------------------------------------------


@pytest.fixture
async def vk_advisor(fake_vk: FakeVK) -> AsyncIterator[Advisor]:
    settings = settings_for(fake_vk, database_url="sqlite+aiosqlite://")
    opened = await Advisor.open(settings)
    yield opened
    await opened.close()


def checker_calls(advisor: Advisor, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the dialog hands the real public check (the check itself still runs)."""
    checker = advisor.features.public_check
    assert checker is not None
    calls: list[dict[str, Any]] = []
    real = checker.chat_check

    async def recording(
        links: list[str], progress: Any = None, detail: Any = None, **kwargs: Any
    ) -> Any:
        calls.append({"links": links, **kwargs})
        return await real(links, progress, detail, **kwargs)

    monkeypatch.setattr(checker, "chat_check", recording)
    return calls


async def test_a_price_typed_with_the_link_reaches_the_check(
    fake_vk: FakeVK, vk_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = public(fake_vk)
    calls = checker_calls(vk_advisor, monkeypatch)
    user = ChatUser(vk_advisor, "101", channel="telegram")
    await profile(user)
    await user.say("Тверь")
    await user.press("Пол и возраст клиентов")
    await user.say("женщины 25-40")
    await user.say(f"стоит ли брать рекламу в vk.com/{spec.screen_name} за 3000?")
    # Healthy, but its members are not from Tver: not «брать» for a local goal.
    assert "Вердикт:" in user.text and t("check.report.verdict.buy") not in user.text
    assert "💰 Цена: 3 000 ₽ за пост (со слов админа)" in user.text
    target = calls[-1]["target"]
    assert (target.city, target.local_goal, target.sex) == ("Тверь", True, "female")
    assert (target.age_min, target.age_max) == (25, 40)
    assert calls[-1]["prices"] == [3000.0]
    assert t("target.price_button") not in user.labels(), "the price is known already"
    # A price that cannot be is named; the check still answers, unpriced.
    await user.say(f"vk.com/{spec.screen_name} за -500")
    assert t("target.price_ignored", reason=t("target.price_negative")) in user.text
    assert "Вердикт:" in user.text and "💰" not in user.text
    assert calls[-1]["prices"] is None
    assert t("target.price_button") in user.labels()


async def test_the_price_button_answers_again_from_the_cache(
    fake_vk: FakeVK, vk_advisor: Advisor
) -> None:
    first = public(fake_vk, public_id=310_001)
    second = public(fake_vk, public_id=310_002)
    user = ChatUser(vk_advisor, "202", channel="telegram")
    await user.say(f"vk.com/{first.screen_name}")
    assert t("target.price_button") in user.labels()
    requests = len(fake_vk.requests)
    await user.press(t("target.price_button"))
    assert "Сколько админ просит за пост?" in user.text
    for wrong, key in (
        ("0", "price_zero"),
        ("-3000", "price_negative"),
        ("дорого", "price_unreadable"),
    ):
        await user.say(wrong)
        assert t(f"target.{key}") in user.text
    await user.say("2 500 ₽")
    assert "💰 Цена: 2 500 ₽ за пост (со слов админа)" in user.text
    assert t("check.report.verdict.buy") in user.text
    assert all(m.image is None for m in user.last), "the charts are already in the chat"
    assert len(fake_vk.requests) == requests, "the priced answer came from the check's cache"
    # Two publics: a price each, in order.
    await user.say(f"vk.com/{first.screen_name} и vk.com/{second.screen_name}")
    await user.press(t("target.price_button"))
    await user.say("3000")
    assert t("target.price_count", count=2) in user.text
    await user.say("3000 и 5 тыс")
    # Several publics: the summary, each priced report behind its «Подробнее».
    shown = []
    for label in [label for label in user.labels() if label.startswith("Подробнее")]:
        await user.press(label)
        shown.append(user.text)
    assert any("3 000 ₽ за пост" in text for text in shown), shown
    assert any("5 000 ₽ за пост" in text for text in shown), shown


async def test_a_check_for_a_local_goal_without_a_city_asks_it_once(
    fake_vk: FakeVK, vk_advisor: Advisor
) -> None:
    spec = public(fake_vk)
    user = ChatUser(vk_advisor, "303", channel="telegram")
    await profile(user)
    await user.say("меню")  # leaves the city question unanswered
    await user.say(f"vk.com/{spec.screen_name}")
    assert t("target.city_needed") in user.text
    await user.say(f"vk.com/{spec.screen_name}")
    assert t("target.city_needed") not in user.text, "asked once"
    await user.say(f"vk.com/{spec.screen_name}")
    other = ChatUser(vk_advisor, "404", channel="telegram")
    await profile(other)
    await other.say("меню")
    await other.say(f"vk.com/{spec.screen_name}")
    await other.press(t("target.button_city_set"))
    await other.say("Тверь")
    assert t("target.summary_city_local", city="Тверь") in other.text
    assert (await stored(vk_advisor, "404")).target_city == "Тверь"


async def test_the_city_question_inside_the_profile_detour_then_the_scenario_asked_for(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("/start")
    await user.press("Подготовить сообщество")
    await user.press("Коммерческое")
    await user.press(LOCAL)
    assert CITY_QUESTION in user.text
    await user.say("в Самаре")
    assert t("target.city_saved", city="Самара") in user.text
    assert "Пройти чек-лист" in user.labels(), "the scenario asked for starts after the profile"
