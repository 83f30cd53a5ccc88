"""The typed state of one conversation, as the engine keeps it between turns.

The profile (type, goal, link) and the position (scenario, step) are columns of their own; the
rest lives in the conversation's JSON ``data``. That JSON is written on every turn, so its keys
are one letter (``tests/test_dialog.py`` keeps a walked conversation under 1 KB) — but no code
outside this module knows them: it reads and writes the fields below.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

HISTORY_LIMIT = 12
RETURNS_LIMIT = 4


class Position(BaseModel):
    """A place in a scenario: a step, and the question inside it (checklists, forms)."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    step: str
    index: int = 0

    def encode(self) -> str:
        return f"{self.scenario}/{self.step}/{self.index}"

    @classmethod
    def decode(cls, raw: object) -> Position | None:
        if isinstance(raw, Position):
            return raw
        if not isinstance(raw, str):
            return None
        scenario, step, index = [*raw.split("/"), "0"][:3]
        if not scenario or not step:
            return None
        return cls(scenario=scenario, step=step, index=int(index) if index.isdigit() else 0)


class ShownMessage(BaseModel):
    """A message an entered step produced, kept so that showing the step again repeats it
    without running the step's command a second time (images and files are not kept)."""

    model_config = ConfigDict(frozen=True)

    text: str
    buttons: list[list[tuple[str, str]]] = []


class Return(BaseModel):
    """Where a side trip into another scenario began, with that scenario's state then."""

    at: Position
    saved: dict[str, Any] = {}

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: object) -> Position:
        position = Position.decode(value)
        if position is None:
            raise ValueError("not a position")
        return position

    @field_serializer("at")
    def _encode_at(self, value: Position) -> str:
        return value.encode()


def _positions(raw: object) -> list[Position]:
    if not isinstance(raw, list):
        return []
    return [p for p in (Position.decode(item) for item in raw) if p is not None]


class DialogState(BaseModel):
    """Everything about a conversation's progress that is not a column."""

    model_config = ConfigDict(populate_by_name=True, validate_assignment=False)

    index: int = Field(default=0, alias="i", ge=0)
    history: list[Position] = Field(default_factory=list, alias="h")
    returns: list[Return] = Field(
        default_factory=list, alias="k", description="where side trips into scenarios began"
    )
    pending: str | None = Field(
        default=None, alias="n", description="the scenario to open once the profile is set"
    )
    form: dict[str, float | None] = Field(default_factory=dict, alias="f")
    draft: dict[str, Any] = Field(default_factory=dict, alias="d")
    shown: dict[str, list[ShownMessage]] = Field(default_factory=dict, alias="o")
    features: dict[str, dict[str, Any]] = Field(default_factory=dict, alias="x")
    seen_at: int | None = Field(
        default=None, alias="t", description="when the person last wrote (Unix seconds)"
    )
    handoff: dict[str, Any] = Field(
        default_factory=dict,
        alias="c",
        description="what one tool hands to the next one it opens (the public check's publics or "
        "the results calculator's figures for «Записать в учёт»); kept when a scenario is left",
    )
    owner: dict[str, Any] = Field(
        default_factory=dict,
        alias="w",
        description="what the owner told about the community (city, search phrases) for "
        "examples in their words; kept when the person leaves the scenario",
    )
    kept: dict[str, tuple[str, str]] = Field(
        default_factory=dict,
        alias="r",
        description="(title, text) a tool shows again on request (the reports behind a check's "
        "summary, by public); kept when the person leaves the scenario",
    )

    @field_validator("index", mode="before")
    @classmethod
    def _index(cls, value: object) -> int:
        return value if isinstance(value, int) and value >= 0 else 0

    @field_validator("history", mode="before")
    @classmethod
    def _positions(cls, value: object) -> list[Position]:
        return _positions(value)

    @field_serializer("history")
    def _encode_positions(self, value: list[Position]) -> list[str]:
        return [p.encode() for p in value]

    @classmethod
    def load(cls, data: dict[str, Any]) -> DialogState:
        """The state stored as ``data``; what does not parse is dropped, never fatal."""
        legacy = {k: data[k] for k in ("tr", "audit") if isinstance(data.get(k), dict)}
        clean = {k: v for k, v in data.items() if k not in legacy}
        if legacy:
            clean.setdefault("x", {}).update(legacy)
        try:
            return cls.model_validate(clean)
        except ValueError:
            return cls(index=0, history=_positions(data.get("h")))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_defaults=True)

    def feature(self, name: str) -> dict[str, Any]:
        """A feature's own data (the tracker's draft, the audit's findings); created empty."""
        return self.features.setdefault(name, {})

    def remember(self, position: Position | None) -> None:
        """Keep a position for «Назад» (the newest HISTORY_LIMIT)."""
        if position is not None:
            self.history.append(position)
            del self.history[:-HISTORY_LIMIT]

    def push_return(self, back: Return) -> None:
        self.returns.append(back)
        del self.returns[:-RETURNS_LIMIT]
