"""What an owner tells about their business in passing is kept in the profile and used: the
reader alone, then the chat through the Advisor on a real database (and the fake VK API for a
check that uses the city)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from advisor.answers import classify_intent
from advisor.app import Advisor
from advisor.dialog.owner_facts import OwnerFacts, read_owner_facts
from advisor.texts import t
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.test_dialog import make_settings
from tests.test_fit_dialog import stored
from tests.test_public_check import public, settings_for

TYPE_QUESTION = "К какому типу относится ваше сообщество?"
GOAL_QUESTION = "Какая у вас цель?"


# --- the reader (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "goal", "city"),
    [
        ("у меня кофейня в Твери, хочу больше гостей", "commercial", "local_subscribers", "Тверь"),
        ("я продаю торты на заказ в Казани", "commercial", None, "Казань"),
        ("мы из Нижнего Новгорода", None, None, "Нижний Новгород"),
        ("у нас салон красоты в Питере", "commercial", None, "Санкт-Петербург"),
        ("моя студия йоги в Великом Устюге", "commercial", None, "Великий Устюг"),
        ("у нас пекарня в Набережных Челнах", "commercial", None, "Набережные Челны"),
        ("мой барбершоп в Санкт Петербурге", "commercial", None, "Санкт-Петербург"),
        ("у меня пекарня в городе Тула", "commercial", None, "Тула"),
        ("хочу клиентов из Твери", None, "local_subscribers", "Тверь"),
        ("хочу продажи по всей России, я из Москвы", None, "sales_any_region", "Москва"),
        ("мы организуем концерты в Самаре", "events", None, "Самара"),
        ("моя группа про вязание", "creative", None, None),
        # «не магазин»: what the owner does not have is not kept.
        ("у меня не магазин, а творческая группа", "creative", None, None),
    ],
)
def test_a_first_person_statement_names_the_type_goal_and_city(
    text: str, kind: str | None, goal: str | None, city: str | None
) -> None:
    assert read_owner_facts(text) == OwnerFacts(kind, goal, city)


@pytest.mark.parametrize(
    "text",
    [
        "как продвигать магазин в Москве?",  # not about the owner
        "сколько стоит реклама в пабликах Твери",
        "я живу в России",  # a country is not the customers' city
        "мы в Телеграме",  # pymorphy calls it a place
        "хочу разместить рекламу в паблике Твери",  # a place, not where the owner is
        "я не знаю что делать",
        "привет",
    ],
)
def test_what_is_not_a_statement_about_the_business_is_not_read(text: str) -> None:
    assert not read_owner_facts(text)


def test_selling_is_the_kind_of_community_not_the_goal() -> None:
    # «продаю» names a commercial community; the goal is what the owner wants.
    assert read_owner_facts("я продаю торты").goal is None
    assert read_owner_facts("я продаю торты, хочу больше заказов по всей стране").goal == (
        "sales_any_region"
    )


@pytest.mark.parametrize(
    "text",
    [
        "что ты обо мне знаешь?",
        "Что ты знаешь обо мне",
        "какой у меня город?",
        "я забыл, какой у меня город?",
        "мой профиль",
    ],
)
def test_asking_what_the_bot_knows_is_an_intent(text: str) -> None:
    assert classify_intent(text) == "profile"


# --- in the chat -------------------------------------------------------------------------------


@pytest.fixture
async def advisor(tmp_path: Path, database_url: str) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(make_settings(tmp_path, database_url))
    yield opened
    await opened.close()


def noted(*facts: str) -> str:
    return t("owner.noted", facts=", ".join(facts))


async def test_told_in_passing_is_kept_and_remembered_after_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    advisor = await Advisor.open(settings)
    try:
        user = ChatUser(advisor)
        await user.say("Здравствуйте! У меня кофейня в Твери, хочу больше гостей")
        assert (
            noted(
                "сообщество — коммерческое",
                "цель — подписчики из своего города",
                "город клиентов — Тверь",
            )
            in user.text
        )
        # Type and goal known: the advice for them follows, and the city is not asked.
        assert (
            t(
                "actions.profile_done",
                community_type="коммерческое",
                goal="подписчики из своего города",
            )
            in user.text
        )
        assert "В каком городе ваши клиенты?" not in user.text
        assert t("target.summary_city_local", city="Тверь") in user.text
    finally:
        await advisor.close()
    reopened = await Advisor.open(settings)
    try:
        row = await stored(reopened)
        assert (row.community_type, row.goal, row.target_city) == (
            "commercial",
            "local_subscribers",
            "Тверь",
        )
        user = ChatUser(reopened)
        await user.say("что ты обо мне знаешь?")
        assert t("owner.profile_type", value="коммерческое") in user.text
        assert t("owner.profile_goal", value="подписчики из своего города") in user.text
        assert t("target.summary_city_local", city="Тверь") in user.text
        assert {"Тип сообщества и цель", "Город клиентов", "Моё сообщество"} <= set(user.labels())
        await user.press("Город клиентов")
        await user.say("Тула")
        assert (await stored(reopened)).target_city == "Тула"
    finally:
        await reopened.close()


async def test_a_new_fact_replaces_the_old_one_but_a_supposition_does_not(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("у меня кофейня в Твери, хочу больше гостей")
    await user.say("мы переехали, теперь я в Казани")
    assert noted("город клиентов — Казань (раньше: Тверь)") in user.text
    assert (await stored(advisor)).target_city == "Казань"
    # A city alone needs no more questions.
    assert TYPE_QUESTION not in user.text and GOAL_QUESTION not in user.text
    for supposing in ("а если у меня творческая группа?", "если я организую концерты"):
        await user.say(supposing)
        assert t("owner.noted", facts="")[:8] not in user.text
    assert (await stored(advisor)).community_type == "commercial"


async def test_what_is_missing_is_asked_next(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("я из Казани")
    assert noted("город клиентов — Казань") in user.text
    assert TYPE_QUESTION in user.text
    await user.press("Коммерческое")
    assert GOAL_QUESTION in user.text
    await user.press("Подписчики из своего города")
    # The city is known already: the advice, not the city question.
    assert "В каком городе ваши клиенты?" not in user.text
    assert t("target.summary_city_local", city="Казань") in user.text
    other = ChatUser(advisor, user_id="u2")
    await other.say("у меня салон красоты")
    assert noted("сообщество — коммерческое") in other.text
    assert GOAL_QUESTION in other.text and TYPE_QUESTION not in other.text


async def test_a_question_with_the_facts_is_answered_for_them(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("у меня кофейня в Твери, хочу больше гостей. Как выбрать паблик для рекламы?")
    texts = [message.text for message in user.last]
    assert texts[0].startswith(t("owner.noted", facts="")[:8])
    # The answer is tailored to the local goal just told.
    assert any("аудитория из вашего города" in text for text in texts[1:]), texts


async def test_the_facts_leave_the_person_where_they_were(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("у меня салон красоты в Твери, хочу больше клиентов из Твери")
    await user.say("меню")
    await user.press("Подготовить сообщество")
    step_buttons = user.labels()
    await user.say("кстати, мы переехали, я теперь в Казани")
    assert noted("город клиентов — Казань (раньше: Тверь)") in user.text
    assert set(step_buttons) <= set(user.labels()), "the step's buttons stay at hand"
    # At a question of the checklist, the question is asked again after the note.
    await user.press("Пройти чек-лист")
    asked = user.last[-1].text
    await user.say("у меня теперь барбершоп в Туле")
    assert noted("город клиентов — Тула (раньше: Казань)") in user.text
    assert asked in user.text, "the checklist question is asked again"


async def test_a_check_uses_the_city_told_in_passing(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, city_mix=((1, "Тверь", 0.02), (2, "Москва", 0.6)))
    advisor = await Advisor.open(settings_for(fake_vk, database_url="sqlite+aiosqlite://"))
    try:
        user = ChatUser(advisor, "505", channel="telegram")
        await user.say("у меня кофейня в Твери, хочу больше гостей")
        await user.say("меню")
        await user.say(f"стоит ли брать рекламу в vk.com/{spec.screen_name}?")
        assert "Из города Тверь" in user.text
        assert t("target.city_needed") not in user.text
        # Told in the same message as the link.
        other = ChatUser(advisor, "606", channel="telegram")
        await other.say(
            f"у меня пекарня в Твери, хочу больше гостей. Стоит брать vk.com/{spec.screen_name}?"
        )
        assert other.last[0].text.startswith(t("owner.noted", facts="")[:8])
        assert "Из города Тверь" in other.text
    finally:
        await advisor.close()


async def test_asking_what_the_bot_knows_at_a_question_is_not_taken_as_the_answer(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("у меня кофейня в Твери, хочу больше гостей")
    await user.say("что ты обо мне знаешь?")
    await user.press("Город клиентов")
    assert "В каком городе ваши клиенты?" in user.text
    # At the city question, «какой у меня город?» is a question to the bot, not a city.
    await user.say("какой у меня город?")
    assert t("target.summary_city_local", city="Тверь") in user.text
    assert "В каком городе ваши клиенты?" in user.last[-1].text, "the question is asked again"
    assert (await stored(advisor)).target_city == "Тверь"
    await user.say("Казань")
    assert (await stored(advisor)).target_city == "Казань"
