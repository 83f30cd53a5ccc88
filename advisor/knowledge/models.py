"""Pydantic models of the guide-as-data files in ``advisor/knowledge/<lang>/``.

Every item carries ``section``: the heading of the guide section it comes from. A test checks that
each cited heading exists in the guide, so the data cannot drift from its source silently.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.dialog.scenario_models import Scenario
from advisor.knowledge.contest_models import ContestRules

Slug = str  # lowercase identifiers: [a-z0-9_]+, checked where they are declared


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Strict):
    section: str = Field(min_length=3, description="the guide heading this item comes from")


def _check_slug(value: str) -> str:
    if not value or not all(ch.islower() or ch.isdigit() or ch == "_" for ch in value):
        raise ValueError(f"{value!r} is not a lowercase identifier (a-z, 0-9, _)")
    return value


class Identified(Cited):
    id: Slug
    title: str = Field(min_length=2)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)


# --- Community: the four types and the goal question ------------------------------------------


class Advice(Strict):
    """One piece of profile advice. ``about`` names what it is about: the type's and the goal's
    advice are shown together, and a piece whose subjects an earlier one already covered is
    left out («Раздел «Товары» обязателен» and «Заполните раздел «Товары»…» say one thing)."""

    text: str = Field(min_length=5)
    about: list[Slug] = []

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: object) -> object:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("about")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        return [_check_slug(item) for item in value]


def distinct_advice(advice: list[Advice]) -> list[str]:
    """The texts in order, without those whose subjects were all covered before them."""
    covered: set[str] = set()
    texts: list[str] = []
    for item in advice:
        if item.about and covered.issuperset(item.about):
            continue
        covered.update(item.about)
        texts.append(item.text)
    return texts


class CommunityType(Identified):
    description: str
    advice: list[Advice] = Field(min_length=1, description="how this type changes the advice")
    synonyms: list[str] = Field(
        default=[], description="words and phrases owners type for this type (free-form answers)"
    )


class Goal(Identified):
    description: str
    advice: list[Advice] = Field(min_length=1, description="how this goal changes the advice")
    synonyms: list[str] = Field(
        default=[], description="words and phrases owners type for this goal (free-form answers)"
    )


# --- Checklists --------------------------------------------------------------------------------


class ChecklistItem(Identified):
    question: str = Field(description="a yes/no question to the owner")
    advice: str = Field(description="what to do when the item is missing")
    details: list[str] = []
    applies_to: list[Slug] = Field(
        default=[], description="community type ids the item applies to; empty means all"
    )
    mandatory_for: list[Slug] = Field(
        default=[], description="community type ids for which the item is mandatory"
    )
    weight: int = Field(default=1, ge=1, le=10, description="impact, orders the to-do list")


class Checklist(Identified):
    intro: str
    items: list[ChecklistItem] = Field(min_length=1)


# --- Questionnaires (free-text answers, e.g. the target audience portrait) ---------------------


class Question(Identified):
    prompt: str
    hint: str = ""
    example: str = ""


class Questionnaire(Identified):
    intro: str
    questions: list[Question] = Field(min_length=1)
    where_to_look: list[str] = Field(
        default=[], description="where the owner reads these figures (statistics sections)"
    )
    outro: str = ""


# --- Topics: the guide's advice, pros and cons, step sequences ---------------------------------

BlockKind = Literal[
    "text", "list", "steps", "pros", "cons", "tips", "template", "example", "warning"
]


class Block(Strict):
    kind: BlockKind
    title: str | None = None
    items: list[str] = Field(min_length=1)
    section: str | None = Field(default=None, description="overrides the topic's section")
    until_profile: bool = Field(
        default=False,
        description="shown only while the community type and goal are not set (how to set them)",
    )


MAX_FACT_SENTENCES = 3
FigureKind = Literal["engagement", "reach", "hide_rate", "inactive", "target_action"]
_SENTENCE_END = re.compile(r"[.!?…](?:[»\")]*)(?=\s|$)")


class Fact(Cited):
    """A short answer to an owner's typed question: the guide's fact with its number.

    ``answer`` is one to three sentences; ``asks`` are ways owners word the question (matching
    data, never shown). ``section`` cites the guide heading the fact comes from.
    """

    id: Slug
    answer: str = Field(min_length=10, max_length=400)
    asks: list[str] = Field(min_length=1, description="owners' wordings of the question")
    figure: FigureKind | None = Field(
        default=None, description="numbers in the question compute this norm (advisor.answers)"
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)

    @field_validator("answer")
    @classmethod
    def _short(cls, value: str) -> str:
        sentences = len(_SENTENCE_END.findall(value.strip()))
        if not 1 <= sentences <= MAX_FACT_SENTENCES:
            raise ValueError(
                f"an answer is 1–{MAX_FACT_SENTENCES} sentences ending with . ! ? or …, "
                f"got {sentences}"
            )
        return value


class Topic(Identified):
    summary: str
    blocks: list[Block] = Field(min_length=1)
    tailored: dict[Slug, str] = Field(
        default={}, description="extra advice keyed by community type id or goal id"
    )
    related: list[Slug] = []
    keywords: list[str] = Field(
        default=[], description="synonyms, slang and short names of the topic (matching data)"
    )
    facts: list[Fact] = Field(default=[], description="short answers to typed questions")


# --- Formulas (the code lives in advisor.formulas; this documents and cites them) --------------


class Formula(Identified):
    expression: str = Field(description="the formula as the guide writes it")
    inputs: list[Slug] = Field(min_length=1)
    unit: Literal["percent", "rub", "ratio"]


# --- Numeric norms -----------------------------------------------------------------------------


class EngagementAnchor(Strict):
    members: int = Field(gt=0)
    min_percent: float = Field(gt=0, le=100)


class EngagementNorm(Cited):
    # Between anchors the norm falls linearly in log10(members), flat outside (verdicts.py):
    # the guide gives the anchors only, so the values between them are the bot's estimate.
    anchors: list[EngagementAnchor] = Field(min_length=2)

    @model_validator(mode="after")
    def _monotone(self) -> EngagementNorm:
        members = [a.members for a in self.anchors]
        percents = [a.min_percent for a in self.anchors]
        if members != sorted(members) or len(set(members)) != len(members):
            raise ValueError("anchors must be sorted by members, strictly increasing")
        if any(b > a for a, b in pairwise(percents)):
            raise ValueError("min_percent must not grow with members (the norm is monotone)")
        return self


class PaddingNorm(Cited):
    members_from: int = Field(gt=0)
    members_to: int = Field(gt=0)
    er_max_percent: float = Field(gt=0)


class InactiveNorm(Cited):
    normal_min_percent: float = Field(ge=0)
    normal_max_percent: float = Field(gt=0)
    pointless_from_percent: float = Field(gt=0)
    pointless_to_percent: float = Field(gt=0)
    inactive_after_days: int = Field(gt=0)


class RangeNorm(Cited):
    min_percent: float = Field(ge=0)
    max_percent: float = Field(gt=0)


class AdPostsNorm(Cited):
    min_posts: int = Field(gt=0)
    max_posts: int = Field(gt=0)


class MinPercentNorm(Cited):
    min_percent: float = Field(gt=0)


class CountRangeNorm(Cited):
    min_count: int = Field(ge=0)
    max_count: int = Field(gt=0)


class CountNorm(Cited):
    value: int = Field(gt=0)


class FitNorm(Cited):
    """How well a public fits the owner's customers and money. The guide says to advertise where
    the owner's audience is (sex, age, geography) but gives no numbers: every threshold here is
    the bot's own, and the texts say so."""

    city_low_percent: float = Field(gt=0, le=100)
    """Local goal: a smaller share of members from the owner's city → not «брать» (critical)."""
    city_weak_percent: float = Field(gt=0, le=100)
    """Local goal: below it → a doubt (warning)."""
    target_low_percent: float = Field(gt=0, le=100)
    """The owner's target audience (sex, age, city) below it → a doubt (warning)."""
    hidden_high_percent: float = Field(gt=0, le=100)
    """A field hidden by more of the active members: its share is named in the reason."""
    overlap_high_percent: float = Field(gt=0, le=100)
    """Members already in the owner's community from it → a doubt (warning)."""
    pair_overlap_high_percent: float = Field(gt=0, le=100)
    """Two checked publics sharing this much of their sampled members → said (info)."""
    ad_share_high_percent: float = Field(gt=0, le=100)
    ad_posts_per_day_high: float = Field(gt=0)

    @model_validator(mode="after")
    def _city_order(self) -> FitNorm:
        if self.city_low_percent > self.city_weak_percent:
            raise ValueError("city_low_percent must not be above city_weak_percent")
        return self


