"""The readiness score out of 100 and the to-do list ordered by impact (pure functions).

score = 100 × Σ credit(item) × points(item) / Σ points(item), over the items that apply to the
community type; credit is 1 for a done item, ``rules.score.unknown_credit`` for one VK does not
show, 0 for a missing one. A missing item that is mandatory for the type caps the score at
``rules.score.mandatory_missing_cap``. The points are in ``advisor/audit/rules.yaml``.

An item's impact is the score it would add once done: points × (1 − credit) / Σ points × 100.
The to-do list holds the missing and the not-visible items: mandatory missing ones first, then by
impact, then in checklist order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from advisor.audit.readiness import Status
from advisor.audit.result import TodoOut
from advisor.audit.rules import AuditRules
from advisor.knowledge.models import ChecklistItem
from advisor.texts import t

FORMATS_TODO = "formats"


def is_mandatory(
    item: ChecklistItem, community_type: str | None, all_types: Collection[str]
) -> bool:
    """Mandatory for the type; with the type unknown, only what is mandatory for every type."""
    if community_type:
        return community_type in item.mandatory_for
    return bool(all_types) and set(all_types) <= set(item.mandatory_for)


def credit(status: Status, rules: AuditRules) -> float:
    if status == "ok":
        return 1.0
    return rules.score.unknown_credit if status == "unknown" else 0.0


def total_points(items: Sequence[ChecklistItem], rules: AuditRules) -> int:
    return sum(rules.item(item.id).points for item in items)


@dataclass(frozen=True)
class Score:
    value: int
    blocked: bool
    """A mandatory item is missing: the score is held at most at the cap."""


def compute_score(
    items: Sequence[ChecklistItem],
    statuses: Mapping[str, Status],
    rules: AuditRules,
    *,
    community_type: str | None,
    all_types: Collection[str],
) -> Score:
    total = total_points(items, rules)
    if total == 0:
        return Score(0, blocked=False)
    earned = sum(rules.item(i.id).points * credit(statuses[i.id], rules) for i in items)
    raw = round(100 * earned / total)
    cap = rules.score.mandatory_missing_cap
    blocked = any(
        statuses[i.id] == "missing" and is_mandatory(i, community_type, all_types) for i in items
    )
    value = min(raw, cap) if blocked else raw
    return Score(value=value, blocked=blocked)


def impact(item: ChecklistItem, status: Status, rules: AuditRules, total: int) -> float:
    if total == 0:
        return 0.0
    return rules.item(item.id).points * (1.0 - credit(status, rules)) / total * 100


def formats_todo(kind: str | None) -> list[TodoOut]:
    """«Разнообразьте форматы» for a feed of one format (``readiness.one_format``): an item of
    its own, outside the score (no points, no cap)."""
    if kind is None:
        return []
    shown = t(f"audit.formats.{kind}")
    return [
        TodoOut(
            id=FORMATS_TODO,
            title=t("audit.todo_formats.title"),
            status="missing",
            advice=t("audit.todo_formats.advice", format=shown),
            gain=0.0,
            mandatory=False,
            scored=False,
        )
    ]


def todo_list(
    items: Sequence[ChecklistItem],
    statuses: Mapping[str, Status],
    rules: AuditRules,
    *,
    community_type: str | None,
    all_types: Collection[str],
    extra: Sequence[TodoOut] = (),
) -> list[TodoOut]:
    """``extra`` (the content's to-dos) come after the missing mandatory items."""
    total = total_points(items, rules)
    entries = [
        TodoOut(
            id=item.id,
            title=item.title,
            status=statuses[item.id],
            advice=item.advice,
            gain=impact(item, statuses[item.id], rules, total),
            mandatory=is_mandatory(item, community_type, all_types),
        )
        for item in items
        if statuses[item.id] != "ok"
    ]
    order = {item.id: n for n, item in enumerate(items)}
    entries.sort(
        key=lambda e: (
            not (e.mandatory and e.status == "missing"),
            -round(e.gain, 6),
            order[e.id],
        )
    )
    first = sum(1 for e in entries if e.mandatory and e.status == "missing")
    entries[first:first] = extra
    return entries[: rules.score.todo_limit]
