"""Russian text of public-check results: one report, a ranked comparison, chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from advisor.dialog.types import Image, Outgoing
from advisor.numbers import format_number as fmt_number
from advisor.texts import t
from advisor.vk.check import PublicResult, admin_message, rank_results

# Moscow has kept UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3))


def _percent(value: float | None) -> str:
    """A percentage for people: one decimal, two below 1% (so 0.04% does not read as 0%)."""
    if value is None:
        return ""
    if value == 0 or abs(value) >= 1:
        return fmt_number(value)
    shown = fmt_number(value, 2)
    return shown if shown != "0" else "<0,01"


def _time(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def _metric_lines(result: PublicResult) -> list[str]:
    m = result.metrics
    assert m is not None and result.group is not None
    lines = [t("check.report.numbers_title")]
    if m.er_percent is not None:
        lines.append(t("check.report.er", value=_percent(m.er_percent), posts=m.posts_analyzed))
    else:
        lines.append(t("check.report.er_none"))
    if m.reach_percent is not None:
        lines.append(t("check.report.reach", value=_percent(m.reach_percent)))
    else:
        lines.append(t("check.report.reach_none"))
    if m.ad_reach_percent is not None:
        lines.append(
            t(
                "check.report.ad_reach",
                value=_percent(m.ad_reach_percent),
                posts=m.ad_posts_analyzed,
            )
        )
    elif any(r.rule == "ad_reach_unknown" for r in result.reasons):
        lines.append(t("check.report.ad_reach_none"))
    else:
        lines.append(t("check.report.ad_reach_few", posts=m.ad_posts_analyzed))
    if m.inactive_percent is None:
        key = "inactive_hidden" if result.members_hidden else "inactive_none"
        lines.append(t(f"check.report.{key}"))
    elif m.members_sampled is not None and m.members_sampled < result.group.members_count:
        low, high = m.inactive_ci95 or (m.inactive_percent, m.inactive_percent)
        lines.append(
            t(
                "check.report.inactive_sample",
                value=_percent(m.inactive_percent),
                sampled=fmt_number(m.members_sampled, 0),
                members=fmt_number(result.group.members_count, 0),
                low=_percent(low),
                high=_percent(high),
            )
        )
    else:
        lines.append(
            t(
                "check.report.inactive_whole",
                value=_percent(m.inactive_percent),
                sampled=fmt_number(m.members_sampled or 0, 0),
            )
        )
    lines.append(t("check.report.posts_note"))
    return lines


def verdict_line(result: PublicResult) -> str:
    assert result.verdict is not None and result.group is not None
    return t(
        "check.report.chart_caption",
        name=result.group.name,
        verdict=t(f"check.report.verdict.{result.verdict}"),
    )


def report_text(result: PublicResult) -> str:
    """The full report for one public, or its error message."""
    if result.error is not None:
        return result.error.message
    group = result.group
    assert group is not None and result.verdict is not None and result.fetched_at is not None
    parts = [
        "\n".join(
            [
                t("check.report.title", name=group.name, screen_name=group.screen_name),
                t("check.report.members", members=fmt_number(group.members_count, 0)),
                t(f"check.report.verdict.{result.verdict}"),
                result.summary,
            ]
        ),
        "\n".join(_metric_lines(result)),
        "\n".join([t("check.report.reasons_title"), *(f"• {r.text}" for r in result.reasons)]),
        t(
            "check.report.cached" if result.from_cache else "check.report.fetched",
            time=_time(result.fetched_at),
        ),
    ]
    return "\n\n".join(parts)


def comparison_text(results: Sequence[PublicResult]) -> str:
    """Several publics side by side, best first; the ones that failed are listed after."""
    ranked = rank_results(results)
    lines = [t("check.compare.title")]
    place = 0
    for result in ranked:
        if result.error is not None:
            continue
        place += 1
        group, m = result.group, result.metrics
        assert group is not None and m is not None and result.verdict is not None

        def shown(value: float | None) -> str:
            if value is None:
                return t("check.compare.none")
            return t("check.compare.percent", value=_percent(value))

        lines.append(
            t(
                "check.compare.row",
                place=place,
                mark=t(f"check.mark.{result.verdict}"),
                name=group.name,
                screen_name=group.screen_name,
                members=fmt_number(group.members_count, 0),
                er=shown(m.er_percent),
                reach=shown(
                    m.ad_reach_percent if m.ad_reach_percent is not None else m.reach_percent
                ),
                inactive=shown(m.inactive_percent),
            )
        )
    failed = [r for r in ranked if r.error is not None]
    for result in failed:
        assert result.error is not None
        lines.append(t("check.compare.row_error", input=result.input, message=result.error.message))
    best = next((r for r in ranked if r.error is None), None)
    lines.append("")
    if best is not None and best.group is not None:
        lines.append(t(f"check.compare.best_{best.verdict}", name=best.group.name))
    else:
        lines.append(t("check.compare.none_ok"))
    return "\n".join(lines).rstrip()


def report_message(result: PublicResult, *, charts: bool = True) -> Outgoing:
    """One public's report with its chart (or its error message)."""
    if result.error is not None:
        return Outgoing(text=result.error.message)
    image = None
    if charts and result.chart is not None and result.chart.posts:
        # matplotlib is heavy to import; the terminal's text answer never needs it.
        from advisor.vk.chart import posts_chart

        image = Image(png=posts_chart(result), caption=verdict_line(result))
    return Outgoing(text=report_text(result), image=image)


def closing_messages(results: Sequence[PublicResult]) -> list[Outgoing]:
    """What follows the reports: for several publics the ranked comparison, then one message
    for the admin (the same for every public but the name)."""
    messages: list[Outgoing] = []
    ok = [r for r in results if r.error is None]
    if len(results) > 1:
        messages.append(Outgoing(text=comparison_text(results)))
    if ok:
        messages.append(Outgoing(text=admin_message(ok[0] if len(ok) == 1 else None)))
    return messages


def chat_messages(results: Sequence[PublicResult], *, charts: bool = True) -> list[Outgoing]:
    """What the chat shows: each report (with its chart) in the order given, then for several
    publics the ranking, then the admin's message. Among several, a public that could not be
    checked has its line in the ranking instead of a report."""
    several = len(results) > 1
    reports = [
        report_message(result, charts=charts)
        for result in results
        if not (several and result.error is not None)
    ]
    return reports + closing_messages(results)


def cli_text(results: Sequence[PublicResult]) -> str:
    """The chat's answer as plain text for the terminal (charts are a chat thing)."""
    return "\n\n\n".join(message.text for message in chat_messages(results, charts=False))
