"""Russian word forms reduced to dictionary forms (pymorphy3), for matching free text."""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3  # type: ignore[import-untyped]  # pymorphy3 ships no type hints or stubs

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
