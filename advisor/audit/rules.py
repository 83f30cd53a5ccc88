"""The audit's own data (``advisor/audit/rules.yaml``), checked at load against the knowledge.

The file lives in this package and not in ``advisor/knowledge/ru/``: the knowledge loader reads
every YAML file there as a ``KnowledgeFile``, which has no place for these fields. Every block
cites a guide section; ``tests/test_audit_rules.py`` checks the citations against the guide.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from advisor.knowledge.models import Checklist, ChecklistItem, Knowledge
from advisor.yaml_files import read_yaml

RULES_PATH = Path(__file__).with_name("rules.yaml")
FORMATS = ("clip", "video", "article", "poll", "photo", "text")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Cited(_Strict):
    section: str = Field(min_length=3, description="the guide heading this block comes from")


class ScoreRules(_Cited):
    unknown_credit: float = Field(ge=0, le=1)
    mandatory_missing_cap: int = Field(ge=0, le=100)
    todo_limit: int = Field(ge=1, le=20)


class ItemRule(_Cited):
    id: str
    points: int = Field(gt=0, le=100)
    vk_fields: list[str] = Field(description="VK data that proves the item; empty: never visible")
    topic: str = Field(description="the topic whose type-tailored advice goes with the item")
    tailored: list[str] | None = Field(
        default=None,
        description="the keys of the topic's tailored advice this item is about (None: all); "
        "a sentence is never shown when an item it is about is done",
    )


class Thresholds(_Cited):
    min_description_chars: int = Field(ge=1)
    min_media_sections: int = Field(ge=1, le=4)
    min_formats: int = Field(ge=1, le=len(FORMATS))
    recent_posts: int = Field(ge=1, le=100)


class SearchRules(_Cited):
    name_max_chars: int = Field(ge=10)
    max_suggestions: int = Field(ge=1)
    name_patterns: list[str] = Field(min_length=1)
    generic_activities: list[str] = []
    city_aliases: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _patterns(self) -> SearchRules:
        for pattern in self.name_patterns:
            if "{phrase}" not in pattern:
                raise ValueError(f"name pattern {pattern!r} has no {{phrase}}")
            try:  # an unknown placeholder fails here, at start-up, not in a chat
                pattern.format(phrase="", city="", person="", brand="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"name pattern {pattern!r}: {exc}") from None
        return self


class HashtagRules(_Cited):
    rubrics: dict[str, list[str]] = Field(description="rubric names by community type + default")

    @model_validator(mode="after")
    def _default(self) -> HashtagRules:
        if not self.rubrics.get("default"):
            raise ValueError("hashtags.rubrics needs a non-empty 'default' list")
        for kind, names in self.rubrics.items():
            for name in names:
                if not name or not all(ch.isalnum() or ch == "_" for ch in name):
                    raise ValueError(f"rubric {name!r} ({kind}) is not a valid hashtag word")
        return self


class AbsentFormat(_Strict):
    format: str
    topic: str


class ContentRules(_Cited):
    formats: list[str] = Field(min_length=2)
    min_posts_per_format: int = Field(ge=1)
    when_absent: list[AbsentFormat] = []
    always_topics: list[str] = []
    stale_after_days: int = Field(ge=1)
    stale_section: str = Field(min_length=3)
    best_format_section: str = Field(min_length=3)

    @model_validator(mode="after")
    def _formats(self) -> ContentRules:
        if sorted(self.formats) != sorted(FORMATS):
            raise ValueError(f"content.formats must order exactly {sorted(FORMATS)}")
        if self.formats[-1] != "text":
            raise ValueError("content.formats must end with 'text' (a post without media)")
        bad = {a.format for a in self.when_absent} - set(FORMATS)
        if bad:
            raise ValueError(f"content.when_absent: unknown formats {sorted(bad)}")
        return self


class AuditRules(_Strict):
    checklist: str
    score: ScoreRules
    items: list[ItemRule] = Field(min_length=1)
    thresholds: Thresholds
    search: SearchRules
    hashtags: HashtagRules
    content: ContentRules

    def item(self, item_id: str) -> ItemRule:
        return next(rule for rule in self.items if rule.id == item_id)

    def sections(self) -> list[str]:
        """Every guide heading this file cites."""
        cited = [self.score.section, self.thresholds.section, self.search.section]
        cited += [self.hashtags.section, self.content.section, self.content.stale_section]
        cited.append(self.content.best_format_section)
        cited += [rule.section for rule in self.items]
        return cited


class AuditRulesError(RuntimeError):
    """rules.yaml is malformed or disagrees with the knowledge base."""


def validate_against(rules: AuditRules, knowledge: Knowledge) -> None:
    """The rules must name the checklist's items exactly, and only known topics and types."""
    try:
        checklist = knowledge.checklist(rules.checklist)
    except KeyError:
        raise AuditRulesError(f"rules.yaml: unknown checklist {rules.checklist!r}") from None
    ids = [rule.id for rule in rules.items]
    expected = [item.id for item in checklist.items]
    if sorted(ids) != sorted(expected) or len(set(ids)) != len(ids):
        raise AuditRulesError(
            f"rules.yaml: items {sorted(ids)} must be the checklist's items {sorted(expected)}"
        )
    topics = {topic.id for topic in knowledge.topics}
    used = {rule.topic for rule in rules.items}
    used |= {a.topic for a in rules.content.when_absent} | set(rules.content.always_topics)
    if used - topics:
        raise AuditRulesError(f"rules.yaml: unknown topics {sorted(used - topics)}")
    types = {kind.id for kind in knowledge.community_types}
    bad = set(rules.hashtags.rubrics) - types - {"default"}
    if bad:
        raise AuditRulesError(f"rules.yaml: hashtags.rubrics for unknown types {sorted(bad)}")


def parse_rules(path: Path) -> AuditRules:
    try:
        raw = read_yaml(path)
        return AuditRules.model_validate(raw)
    except yaml.YAMLError as exc:
        raise AuditRulesError(f"{path.name} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise AuditRulesError(f"{path.name} is invalid: {fields}") from exc


@lru_cache(maxsize=1)
def load_rules() -> AuditRules:
    """The validated rules; checked against the knowledge base once per process."""
    from advisor.knowledge.loader import load_knowledge

    rules = parse_rules(RULES_PATH)
    validate_against(rules, load_knowledge())
    return rules


def checklist_items(checklist: Checklist, community_type: str | None) -> list[ChecklistItem]:
    """The items that apply, as the dialog's checklist step chooses them."""
    return [
        item
        for item in checklist.items
        if not item.applies_to or (community_type and community_type in item.applies_to)
    ]
