"""Can people find the community: search phrases and the city in its name and description.

The guide: «Пользователь ищет не „Салон красоты «Лилия»“, а „Салон красоты Тверь“» — the name
needs a phrase people search for and the city (or a personal brand: «Семейный психолог
Афанасьева Мария»). Words are compared by dictionary form (pymorphy3), so «в Твери» matches
«Тверь». A place is recognised even when VK does not say the community's city: pymorphy3 tags
city names as geographical (``Geox``). A person is a first name next to a surname.

Pure functions: the texts and the rules in, the findings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from advisor.audit.rules import HashtagRules, SearchRules
from advisor.morph import analyzer, words

PhraseSource = Literal["owner", "activity"]

# Function words do not make a search phrase: «курсы по вязанию» is found as «курсы вязания».
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ"})
_QUOTED = re.compile(r"[«\"“„']([^»\"”“']{2,40})[»\"”“']")
_DEFAULT_ADDRESS = re.compile(r"^(?:club|public|event)\d+$")
_PHRASE_SPLIT = re.compile(r"[,;\n/|]+")
MAX_PHRASES = 3
MAX_PHRASE_CHARS = 60


@dataclass(frozen=True)
class Word:
    text: str
    lemma: str
    place: bool
    first_name: bool
    surname: bool


def analyse(text: str) -> list[Word]:
    """The meaningful words of ``text`` with their dictionary forms and name/place tags."""
    found = []
    for raw in words(text):
        parsed = analyzer().parse(raw.lower().replace("ё", "е"))
        if not parsed:
            continue
        best = parsed[0]
        if best.tag.POS in _FUNCTION_POS:
            continue
        found.append(
            Word(
                text=raw,
                lemma=best.normal_form.replace("ё", "е"),
                place="Geox" in best.tag,
                first_name="Name" in best.tag,
                surname="Surn" in best.tag,
            )
        )
    return found


def lemma_set(text: str) -> set[str]:
    return {word.lemma for word in analyse(text)}


def contains(haystack: set[str], phrase: str) -> bool:
    """Every meaningful word of ``phrase`` is among ``haystack``'s dictionary forms."""
    needed = lemma_set(phrase)
    return bool(needed) and needed <= haystack


def person_in(name: str) -> str | None:
    """«Афанасьева Мария» in «Семейный психолог Афанасьева Мария»: a first name by a surname."""
    found = analyse(name)
    for left, right in pairwise(found):
        if (left.first_name and right.surname) or (left.surname and right.first_name):
            return f"{left.text} {right.text}"
    return None


def brand_in(name: str) -> str | None:
    """The part of the name in quotes: «Салон красоты «Лилия»» → Лилия."""
    match = _QUOTED.search(name)
    return match.group(1).strip() if match else None


def split_phrases(text: str) -> list[str]:
    """An owner's answer «салон красоты, стрижки» → the phrases, cleaned, at most three."""
    phrases: list[str] = []
    for part in _PHRASE_SPLIT.split(text):
        phrase = " ".join(part.strip(" .!?«»\"'").split())[:MAX_PHRASE_CHARS].strip()
        if phrase and lemma_set(phrase) and phrase.lower() not in (p.lower() for p in phrases):
            phrases.append(phrase)
    return phrases[:MAX_PHRASES]


def niche_from_activity(activity: str, rules: SearchRules) -> list[str]:
    """A community's VK category («Салон красоты», «Красота, мода») as phrases to look for.

    Empty when it says nothing of the niche: a group's «Открытая группа», an event's date.
    """
    text = activity.strip()
    if not text or any(ch.isdigit() for ch in text):  # an event's activity is its date
        return []
    generic = {g.casefold() for g in rules.generic_activities}
    return [] if text.casefold() in generic else split_phrases(text)


def city_words(city: str, rules: SearchRules) -> list[set[str]]:
    """Ways the city can appear: its own words, or one of its aliases («спб»)."""
    key = city.strip().lower().replace("ё", "е")
    options = [lemma_set(city)]
    options += [lemma_set(alias) for alias in rules.city_aliases.get(key, [])]
    return [option for option in options if option]


def has_city(lemmas: set[str], found: Sequence[Word], city: str | None, rules: SearchRules) -> bool:
    if city and any(option <= lemmas for option in city_words(city, rules)):
        return True
    return any(word.place for word in found)


