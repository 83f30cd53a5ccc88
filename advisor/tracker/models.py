"""One ad placement as the tracker keeps it, the draft it is built from, and their validation.

A *draft* is a plain JSON-able dict of fields parsed so far (it lives in the conversation between
turns of the step-by-step entry). ``validate`` turns a complete draft into a ``Placement`` or
returns every ``Problem`` at once, each with a Russian message for the user.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.numbers import format_number
from advisor.texts import t

Method = Literal["admin", "vk_exchange", "third_party", "vk_ads", "free"]
METHODS: tuple[Method, ...] = ("admin", "vk_exchange", "third_party", "vk_ads", "free")

# Far beyond any real post or budget, and below formulas.MAX_INPUT, so every figure stays exact.
MAX_COUNT = 10**10
MAX_MONEY = 10**10
MAX_TEXT = 100
# VK opened in 2006: an earlier year is a typo, as is a start more than a year ahead.
MIN_YEAR = 2006
MAX_DAYS_AHEAD = 366

COUNT_FIELDS = (
    "views",
    "clicks",
    "subscribers",
    "hides",
    "actions",
    "likes",
    "reposts",
    "comments",
    "members",
)
# The fields a person types, in the order of the one-line form and of the step-by-step entry.
INPUT_FIELDS = (
    "link",
    "public",
    "method",
    "creative",
    "budget",
    "period",
    "views",
    "clicks",
    "subscribers",
    "hides",
    "actions",
)
# Fields that can be named in an edit ("просмотры 5 000") besides the input ones.
EXTRA_FIELDS = ("likes", "reposts", "comments", "members")

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Draft = dict[str, Any]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostRef(_Frozen):
    """An ad post on a community's wall: ``owner_id`` is negative, as VK writes it."""

    owner_id: int
    post_id: Annotated[int, Field(gt=0)]

    @property
    def key(self) -> str:
        return f"{self.owner_id}_{self.post_id}"

    @property
    def link(self) -> str:
        return f"https://vk.com/wall{self.key}"


class Placement(_Frozen):
    """What the person recorded about one placement; ``None`` means not reported (yet)."""

    post: PostRef | None = None
    public: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    method: Method
    creative: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)] | None = None
    budget: Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)] | None = None
    start: date
    end: date | None = None
    views: Count | None = None
    clicks: Count | None = None
    subscribers: Count | None = None
    hides: Count | None = None
    actions: Count | None = None
    likes: Count | None = None
    reposts: Count | None = None
    comments: Count | None = None
    members: Count | None = None


class StoredPlacement(Placement):
    """A placement as read from the database."""

    id: int
    number: int
    created_at: datetime
    updated_at: datetime
    vk_fetched_at: datetime | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. ``message`` is what the person reads."""

    field: str
    code: str
    # ``dataclasses.field`` spelled out: the attribute ``field`` above shadows the bare name here.
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> str:
        return t(f"tracker.errors.{self.code}", field=field_title(self.field), **self.params)


class InputProblem(ValueError):
    """A parser refused a value; carries the ``Problem`` to show."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(f"{problem.field}: {problem.code} {problem.params}")


def field_title(name: str) -> str:
    return t(f"tracker.fields.{name}")


def method_title(method: str) -> str:
    return t(f"tracker.methods.{method}")


# --- drafts ------------------------------------------------------------------------------------


def draft_from(placement: Placement) -> Draft:
    """The draft of a stored placement, so an edit can change some fields and re-validate."""
    draft: Draft = {
        "public": placement.public,
        "method": placement.method,
        "start": placement.start.isoformat(),
    }
    if placement.post is not None:
        draft["post"] = [placement.post.owner_id, placement.post.post_id]
    if placement.creative is not None:
        draft["creative"] = placement.creative
    if placement.budget is not None:
        draft["budget"] = placement.budget
    if placement.end is not None:
        draft["end"] = placement.end.isoformat()
    for name in COUNT_FIELDS:
        value = getattr(placement, name)
        if value is not None:
            draft[name] = value
    return draft


def cross_problems(draft: Draft) -> list[Problem]:
    """What is wrong between fields: the period's order, clicks and hides above views."""
    problems: list[Problem] = []
    start = date.fromisoformat(draft["start"]) if draft.get("start") else None
    end = date.fromisoformat(draft["end"]) if draft.get("end") else None
    if start is not None and end is not None and end < start:
        problems.append(Problem("period", "end_before_start", _dates(start, end)))
    views = draft.get("views")
    for name in ("clicks", "hides"):
        value = draft.get(name)
        if value is not None and views is not None and value > views:
            problems.append(
                Problem(name, "more_than_views", {"value": _int(value), "views": _int(views)})
            )
    return problems


def validate(draft: Draft) -> tuple[Placement | None, list[Problem]]:
    """A ``Placement`` from a draft whose fields were parsed one by one, or every problem left.

    Each field's own format was checked by its parser; this adds the required fields and
    ``cross_problems``.
    """
    problems: list[Problem] = []
    if draft.get("method") == "vk_ads" and not draft.get("public"):
        # VK Реклама shows the ad in the feed, not in a public: the method names the row.
        draft = {**draft, "public": method_title("vk_ads")}
    for name, key in (("public", "public"), ("method", "method"), ("period", "start")):
        if not draft.get(key):
            problems.append(Problem(name, "required"))
    problems += cross_problems(draft)
    if problems:
        return None, problems
    post = draft.get("post")
    placement = Placement(
        post=PostRef(owner_id=post[0], post_id=post[1]) if post else None,
        public=draft["public"],
        method=draft["method"],
        creative=draft.get("creative"),
        budget=draft.get("budget"),
        start=date.fromisoformat(draft["start"]),
        end=date.fromisoformat(draft["end"]) if draft.get("end") else None,
        **{name: draft.get(name) for name in COUNT_FIELDS},
    )
    return placement, []


def _int(value: int) -> str:
    return format_number(value, 0)


def _dates(start: date, end: date) -> dict[str, str]:
    return {"start": start.strftime("%d.%m.%Y"), "end": end.strftime("%d.%m.%Y")}
