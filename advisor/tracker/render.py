"""Placements, tables and reports as plain Russian chat text (front-ends add formatting)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from advisor.knowledge.models import Norms
from advisor.morph import counted
from advisor.numbers import format_number
from advisor.texts import t
from advisor.tracker.models import Placement, StoredPlacement, field_title, method_title
from advisor.tracker.reports import (
    GROUP_KEYS,
    GroupKey,
    GroupStats,
    Metrics,
    Ranking,
    group_by,
    group_stats,
    placement_metrics,
    placement_verdict,
    rank,
)
from advisor.tracker.vk_posts import PostFigures
from advisor.verdicts import EFFICIENCY_SECTION, Verdict, shown_figure

# A chat shows the latest rows; the whole table goes to the export.
CHAT_TABLE_ROWS = 30


def money(value: float) -> str:
    return t("tracker.money", value=format_number(value, 2))


def count(value: int) -> str:
    return format_number(value, 0)


def figure(name: str, value: int) -> str:
    """«12 000 просмотров», «1 переход», «2 целевых действия»: the count with its noun agreed."""
    return counted(value, t(f"tracker.figures.{name}"))


def percent(value: float, *limits: float) -> str:
    """A share as the verdict's reasons print it (``shown_figure``): one rounding per screen."""
    return t("tracker.percent", value=shown_figure(value, *limits))


def _limits(name: str, norms: Norms | None) -> tuple[float, ...]:
    """The norms a share is shown beside in the verdict, so both print it alike."""
    if norms is None:
        return ()
    return {
        "conversion": (norms.target_action.min_percent,),
        "hide_rate": (norms.hide_rate.max_percent,),
    }.get(name, ())


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def period(placement: Placement) -> str:
    if placement.end is None:
        return t("tracker.period_open", start=day(placement.start))
    if placement.end == placement.start:
        return day(placement.start)
    return t("tracker.period", start=day(placement.start), end=day(placement.end))


def group_title(group: GroupStats, by: GroupKey) -> str:
    if by == "method":
        return method_title(group.title)
    return group.title or t("tracker.no_creative")


def metrics_line(metrics: Metrics, norms: Norms | None = None) -> str | None:
    parts = []
    for name, is_money in (
        ("cpm", True),
        ("cpc", True),
        ("ctr", False),
        ("cost_per_subscriber", True),
        ("conversion", False),
        ("hide_rate", False),
    ):
        value = getattr(metrics, name)
        if value is not None:
            shown = money(value) if is_money else percent(value, *_limits(name, norms))
            parts.append(t(f"tracker.metrics.{name}", value=shown))
    return " · ".join(parts) if parts else None


def figures_line(placement: Placement) -> str | None:
    parts = []
    for name in ("views", "clicks", "subscribers", "hides", "actions"):
        value = getattr(placement, name)
        if value is not None:
            parts.append(figure(name, value))
    return " · ".join(parts) if parts else None


def vk_line(placement: StoredPlacement) -> str | None:
    parts = []
    for name in ("likes", "reposts", "comments", "members"):
        value = getattr(placement, name)
        if value is not None:
            parts.append(figure(name, value))
    if not parts:
        return None
    line = " · ".join(parts)
    if placement.vk_fetched_at is not None:
        fetched = placement.vk_fetched_at.strftime("%d.%m.%Y %H:%M")
        line += t("tracker.vk_fetched", moment=fetched)
    return line


def figures_from_vk(figures: PostFigures) -> str:
    """«просмотров 12 000, лайков 40, ...» for what VK reported."""
    parts = [figure(name, value) for name, value in figures.counts().items() if value is not None]
    return ", ".join(parts)


def vk_changes(old: StoredPlacement, new: StoredPlacement) -> str:
    """What a refresh from VK changed in a row, or that nothing did."""
    changes = [
        t(
            "tracker.vk.change",
            name=field_title(name),
            old=count(getattr(old, name)) if getattr(old, name) is not None else "—",
            new=count(getattr(new, name)),
        )
        for name in ("views", "likes", "reposts", "comments", "members")
        if getattr(new, name) is not None and getattr(old, name) != getattr(new, name)
    ]
    if not changes:
        return t("tracker.vk.nothing_changed", number=new.number)
    return t("tracker.vk.changed", number=new.number, changes=", ".join(changes))


def verdict_text(verdict: Verdict | None) -> str:
    """The verdict and its reasons; the costs are on the metrics line already."""
    if verdict is None:
        return t("tracker.verdict.no_views")
    lines = [t(f"tracker.verdict.{verdict.verdict}")]
    lines.extend(f"• {r.text}" for r in verdict.reasons if r.severity != "info")
    return "\n".join(lines)


