"""The facts of the knowledge base as a BM25 index (rank-bm25), built once per knowledge base.

Each fact is one document: its owners' wordings (``asks``), its answer, its topic's title and
keywords. Every fact knows the scenario (and step) where its topic is worked through, so an
answer can offer a button into that section.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]  # the package ships no hints

from advisor.answers.lexicon import Lexicon
from advisor.answers.terms import TermMapper
from advisor.knowledge.models import CommunityType, Fact, Goal, Knowledge, Topic
from advisor.morph import analyzer

# A question with a number leans to the facts whose norm the number can be judged against.
FIGURE_BOOST = 1.3
# Scenarios that are detours, never the place a topic is worked through.
_NOT_A_HOME = {"profile"}
# Nouns of the owners' wordings that say nothing about promotion.
_GENERIC_NOUNS = frozenset({"день", "человек", "раз", "время", "год", "смысл", "дело", "люди"})


@lru_cache(maxsize=20_000)
def _noun(term: str) -> bool:
    return " " in term or analyzer().parse(term)[0].tag.POS == "NOUN"


@dataclass(frozen=True)
class Entry:
    fact: Fact
    topic: Topic
    scenario_id: str | None
    step_id: str | None


def _homes(knowledge: Knowledge) -> dict[str, tuple[str, str]]:
    """Topic id → (scenario id, step id) of the first step that shows the topic."""
    homes: dict[str, tuple[str, str]] = {}
    for scenario in knowledge.scenarios:
        if scenario.id in _NOT_A_HOME:
            continue
        for step in scenario.steps:
            for topic_id in step.topics:
                homes.setdefault(topic_id, (scenario.id, step.id))
    return homes


def _home(
    topic: Topic, knowledge: Knowledge, homes: dict[str, tuple[str, str]]
) -> tuple[str | None, str | None]:
    """The topic's own home, else the nearest related topic's (breadth first)."""
    queue = deque([topic.id])
    seen = {topic.id}
    while queue:
        topic_id = queue.popleft()
        if topic_id in homes:
            return homes[topic_id]
        for related in knowledge.topic(topic_id).related:
            if related not in seen:
                seen.add(related)
                queue.append(related)
    return None, None


def _known_texts(knowledge: Knowledge) -> list[str]:
    """The texts whose words typos are corrected to: those the index or the options hold."""
    texts: list[str] = []
    for topic in knowledge.topics:
        texts += [topic.title, *topic.keywords]
        for fact in topic.facts:
            texts += [fact.answer, *fact.asks]
    options: list[CommunityType | Goal] = [*knowledge.community_types, *knowledge.goals]
    for option in options:
        texts += [option.title, option.description, *option.synonyms]
    return texts


class FactIndex:
    def __init__(self, knowledge: Knowledge, lexicon: Lexicon) -> None:
        self.mapper = TermMapper(lexicon, _known_texts(knowledge))
        # Words of the trade: a question about promotion names at least one of them — a keyword,
        # a synonym, or a noun of the owners' wordings («победитель», «обложка»).
        domain = {
            term
            for text in [word for group in lexicon.synonyms for word in group]
            + [keyword for topic in knowledge.topics for keyword in topic.keywords]
            for term in self.mapper.terms(text, limit=None)
        }
        for topic in knowledge.topics:
            for text in [topic.title, *(ask for fact in topic.facts for ask in fact.asks)]:
                domain.update(term for term in self.mapper.terms(text, limit=None) if _noun(term))
        self.domain = frozenset(domain - _GENERIC_NOUNS)
        homes = _homes(knowledge)
        self.entries: list[Entry] = []
        documents: list[list[str]] = []
        for topic in knowledge.topics:
            scenario_id, step_id = _home(topic, knowledge, homes)
            for fact in topic.facts:
                self.entries.append(Entry(fact, topic, scenario_id, step_id))
                # The wordings count twice: they are how owners ask, the answer is how we reply.
                text = " ".join([*fact.asks, *fact.asks, fact.answer, topic.title, *topic.keywords])
                documents.append(self.mapper.terms(text, limit=None))
        self._document_terms = [frozenset(document) for document in documents]
        bm25 = BM25Okapi(documents)
        self._idf: dict[str, float] = dict(bm25.idf)
        self._rare = max(self._idf.values())
        # A BM25 score is a sum over the query's terms, so each term's scores over all facts are
        # computed once here (by the library) and kept for the facts that hold the term: a
        # question only adds up a few short lists.
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for term in sorted({term for document in documents for term in document}):
            scores = bm25.get_scores([term])
            self._postings[term] = [
                (number, float(score)) for number, score in enumerate(scores) if score > 0
            ]

    def rank(
        self, terms: list[str], *, figures: bool = False, top: int = 8
    ) -> list[tuple[int, float]]:
        """The ``top`` (entry number, BM25 score) pairs with a positive score, best first.

        With ``figures`` (the question has numbers) facts that compute a norm from numbers
        score ``FIGURE_BOOST`` times higher.
        """
        scores: dict[int, float] = {}
        for term in terms:
            for number, score in self._postings.get(term, ()):
                scores[number] = scores.get(number, 0.0) + score
        if figures:
            for number in scores:
                if self.entries[number].fact.figure:
                    scores[number] *= FIGURE_BOOST
        # Ties keep the knowledge base's order (a topic's first fact first).
        return heapq.nsmallest(top, scores.items(), key=lambda pair: (-pair[1], pair[0]))

    def mentions_domain(self, terms: list[str]) -> bool:
        return any(term in self.domain for term in terms)

    def coverage(self, terms: list[str], entry_number: int) -> float:
        """How much of the question the entry explains: the idf-weighted share of its terms
        the entry's document holds. A word no fact uses weighs as the rarest word, so a question
        about something else («сколько стоит биткоин») is barely covered."""
        weights = [self._idf.get(term, self._rare) for term in terms]
        total = sum(max(weight, 0.0) for weight in weights)
        if total <= 0:
            return 0.0
        held = self._document_terms[entry_number]
        covered = sum(max(w, 0.0) for term, w in zip(terms, weights, strict=True) if term in held)
        return covered / total
