"""Free-form answers to the choice steps: «у меня магазин» → commercial, «хочу клиентов из Твери»
→ the city goal. Options are the community types and goals of the knowledge base; each is matched
by its title and its ``synonyms`` (lemmas, typo-corrected), a place name points to the lexicon's
``place_goal``, and an ordinal («второй») picks an option by its place in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from advisor.answers.lexicon import DEFAULT_LANG, Lexicon, load_lexicon
from advisor.answers.terms import TermMapper, words
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import CommunityType, Goal, Knowledge
from advisor.morph import analyzer, lemma

ChoiceKind = Literal["community_type", "goal"]

# A place name («из Твери») weighs as much as a two-word synonym.
PLACE_WEIGHT = 2.0


@dataclass(frozen=True)
class ChoiceMatch:
    option_id: str
    title: str
    score: float


@lru_cache(maxsize=20_000)
def _is_place(word: str) -> bool:
    if len(word) < 3:
        return False
    parse = analyzer().parse(word)[0]
    return "Geox" in parse.tag


class ChoiceMatcher:
    def __init__(self, knowledge: Knowledge, lexicon: Lexicon) -> None:
        options: dict[ChoiceKind, list[CommunityType] | list[Goal]] = {
            "community_type": knowledge.community_types,
            "goal": knowledge.goals,
        }
        texts = [
            text
            for items in options.values()
            for item in items
            for text in (item.title, *item.synonyms)
        ]
        self.mapper = TermMapper(lexicon, texts)
        self._options = options
        self._phrases: dict[ChoiceKind, list[tuple[str, frozenset[str]]]] = {}
        for kind, items in options.items():
            # Synonyms that reduce to the same terms («в городе», «по городу») count once.
            phrases: dict[tuple[str, frozenset[str]], None] = {}
            for item in items:
                for text in (item.title, *item.synonyms):
                    terms = frozenset(self.mapper.terms(text, limit=None))
                    if terms:
                        phrases[(item.id, terms)] = None
            self._phrases[kind] = list(phrases)
        self._place_goal = lexicon.place_goal
        self._ordinals = [lemma(word) for word in lexicon.ordinals]
        self._filler = frozenset(lemma(word) for word in lexicon.option_filler)

    def _titles(self, kind: ChoiceKind) -> dict[str, str]:
        return {item.id: item.title for item in self._options[kind]}

    def _ordinal(self, text: str, kind: ChoiceKind) -> ChoiceMatch | None:
        lemmas = [lemma(word) for word in words(text)]
        picked = [self._ordinals.index(word) for word in lemmas if word in self._ordinals]
        rest = [word for word in lemmas if word not in self._ordinals and word not in self._filler]
        items = self._options[kind]
        if len(picked) == 1 and not rest and picked[0] < len(items):
            item = items[picked[0]]
            return ChoiceMatch(item.id, item.title, 1.0)
        return None

    def match(self, text: str, kind: ChoiceKind, *, places: bool = True) -> ChoiceMatch | None:
        """The option the text names, or ``None`` when it names none or two equally. Without
        ``places`` a place name does not weigh for the city goal: in a message that is not an
        answer to the goal question, a place may be anything («реклама в паблике Твери»)."""
        ordinal = self._ordinal(text, kind)
        if ordinal is not None:
            return ordinal
        terms = set(self.mapper.terms(text))
        scores: dict[str, float] = {}
        matched: set[str] = set()
        for option_id, phrase in self._phrases[kind]:
            if phrase <= terms:
                scores[option_id] = scores.get(option_id, 0.0) + len(phrase)
                matched |= phrase
        # A place name no option's phrase has claimed («по всей России» is the sales goal's).
        if kind == "goal" and self._place_goal and places:
            named = [
                word
                for word in words(text)
                if _is_place(word) and not set(self.mapper.lemmas(word)) & matched
            ]
            if named:
                scores[self._place_goal] = scores.get(self._place_goal, 0.0) + PLACE_WEIGHT
        if not scores:
            return None
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])
        if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
            return None
        option_id, score = ranked[0]
        return ChoiceMatch(option_id, self._titles(kind)[option_id], score)


@lru_cache(maxsize=4)
def choice_matcher(lang: str = DEFAULT_LANG) -> ChoiceMatcher:
    return ChoiceMatcher(load_knowledge(lang), load_lexicon(lang))


def match_choice(
    text: str, kind: ChoiceKind, lang: str = DEFAULT_LANG, *, places: bool = True
) -> ChoiceMatch | None:
    """A typed answer to the community-type or goal question, matched to an option id."""
    return choice_matcher(lang).match(text, kind, places=places)
