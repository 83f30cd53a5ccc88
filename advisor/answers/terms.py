"""Typed text to matching terms: dictionary forms, synonyms, typos corrected, filler dropped.

``TermMapper`` is built once from the lexicon and the words of the knowledge data; each distinct
word is lemmatized and, when unknown, corrected against the known words (rapidfuzz) only once,
then served from a bounded cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from advisor.answers.lexicon import Lexicon
from advisor.answers.numbers import is_number_word
from advisor.morph import analyzer, lemma

_WORD = re.compile(r"[a-zа-яё]+|\d+(?:[.,]\d+)?")
MAX_SCAN_CHARS = 400
MAX_PHRASE_WORDS = 4
# A typo is one edit (a letter missed, added, changed or two swapped) in a word of up to
# ``_SHORT_WORD`` letters and two edits in a longer one; words under five letters and words of
# the dictionary are kept as they are.
_SHORT_WORD = 6
_MIN_FUZZY_LEN = 5


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


def words(text: str, limit: int | None = MAX_SCAN_CHARS) -> list[str]:
    """Words and numbers of ``text``; a typed message is read up to ``limit`` characters."""
    return _WORD.findall(normalize(text if limit is None else text[:limit]))


def phrase_lemmas(phrase: str) -> tuple[str, ...]:
    return tuple(lemma(word) for word in words(phrase))


class TermMapper:
    """Maps text to terms; ``known`` words (and the lexicon's) are the targets of typo fixes."""

    def __init__(self, lexicon: Lexicon, known_texts: Iterable[str]) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        for group in [*lexicon.synonyms, *lexicon.colloquial]:
            canonical = " ".join(phrase_lemmas(group[0]))
            for variant in group:
                key = phrase_lemmas(variant)
                if key:
                    self._phrases.setdefault(key, canonical)
        self._longest = min(MAX_PHRASE_WORDS, max(len(key) for key in self._phrases))
        self.stopwords = frozenset(lemma(word) for word in lexicon.stopwords)
        forms: dict[str, str] = {}
        for text in known_texts:
            for word in words(text, None):
                if not word[0].isdigit():
                    forms.setdefault(word, lemma(word))
        for key in self._phrases:
            for part in key:
                forms.setdefault(part, part)
        self._known_lemmas = frozenset(forms.values())
        self._forms = sorted(form for form in forms if len(form) >= _MIN_FUZZY_LEN)
        self._form_lemma = forms
        self._fix = lru_cache(maxsize=20_000)(self._fix_uncached)

    def _fix_uncached(self, word: str) -> str:
        base = lemma(word)
        if base in self._known_lemmas or word[0].isdigit() or len(word) < _MIN_FUZZY_LEN:
            return base
        if analyzer().word_is_known(word):
            return base  # a real word of another subject («погода», «приготовить»), not a typo
        edits = 1 if len(word) <= _SHORT_WORD else 2
        found = process.extractOne(
            word, self._forms, scorer=DamerauLevenshtein.distance, score_cutoff=edits
        )
        if found is None:
            return base
        return self._form_lemma[found[0]]

    def lemmas(self, text: str, limit: int | None = MAX_SCAN_CHARS) -> list[str]:
        """Dictionary forms, typos fixed, synonym phrases replaced by their canonical word."""
        fixed = [self._fix(word) for word in words(text, limit)]
        out: list[str] = []
        i = 0
        while i < len(fixed):
            for size in range(min(self._longest, len(fixed) - i), 0, -1):
                canonical = self._phrases.get(tuple(fixed[i : i + size]))
                if canonical is not None:
                    out.append(canonical)
                    i += size
                    break
            else:
                out.append(fixed[i])
                i += 1
        return out

    def terms(self, text: str, limit: int | None = MAX_SCAN_CHARS) -> list[str]:
        """``lemmas`` without stop words and numbers (digits or words): what ranking looks at."""
        return [
            term
            for term in self.lemmas(text, limit)
            if term not in self.stopwords and not term[0].isdigit() and not is_number_word(term)
        ]
