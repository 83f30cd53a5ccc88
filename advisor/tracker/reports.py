"""Figures of placements: each row's metrics and verdict, totals, groups and their ranking.

Formulas and verdicts are the project's own (``advisor.formulas``, ``advisor.verdicts``).
A group's ratio is computed from the group's sums (total budget / total subscribers), not as a
mean of the rows' ratios, so a big placement weighs more than a small one; each ratio sums only
the rows that report both of its inputs. Rows without views get no verdict: there is nothing
to judge yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from advisor import formulas
from advisor.knowledge.models import Norms
from advisor.tracker.models import Placement
from advisor.verdicts import PlacementStats, Verdict, judge_placement

GroupKey = Literal["public", "method", "creative"]
GROUP_KEYS: tuple[GroupKey, ...] = ("public", "method", "creative")


@dataclass(frozen=True)
class Metrics:
    """The guide's figures; ``None`` where an input is missing or a denominator is zero."""

    cpm: float | None = None
    cpc: float | None = None
    ctr: float | None = None
    cost_per_subscriber: float | None = None
    conversion: float | None = None
    hide_rate: float | None = None


N = TypeVar("N", int, float)


def _if_known(
    formula: Callable[[N, int], float | None], a: N | None, b: int | None
) -> float | None:
    """``formula(a, b)``, or ``None`` if either input is missing."""
    return formula(a, b) if a is not None and b is not None else None


def placement_metrics(placement: Placement) -> Metrics:
    p = placement
    return Metrics(
        cpm=_if_known(formulas.cpm, p.budget, p.views),
        cpc=_if_known(formulas.cpc, p.budget, p.clicks),
        ctr=_if_known(formulas.ctr_percent, p.clicks, p.views),
        cost_per_subscriber=_if_known(formulas.cost_per_subscriber, p.budget, p.subscribers),
        conversion=_if_known(formulas.conversion_percent, p.actions, p.clicks),
        hide_rate=_if_known(formulas.hide_rate_percent, p.hides, p.views),
    )


def placement_verdict(placement: Placement, norms: Norms) -> Verdict | None:
    """The guide's judgement of one row; ``None`` until its views are known."""
    if placement.views is None:
        return None
    stats = PlacementStats(
        views=placement.views,
        members_count=placement.members,
        hides=placement.hides,
        target_actions=placement.actions,
        clicks=placement.clicks,
        subscribers=placement.subscribers,
        budget_rub=placement.budget,
        placed_via=placement.method,
    )
    return judge_placement(stats, norms)


# --- groups ------------------------------------------------------------------------------------


@dataclass
class GroupStats:
    """Sums of a group of rows and the ratios computed from them.

    ``paid`` and ``paid_subscribers`` are the sums over rows reporting both budget and
    subscribers: the base of the cost per subscriber.
    """

    key: str
    title: str
    count: int = 0
    budget: float = 0.0
    views: int = 0
    clicks: int = 0
    subscribers: int = 0
    hides: int = 0
    actions: int = 0
    paid: float = 0.0
    paid_subscribers: int = 0
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def spent_without_subscribers(self) -> bool:
        """Money went out and no subscriber came: worse than any finite cost."""
        return self.paid > 0 and self.paid_subscribers == 0


def _ratio(
    rows: Sequence[Placement],
    formula: Callable[[N, int], float | None],
    numerator: Callable[[Placement], N | None],
    denominator: Callable[[Placement], int | None],
) -> float | None:
    """``formula`` over the sums of the rows that report both inputs; ``None`` if none does."""
    pairs = [(numerator(r), denominator(r)) for r in rows]
    known = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not known:
        return None
    return formula(sum(a for a, _ in known), sum(b for _, b in known))


def group_stats(key: str, title: str, rows: Sequence[Placement]) -> GroupStats:
    def total(name: str) -> int:
        return sum(getattr(row, name) or 0 for row in rows)

    def budget(r: Placement) -> float | None:
        return r.budget

    def views(r: Placement) -> int | None:
        return r.views

    metrics = Metrics(
        cpm=_ratio(rows, formulas.cpm, budget, views),
        cpc=_ratio(rows, formulas.cpc, budget, lambda r: r.clicks),
        ctr=_ratio(rows, formulas.ctr_percent, lambda r: r.clicks, views),
        cost_per_subscriber=_ratio(
            rows, formulas.cost_per_subscriber, budget, lambda r: r.subscribers
        ),
        conversion=_ratio(
            rows, formulas.conversion_percent, lambda r: r.actions, lambda r: r.clicks
        ),
        hide_rate=_ratio(rows, formulas.hide_rate_percent, lambda r: r.hides, views),
    )
    paid_rows = [r for r in rows if r.budget is not None and r.subscribers is not None]
    return GroupStats(
        key=key,
        title=title,
        count=len(rows),
        budget=round(sum(row.budget or 0 for row in rows), 2),
        views=total("views"),
        clicks=total("clicks"),
        subscribers=total("subscribers"),
        hides=total("hides"),
        actions=total("actions"),
        paid=round(sum(r.budget or 0 for r in paid_rows), 2),
        paid_subscribers=sum(r.subscribers or 0 for r in paid_rows),
        metrics=metrics,
    )


def _group_key(row: Placement, by: GroupKey) -> tuple[str, str]:
    """(comparison key, title shown) of a row in a grouping."""
    if by == "method":
        return row.method, row.method
    value = row.public if by == "public" else row.creative
    if value is None:
        return "", ""
    # «Кулинария  СПб» and «кулинария спб» are one public.
    return " ".join(value.lower().replace("ё", "е").split()), value


def group_by(rows: Iterable[Placement], by: GroupKey) -> list[GroupStats]:
    """Groups in order of first appearance; the title is the first spelling met."""
    buckets: dict[str, tuple[str, list[Placement]]] = {}
    for row in rows:
        key, title = _group_key(row, by)
        buckets.setdefault(key, (title, []))[1].append(row)
    return [group_stats(key, title, members) for key, (title, members) in buckets.items()]


@dataclass(frozen=True)
class Ranking:
    """Groups ordered from the cheapest subscriber to the most expensive one.

    Groups that spent money and brought no subscriber come last (most spent last). Groups
    whose cost per subscriber cannot be judged (no budget or no subscriber figures) are
    ``unranked``. ``best`` and ``worst`` exist only when at least two groups are ranked.
    """

    ranked: list[GroupStats]
    unranked: list[GroupStats]

    @property
    def best(self) -> GroupStats | None:
        if len(self.ranked) < 2 or self.ranked[0].metrics.cost_per_subscriber is None:
            return None
        return self.ranked[0]

    @property
    def worst(self) -> GroupStats | None:
        return self.ranked[-1] if len(self.ranked) >= 2 else None


def rank(groups: Iterable[GroupStats]) -> Ranking:
    ranked: list[tuple[tuple[int, float, float], GroupStats]] = []
    unranked: list[GroupStats] = []
    for group in groups:
        cost = group.metrics.cost_per_subscriber
        if cost is not None:
            # Same cost: more subscribers first.
            ranked.append(((0, cost, -group.subscribers), group))
        elif group.spent_without_subscribers:
            ranked.append(((1, group.paid, 0), group))
        else:
            unranked.append(group)
    ranked.sort(key=lambda pair: pair[0])
    return Ranking([group for _, group in ranked], unranked)
