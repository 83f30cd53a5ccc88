"""What every chat user tries: help, cancel, back, start over, greetings, thanks; English and
emoji-only messages. ``classify_intent`` answers only when the whole message is such a phrase
(with filler around it), so «помогите выбрать паблик» stays a question.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import emoji
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from advisor.answers.lexicon import DEFAULT_LANG, IntentName, Lexicon, load_lexicon
from advisor.answers.terms import normalize
from advisor.texts import t

Intent = Literal[
    "help", "cancel", "back", "restart", "greeting", "thanks", "profile", "english", "emoji"
]

# When a message holds several intents («привет, помогите»), the most consequential one wins.
_PRIORITY: tuple[IntentName, ...] = (
    "greeting",
    "thanks",
    "help",
    "profile",
    "back",
    "restart",
    "cancel",
)
MAX_INTENT_WORDS = 8
_WORD = re.compile(r"[a-zа-яё]+")
_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|ru|me|org)\b|^/")


class IntentClassifier:
    def __init__(self, lexicon: Lexicon) -> None:
        self._phrases: dict[tuple[str, ...], int] = {}
        filler = frozenset(normalize(word) for word in lexicon.intent_filler)
        for name, phrases in lexicon.intents.items():
            rank = _PRIORITY.index(name)
            for phrase in phrases:
                # A message loses its filler before it is matched; so does a phrase
                # («что ты обо мне знаешь» is matched as «что ты обо знаешь»).
                words = tuple(w for w in _WORD.findall(normalize(phrase)) if w not in filler)
                if words:
                    self._phrases[words] = max(rank, self._phrases.get(words, rank))
        self._longest = max(len(words) for words in self._phrases)
        self._vocabulary = sorted({word for words in self._phrases for word in words})
        self._vocabulary_set = frozenset(self._vocabulary)
        self._filler = filler
        self._terms = frozenset(normalize(word) for word in lexicon.latin_terms)
        self._known = lru_cache(maxsize=20_000)(self._known_uncached)

    def _known_uncached(self, word: str) -> str | None:
        """The intent word ``word`` is, or is a typo of (one edit in a word of 4–7 letters, two
        in a longer one); ``None`` when it is no intent word at all."""
        if word in self._vocabulary_set:
            return word
        if len(word) < 4:
            return None
        edits = 1 if len(word) < 8 else 2
        found = process.extractOne(
            word, self._vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=edits
        )
        return found[0] if found is not None else None

    def _chat_intent(self, words: list[str]) -> IntentName | None:
        words = [word for word in words if word not in self._filler]
        if not words or len(words) > MAX_INTENT_WORDS:
            return None
        known: list[str] = []
        for word in words:
            fixed = self._known(word)
            if fixed is None:
                return None  # a word no intent phrase has: a question or an answer
            known.append(fixed)
        # best[i]: the highest-priority intent on some way to cover known[:i] with phrases.
        best: list[int | None] = [None] * (len(known) + 1)
        best[0] = -1
        for i in range(len(known)):
            reached = best[i]
            if reached is None:
                continue
            for end in range(i + 1, min(len(known), i + self._longest) + 1):
                rank = self._phrases.get(tuple(known[i:end]))
                if rank is not None:
                    candidate = max(reached, rank)
                    current = best[end]
                    if current is None or candidate > current:
                        best[end] = candidate
        final = best[len(known)]
        return _PRIORITY[final] if final is not None and final >= 0 else None

    def _english(self, text: str, words: list[str]) -> bool:
        if _CYRILLIC.search(text) or not _LATIN.search(text) or _LINK.search(text):
            return False
        return any(word not in self._terms for word in words)

    def classify(self, text: str) -> Intent | None:
        stripped = "".join(ch for ch in text if not ch.isspace())
        if not stripped:
            return None
        if not any(ch.isalnum() for ch in stripped):
            # No letters or digits: emoji only is «emoji», punctuation only is nothing.
            return "emoji" if emoji.emoji_count(stripped) else None
        lowered = normalize(text)
        words = _WORD.findall(lowered)
        intent = self._chat_intent(words)
        if intent is not None:
            return intent
        if self._english(lowered, words):
            return "english"
        return None


@lru_cache(maxsize=4)
def intent_classifier(lang: str = DEFAULT_LANG) -> IntentClassifier:
    return IntentClassifier(load_lexicon(lang))


def classify_intent(text: str, lang: str = DEFAULT_LANG) -> Intent | None:
    """The chat intent of a whole message, or ``None`` when it is something else (a question,
    an answer to the current step)."""
    return intent_classifier(lang).classify(text)


def intent_reply(intent: Intent, lang: str = DEFAULT_LANG) -> str:
    """The short Russian reply to an intent (the engine adds the menu or the step)."""
    return t(f"answers.intents.{intent}", lang)
