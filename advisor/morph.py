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
def agree(count: int, phrase: str) -> str:
    """``phrase`` in the form that goes after the number ``count``: (8 041) «просмотр»,
    (3) «паблика», (2) «целевых действия», (5) «участников в паблике».

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
        agreed = noun.make_agree_with_number(abs(int(count)))
        form = agreed.word if agreed is not None else word
        out.extend(_agree_adjective(adjective, agreed) for adjective in pending)
        out.append(form)
        out.extend(words_in[index + 1 :])
        return " ".join(out)
    return phrase


def _agree_adjective(word: str, noun: pymorphy3.analyzer.Parse | None) -> str:
    parses = analyzer().parse(word)
    adjective = next((p for p in parses if "ADJF" in p.tag and "nomn" in p.tag), None)
    if adjective is None or noun is None:
        return word
    if noun.tag.number == "sing" and noun.tag.case == "nomn":
        wanted = {"sing", "nomn", noun.tag.gender} if noun.tag.gender else {"sing", "nomn"}
    else:
        wanted = {"plur", "gent"}
    inflected = adjective.inflect(wanted)
    return inflected.word if inflected is not None else word


def counted(count: float, phrase: str) -> str:
    """«8 041 просмотр», «3 паблика»: the number with thousands spaced, then the agreed phrase."""
    return f"{format_number(count, 0)} {agree(round(count), phrase)}"
