"""Search visibility (pure): phrases and the city in the name and description, names, hashtags."""

from __future__ import annotations

import pytest

from advisor.audit.rules import load_rules
from advisor.audit.search import (
    analyse_search,
    brand_in,
    display_city,
    hashtags_for,
    person_in,
    split_phrases,
    suggest_names,
)

RULES = load_rules()


def search(
    name: str,
    description: str = "",
    *,
    city: str | None = None,
    phrases: list[str] | None = None,
    activity: str = "",
):
    return analyse_search(
        name,
        description,
        city=city,
        owner_phrases=phrases or [],
        activity=activity,
        rules=RULES.search,
    )


# --- the guide's own examples -----------------------------------------------------------------


def test_salon_liliya_is_not_findable_and_gets_the_guides_names() -> None:
    found = search("Салон красоты «Лилия»", city="Тверь", phrases=["салон красоты", "стрижки"])
    assert found.name_has_phrase is True
    assert not found.name_has_city and not found.name_has_person  # «Лилия» is no person
    assert found.name_status == "missing"
    assert found.suggested_names[:2] == ["Салон красоты Тверь", "Стрижки Тверь"]
    assert "Салон красоты «Лилия» Тверь" in found.suggested_names


@pytest.mark.parametrize(
    ("name", "phrase", "city"),
    [
        ("Салон красоты Тверь", "салон красоты", None),  # the city found without VK's city
        ("Стрижки Тверь", "стрижки", "Тверь"),
        ("Автомастерская Ростов-на-Дону", "автомастерская", "Ростов-на-Дону"),
        ("Салон красоты в Твери", "салон красоты", "Тверь"),  # another case of the word
        ("Курсы вязания СПб", "курсы по вязанию", "Санкт-Петербург"),  # alias, function words
        ("Семейный психолог Афанасьева Мария", "семейный психолог", None),  # personal brand
    ],
)
def test_good_names_pass(name: str, phrase: str, city: str | None) -> None:
    found = search(name, city=city, phrases=[phrase])
    assert found.name_status == "ok", found


def test_semeiny_psiholog_without_a_brand_fails() -> None:
    found = search("Семейный психолог", phrases=["семейный психолог"])
    assert found.name_status == "missing"
    assert found.name_has_phrase and not found.name_has_city and not found.name_has_person


def test_owner_phrase_missing_from_the_name_fails() -> None:
    found = search("Лилия Тверь", city="Тверь", phrases=["салон красоты"])
    assert found.name_has_phrase is False and found.name_status == "missing"


def test_vk_category_confirms_but_never_refutes() -> None:
    confirmed = search("Салон красоты Тверь", activity="Салон красоты")
    assert confirmed.phrase_source == "activity" and confirmed.name_status == "ok"
    unsure = search("Лилия Тверь", activity="Салон красоты")
    assert unsure.name_has_phrase is None and unsure.name_status == "unknown"
    generic = search("Лилия Тверь", activity="Открытая группа")
    assert generic.phrases == [] and generic.name_status == "unknown"
    event = search("Концерт Тверь", activity="23 марта 2025 в 19:00")
    assert event.phrases == []
    several = search("Мода Тверь", activity="Красота, мода", city="Тверь")
    assert several.phrases == ["Красота", "мода"] and several.name_status == "ok"


def test_names_come_from_the_owners_phrases_only() -> None:
    # A VK category is no search query: «Красота, мода Тверь» is not a name to suggest.
    assert search("Лилия", activity="Красота, мода", city="Тверь").suggested_names == []
    owner = search("Лилия", activity="Красота, мода", city="Тверь", phrases=["стрижки"])
    assert owner.suggested_names[0] == "Стрижки Тверь"


def test_description_phrase_and_city() -> None:
    found = search(
        "Лилия",
        "Стрижки и окрашивание в центре Твери. Запись по телефону.",
        city="Тверь",
        phrases=["стрижки"],
    )
    assert found.description_has_phrase is True and found.description_has_city is True
    empty = search("Лилия", "", city="Тверь", phrases=["стрижки"])
    assert empty.description_has_phrase is False and empty.description_has_city is False


# --- parts of a name ---------------------------------------------------------------------------


def test_person_brand_and_phrases() -> None:
    assert person_in("Семейный психолог Афанасьева Мария") == "Афанасьева Мария"
    assert person_in("Мария Иванова — визажист") == "Мария Иванова"
    assert person_in("Салон «Лилия»") is None
    assert brand_in("Салон красоты «Лилия»") == "Лилия"
    assert brand_in("Салон красоты") is None
    assert split_phrases("салон красоты, стрижки; маникюр, педикюр") == [
        "салон красоты",
        "стрижки",
        "маникюр",
    ]
    assert split_phrases("  ,  ;; ") == []
    assert split_phrases("Стрижки, стрижки") == ["Стрижки"]


def test_city_display() -> None:
    assert display_city("ростов-на-дону") == "Ростов-на-Дону"
    assert display_city("нижний новгород") == "Нижний Новгород"
    assert display_city("Санкт-Петербург") == "Санкт-Петербург"


def test_names_respect_the_length_limit_and_skip_the_current_name() -> None:
    long_phrase = "консультация семейного психолога онлайн и офлайн"
    names = suggest_names(
        "Салон красоты Тверь",
        ["салон красоты", long_phrase],
        "Тверь",
        None,
        None,
        RULES.search,
    )
    assert "Салон красоты Тверь" not in names  # that is the name already
    assert all(len(name) <= RULES.search.name_max_chars for name in names)
    assert names == []


def test_names_with_a_person_need_no_city() -> None:
    names = suggest_names(
        "Психолог Афанасьева Мария",
        ["семейный психолог"],
        None,
        "Афанасьева Мария",
        None,
        RULES.search,
    )
    assert names == ["Семейный психолог Афанасьева Мария"]


def test_names_are_at_most_the_limit() -> None:
    names = suggest_names(
        "Лилия", ["стрижки", "маникюр", "педикюр"], "Тверь", None, "Лилия", RULES.search
    )
    assert len(names) == RULES.search.max_suggestions
    assert names[:3] == ["Стрижки Тверь", "Маникюр Тверь", "Педикюр Тверь"]


# --- hashtags ----------------------------------------------------------------------------------


def test_unique_hashtag_form() -> None:
    tags = hashtags_for("salon_monespb", None, [], RULES.hashtags)
    assert tags.main == "#Полезныйсовет@salon_monespb"  # the guide's example
    assert not tags.default_address
    events = hashtags_for("fest_tver", "events", [], RULES.hashtags)
    assert events.main == f"#{RULES.hashtags.rubrics['events'][0]}@fest_tver"


def test_hashtags_in_use_and_general() -> None:
    used = ["Полезныйсовет@salon_monespb", "новинки", "Отзывы@salon_monespb", "акция"]
    used += ["Полезныйсовет@other_salon", "полезныйсовет@SALON_MONESPB"]
    tags = hashtags_for("salon_monespb", "commercial", used, RULES.hashtags)
    assert tags.in_use[:2] == ["#Полезныйсовет@salon_monespb", "#Отзывы@salon_monespb"]
    assert tags.general == 2  # another community's tag is neither ours nor general


def test_default_address() -> None:
    assert hashtags_for("club123", None, [], RULES.hashtags).default_address
    assert hashtags_for("public5", None, [], RULES.hashtags).default_address
