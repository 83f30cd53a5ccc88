"""The audit's answer: one ``AuditResult`` for the chat, the CLI text and the CLI's JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from advisor.audit.readiness import Source, Status
from advisor.audit.search import PhraseSource


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupOut(_Model):
    id: int
    screen_name: str
    name: str
    members_count: int
    city: str | None = None
    activity: str = ""

    @property
    def link(self) -> str:
        return f"vk.com/{self.screen_name}"


class ItemOut(_Model):
    id: str
    title: str
    status: Status
    evidence: str
    source: Source
    """Who told: ``vk`` (seen in VK), ``owner`` (the owner's checklist answer), ``none``."""
    advice: str | None
    """The checklist's advice, for a missing or not-visible item."""
    question: str | None
    """The checklist's question, for an item VK does not show."""
    tailored: str | None
    """The guide's advice for this community type (or goal) from the item's topic."""
    points: int
    mandatory: bool


class SearchOut(_Model):
    phrases: list[str]
    phrase_source: PhraseSource | None
    city: str | None
    name_has_phrase: bool | None
    name_has_city: bool
    name_has_person: bool
    description_has_phrase: bool | None
    description_has_city: bool | None
    suggested_names: list[str]
    hashtag: str
    hashtag_alternatives: list[str]
    hashtags_in_use: list[str]
    general_hashtags: int
    default_address: bool


class FormatOut(_Model):
    format: str
    posts: int
    share_percent: float
    mean_activities: float | None
    er_percent: float | None


class SuggestionOut(_Model):
    id: str
    text: str
    section: str


class ContentOut(_Model):
    posts_analyzed: int
    formats: list[FormatOut]
    posts_per_week: float | None
    days_since_last_post: float | None
    best_format: str | None
    suggestions: list[SuggestionOut]


class TodoOut(_Model):
    id: str
    title: str
    status: Status
    advice: str
    gain: float
    """Score points the item adds once done."""
    mandatory: bool
    scored: bool = True
    """A checklist item with points; False for the content's own to-dos (no «+N»)."""


class ErrorOut(_Model):
    code: str
    """One of the public check's codes (``advisor.vk.api.CheckErrorCode``); a plain string here
    keeps vkbottle out of the import of this module (the CLI and the chat start faster)."""
    message: str


class AuditResult(_Model):
    """Either ``error`` is set, or everything else is."""

    input: str
    group: GroupOut | None = None
    community_type: str | None = None
    goal: str | None = None
    score: int | None = None
    score_cap: int | None = None
    """The cap the score is held under while a mandatory item is missing; None otherwise."""
    items: list[ItemOut] = []
    search: SearchOut | None = None
    content: ContentOut | None = None
    todo: list[TodoOut] = []
    vk_requests: int = 0
    fetched_at: datetime | None = None
    error: ErrorOut | None = None
    description: str = ""
    """The community's description, for the dialog's name suggestions (not in the JSON)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def item(self, item_id: str) -> ItemOut:
        return next(item for item in self.items if item.id == item_id)

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON: the issue's keys plus the search and content findings."""
        if self.error is not None:
            return {"input": self.input, "error": self.error.model_dump()}
        assert self.group and self.search and self.content and self.fetched_at
        content = self.content.model_dump()
        for name in ("posts_per_week", "days_since_last_post"):
            if content[name] is not None:
                content[name] = round(content[name], 1)
        for entry in content["formats"]:
            for name in ("share_percent", "mean_activities", "er_percent"):
                if entry[name] is not None:
                    entry[name] = round(entry[name], 2)
        return {
            "input": self.input,
            "group": self.group.model_dump(),
            "community_type": self.community_type,
            "score": self.score,
            "items": [item.model_dump() for item in self.items],
            "search": self.search.model_dump(),
            "content": content,
            "todo": [{**entry.model_dump(), "gain": round(entry.gain, 1)} for entry in self.todo],
            "vk_requests": self.vk_requests,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds"),
        }


def error_result(input_text: str, code: str, message: str) -> AuditResult:
    return AuditResult(input=input_text, error=ErrorOut(code=code, message=message))