def display_city(city: str) -> str:
    """«ростов-на-дону» typed in lower case → «Ростов-на-Дону»; a capitalised city stays."""
    city = " ".join(city.split())
    if city != city.lower():
        return city
    parts = re.split(r"([- ])", city)
    shown = [
        part[:1].upper() + part[1:] if index == 0 or len(part) > 2 else part
        for index, part in enumerate(parts)
    ]
    return "".join(shown)


def capitalise(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def suggest_names(
    current: str,
    phrases: Sequence[str],
    city: str | None,
    person: str | None,
    brand: str | None,
    rules: SearchRules,
) -> list[str]:
    """Names from the rules' patterns, phrase by phrase («Салон красоты Тверь», «Стрижки Тверь»)."""
    values = {"city": display_city(city) if city else None, "person": person, "brand": brand}
    seen = {current.casefold().strip()}
    names: list[str] = []
    for pattern in rules.name_patterns:
        needs = [key for key in values if "{" + key + "}" in pattern]
        if any(not values[key] for key in needs):
            continue
        for phrase in phrases:
            name = pattern.format(phrase=capitalise(phrase), **{k: values[k] or "" for k in values})
            name = " ".join(name.split())
            if len(name) > rules.name_max_chars or name.casefold() in seen:
                continue
            seen.add(name.casefold())
            names.append(name)
    return names[: rules.max_suggestions]


@dataclass(frozen=True)
class Hashtags:
    main: str
    alternatives: list[str]
    in_use: list[str]
    general: int
    default_address: bool


def hashtags_for(
    screen_name: str,
    community_type: str | None,
    used: Iterable[str],
    rules: HashtagRules,
) -> Hashtags:
    """The unique rubric hashtag «#рубрика@адрес» and what the posts already use."""
    rubrics = rules.rubrics.get(community_type or "", []) or rules.rubrics["default"]
    suffix = "@" + screen_name.lower()
    in_use: list[str] = []
    general = 0
    for tag in used:
        if tag.lower().endswith(suffix):
            if f"#{tag}" not in in_use:
                in_use.append(f"#{tag}")
        elif "@" not in tag:
            general += 1
    return Hashtags(
        main=f"#{rubrics[0]}@{screen_name}",
        alternatives=[f"#{r}@{screen_name}" for r in rubrics[1:]],
        in_use=in_use[:5],
        general=general,
        default_address=bool(_DEFAULT_ADDRESS.match(screen_name.lower())),
    )


@dataclass(frozen=True)
class SearchFindings:
    phrases: list[str]
    phrase_source: PhraseSource | None
    city: str | None
    name_has_phrase: bool | None
    """None: no phrase known that could prove its absence (only VK's category, not found)."""
    name_has_city: bool
    name_has_person: bool
    description_has_phrase: bool | None
    description_has_city: bool | None
    suggested_names: list[str]

    @property
    def name_status(self) -> Literal["ok", "missing", "unknown"]:
        local = self.name_has_city or self.name_has_person
        if not local or self.name_has_phrase is False:
            return "missing"
        return "ok" if self.name_has_phrase else "unknown"


def analyse_search(
    name: str,
    description: str,
    *,
    city: str | None,
    owner_phrases: Sequence[str],
    activity: str,
    rules: SearchRules,
) -> SearchFindings:
    """The name and the description against the phrases people search for and the city."""
    phrases = list(owner_phrases)
    source: PhraseSource | None = "owner" if phrases else None
    if not phrases:
        niche = niche_from_activity(activity, rules)
        if niche:
            phrases, source = niche, "activity"
    name_words = analyse(name)
    name_lemmas = {w.lemma for w in name_words}
    description_words = analyse(description)
    description_lemmas = {w.lemma for w in description_words}

    def found_in(lemmas: set[str]) -> bool | None:
        if not phrases:
            return None
        if any(contains(lemmas, phrase) for phrase in phrases):
            return True
        # VK's category only confirms a phrase; the owner's own words can also refute it.
        return False if source == "owner" else None

    person = person_in(name)
    return SearchFindings(
        phrases=phrases,
        phrase_source=source,
        city=city,
        name_has_phrase=found_in(name_lemmas),
        name_has_city=has_city(name_lemmas, name_words, city, rules),
        name_has_person=person is not None,
        description_has_phrase=found_in(description_lemmas) if description.strip() else False,
        description_has_city=(
            has_city(description_lemmas, description_words, city, rules)
            if description.strip()
            else False
        ),
        # Names come from the owner's phrases only: a VK category is no search query («Красота,
        # мода Тверь»); the guide takes the phrases from what clients type into the search.
        suggested_names=(
            suggest_names(name, phrases, city, person, brand_in(name), rules)
            if source == "owner"
            else []
        ),
    )
