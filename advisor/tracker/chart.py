"""A PNG comparing cost per subscriber by public, by method and by creative.

The figure is drawn on matplotlib's Agg canvas directly, without pyplot: no display is needed and
no global figure state is shared between concurrent requests.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.numbers import format_number
from advisor.texts import t
from advisor.tracker.models import Placement
from advisor.tracker.render import group_title
from advisor.tracker.reports import GROUP_KEYS, GroupKey, Ranking, group_by, rank

# Longer lists make unreadable bars; the chat text lists every group anyway.
MAX_BARS = 12
BEST_COLOR = "#2e7d32"
WORST_COLOR = "#c62828"
OTHER_COLOR = "#5c7cfa"
LABEL_CHARS = 28

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _draw(axis: Axes, ranking: Ranking, by: GroupKey) -> None:
    groups = ranking.ranked[:MAX_BARS]
    costs = [g.metrics.cost_per_subscriber for g in groups]
    top = max((cost for cost in costs if cost is not None), default=0.0) or 1.0
    # No subscriber for money spent is worse than any cost: a hatched bar past the longest one.
    beyond = top * 1.1
    positions = list(range(len(groups)))
    for position, group, cost in zip(positions, groups, costs, strict=True):
        color = OTHER_COLOR
        if group is ranking.best:
            color = BEST_COLOR
        elif group is ranking.worst:
            color = WORST_COLOR
        if cost is None:
            axis.barh(position, beyond, color="none", edgecolor=color, hatch="//")
            note = t("tracker.chart.no_subscribers", budget=format_number(group.paid, 0))
            axis.text(
                beyond * 0.02,
                position,
                note,
                va="center",
                fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        else:
            axis.barh(position, cost, color=color)
            note = t("tracker.chart.value", value=format_number(cost, 1 if cost < 100 else 0))
            axis.text(cost + top * 0.01, position, note, va="center", fontsize=8)
    axis.set_yticks(positions, [_label(group_title(g, by)) for g in groups])
    axis.invert_yaxis()  # the cheapest on top
    axis.set_title(t(f"tracker.chart.by.{by}"), loc="left", fontsize=11)
    axis.set_xlabel(t("tracker.chart.axis"))
    axis.set_xlim(0, top * 1.3)
    axis.spines[["top", "right"]].set_visible(False)


def comparison_chart(rows: Sequence[Placement]) -> bytes | None:
    """The PNG, or ``None`` when no grouping has a group with a cost per subscriber to show."""
    rankings = [(by, rank(group_by(rows, by))) for by in GROUP_KEYS]
    shown = [(by, ranking) for by, ranking in rankings if ranking.ranked]
    if not any(g.metrics.cost_per_subscriber is not None for _, r in shown for g in r.ranked):
        return None
    # Imported here: matplotlib costs most of a second at import, and most processes never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    heights = [1.0 + 0.35 * min(len(r.ranked), MAX_BARS) for _, r in shown]
    figure = Figure(figsize=(8, sum(heights) + 0.8), dpi=110, layout="constrained")
    axes = figure.subplots(len(shown), 1, squeeze=False, height_ratios=heights)
    figure.suptitle(t("tracker.chart.title"), fontsize=13)
    for (by, ranking), axis in zip(shown, axes[:, 0], strict=True):
        _draw(axis, ranking, by)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)  # type: ignore[no-untyped-call]  # matplotlib
    return buffer.getvalue()


async def comparison_chart_off_loop(rows: Sequence[Placement]) -> bytes | None:
    """``comparison_chart`` in a worker thread: drawing takes long enough to hold up everyone
    else's turns if it ran on the event loop."""
    return await asyncio.to_thread(comparison_chart, rows)