def card(placement: StoredPlacement, norms: Norms) -> str:
    """Everything about one row: what was recorded, its metrics and the guide's verdict."""
    head = t(
        "tracker.card_head",
        number=placement.number,
        public=placement.public,
        method=method_title(placement.method),
    )
    lines = [head]
    if placement.creative:
        lines.append(t("tracker.card_creative", creative=placement.creative))
    if placement.post is not None:
        lines.append(t("tracker.card_post", link=placement.post.link))
    budget = money(placement.budget) if placement.budget is not None else t("tracker.unknown")
    lines.append(t("tracker.card_period", period=period(placement), budget=budget))
    lines.append(figures_line(placement) or t("tracker.no_figures"))
    extra = vk_line(placement)
    if extra:
        lines.append(extra)
    metrics = metrics_line(placement_metrics(placement), norms)
    if metrics:
        lines.append(metrics)
    lines.append("")
    lines.append(verdict_text(placement_verdict(placement, norms)))
    lines.append(t("tracker.section_ref", section=EFFICIENCY_SECTION))
    return "\n".join(lines)


def _verdict_mark(placement: Placement, norms: Norms) -> str:
    verdict = placement_verdict(placement, norms)
    return t(f"tracker.mark.{verdict.verdict if verdict else 'none'}")


def table_line(placement: StoredPlacement, norms: Norms) -> str:
    parts = [t("tracker.table_row_head", number=placement.number, public=placement.public)]
    details = [method_title(placement.method)]
    if placement.creative:
        details.append(t("tracker.quoted", text=placement.creative))
    details.append(period(placement))
    parts.append(", ".join(details))
    figures = []
    if placement.budget is not None:
        figures.append(money(placement.budget))
    if placement.views is not None:
        figures.append(figure("views", placement.views))
    if placement.subscribers is not None:
        figures.append(figure("subscribers", placement.subscribers))
    cost = placement_metrics(placement).cost_per_subscriber
    if cost is not None:
        figures.append(t("tracker.per_subscriber", value=money(cost)))
    if figures:
        parts.append(" · ".join(figures))
    parts.append(_verdict_mark(placement, norms))
    return " — ".join(parts)


def table(rows: Sequence[StoredPlacement], norms: Norms) -> str:
    if not rows:
        return t("tracker.table_empty")
    lines = [t("tracker.table_title", count=len(rows))]
    shown = rows[-CHAT_TABLE_ROWS:]
    if len(shown) < len(rows):
        lines.append(t("tracker.table_cut", shown=len(shown)))
    lines.extend(table_line(row, norms) for row in shown)
    return "\n".join(lines)


def group_line(group: GroupStats, by: GroupKey) -> str:
    parts = [
        counted(group.count, t("tracker.placement_word")),
        money(group.budget),
        figure("views", group.views),
        figure("subscribers", group.subscribers),
    ]
    cost = group.metrics.cost_per_subscriber
    if cost is not None:
        parts.append(t("tracker.per_subscriber", value=money(cost)))
    elif group.spent_without_subscribers:
        parts.append(t("tracker.no_subscribers"))
    return t("tracker.group_line", title=group_title(group, by), details=" · ".join(parts))


def ranking_lines(ranking: Ranking, by: GroupKey) -> list[str]:
    lines = []
    best, worst = ranking.best, ranking.worst
    if best is not None and best.metrics.cost_per_subscriber is not None:
        lines.append(
            t(
                "tracker.best",
                title=group_title(best, by),
                value=money(best.metrics.cost_per_subscriber),
            )
        )
    if worst is not None:
        if worst.metrics.cost_per_subscriber is not None:
            value = t("tracker.per_subscriber", value=money(worst.metrics.cost_per_subscriber))
        else:
            value = t("tracker.spent_no_subscribers", budget=money(worst.paid))
        lines.append(t("tracker.worst", title=group_title(worst, by), value=value))
    if len(ranking.ranked) < 2:
        lines.append(t("tracker.nothing_to_compare"))
    return lines


def report(rows: Sequence[Placement]) -> str:
    """Totals, then each grouping with its best and worst by cost per subscriber."""
    if not rows:
        return t("tracker.table_empty")
    total = group_stats("", "", rows)
    lines = [
        t(
            "tracker.totals",
            count=counted(total.count, t("tracker.placement_word")),
            budget=money(total.budget),
            views=figure("views", total.views),
            clicks=figure("clicks", total.clicks),
            subscribers=figure("subscribers", total.subscribers),
        )
    ]
    metrics = metrics_line(total.metrics)
    if metrics:
        lines.append(metrics)
    for by in GROUP_KEYS:
        groups = group_by(rows, by)
        ranking = rank(groups)
        lines.append("")
        lines.append(t(f"tracker.by.{by}"))
        lines.extend(group_line(group, by) for group in [*ranking.ranked, *ranking.unranked])
        lines.extend(ranking_lines(ranking, by))
    lines.append("")
    lines.append(t("tracker.report_note"))
    return "\n".join(lines)
