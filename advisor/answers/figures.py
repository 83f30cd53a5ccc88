"""Numbers in a question select or compute the answer: the guide's norms applied to them.

«какая вовлеченность нужна на 40 тысяч» → the size-dependent ER norm; «скрыли 15%» → the hide-rate
norm. Pure functions: mentions and ``Norms`` in, a ``Computed`` sentence (or ``None``) out. Where
the guide has no number (ER between its two anchors) the text says it is the bot's own estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from advisor.answers.numbers import NumberMention
from advisor.formulas import engagement_norm_percent, hide_rate_percent
from advisor.knowledge.models import FigureKind, Norms
from advisor.morph import counted
from advisor.numbers import format_number
from advisor.texts import DEFAULT_LANG, t
from advisor.verdicts import judge_engagement

# Below this a count is not a community's size («в 3 группы»).
MIN_MEMBERS = 10
MAX_COUNT = 10**12


@dataclass(frozen=True)
class Computed:
    text: str
    section: str
    estimate: bool = False


def _fmt(value: float, digits: int = 1) -> str:
    return format_number(value, digits)


def _counts(mentions: list[NumberMention]) -> list[float]:
    return [m.value for m in mentions if not m.percent and MIN_MEMBERS <= m.value <= MAX_COUNT]


def _percents(mentions: list[NumberMention]) -> list[float]:
    return [m.value for m in mentions if m.percent and 0 <= m.value <= 1000]


def _engagement(mentions: list[NumberMention], norms: Norms, lang: str) -> Computed | None:
    counts = _counts(mentions)
    if not counts:
        return None
    members = round(max(counts))
    norm_data = norms.engagement
    low, high = norm_data.anchors[0], norm_data.anchors[-1]
    norm = engagement_norm_percent(members, norm_data)
    section = norm_data.section
    word = t("answers.member_word", lang)
    params = {
        "members_on": counted(members, word, "accs"),
        "members_for": counted(members, word, "gent"),
        "norm": _fmt(norm),
        "low_members": _fmt(low.members, 0),
        "high_members": _fmt(high.members, 0),
        "low_norm": _fmt(low.min_percent),
        "high_norm": _fmt(high.min_percent),
    }
    estimate = low.members < members < high.members
    if members <= low.members:
        lines = [t("answers.engagement.guide_small", lang, **params)]
    elif members >= high.members:
        lines = [t("answers.engagement.guide_large", lang, **params)]
    else:
        lines = [t("answers.engagement.estimate", lang, **params)]
    percents = _percents(mentions)
    if percents:
        er = percents[0]
        verdict = judge_engagement(er, members, norms)
        reasons = list(verdict.reasons)
        if estimate:
            relation = "relation_above" if er >= norm else "relation_below"
            lines.append(
                t(
                    "answers.engagement.judged_estimate",
                    lang,
                    er=_fmt(er),
                    relation=t(f"answers.engagement.{relation}", lang),
                    norm=_fmt(norm),
                    members_on=params["members_on"],
                )
            )
            reasons = [r for r in reasons if not r.rule.startswith("engagement_")]
        lines.extend(reason.text for reason in reasons)
    return Computed(" ".join(lines), section, estimate)


def _reach(mentions: list[NumberMention], norms: Norms, lang: str) -> Computed | None:
    norm = norms.reach
    bounds = {"min": _fmt(norm.min_percent), "max": _fmt(norm.max_percent)}
    percents = _percents(mentions)
    if percents:
        value = percents[0]
        band = "low" if value < norm.min_percent else "high" if value > norm.max_percent else "ok"
        return Computed(
            t(f"answers.reach.{band}", lang, percent=_fmt(value), **bounds), norm.section
        )
    counts = _counts(mentions)
    if not counts:
        return None
    members = max(counts)
    text = t(
        "answers.reach.expected",
        lang,
        members_on=counted(members, t("answers.subscriber_word", lang), "accs"),
        low=_fmt(members * norm.min_percent / 100, 0),
        high=_fmt(members * norm.max_percent / 100, 0),
        **bounds,
    )
    return Computed(text, norm.section)


def _hide_rate(mentions: list[NumberMention], norms: Norms, lang: str) -> Computed | None:
    norm = norms.hide_rate
    percents = _percents(mentions)
    value: float | None = percents[0] if percents else None
    counts = [round(m.value) for m in mentions if not m.percent and 1 <= m.value <= MAX_COUNT]
    if value is None and len(counts) >= 2:
        value = hide_rate_percent(min(counts), max(counts))
    if value is None:
        return None
    bounds = {"min": _fmt(norm.min_percent), "max": _fmt(norm.max_percent)}
    if value > norm.max_percent:
        band = "high"
    elif value >= norm.min_percent:
        band = "ok"
    else:
        band = "below"
    return Computed(
        t(f"answers.hide_rate.{band}", lang, percent=_fmt(value), **bounds), norm.section
    )


def _inactive(mentions: list[NumberMention], norms: Norms, lang: str) -> Computed | None:
    norm = norms.inactive
    percents = _percents(mentions)
    if not percents:
        return None
    value = percents[0]
    if value >= norm.pointless_from_percent:
        band = "pointless"
    elif value > norm.normal_max_percent:
        band = "bots"
    elif value >= norm.normal_min_percent:
        band = "normal"
    else:
        band = "few"
    text = t(
        f"answers.inactive.{band}",
        lang,
        percent=_fmt(value),
        min=_fmt(norm.normal_min_percent),
        max=_fmt(norm.normal_max_percent),
        from_=_fmt(norm.pointless_from_percent),
        to=_fmt(norm.pointless_to_percent),
    )
    return Computed(text, norm.section)


def _target_action(mentions: list[NumberMention], norms: Norms, lang: str) -> Computed | None:
    norm = norms.target_action
    percents = _percents(mentions)
    if not percents:
        return None
    value = percents[0]
    band = "low" if value < norm.min_percent else "ok"
    text = t(f"answers.target_action.{band}", lang, percent=_fmt(value), min=_fmt(norm.min_percent))
    return Computed(text, norm.section)


_COMPUTERS: dict[FigureKind, Callable[[list[NumberMention], Norms, str], Computed | None]] = {
    "engagement": _engagement,
    "reach": _reach,
    "hide_rate": _hide_rate,
    "inactive": _inactive,
    "target_action": _target_action,
}


def compute(
    kind: FigureKind, mentions: list[NumberMention], norms: Norms, lang: str = DEFAULT_LANG
) -> Computed | None:
    """The norm ``kind`` applied to the numbers of a question; ``None`` when they do not fit."""
    if not mentions:
        return None
    return _COMPUTERS[kind](mentions, norms, lang)
