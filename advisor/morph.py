"""Russian word forms (pymorphy3): dictionary forms for matching free text, and nouns agreed with
numbers for showing counts."""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3  # type: ignore[import-untyped]  # pymorphy3 ships no type hints or stubs

from advisor.numbers import format_number

_WORD = re.compile(r"[a-zA-Zа-яА-ЯёЁ]+")


@lru_cache(maxsize=1)
def analyzer() -> pymorphy3.MorphAnalyzer:
    # Loading the dictionaries takes a while and a lot of memory: one analyzer per process.
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    word = word.lower().replace("ё", "е")
    parsed = analyzer().parse(word)
    return parsed[0].normal_form.replace("ё", "е") if parsed else word


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def lemmas(text: str) -> list[str]:
    return [lemma(word) for word in words(text)]


@lru_cache(maxsize=2_000)
def agree(count: int, phrase: str, case: str = "nomn") -> str:
    """``phrase`` in the form that goes after the number ``count``: (8 041) «просмотр»,
    (3) «паблика», (2) «целевых действия», (5) «участников в паблике»; with a ``case`` the
    number itself stands in (after a preposition): «из (3) пабликов», «в (21) посте», «по (5)
    постам».

    The words up to the first noun agree with the number (adjectives before it follow the
    noun's number and case); the rest (a prepositional tail) stays as written.
    """
    words_in = phrase.split()
    out: list[str] = []
    pending: list[str] = []
    for index, word in enumerate(words_in):
        parses = analyzer().parse(word)
        noun = next((p for p in parses if "NOUN" in p.tag and "nomn" in p.tag), None)
        if noun is None:
            pending.append(word)
            continue
        number = abs(int(count))
        in_case = noun.inflect({case}) if case != "nomn" else noun
        agreed = in_case.make_agree_with_number(number) if in_case is not None else None
        form = agreed.word if agreed is not None else word
        out.extend(_agree_adjective(adjective, agreed, case, number) for adjective in pending)
        out.append(form)
        out.extend(words_in[index + 1 :])
        return " ".join(out)
    return phrase


def _agree_adjective(
    word: str, noun: pymorphy3.analyzer.Parse | None, case: str, number: int
) -> str:
    parses = analyzer().parse(word)
    adjective = next((p for p in parses if "ADJF" in p.tag and "nomn" in p.tag), None)
    if adjective is None or noun is None:
        return word
    few = number % 10 in (2, 3, 4) and number % 100 not in (12, 13, 14)
    if case in ("nomn", "accs") and few:
        # «2 целевых действия»: after 2–4 the noun is singular, its adjectives plural genitive.
        wanted = {"plur", "gent"}
    elif noun.tag.number == "sing":
        wanted = {"sing", noun.tag.case, *([noun.tag.gender] if noun.tag.gender else [])}
    else:
        wanted = {"plur", noun.tag.case}
    inflected = adjective.inflect(wanted)
    return inflected.word if inflected is not None else word


def counted(count: float, phrase: str, case: str = "nomn") -> str:
    """«8 041 просмотр», «3 паблика», (gent) «3 пабликов»: the number with thousands spaced,
    then the agreed phrase."""
    return f"{format_number(count, 0)} {agree(round(count), phrase, case)}"
