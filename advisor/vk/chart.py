"""The chart of a checked public: each analysed post's reach and engagement, with the norms.

Built with matplotlib's object API on the Agg canvas (no pyplot, no global figure state), so it
is safe to draw from a worker thread while the event loop keeps serving other users.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime

from advisor.numbers import format_number as fmt_number
from advisor.texts import t
from advisor.vk.check import ChartData, PublicResult

REACH_COLOR = "#2a7ae2"
AD_COLOR = "#e2892a"
ER_COLOR = "#3a9e5c"
NORM_COLOR = "#c0392b"


def posts_chart(result: PublicResult, *, dpi: int = 100) -> bytes:
    """PNG bytes: reach per post (bars, ads highlighted) above ER per post, norms as lines."""
    chart, group = result.chart, result.group
    if chart is None or group is None:
        raise ValueError("a chart needs a successful result")
    # Imported here: matplotlib costs most of a second at import, and most processes never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    points = sorted(chart.posts, key=lambda p: p.date)
    dates = [datetime.fromtimestamp(p.date, UTC) for p in points]

    figure = Figure(figsize=(8, 5.5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    reach_axes, er_axes = figure.subplots(2, 1, sharex=True)
    figure.suptitle(t("check.chart.title", name=_short(group.name)), fontsize=12)
    if not points:
        reach_axes.text(0.5, 0.5, t("check.chart.no_posts"), ha="center", va="center")
    width = _bar_width(dates)

    reach = [(d, p.reach_percent, p.is_ad) for d, p in zip(dates, points, strict=True)]
    regular = [(d, v) for d, v, ad in reach if v is not None and not ad]
    ads = [(d, v) for d, v, ad in reach if v is not None and ad]
    if regular:
        reach_axes.bar(
            *zip(*regular, strict=True),
            width=width,
            color=REACH_COLOR,
            label=t("check.chart.reach_label"),
        )
    if ads:
        reach_axes.bar(
            *zip(*ads, strict=True), width=width, color=AD_COLOR, label=t("check.chart.ad_label")
        )
    reach_axes.axhspan(
        chart.reach_min_percent,
        chart.reach_max_percent,
        color=NORM_COLOR,
        alpha=0.12,
        label=t(
            "check.chart.reach_norm",
            low=fmt_number(chart.reach_min_percent),
            high=fmt_number(chart.reach_max_percent),
        ),
    )
    reach_axes.axhline(chart.reach_min_percent, color=NORM_COLOR, linewidth=1, linestyle="--")
    reach_axes.set_ylabel(t("check.chart.reach_axis"))
    reach_axes.set_ylim(bottom=0)
    reach_axes.legend(loc="upper left", fontsize=8)

    er = [(d, p.er_percent) for d, p in zip(dates, points, strict=True) if p.er_percent is not None]
    if er:
        er_axes.plot(
            *zip(*er, strict=True),
            marker="o",
            markersize=3,
            color=ER_COLOR,
            label=t("check.chart.er_label"),
        )
    er_axes.axhline(
        chart.er_norm_percent,
        color=NORM_COLOR,
        linewidth=1.2,
        linestyle="--",
        label=er_norm_label(chart),
    )
    er_axes.set_ylabel(t("check.chart.er_axis"))
    er_axes.set_ylim(bottom=0)
    er_axes.set_xlabel(t("check.chart.date_axis"))
    er_axes.xaxis.set_major_formatter(DateFormatter("%d.%m"))  # type: ignore[no-untyped-call]
    er_axes.legend(loc="upper left", fontsize=8)
    for axes in (reach_axes, er_axes):
        axes.grid(axis="y", alpha=0.3)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def er_norm_label(chart: ChartData) -> str:
    """The ER line's legend says whose number it is: the guide's norm (≤1 000 members → 15%,
    >100 000 → 3%) or, between them, the bot's interpolation."""
    key = "check.chart.er_norm_estimate" if chart.er_norm_estimate else "check.chart.er_norm"
    return t(key, value=fmt_number(chart.er_norm_percent))


def _short(name: str, limit: int = 50) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _bar_width(dates: list[datetime]) -> float:
    """Bars as wide as 80% of the smallest gap between posts (in days), at most a day."""
    if len(dates) < 2:
        return 0.8
    gaps = [(b - a).total_seconds() / 86400 for a, b in itertools.pairwise(dates)]
    positive = [gap for gap in gaps if gap > 0]
    return min(0.8, 0.8 * min(positive)) if positive else 0.8