class Norms(Strict):
    engagement: EngagementNorm
    padding: PaddingNorm
    inactive: InactiveNorm
    reach: RangeNorm
    ad_posts: AdPostsNorm
    hide_rate: RangeNorm
    target_action: MinPercentNorm
    readiness_posts: CountRangeNorm
    free_board_start_subscribers: CountNorm
    mailing_free_days: CountNorm
    fit: FitNorm


# --- The whole knowledge base ------------------------------------------------------------------


class KnowledgeFile(Strict):
    """One YAML file: any subset of the knowledge base's parts."""

    community_types: list[CommunityType] = []
    goals: list[Goal] = []
    checklists: list[Checklist] = []
    questionnaires: list[Questionnaire] = []
    topics: list[Topic] = []
    formulas: list[Formula] = []
    scenarios: list[Scenario] = []
    norms: Norms | None = None
    contest: ContestRules | None = None


class Knowledge(Strict):
    community_types: list[CommunityType] = Field(min_length=4, max_length=4)
    goals: list[Goal] = Field(min_length=3)
    checklists: list[Checklist] = Field(min_length=1)
    questionnaires: list[Questionnaire] = []
    topics: list[Topic] = Field(min_length=1)
    formulas: list[Formula] = Field(min_length=1)
    scenarios: list[Scenario] = Field(min_length=1)
    norms: Norms
    contest: ContestRules

    @model_validator(mode="after")
    def _cross_references(self) -> Knowledge:
        def unique(kind: str, ids: list[str]) -> set[str]:
            seen: set[str] = set()
            for item_id in ids:
                if item_id in seen:
                    raise ValueError(f"{kind}: duplicate id {item_id!r}")
                seen.add(item_id)
            return seen

        types = unique("community_types", [c.id for c in self.community_types])
        goals = unique("goals", [g.id for g in self.goals])
        unique("checklists", [c.id for c in self.checklists])
        unique("questionnaires", [q.id for q in self.questionnaires])
        topics = unique("topics", [t.id for t in self.topics])
        unique("facts", [f.id for t in self.topics for f in t.facts])
        unique("formulas", [f.id for f in self.formulas])
        if types & goals:
            raise ValueError(f"community type and goal ids overlap: {sorted(types & goals)}")
        for checklist in self.checklists:
            unique(f"checklist {checklist.id} items", [i.id for i in checklist.items])
            for item in checklist.items:
                bad = set(item.applies_to + item.mandatory_for) - types
                if bad:
                    raise ValueError(
                        f"checklist {checklist.id} item {item.id}: unknown types {sorted(bad)}"
                    )
        for topic in self.topics:
            bad = set(topic.tailored) - types - goals
            if bad:
                raise ValueError(f"topic {topic.id}: tailored keys {sorted(bad)} are not ids")
            bad = set(topic.related) - topics
            if bad:
                raise ValueError(f"topic {topic.id}: related {sorted(bad)} are not topic ids")
        scenarios = unique("scenarios", [s.id for s in self.scenarios])
        checklists = {c.id for c in self.checklists}
        questionnaires = {q.id for q in self.questionnaires}
        for scenario in self.scenarios:
            for step in scenario.steps:
                where = f"scenario {scenario.id} step {step.id}"
                bad = set(step.topics) - topics
                if bad:
                    raise ValueError(f"{where}: unknown topics {sorted(bad)}")
                bad = {b.scenario for b in step.buttons if b.scenario} - scenarios
                if bad:
                    raise ValueError(f"{where}: unknown scenarios {sorted(bad)}")
                for b in step.buttons:
                    target = self.scenario(b.scenario) if b.scenario and b.at else None
                    if target is not None and b.at not in {s.id for s in target.steps}:
                        raise ValueError(f"{where}: {b.scenario} has no step {b.at!r}")
                checklist_id = getattr(step, "checklist", None)
                if checklist_id is not None and checklist_id not in checklists:
                    raise ValueError(f"{where}: unknown checklist {checklist_id!r}")
                questionnaire_id = getattr(step, "questionnaire", None)
                if questionnaire_id is not None and questionnaire_id not in questionnaires:
                    raise ValueError(f"{where}: unknown questionnaire {questionnaire_id!r}")
        return self

    def scenario(self, scenario_id: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.id == scenario_id:
                return scenario
        raise KeyError(scenario_id)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def checklist(self, checklist_id: str) -> Checklist:
        for checklist in self.checklists:
            if checklist.id == checklist_id:
                return checklist
        raise KeyError(checklist_id)

    def questionnaire(self, questionnaire_id: str) -> Questionnaire:
        for questionnaire in self.questionnaires:
            if questionnaire.id == questionnaire_id:
                return questionnaire
        raise KeyError(questionnaire_id)

    def community_type(self, type_id: str) -> CommunityType:
        return next(c for c in self.community_types if c.id == type_id)

    def goal(self, goal_id: str) -> Goal:
        return next(g for g in self.goals if g.id == goal_id)
