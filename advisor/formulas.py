"""The guide's formulas as pure functions (documented and cited in ``knowledge/ru/formulas.yaml``).

Conventions shared by every function here:

* Inputs are validated by pydantic. Counts are strict ``int`` (``True``, ``3.0`` and ``"3"`` are
  refused, so a parsing slip upstream cannot pass as a number); money is a finite ``float`` (``int``
  accepted). Anything negative, non-finite or above ``MAX_INPUT`` raises ``FormulaInputError``.
* ``MAX_INPUT`` (10^15) is far beyond any real VK figure or budget; it keeps every result a finite
  float, because Python refuses to turn a too-large int quotient into a float.
* A zero denominator (no members, no views, no clicks, no posts) returns ``None``: the value cannot
  be computed, and callers must say so instead of showing a number.
* Percentages are returned unrounded (``12.345`` means 12.345%); rounding belongs to presentation.
* A numerator larger than its denominator is not an error: small publics can have ER above 100%,
  and VK counters (views vs. hides) are collected separately, so the quotient is returned as is.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from pydantic import Field, ValidationError, validate_call

from advisor.knowledge.models import EngagementNorm
from advisor.texts import t

MAX_INPUT = 10**15

Count = Annotated[int, Field(strict=True, ge=0, le=MAX_INPUT)]
Money = Annotated[float, Field(strict=True, ge=0, le=MAX_INPUT, allow_inf_nan=False)]
# A percentage may exceed 100 (ER of a small lively public), so only the general bound applies.
Percent = Money

InputProblem = Literal["negative", "too_large", "not_number"]

P = ParamSpec("P")
R = TypeVar("R")


class FormulaInputError(ValueError):
    """A formula got an impossible input. ``message_key`` names the Russian text for the user."""

    def __init__(self, function: str, field: str, value: Any, problem: InputProblem) -> None:
        self.function = function
        self.field = field
        self.value = value
        self.problem = problem
        self.message_key = f"verdicts.input_error.{problem}"
        super().__init__(f"{function}: {field}={value!r} is rejected ({problem})")

    def user_message(self, lang: str = "ru") -> str:
        field_name = t(f"verdicts.input_error.fields.{self.field}", lang)
        return t(self.message_key, lang, field=field_name, limit=f"{MAX_INPUT:,}".replace(",", " "))


def _problem(error_type: str) -> InputProblem:
    if error_type == "greater_than_equal":
        return "negative"
    if error_type == "less_than_equal":
        return "too_large"
    return "not_number"


def validated(func: Callable[P, R]) -> Callable[P, R]:
    """``validate_call`` whose failures surface as ``FormulaInputError`` with the argument name."""
    checked = validate_call(func)
    names = list(inspect.signature(func).parameters)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return checked(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = first["loc"][0] if first["loc"] else "?"
            field = names[where] if isinstance(where, int) and where < len(names) else str(where)
            raise FormulaInputError(
                func.__name__, field, first.get("input"), _problem(first["type"])
            ) from None

    return wrapper


def _ratio(numerator: float, denominator: float, scale: int) -> float | None:
    if denominator == 0:
        return None
    # Scaling first keeps int inputs exact until the single division: 15 of 100 gives 15.0,
    # not 15.000000000000002.
    return numerator * scale / denominator


@validated
def activities_count(likes: Count = 0, reposts: Count = 0, comments: Count = 0) -> int:
    """Activities in the guide's sense: likes + reposts + comments."""
    return likes + reposts + comments


@validated
def engagement_percent(activities: Count, members: Count, posts: Count = 1) -> float | None:
    """Activities per post / members * 100 (the guide's ER; ``posts`` averages over a sample).

    ``None`` when the public has no members or no posts were analysed.
    """
    return _ratio(activities, members * posts, 100)


@validated
def reach_percent(views: Count, members: Count, posts: Count = 1) -> float | None:
    """Views per post / members * 100. ``None`` with no members or no posts."""
    return _ratio(views, members * posts, 100)


@validated
def hide_rate_percent(hides: Count, views: Count) -> float | None:
    """Share of viewers who hid the post: hides / views * 100. ``None`` with no views."""
    return _ratio(hides, views, 100)


@validated
def conversion_percent(target_actions: Count, clicks: Count) -> float | None:
    """Target actions (joins, messages, orders — whatever the placement aimed at) / clicks * 100.

    The guide's «процент охвата высокий, а целевых действий меньше 5%»: reach measures who saw
    the post; the actions are counted among those who came over by it (transitions), not among
    all views. ``None`` with no clicks.
    """
    return _ratio(target_actions, clicks, 100)


@validated
def ctr_percent(clicks: Count, views: Count) -> float | None:
    """Click-through rate: clicks / views * 100. ``None`` with no views."""
    return _ratio(clicks, views, 100)


@validated
def cpm(budget: Money, views: Count) -> float | None:
    """Cost of a thousand views, roubles: budget / views * 1000. ``None`` with no views."""
    return _ratio(budget, views, 1000)


@validated
def cpc(budget: Money, clicks: Count) -> float | None:
    """Cost of a click, roubles: budget / clicks. ``None`` with no clicks."""
    return _ratio(budget, clicks, 1)


@validated
def cost_per_subscriber(budget: Money, subscribers: Count) -> float | None:
    """Cost of one new subscriber, roubles: budget / subscribers. ``None`` with no subscribers."""
    return _ratio(budget, subscribers, 1)


@validated
def engagement_norm_percent(members: Count, norm: EngagementNorm) -> float:
    """The minimal healthy ER for a public of ``members``, from the guide's anchors.

    Between two anchors the norm moves linearly in log10(members) (the guide gives 15% at 1 000
    and 3% at 100 000, so 10 000 gives exactly 9%); below the first and above the last anchor it
    is flat.
    The anchors are validated to be non-increasing, so the result never grows with ``members``.
    """
    anchors = norm.anchors
    if members <= anchors[0].members:
        return anchors[0].min_percent
    for low, high in itertools.pairwise(anchors):
        if members < high.members:
            share = (math.log10(members) - math.log10(low.members)) / (
                math.log10(high.members) - math.log10(low.members)
            )
            return low.min_percent + (high.min_percent - low.min_percent) * share
    return anchors[-1].min_percent


def engagement_norm_is_estimate(members: Count, norm: EngagementNorm) -> bool:
    """True when the norm for ``members`` lies strictly between the guide's first and last
    anchor: there it is the bot's interpolation, not a number the guide gives."""
    return norm.anchors[0].members < members < norm.anchors[-1].members
