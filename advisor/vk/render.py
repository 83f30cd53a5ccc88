"""Russian text of public-check results: one report, a ranked comparison, chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from advisor.dialog.types import DetailButton, Image, Outgoing
from advisor.morph import counted
from advisor.numbers import format_number as fmt_number
from advisor.texts import t
from advisor.verdicts import shown_beside
from advisor.vk.check import PublicResult, admin_message, rank_results
from advisor.vk.fit import AGE_BANDS, AudienceOut, OwnerTarget
from advisor.vk.growth import growth_line

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


def _beside(result: PublicResult, value: float, key: str) -> str:
    """A share of the figures block as the reasons below it print it (``shown_beside``)."""
    if value != 0 and abs(value) < 1:
        return _percent(value)
    return shown_beside(value, key, result.reasons)


def _time(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def _metric_lines(result: PublicResult) -> list[str]:
    m = result.metrics
    assert m is not None and result.group is not None
    lines = [t("check.report.numbers_title")]
    if m.er_percent is not None:
        posts = counted(m.posts_analyzed, t("check.words.post"), "datv")
        lines.append(
            t("check.report.er", value=_beside(result, m.er_percent, "er_percent"), posts=posts)
        )
    else:
        lines.append(t("check.report.er_none"))
    if m.reach_percent is not None:
        lines.append(
            t("check.report.reach", value=_beside(result, m.reach_percent, "reach_percent"))
        )
    else:
        lines.append(t("check.report.reach_none"))
    if m.ad_reach_percent is not None:
        lines.append(
            t(
                "check.report.ad_reach",
                value=_beside(result, m.ad_reach_percent, "reach_percent"),
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
                value=_beside(result, m.inactive_percent, "inactive_percent"),
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
                value=_beside(result, m.inactive_percent, "inactive_percent"),
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
        *([growth_line(result.growth)] if result.growth is not None else []),
        "\n".join([t("check.report.reasons_title"), *(f"• {r.text}" for r in result.reasons)]),
        t(
            "check.report.cached" if result.from_cache else "check.report.fetched",
            time=_time(result.fetched_at),
        ),
    ]
    return "\n\n".join(parts)


def _share(part: int, whole: int) -> str:
    return fmt_number(part / whole * 100, 0)


def _why_missing(field: str, known: int | None, active: int) -> str:
    """Why a portrait figure is missing: the field is hidden, by how many (when counted)."""
    name = t(f"portrait.field_{field}")
    if known is None:
        return t("portrait.hidden_uncounted", field=name)
    if known == 0:
        return t("portrait.hidden_all", field=name)
    return t("portrait.hidden_share", field=name, value=_share(active - known, active))


def _known(field: str, known: int | None, active: int) -> str:
    """« (год рождения указан у 30%)» when some members hide the field; nothing when all
    show it or it was not counted."""
    if known is None or known >= active or active == 0:
        return ""
    return t("portrait.known", field=t(f"portrait.field_{field}"), value=_share(known, active))


def portrait_lines(audience: AudienceOut, target: OwnerTarget | None = None) -> list[str]:
    """The portrait as chat lines: sex, age bands, top cities, the owner's city and target
    share; a missing figure says why. Every share is the bot's estimate from the sample."""
    active = audience.active_sampled
    if active == 0:
        return [t("portrait.title_none")]
    lines = [t("portrait.title", active=fmt_number(active, 0))]
    if audience.female_percent is not None:
        female = audience.female_percent
        lines.append(
            t(
                "portrait.sex",
                female=_percent(female),
                male=_percent(100 - female),
                known=_known("sex", audience.sex_known, active),
            )
        )
    else:
        lines.append(t("portrait.sex_none", why=_why_missing("sex", audience.sex_known, active)))
    if audience.age_percent is not None:
        bands = ", ".join(
            t("portrait.age_band", band=band, value=_percent(audience.age_percent.get(band, 0.0)))
            for band in AGE_BANDS
        )
        lines.append(
            t("portrait.age", bands=bands, known=_known("age", audience.age_known, active))
        )
    else:
        lines.append(t("portrait.age_none", why=_why_missing("age", audience.age_known, active)))
    if audience.top_cities:
        cities = ", ".join(
            t("portrait.city_item", city=c.city, value=_percent(c.percent))
            for c in audience.top_cities
        )
        lines.append(
            t("portrait.cities", cities=cities, known=_known("city", audience.city_known, active))
        )
    else:
        why = _why_missing("city", audience.city_known, active)
        lines.append(t("portrait.cities_none", why=why))
    if target is not None and target.city:
        if audience.city_percent is not None:
            lines.append(
                t("portrait.city_share", city=target.city, value=_percent(audience.city_percent))
            )
        else:
            why = _why_missing("city", audience.city_known, active)
            lines.append(t("portrait.city_share_none", city=target.city, why=why))
    if target is not None and target.criteria_given:
        who = _target_who(target)
        if audience.target_percent is not None:
            interval = ""
            ci = audience.target_ci95
            if ci is not None and ci[0] != ci[1]:
                interval = t("portrait.target_interval", low=_percent(ci[0]), high=_percent(ci[1]))
            lines.append(
                t(
                    "portrait.target",
                    who=who,
                    value=_percent(audience.target_percent),
                    interval=interval,
                )
            )
        else:
            lines.append(t("portrait.target_none", who=who, why=t("portrait.target_hidden")))
    return lines


