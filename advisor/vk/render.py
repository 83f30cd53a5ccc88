"""Russian text of public-check results: one report, a ranked comparison, chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from advisor.dialog.types import DetailButton, Image, Outgoing
from advisor.morph import counted
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
        posts = counted(m.posts_analyzed, t("check.words.post"), "datv")
        lines.append(t("check.report.er", value=_percent(m.er_percent), posts=posts))
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
                posts=counted(m.ad_posts_analyzed, t("check.words.ad_post"), "datv"),
            )
        )
    elif any(r.rule == "ad_reach_unknown" for r in result.reasons):
        lines.append(t("check.report.ad_reach_none"))
    elif m.ad_posts_analyzed == 0:
        lines.append(t("check.report.ad_reach_zero"))
    else:
        posts = counted(m.ad_posts_analyzed, t("check.words.own_ad_post"))
        lines.append(t("check.report.ad_reach_few", posts=posts))
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
                members=counted(result.group.members_count, t("check.words.member"), "gent"),
                low=_percent(low),
                high=_percent(high),
            )
        )
    else:
        lines.append(
            t(
                "check.report.inactive_whole",
                value=_percent(m.inactive_percent),
                sampled=counted(m.members_sampled or 0, t("check.words.participant"), "gent"),
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


def _inactive_shown(result: PublicResult) -> str:
    m, group = result.metrics, result.group
    assert m is not None and group is not None
    if m.inactive_percent is None:
        return t("check.compare.none")
    sampled = m.members_sampled is not None and m.members_sampled < group.members_count
    key = "check.compare.percent_sampled" if sampled else "check.compare.percent"
    return t(key, value=_percent(m.inactive_percent))


def comparison_text(results: Sequence[PublicResult], *, buttons: bool = False) -> str:
    """Several publics side by side, one line each, best first; the ones that failed are listed
    after. ``buttons``: each public's full report is behind its «Подробнее» button (else the
    reports follow this message)."""
    ranked = rank_results(results)
    lines = [t("check.compare.title"), t("check.compare.whose")]
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

        ad = m.ad_reach_percent is not None
        lines.append(
            t(
                "check.compare.row",
                place=place,
                mark=t(f"check.mark.{result.verdict}"),
                verdict=t(f"check.compare.verdict.{result.verdict}"),
                name=group.name,
                screen_name=group.screen_name,
                er=shown(m.er_percent),
                reach_label=t("check.compare.ad_reach" if ad else "check.compare.reach"),
                reach=shown(m.ad_reach_percent if ad else m.reach_percent),
                inactive=_inactive_shown(result),
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
        lines.append(t("check.compare.more_buttons" if buttons else "check.compare.more_below"))
    else:
        lines.append(t("check.compare.none_ok"))
    return "\n".join(lines).rstrip()


def chat_messages(
    results: Sequence[PublicResult],
    *,
    charts: bool = True,
    detail: DetailButton | None = None,
) -> list[Outgoing]:
    """What the chat shows. One public: its report (with its chart). Several: with ``detail``, a
    compact ranked summary with a «Подробнее» button per public (``detail`` gets each one's full
    report to keep); without it, the comparison and then every report. Then one message for the
    admin (the same for every public but the name)."""
    if charts:
        # matplotlib is heavy to import; the terminal's text answer never needs it.
        from advisor.vk.chart import posts_chart
    messages: list[Outgoing] = []
    ok = [r for r in results if r.error is None]
    if len(results) > 1 and detail is not None:
        rows = []
        for result in rank_results(ok):
            assert result.group is not None
            group = result.group
            rows.append([detail(str(group.id), group.name, report_text(result))])
        messages.append(Outgoing(text=comparison_text(results, buttons=True), buttons=rows))
    else:
        if len(results) > 1:
            messages.append(Outgoing(text=comparison_text(results)))
        for result in rank_results(results) if len(results) > 1 else results:
            if result.error is not None:
                if len(results) == 1:
                    messages.append(Outgoing(text=result.error.message))
                continue
            image = None
            if charts and result.chart is not None and result.chart.posts:
                image = Image(png=posts_chart(result), caption=verdict_line(result))
            messages.append(Outgoing(text=report_text(result), image=image))
    if ok:
        messages.append(Outgoing(text=admin_message(ok[0] if len(ok) == 1 else None)))
    return messages


def cli_text(results: Sequence[PublicResult]) -> str:
    """The chat's answer as plain text for the terminal (charts are a chat thing)."""
    return "\n\n\n".join(message.text for message in chat_messages(results, charts=False))
