"""A typed question gets the guide's answer: one fact, two close ones, or an honest «no match».

``answer_question(text, profile)`` ranks the knowledge base's facts (BM25 over lemmas, synonyms and
typo-corrected words), lets numbers in the question compute the norm they ask about, and returns
the answer with the guide heading it cites and the scenario where the topic is worked through.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from advisor.answers.figures import compute
from advisor.answers.index import Entry, FactIndex
from advisor.answers.lexicon import DEFAULT_LANG, load_lexicon
from advisor.answers.numbers import NumberMention, find_numbers
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Knowledge
from advisor.texts import t

# The best fact must score at least this (BM25); below it the question is not about the guide.
MIN_SCORE = 2.0
# A second fact of another topic within this share of the best is offered too.
CLOSE_SHARE = 0.9
# The smallest count that reads as a size of a community or of an audience.
MIN_SIZE = 100
# The best fact must explain at least this idf-weighted share of the question's words.
MIN_COVERAGE = 0.25


@dataclass(frozen=True)
class Profile:
    """What the engine knows of the owner: the community type and goal ids, if chosen."""

    community_type: str | None = None
    goal: str | None = None


@dataclass(frozen=True)
class Answer:
    """One answer: ``text`` is one to three sentences with the guide's number.

    ``estimate`` is true when ``text`` holds a number the guide does not give (the text says so).
    ``scenario_id``/``step_id`` name where the topic is worked through (for a button);
    ``tailored`` is the topic's extra advice for the owner's type or goal, if any.
    """

    text: str
    section: str
    topic_id: str
    topic_title: str
    fact_id: str
    scenario_id: str | None
    step_id: str | None
    score: float
    estimate: bool = False
    tailored: str | None = None


@dataclass(frozen=True)
class Answered:
    answer: Answer
    kind: Literal["answer"] = "answer"


@dataclass(frozen=True)
class TwoTopics:
    """Two topics are about equally close: show both short answers, offer both as buttons."""

    first: Answer
    second: Answer
    intro: str
    kind: Literal["two_topics"] = "two_topics"


@dataclass(frozen=True)
class NoMatch:
    """Nothing in the guide answers the question; ``text`` says so honestly."""

    text: str
    kind: Literal["no_match"] = "no_match"


QuestionResult = Answered | TwoTopics | NoMatch


class QuestionAnswerer:
    """Answers typed questions over one knowledge base; build once, then call ``answer``."""

    def __init__(self, knowledge: Knowledge, lang: str = DEFAULT_LANG) -> None:
        self.knowledge = knowledge
        self.lang = lang
        self.index = FactIndex(knowledge, load_lexicon(lang))

    def _answer(
        self,
        entry: Entry,
        score: float,
        mentions: list[NumberMention],
        profile: Profile | None,
    ) -> Answer:
        fact, topic = entry.fact, entry.topic
        section = fact.section
        estimate = False
        if fact.figure is not None:
            computed = compute(fact.figure, mentions, self.knowledge.norms, self.lang)
            if computed is not None:
                body, section, estimate = computed.text, computed.section, computed.estimate
            else:
                body = fact.answer
        else:
            body = fact.answer
        tailored = None
        if profile is not None:
            for key in (profile.community_type, profile.goal):
                if key and key in topic.tailored:
                    tailored = topic.tailored[key]
                    break
        return Answer(
            text=body,
            section=section,
            topic_id=topic.id,
            topic_title=topic.title,
            fact_id=fact.id,
            scenario_id=entry.scenario_id,
            step_id=entry.step_id,
            score=score,
            estimate=estimate,
            tailored=tailored,
        )

    def answer(self, text: str, profile: Profile | None = None) -> QuestionResult:
        terms = self.index.mapper.terms(text)
        mentions = find_numbers(text)
        # A percent or a size («на 40 тысяч») leans to the norms; «в 10 раз» does not.
        figures = any(m.percent or m.value >= MIN_SIZE for m in mentions)
        ranked = self.index.rank(terms, figures=figures)
        if (
            not ranked
            or not self.index.mentions_domain(terms)
            or ranked[0][1] < MIN_SCORE
            or self.index.coverage(terms, ranked[0][0]) < MIN_COVERAGE
        ):
            return NoMatch(t("answers.no_match", self.lang))
        entries = self.index.entries
        best, best_score = entries[ranked[0][0]], ranked[0][1]
        first = self._answer(best, best_score, mentions, profile)
        for number, score in ranked[1:]:
            if score < best_score * CLOSE_SHARE:
                break
            entry = entries[number]
            if entry.topic.id != best.topic.id and entry.scenario_id != best.scenario_id:
                second = self._answer(entry, score, mentions, profile)
                return TwoTopics(first, second, t("answers.two_topics", self.lang))
        return Answered(first)


# Button labels stay within the chat platforms' limit (advisor.dialog.types.Button).
MAX_BUTTON_LABEL = 64


def button_label(answer: Answer, lang: str = DEFAULT_LANG) -> str:
    """The label of the button into the section where the answer's topic is worked through."""
    label = t("answers.section_button", lang, title=answer.topic_title)
    return label if len(label) <= MAX_BUTTON_LABEL else label[: MAX_BUTTON_LABEL - 1] + "…"


@lru_cache(maxsize=4)
def answerer(lang: str = DEFAULT_LANG) -> QuestionAnswerer:
    """The answerer over the default knowledge base: indexes are built on first use."""
    return QuestionAnswerer(load_knowledge(lang), lang)


def answer_question(
    text: str, profile: Profile | None = None, lang: str = DEFAULT_LANG
) -> QuestionResult:
    """The guide's answer to a typed question (see the module docstring)."""
    return answerer(lang).answer(text, profile)