def _target_who(target: OwnerTarget) -> str:
    parts = []
    if target.sex is not None:
        parts.append(t(f"target.sex_{target.sex}"))
    if target.age_min is not None and target.age_max is not None:
        parts.append(t("target.age_range", low=target.age_min, high=target.age_max))
    elif target.age_min is not None:
        parts.append(t("target.age_from", low=target.age_min))
    elif target.age_max is not None:
        parts.append(t("target.age_to", high=target.age_max))
    if target.city:
        parts.append(target.city)
    return ", ".join(parts)


def price_line(result: PublicResult, rub: float) -> str:
    """The price the owner named, with what it buys: the bot's estimate of views and CPM."""
    price = result.price
    if price is None or price.expected_views <= 0:
        return t("portrait.price_unknown", rub=fmt_number(rub, 0))
    line = t(
        "portrait.price",
        rub=fmt_number(price.rub, 0),
        views=fmt_number(price.expected_views, 0),
        cpm=fmt_number(price.cpm_rub, 2),
    )
    if price.target_cpm_rub is not None:
        line += " " + t("portrait.price_target", cpm=fmt_number(price.target_cpm_rub, 2))
    return line


def _inactive_shown(result: PublicResult) -> str:
    m, group = result.metrics, result.group
    assert m is not None and group is not None
    if m.inactive_percent is None:
        return t("check.compare.none")
    sampled = m.members_sampled is not None and m.members_sampled < group.members_count
    key = "check.compare.percent_sampled" if sampled else "check.compare.percent"
    return t(key, value=_beside(result, m.inactive_percent, "inactive_percent"))


