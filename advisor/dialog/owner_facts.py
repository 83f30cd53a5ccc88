"""What an owner tells about their business in passing: «у меня кофейня в Твери», «мы продаём
торты на заказ», «я из Казани, хочу подписчиков из своего города».

A message in the first person (``first_person`` of the lexicon: я, мы, мой, наш, or a verb such
as «продаю») is read for the profile the advice depends on:
- the community type, by the options' titles and synonyms, as the profile's own question reads
  a typed answer;
- the goal, only when the owner says what they want (``want_words``: «хочу», «цель», «нужны»);
- the customers' city: a place name after «в», «из», «город».
Only what the message states is returned; the engine decides what to keep.

Pure: no I/O, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from advisor.answers.choices import match_choice
from advisor.answers.lexicon import DEFAULT_LANG, Lexicon, load_lexicon
from advisor.dialog.fields import Refused
from advisor.dialog.target import parse_city
from advisor.morph import analyzer, lemma

# A statement about the business fits in its first lines; a pasted text is not read whole.
_SCAN_CHARS = 400
_TOKEN = re.compile(r"[а-яёa-z]+(?:-[а-яёa-z]+)*", re.IGNORECASE)
# «не магазин, а студия»: the word after «не» is not what the owner has.
_NEGATION = "не"


@dataclass(frozen=True)
class OwnerFacts:
    """What one message says; None where it says nothing."""

    community_type: str | None = None
    goal: str | None = None
    city: str | None = None

    def __bool__(self) -> bool:
        return any((self.community_type, self.goal, self.city))


def read_owner_facts(text: str, lang: str = DEFAULT_LANG) -> OwnerFacts:
    """The community type, goal and customers' city a first-person message states."""
    lexicon = load_lexicon(lang)
    tokens = _TOKEN.findall(text[:_SCAN_CHARS].lower().replace("ё", "е"))
    if not _first_person(tokens, lexicon):
        return OwnerFacts()
    kept = _without_negated(tokens)
    said = " ".join(kept)
    kind = match_choice(said, "community_type", lang)
    # A goal is what the owner wants («хочу больше заказов», «цель — клиенты из Твери»): «я
    # продаю торты» names the kind of community, not the goal of selling anywhere.
    # The city the owner is in weighs for the city goal as in the profile's own question
    # («хочу клиентов из Твери»); a place named otherwise («паблик Твери») does not.
    city = _city(kept, lexicon)
    goal = None
    if any(lemma(token) in frozenset(lexicon.want_words) for token in kept):
        goal = match_choice(said, "goal", lang, places=city is not None)
    return OwnerFacts(
        community_type=kind.option_id if kind else None,
        goal=goal.option_id if goal else None,
        city=city,
    )


def _first_person(tokens: list[str], lexicon: Lexicon) -> bool:
    """«у меня», «наша группа», or a verb in the first person («продаю», «хочу»)."""
    markers = frozenset(lexicon.first_person)
    return any(lemma(token) in markers or _first_person_verb(token) for token in tokens)


@lru_cache(maxsize=4096)
def _first_person_verb(word: str) -> bool:
    tag = analyzer().parse(word)[0].tag
    return "VERB" in tag and "1per" in tag


def _without_negated(tokens: list[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for token in tokens:
        if skip:
            skip = False
            continue
        if token == _NEGATION:
            skip = True
            continue
        kept.append(token)
    return kept


def _city(tokens: list[str], lexicon: Lexicon) -> str | None:
    """The first city named after a marker: «в Твери» → «Тверь», «в Нижнем Новгороде» →
    «Нижний Новгород», «из Питера» → «Санкт-Петербург»; None when there is none."""
    markers = frozenset(lexicon.city_markers)
    for index, token in enumerate(tokens[:-1]):
        if token not in markers and lemma(token) not in markers:
            continue
        name = _place_after(tokens, index + 1, lexicon)
        if name is not None:
            return name
    return None


def _place_after(tokens: list[str], start: int, lexicon: Lexicon) -> str | None:
    first = tokens[start]
    alias = lexicon.city_aliases.get(first) or lexicon.city_aliases.get(lemma(first))
    if alias is not None:
        return alias
    noun = _geo_noun(first)
    adjective = None
    if noun is None and start + 1 < len(tokens):
        # «в Нижнем Новгороде», «в Набережных Челнах»: an adjective agreed with the name.
        adjective, noun = _adjective(first), _geo_noun(tokens[start + 1])
        if adjective is None:
            noun = None
    if noun is None or noun in lexicon.not_cities:
        return None
    words = [adjective, noun] if adjective else [noun]
    try:
        return parse_city(" ".join(words))
    except Refused:
        return None


@lru_cache(maxsize=4096)
def _geo_noun(word: str) -> str | None:
    """The place's dictionary form when the word's likeliest reading is a place name."""
    if len(word) < 3:
        return None
    parse = analyzer().parse(word)[0]
    if "Geox" not in parse.tag or "NOUN" not in parse.tag:
        return None
    return str(parse.normal_form).replace("ё", "е")


@lru_cache(maxsize=4096)
def _adjective(word: str) -> str | None:
    """An adjective in the nominative of its own number and gender («нижнем» → «нижний»,
    «набережных» → «набережные»), for a two-word city name."""
    parse = analyzer().parse(word)[0]
    if "ADJF" not in parse.tag:
        return None
    wanted = {"nomn", "plur"} if parse.tag.number == "plur" else {"nomn", "sing"}
    if parse.tag.number != "plur":
        wanted.add(parse.tag.gender or "masc")
    form = parse.inflect(wanted)
    return str(form.word).replace("ё", "е") if form is not None else None
