"""The chart of a checked public: each analysed post's reach and engagement, with the norms.

Built with matplotlib's object API on the Agg canvas (no pyplot, no global figure state), so it
is safe to draw from a worker thread while the event loop keeps serving other users.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from typing import Any

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


FEMALE_COLOR = "#c2458a"
MALE_COLOR = "#2a7ae2"
AGE_COLOR = "#7a5ae2"
CITY_COLOR = "#3a9e5c"


def portrait_chart(result: PublicResult, *, dpi: int = 100) -> bytes:
    """PNG bytes: the sampled audience's sex, age bands and top cities (shares in %), the
    bot's estimate from the sample; a hidden figure is drawn as «скрыто», never as zero."""
    audience, group = result.audience, result.group
    if audience is None or group is None:
        raise ValueError("a portrait chart needs a result with an audience")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from advisor.vk.fit import AGE_BANDS

    figure = Figure(figsize=(9, 3.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    sex_axes, age_axes, city_axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 2, 2.2]})
    figure.suptitle(
        t(
            "portrait.chart_title",
            name=_short(group.name),
            active=fmt_number(audience.active_sampled, 0),
        ),
        fontsize=11,
    )

    sex_axes.set_title(t("portrait.chart_sex"), fontsize=9)
    if audience.female_percent is not None:
        shares = [audience.female_percent, 100 - audience.female_percent]
        labels = [t("portrait.chart_female"), t("portrait.chart_male")]
        bars = sex_axes.bar(labels, shares, color=[FEMALE_COLOR, MALE_COLOR])
        sex_axes.bar_label(bars, labels=[fmt_number(v, 0) for v in shares], fontsize=8)
        sex_axes.set_ylim(0, 110)
    else:
        _hidden(sex_axes)

    age_axes.set_title(t("portrait.chart_age"), fontsize=9)
    if audience.age_percent is not None:
        values = [audience.age_percent.get(band, 0.0) for band in AGE_BANDS]
        bars = age_axes.bar(list(AGE_BANDS), values, color=AGE_COLOR)
        age_axes.bar_label(bars, labels=[fmt_number(v, 0) for v in values], fontsize=8)
        age_axes.set_ylim(0, max([*values, 1.0]) * 1.2)
        age_axes.tick_params(axis="x", labelsize=8)
    else:
        _hidden(age_axes)

    city_axes.set_title(t("portrait.chart_cities"), fontsize=9)
    if audience.top_cities:
        cities = list(reversed(audience.top_cities))
        bars = city_axes.barh(
            [_short(c.city, 18) for c in cities], [c.percent for c in cities], color=CITY_COLOR
        )
        city_axes.bar_label(bars, labels=[fmt_number(c.percent, 0) for c in cities], fontsize=8)
        city_axes.set_xlim(0, max(c.percent for c in cities) * 1.25 + 1)
        city_axes.tick_params(axis="y", labelsize=8)
    else:
        _hidden(city_axes)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _hidden(axes: Any) -> None:
    axes.text(0.5, 0.5, t("portrait.chart_none"), ha="center", va="center", color="#888888")
    axes.set_xticks([])
    axes.set_yticks([])