def _full_report(result: PublicResult, price: float | None, target: OwnerTarget | None) -> str:
    """One public's report as «Подробнее» shows it: the price the owner named and the
    audience portrait included."""
    parts = [report_text(result)]
    if price is not None:
        parts.append(price_line(result, price))
    if result.audience is not None:
        parts.append("\n".join(portrait_lines(result.audience, target)))
    return "\n\n".join(parts)


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

        def shown(value: float | None, key: str, result: PublicResult = result) -> str:
            if value is None:
                return t("check.compare.none")
            return t("check.compare.percent", value=_beside(result, value, key))

        ad = m.ad_reach_percent is not None
        lines.append(
            t(
                "check.compare.row",
                place=place,
                mark=t(f"check.mark.{result.verdict}"),
                verdict=t(f"check.compare.verdict.{result.verdict}"),
                name=group.name,
                screen_name=group.screen_name,
                er=shown(m.er_percent, "er_percent"),
                reach_label=t("check.compare.ad_reach" if ad else "check.compare.reach"),
                reach=shown(m.ad_reach_percent if ad else m.reach_percent, "reach_percent"),
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


def report_messages(
    result: PublicResult,
    *,
    charts: bool = True,
    price: float | None = None,
    target: OwnerTarget | None = None,
) -> list[Outgoing]:
    """One public's report with its chart and the price the owner named, then its audience
    portrait with its own chart (or the public's error message)."""
    if result.error is not None:
        return [Outgoing(text=result.error.message)]
    if charts:
        # matplotlib is heavy to import; the terminal's text answer never needs it.
        from advisor.vk.chart import portrait_chart, posts_chart
    image = None
    if charts and result.chart is not None and result.chart.posts:
        image = Image(png=posts_chart(result), caption=verdict_line(result))
    text = report_text(result)
    if price is not None:
        text += "\n\n" + price_line(result, price)
    messages = [Outgoing(text=text, image=image)]
    if result.audience is not None:
        portrait = None
        if charts and result.audience.active_sampled > 0:
            assert result.group is not None
            caption = t("portrait.chart_caption", name=result.group.name)
            portrait = Image(png=portrait_chart(result), caption=caption)
        lines = "\n".join(portrait_lines(result.audience, target))
        messages.append(Outgoing(text=lines, image=portrait))
    return messages


def closing_messages(
    results: Sequence[PublicResult],
    *,
    detail: DetailButton | None = None,
    prices: Sequence[float | None] | None = None,
    target: OwnerTarget | None = None,
) -> list[Outgoing]:
    """What follows the reports: for several publics the ranked comparison (with ``detail``, a
    compact summary with a «Подробнее» button per public, ``detail`` getting each one's full
    report, price and portrait included, to keep), then one message for the admin (the same
    for every public but the name)."""
    messages: list[Outgoing] = []
    ok = [r for r in results if r.error is None]
    if len(results) > 1 and detail is not None:
        named = _named_prices(results, prices)
        rows = []
        for result in rank_results(ok):
            assert result.group is not None
            group = result.group
            full = _full_report(result, named.get(id(result)), target)
            rows.append([detail(str(group.id), group.name, full)])
        messages.append(Outgoing(text=comparison_text(results, buttons=True), buttons=rows))
    elif len(results) > 1:
        messages.append(Outgoing(text=comparison_text(results)))
    if ok:
        messages.append(Outgoing(text=admin_message(ok[0] if len(ok) == 1 else None)))
    return messages


def _named_prices(
    results: Sequence[PublicResult], prices: Sequence[float | None] | None
) -> dict[int, float]:
    return {id(r): p for r, p in zip(results, prices or [], strict=False) if p is not None}


def chat_messages(
    results: Sequence[PublicResult],
    *,
    charts: bool = True,
    detail: DetailButton | None = None,
    prices: Sequence[float | None] | None = None,
    target: OwnerTarget | None = None,
) -> list[Outgoing]:
    """What the chat shows. One public: its report (with its chart and the price the owner
    named), then its audience portrait (with its own chart). Several: with ``detail``, only the
    compact ranked summary with a «Подробнее» button per public; without it, each report in the
    order given, then the ranking (a public that could not be checked has its line there
    instead of a report). Then the admin's message. ``prices`` are parallel to ``results``."""
    several = len(results) > 1
    named = _named_prices(results, prices)
    reports: list[Outgoing] = []
    if not (several and detail is not None):
        for result in results:
            if not (several and result.error is not None):
                price = named.get(id(result))
                reports += report_messages(result, charts=charts, price=price, target=target)
    return reports + closing_messages(results, detail=detail, prices=prices, target=target)


def cli_text(results: Sequence[PublicResult]) -> str:
    """The chat's answer as plain text for the terminal (charts are a chat thing)."""
    return "\n\n\n".join(message.text for message in chat_messages(results, charts=False))
