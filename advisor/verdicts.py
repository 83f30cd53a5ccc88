"""Verdicts: the guide's norms applied to measured figures, with reasons a user can read.

Every function is pure: figures and ``Norms`` in, a ``Verdict`` out. A ``Verdict`` lists
``Reason``s; each has a stable ``rule`` id, a ``severity``, the Russian ``text`` (from
``texts/ru/verdicts.yaml``), the raw ``numbers`` behind it and the guide ``section`` it rests on.

Combination rule (one for every verdict): the worst severity among the reasons decides.

* any ``critical`` reason → ``avoid`` (for a public) / ``bad`` (for other checks);
* else any ``warning`` reason → ``caution`` / ``warning``;
* else any ``missing`` reason (a figure not reported; placements only) → ``caution`` / ``no_data``;
* else (only ``ok`` and ``info``) → ``buy`` / ``ok``.

A figure that could not be computed (``None``) never turns into a number: it gives an ``*_unknown``
reason with severity ``warning``, because a purchase cannot be called safe on missing data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from advisor.formulas import (
    Count,
    Money,
    Percent,
    conversion_percent,
    cost_per_subscriber,
    cpc,
    cpm,
    ctr_percent,
    engagement_norm_is_estimate,
    engagement_norm_percent,
    hide_rate_percent,
    reach_percent,
    validated,
)
from advisor.knowledge.models import Norms
from advisor.morph import counted
from advisor.numbers import format_number as fmt_number
from advisor.texts import t

# ``missing``: a figure the person did not report — not a fault, but no verdict can rest on it.
Severity = Literal["ok", "info", "missing", "warning", "critical"]
PublicLabel = Literal["buy", "caution", "avoid"]
CheckLabel = Literal["ok", "no_data", "warning", "bad"]
# How a placement ran, for where to get its missing figures (the tracker's methods).
PlacedVia = Literal["admin", "vk_exchange", "third_party", "vk_ads", "free"]
Subject = Literal["public", "engagement", "inactive", "reach", "hide_rate", "placement"]
ReachKind = Literal["ad", "regular", "placement"]
InactiveBand = Literal["normal", "bots", "pointless"]

EFFICIENCY_SECTION = "Оценка эффективности рекламы сообщества"

_PUBLIC_LABELS: dict[Severity, PublicLabel] = {
    "critical": "avoid",
    "warning": "caution",
    "missing": "caution",
    "info": "buy",
    "ok": "buy",
}
_CHECK_LABELS: dict[Severity, CheckLabel] = {
    "critical": "bad",
    "warning": "warning",
    "missing": "no_data",
    "info": "ok",
    "ok": "ok",
}
_RANK: dict[Severity, int] = {"ok": 0, "info": 1, "missing": 2, "warning": 3, "critical": 4}
_INACTIVE_SEVERITY: dict[InactiveBand, Severity] = {
    "normal": "ok",
    "bots": "warning",
    "pointless": "critical",
}

Number = float | int | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reason(_Frozen):
    rule: str = Field(description="stable id, e.g. engagement_low")
    severity: Severity
    text: str = Field(description="Russian, with the numbers")
    numbers: dict[str, Number] = {}
    section: str = Field(description="the guide heading the rule comes from")


class Verdict(_Frozen):
    subject: Subject
    verdict: PublicLabel | CheckLabel
    summary: str = Field(description="one Russian line for the verdict as a whole")
    reasons: list[Reason]

    @model_validator(mode="after")
    def _label_fits_subject(self) -> Verdict:
        allowed = _PUBLIC_LABELS.values() if self.subject == "public" else _CHECK_LABELS.values()
        if self.verdict not in allowed:
            raise ValueError(f"verdict {self.verdict!r} does not fit subject {self.subject!r}")
        return self

    def rules(self) -> list[str]:
        return [reason.rule for reason in self.reasons]


class PublicMetrics(_Frozen):
    """What the public check measured. ``None`` means it could not be measured."""

    members_count: Count
    posts_analyzed: Count
    er_percent: Percent | None
    reach_percent: Percent | None
    ad_posts_analyzed: Count
    ad_reach_percent: Percent | None
    inactive_percent: Annotated[float, Field(ge=0, le=100)] | None
    inactive_ci95: tuple[float, float] | None = None
    members_sampled: Count | None = None

    @model_validator(mode="after")
    def _interval(self) -> PublicMetrics:
        if self.inactive_ci95 is not None:
            low, high = self.inactive_ci95
            if not 0 <= low <= high <= 100:
                raise ValueError("inactive_ci95 must be (low, high) with 0 <= low <= high <= 100")
        return self


class PlacementStats(_Frozen):
    """Statistics of one placed ad post (from the ad cabinet or the public's admin).

    ``members_count`` is the size of the public that carried the post (for the reach percent);
    ``target_actions`` counts whatever the placement aimed at: joins, clicks, messages.
    Optional figures that were not reported are ``None``.
    """

    views: Count
    members_count: Count | None = None
    hides: Count | None = None
    target_actions: Count | None = None
    clicks: Count | None = None
    subscribers: Count | None = None
    budget_rub: Money | None = None
    placed_via: PlacedVia | None = None


# --- helpers -----------------------------------------------------------------------------------


def shown_figure(value: float, *limits: float) -> str:
    """``value`` with enough decimals (up to 4) not to print like a different limit beside it.

    Without this, 9.96% against a 10% norm would read «ниже нормы: 10% < 10%»; and a small
    non-zero value such as 0.0125% keeps its first significant digit instead of reading «0%».
    Below 1 it starts at two decimals (0,06%, not 0,1%). Every screen that shows a share next
    to a verdict formats it here, so one figure reads the same everywhere.
    """
    text = fmt_number(value, 1)
    for digits in (1, 2, 3, 4) if abs(value) >= 1 else (2, 3, 4):
        text = fmt_number(value, digits)
        if value and text in ("0", "-0"):
            continue
        if all(text != fmt_number(limit, digits) for limit in limits if limit != value):
            return text
    return text


_shown = shown_figure

# The norms a reason compares each share with, by the keys of its ``numbers``: a screen that
# shows the share beside such reasons prints it as they do (``shown_beside``).
_NORM_KEYS: dict[str, tuple[str, ...]] = {
    "er_percent": ("norm_percent", "er_max_percent"),
    "reach_percent": ("min_percent", "max_percent"),
    "inactive_percent": ("normal_max_percent", "pointless_from_percent"),
}


def shown_beside(value: float, key: str, reasons: Sequence[Reason]) -> str:
    """``value`` (the share under ``key`` in the reasons' numbers) as the reasons about it print
    it: with the norms of every reason that carries this very value. A report's figures block
    would otherwise show «20%» above a reason saying «19,99% — это нормально (до 20%)»."""
    limits = [
        float(limit)
        for reason in reasons
        if reason.numbers.get(key) == value
        for name in _NORM_KEYS.get(key, ())
        if (limit := reason.numbers.get(name)) is not None
    ]
    return shown_figure(value, *limits)


def _reason(
    rule: str,
    severity: Severity,
    section: str,
    numbers: dict[str, Number],
    text_key: str | None = None,
    **params: object,
) -> Reason:
    text = t(f"verdicts.rules.{text_key or rule}", **params)
    return Reason(rule=rule, severity=severity, text=text, numbers=numbers, section=section)


def _worst(reasons: list[Reason]) -> Severity:
    return max((r.severity for r in reasons), key=_RANK.__getitem__, default="ok")


def public_verdict(reasons: list[Reason]) -> Verdict:
    """A public's verdict from its reasons (after more were added, e.g. a price's)."""
    return _verdict("public", reasons)


def _verdict(subject: Subject, reasons: list[Reason]) -> Verdict:
    worst = _worst(reasons)
    if subject == "public":
        label: PublicLabel | CheckLabel = _PUBLIC_LABELS[worst]
        summary = t(f"verdicts.summary.public.{label}")
    else:
        label = _CHECK_LABELS[worst]
        summary = t(f"verdicts.summary.check.{label}")
    return Verdict(subject=subject, verdict=label, summary=summary, reasons=reasons)


# --- engagement --------------------------------------------------------------------------------


def _engagement_reasons(
    er: float | None, members: int, posts: int | None, norms: Norms
) -> list[Reason]:
    section = norms.engagement.section
    if er is None:
        variant = "engagement_unknown"
        if posts == 0:
            variant = "engagement_unknown_no_posts"
        elif members == 0:
            variant = "engagement_unknown_no_members"
        numbers: dict[str, Number] = {"er_percent": None, "members": members, "posts": posts}
        return [_reason("engagement_unknown", "warning", section, numbers, variant)]

    norm = engagement_norm_percent(members, norms.engagement)
    # Between the guide's anchors the norm is the bot's interpolation: the text says so, and
    # falling short of it alone never lowers a verdict (severity info, not warning).
    estimate = engagement_norm_is_estimate(members, norms.engagement)
    low, high = norms.engagement.anchors[0], norms.engagement.anchors[-1]
    padding = norms.padding
    padded = padding.members_from <= members <= padding.members_to and er <= padding.er_max_percent
    # Both reasons print the ER alike: with the padding ceiling too when that reason follows.
    er_text = _shown(er, norm, *([padding.er_max_percent] if padded else []))
    numbers = {"er_percent": er, "norm_percent": norm, "members": members}
    params = {
        "er": er_text,
        "norm": fmt_number(norm),
        "members": counted(members, t("verdicts.member_word"), "accs"),
        "low_members": fmt_number(low.members, 0),
        "low_norm": fmt_number(low.min_percent),
        "high_members": fmt_number(high.members, 0),
        "high_norm": fmt_number(high.min_percent),
    }
    suffix = "_estimate" if estimate else ""
    if er >= norm:
        reasons = [
            _reason("engagement_ok", "ok", section, numbers, f"engagement_ok{suffix}", **params)
        ]
    else:
        severity: Severity = "info" if estimate else "warning"
        text_key = f"engagement_low{suffix}"
        reasons = [_reason("engagement_low", severity, section, numbers, text_key, **params)]

    if padded:
        reasons.append(
            _reason(
                "padding_suspected",
                "warning",
                padding.section,
                {
                    "er_percent": er,
                    "members": members,
                    "er_max_percent": padding.er_max_percent,
                    "members_from": padding.members_from,
                    "members_to": padding.members_to,
                },
                er=er_text,
                members=counted(members, t("verdicts.member_word"), "loct"),
                er_max=fmt_number(padding.er_max_percent),
            )
        )
    return reasons


@validated
def judge_engagement(
    er_percent: Percent | None,
    members_count: Count,
    norms: Norms,
    posts_analyzed: Count | None = None,
) -> Verdict:
    """ER against the size-dependent norm, plus the padding suspicion.

    Rules: ``engagement_ok`` (ok), ``engagement_low`` (warning against the guide's own norm; info
    against the bot's interpolation between the anchors), ``padding_suspected`` (warning),
    ``engagement_unknown`` (warning; the text says why: no posts, no members, or unknown).
    """
    return _verdict(
        "engagement", _engagement_reasons(er_percent, members_count, posts_analyzed, norms)
    )


# --- inactive members --------------------------------------------------------------------------


def _inactive_band(percent: float, norms: Norms) -> InactiveBand:
    if percent >= norms.inactive.pointless_from_percent:
        return "pointless"
    if percent > norms.inactive.normal_max_percent:
        return "bots"
    return "normal"


def _inactive_reasons(
    percent: float | None,
    ci95: tuple[float, float] | None,
    sampled: int | None,
    members: int | None,
    norms: Norms,
) -> list[Reason]:
    norm = norms.inactive
    if percent is None:
        return [_reason("inactive_unknown", "warning", norm.section, {"inactive_percent": None})]

    is_sample = sampled is not None and (members is None or sampled < members)
    sample = (
        t("verdicts.sample_suffix", sampled=counted(sampled, t("verdicts.member_word"), "gent"))
        if is_sample and sampled is not None
        else ""
    )
    band = _inactive_band(percent, norms)
    severity = _INACTIVE_SEVERITY[band]
    numbers: dict[str, Number] = {
        "inactive_percent": percent,
        "members_sampled": sampled,
        "normal_max_percent": norm.normal_max_percent,
        "pointless_from_percent": norm.pointless_from_percent,
        "inactive_after_days": norm.inactive_after_days,
    }
    reasons = [
        _reason(
            f"inactive_{band}",
            severity,
            norm.section,
            numbers,
            percent=_shown(percent, norm.normal_max_percent, norm.pointless_from_percent),
            sample=sample,
            days=norm.inactive_after_days,
            normal_max=fmt_number(norm.normal_max_percent),
            pointless_from=fmt_number(norm.pointless_from_percent),
        )
    ]
    if ci95 is not None:
        low, high = ci95
        if _inactive_band(low, norms) != _inactive_band(high, norms):
            reasons.append(
                _reason(
                    "inactive_uncertain",
                    "info",
                    norm.section,
                    {"ci95_low": low, "ci95_high": high, "members_sampled": sampled},
                    low=fmt_number(low),
                    high=fmt_number(high),
                )
            )
    return reasons


@validated
def judge_inactive(
    inactive_percent: Annotated[float, Field(ge=0, le=100)] | None,
    norms: Norms,
    inactive_ci95: tuple[float, float] | None = None,
    members_sampled: Count | None = None,
    members_count: Count | None = None,
) -> Verdict:
    """Share of inactive members against the guide's bands.

    Up to ``normal_max`` (20%) → ``inactive_normal`` (ok); above it and below ``pointless_from``
    (25%) → ``inactive_bots`` (warning); from 25% → ``inactive_pointless`` (critical); ``None`` →
    ``inactive_unknown`` (warning). When the 95% interval of a sample reaches into another band,
    ``inactive_uncertain`` (info) says so; the band of the point estimate still decides.
    """
    return _verdict(
        "inactive",
        _inactive_reasons(inactive_percent, inactive_ci95, members_sampled, members_count, norms),
    )


# --- reach -------------------------------------------------------------------------------------


def _reach_reasons(
    reach: float | None,
    kind: ReachKind,
    norms: Norms,
    posts: int | None = None,
    members: int | None = None,
) -> list[Reason]:
    norm = norms.reach
    # A placement's reach is the advertiser's own post, judged after the fact.
    section = EFFICIENCY_SECTION if kind == "placement" else norm.section
    what = t(f"verdicts.reach_kind.{kind}")
    if reach is None:
        variant = "reach_unknown"
        if posts == 0:
            variant = "reach_unknown_no_posts"
        elif members == 0:
            variant = "reach_unknown_no_members"
        numbers: dict[str, Number] = {"reach_percent": None, "posts": posts, "members": members}
        return [_reason("reach_unknown", "warning", section, numbers, variant, what=what)]

    numbers = {
        "reach_percent": reach,
        "min_percent": norm.min_percent,
        "max_percent": norm.max_percent,
    }
    params = {
        "what": what,
        "reach": _shown(reach, norm.min_percent, norm.max_percent),
        "min": fmt_number(norm.min_percent),
        "max": fmt_number(norm.max_percent),
    }
    if reach < norm.min_percent:
        return [_reason("reach_low", "warning", section, numbers, **params)]
    if reach > norm.max_percent:
        return [_reason("reach_high", "ok", section, numbers, **params)]
    return [_reason("reach_ok", "ok", section, numbers, **params)]


@validated
def judge_reach(
    reach_percent: Percent | None,
    norms: Norms,
    kind: ReachKind = "regular",
    posts_analyzed: Count | None = None,
    members_count: Count | None = None,
) -> Verdict:
    """Views per post as a share of members against the guide's 10–20%.

    Below the range → ``reach_low`` (warning); inside → ``reach_ok``; above → ``reach_high`` (both
    ok: more eyes than usual is no fault); ``None`` → ``reach_unknown`` (warning). ``kind`` only
    changes the wording: others' ad posts, regular posts, or the user's own placed post.
    """
    return _verdict(
        "reach", _reach_reasons(reach_percent, kind, norms, posts_analyzed, members_count)
    )


# --- a public to buy ads in --------------------------------------------------------------------


class FitFigures(_Frozen):
    """How the public fits the owner's customers and money (``advisor.vk.fit``'s figures plus
    what the reasons need to say why a figure is missing). ``None``: not computed."""

    local_goal: bool = False
    city: str | None = None
    city_percent: float | None = None
    other_criteria: bool = False
    """Sex or age given (or a city without a local goal): ``target_percent`` is judged."""
    target_percent: float | None = None
    target_ci95: tuple[float, float] | None = None
    members_known: bool = True
    """False: the member list was hidden or not read (no portrait at all)."""
    active_sampled: int = 0
    sex_hidden_percent: float | None = None
    age_hidden_percent: float | None = None
    city_hidden_percent: float | None = None
    overlap_group: str | None = None
    overlap_percent: float | None = None
    ad_share_percent: float = 0.0
    ad_posts_per_day: float = 0.0
    posts_analyzed: int = 0
    price_rub: float | None = None
    expected_views: int | None = None
    cpm_rub: float | None = None
    target_cpm_rub: float | None = None


def _fit_why(fit: FitFigures, fields: tuple[str, ...]) -> str:
    """Why a share could not be counted: the member list, or the most hidden field."""
    if not fit.members_known:
        return t("verdicts.fit.why_members_hidden")
    if fit.active_sampled == 0:
        return t("verdicts.fit.why_no_active")
    hidden = {
        "sex": fit.sex_hidden_percent,
        "age": fit.age_hidden_percent,
        "city": fit.city_hidden_percent,
    }
    name, percent = max(
        ((f, hidden[f]) for f in fields), key=lambda pair: pair[1] if pair[1] is not None else -1
    )
    return t(f"verdicts.fit.why_hidden.{name}", percent=fmt_number(percent or 100, 0))


def _hidden_note(fit: FitFigures, fields: tuple[str, ...], norm_percent: float) -> str:
    """«(возраст скрыт у 70% активных — доля посчитана по остальным)» when much is hidden."""
    values = {
        "sex": fit.sex_hidden_percent,
        "age": fit.age_hidden_percent,
        "city": fit.city_hidden_percent,
    }
    notes = [
        t(f"verdicts.fit.why_hidden.{f}", percent=fmt_number(values[f] or 0, 0))
        for f in fields
        if (values[f] or 0) > norm_percent
    ]
    return t("verdicts.fit.hidden_note", notes=", ".join(notes)) if notes else ""


def _target_fields(fit: FitFigures, target_sex: bool, target_age: bool) -> tuple[str, ...]:
    fields = tuple(
        name
        for name, given in (("city", bool(fit.city)), ("sex", target_sex), ("age", target_age))
        if given
    )
    return fields or ("city",)


def fit_reasons(
    fit: FitFigures, norms: Norms, *, target_sex: bool = False, target_age: bool = False
) -> list[Reason]:
    """The fit and money reasons (``city_fit``, ``target_fit``, ``overlap``, ``ad_load``,
    ``price``). Thresholds are the bot's own (``norms.fit``; the guide gives none).

    * local goal: city share below ``city_low`` → critical (never «брать»), below
      ``city_weak`` → warning; unknown → warning, saying why;
    * the target audience (sex, age, city) below ``target_low`` → warning; unknown → warning;
    * the owner's community: overlap from ``overlap_high`` → warning, else info;
    * ad load above ``ad_share_high`` or ``ad_posts_per_day_high`` → warning, else ok;
    * a price: its CPM and the cost of 1,000 of the target audience (info, the bot's estimate).
    """
    norm = norms.fit
    section = norm.section
    reasons: list[Reason] = []
    if fit.local_goal and fit.city:
        city = fit.city
        numbers: dict[str, Number] = {
            "city_percent": fit.city_percent,
            "city_low_percent": norm.city_low_percent,
            "city_weak_percent": norm.city_weak_percent,
        }
        if fit.city_percent is None:
            why = _fit_why(fit, ("city",))
            reasons.append(
                _reason(
                    "city_fit", "warning", section, numbers, "city_fit_unknown", city=city, why=why
                )
            )
        else:
            band = (
                "low"
                if fit.city_percent < norm.city_low_percent
                else "weak"
                if fit.city_percent < norm.city_weak_percent
                else "ok"
            )
            city_severity: dict[str, Severity] = {"low": "critical", "weak": "warning", "ok": "ok"}
            severity = city_severity[band]
            reasons.append(
                _reason(
                    "city_fit",
                    severity,
                    section,
                    numbers,
                    f"city_fit_{band}",
                    city=city,
                    percent=_shown(fit.city_percent, norm.city_low_percent, norm.city_weak_percent),
                    low=fmt_number(norm.city_low_percent),
                    weak=fmt_number(norm.city_weak_percent),
                    note=_hidden_note(fit, ("city",), norm.hidden_high_percent),
                )
            )
    if fit.other_criteria:
        fields = _target_fields(fit, target_sex, target_age)
        numbers = {
            "target_percent": fit.target_percent,
            "target_low_percent": norm.target_low_percent,
            "ci95_low": fit.target_ci95[0] if fit.target_ci95 else None,
            "ci95_high": fit.target_ci95[1] if fit.target_ci95 else None,
        }
        if fit.target_percent is None:
            reasons.append(
                _reason(
                    "target_fit",
                    "warning",
                    section,
                    numbers,
                    "target_fit_unknown",
                    why=_fit_why(fit, fields),
                )
            )
        else:
            low = fit.target_percent < norm.target_low_percent
            interval = ""
            if fit.target_ci95 is not None and fit.target_ci95[0] != fit.target_ci95[1]:
                interval = t(
                    "verdicts.fit.interval",
                    low=fmt_number(fit.target_ci95[0]),
                    high=fmt_number(fit.target_ci95[1]),
                )
            reasons.append(
                _reason(
                    "target_fit",
                    "warning" if low else "ok",
                    section,
                    numbers,
                    "target_fit_low" if low else "target_fit_ok",
                    percent=_shown(fit.target_percent, norm.target_low_percent),
                    interval=interval,
                    low=fmt_number(norm.target_low_percent),
                    note=_hidden_note(fit, fields, norm.hidden_high_percent),
                )
            )
    if fit.overlap_group is not None:
        numbers = {
            "overlap_percent": fit.overlap_percent,
            "overlap_high_percent": norm.overlap_high_percent,
        }
        if fit.overlap_percent is None:
            reasons.append(
                _reason(
                    "overlap",
                    "info",
                    section,
                    numbers,
                    "overlap_unknown",
                    group=fit.overlap_group,
                    why=t(
                        "verdicts.fit.why_members_hidden"
                        if not fit.members_known
                        else "verdicts.fit.why_not_answered"
                    ),
                )
            )
        else:
            high = fit.overlap_percent >= norm.overlap_high_percent
            reasons.append(
                _reason(
                    "overlap",
                    "warning" if high else "info",
                    section,
                    numbers,
                    "overlap_high" if high else "overlap_ok",
                    group=fit.overlap_group,
                    percent=_shown(fit.overlap_percent, norm.overlap_high_percent),
                    high=fmt_number(norm.overlap_high_percent),
                )
            )
    if fit.posts_analyzed > 0:
        heavy = (
            fit.ad_share_percent > norm.ad_share_high_percent
            or fit.ad_posts_per_day > norm.ad_posts_per_day_high
        )
        reasons.append(
            _reason(
                "ad_load",
                "warning" if heavy else "ok",
                section,
                {
                    "ad_share_percent": fit.ad_share_percent,
                    "ad_posts_per_day": fit.ad_posts_per_day,
                    "ad_share_high_percent": norm.ad_share_high_percent,
                    "ad_posts_per_day_high": norm.ad_posts_per_day_high,
                },
                "ad_load_high" if heavy else "ad_load_ok",
                share=_shown(fit.ad_share_percent, norm.ad_share_high_percent),
                per_day=fmt_number(fit.ad_posts_per_day, 1),
                share_high=fmt_number(norm.ad_share_high_percent),
                per_day_high=fmt_number(norm.ad_posts_per_day_high),
            )
        )
    reasons += price_reasons(fit, norms)
    return reasons


def price_reasons(fit: FitFigures, norms: Norms) -> list[Reason]:
    """A price's reason (``price``): its CPM and the cost of 1,000 of the owner's target
    audience, the bot's estimate from past posts' views; warning when no post has views."""
    if fit.price_rub is None:
        return []
    section = norms.fit.section
    numbers: dict[str, Number] = {
        "price_rub": fit.price_rub,
        "expected_views": fit.expected_views,
        "cpm_rub": fit.cpm_rub,
        "target_cpm_rub": fit.target_cpm_rub,
    }
    rub = fmt_number(fit.price_rub, 0)
    if fit.cpm_rub is None or fit.expected_views is None:
        return [_reason("price", "warning", section, numbers, "price_unknown", rub=rub)]
    target = ""
    if fit.target_cpm_rub is not None:
        target = t("verdicts.fit.target_cpm", value=fmt_number(fit.target_cpm_rub, 2))
    elif fit.target_percent == 0:
        target = t("verdicts.fit.target_cpm_none")
    elif fit.other_criteria or fit.local_goal:
        target = t("verdicts.fit.target_cpm_unknown")
    return [
        _reason(
            "price",
            "info",
            section,
            numbers,
            "price_value",
            rub=rub,
            views=fmt_number(fit.expected_views, 0),
            cpm=fmt_number(fit.cpm_rub, 2),
            target=target,
        )
    ]


def judge_public(
    metrics: PublicMetrics,
    norms: Norms,
    fit: FitFigures | None = None,
    *,
    target_sex: bool = False,
    target_age: bool = False,
) -> Verdict:
    """Should the user buy an ad post in this public? ``buy`` / ``caution`` / ``avoid``.

    Checks, in the guide's order: members (``no_members``, critical), engagement and padding,
    inactive members, reach. Reach is judged on others' ad posts when at least
    ``norms.ad_posts.min_posts`` of them were analysed and their reach is known; otherwise
    ``ad_posts_few`` or ``ad_reach_unknown`` (info) says so and regular posts are judged instead.
    Padding-level ER, inactive members above the normal band and reach under the norm together
    add ``padding_bots_low_reach`` (critical → avoid).
    With ``fit``, the fit and money reasons follow (``fit_reasons``): a local goal meeting a
    city share of a few percent is critical, however healthy the public.
    The verdict follows the module's combination rule (worst severity decides).
    """
    m = metrics
    reasons: list[Reason] = []
    if m.members_count == 0:
        reasons.append(_reason("no_members", "critical", norms.engagement.section, {"members": 0}))
    reasons += _engagement_reasons(m.er_percent, m.members_count, m.posts_analyzed, norms)
    reasons += _inactive_reasons(
        m.inactive_percent, m.inactive_ci95, m.members_sampled, m.members_count, norms
    )

    ad = norms.ad_posts
    if m.ad_posts_analyzed >= ad.min_posts and m.ad_reach_percent is not None:
        reasons += _reach_reasons(m.ad_reach_percent, "ad", norms)
    else:
        if m.ad_posts_analyzed < ad.min_posts:
            reasons.append(
                _reason(
                    "ad_posts_few",
                    "info",
                    ad.section,
                    {"ad_posts": m.ad_posts_analyzed, "min_posts": ad.min_posts},
                    found=m.ad_posts_analyzed,
                    min=ad.min_posts,
                    max=ad.max_posts,
                )
            )
        else:
            reasons.append(
                _reason(
                    "ad_reach_unknown",
                    "info",
                    ad.section,
                    {"ad_posts": m.ad_posts_analyzed, "ad_reach_percent": None},
                )
            )
        reasons += _reach_reasons(
            m.reach_percent, "regular", norms, m.posts_analyzed, m.members_count
        )
    reasons += _padding_with_bots(reasons, m, norms)
    if fit is not None:
        reasons += fit_reasons(fit, norms, target_sex=target_sex, target_age=target_age)
    return _verdict("public", reasons)


def _padding_with_bots(reasons: list[Reason], m: PublicMetrics, norms: Norms) -> list[Reason]:
    """The guide's three signs of bought subscribers at once: padding-level ER, more than
    ``normal_max`` inactive and reach under the norm. Each alone is a doubt; together → avoid."""
    rules = {reason.rule for reason in reasons}
    if not {"padding_suspected", "reach_low"} <= rules or m.inactive_percent is None:
        return []
    if _inactive_band(m.inactive_percent, norms) == "normal" or m.er_percent is None:
        return []
    reach = next(r.numbers["reach_percent"] for r in reasons if r.rule == "reach_low")
    assert reach is not None
    return [
        _reason(
            "padding_bots_low_reach",
            "critical",
            norms.padding.section,
            {
                "er_percent": m.er_percent,
                "inactive_percent": m.inactive_percent,
                "reach_percent": reach,
            },
            er=shown_beside(m.er_percent, "er_percent", reasons),
            inactive=shown_beside(m.inactive_percent, "inactive_percent", reasons),
            normal_max=fmt_number(norms.inactive.normal_max_percent),
            reach=shown_beside(reach, "reach_percent", reasons),
            min=fmt_number(norms.reach.min_percent),
        )
    ]


# --- a placed ad post --------------------------------------------------------------------------


def _where(placed_via: PlacedVia | None) -> str:
    """Where the person gets a placement's statistics, by how it was placed."""
    return t(f"verdicts.stats_where.{placed_via or 'unknown'}")


def _hide_rate_reasons(
    hides: int | None, views: int, norms: Norms, placed_via: PlacedVia | None = None
) -> list[Reason]:
    norm = norms.hide_rate
    if hides is None:
        numbers: dict[str, Number] = {"hide_rate_percent": None, "views": views}
        return [
            _reason(
                "hide_rate_unknown",
                "missing",
                norm.section,
                numbers,
                "hide_rate_no_hides",
                where=_where(placed_via),
            )
        ]
    rate = hide_rate_percent(hides, views)
    if rate is None:
        numbers = {"hide_rate_percent": None, "hides": hides, "views": views}
        return [_reason("hide_rate_unknown", "warning", norm.section, numbers)]
    numbers = {
        "hide_rate_percent": rate,
        "hides": hides,
        "views": views,
        "max_percent": norm.max_percent,
    }
    params = {"percent": _shown(rate, norm.max_percent), "max": fmt_number(norm.max_percent)}
    if rate > norm.max_percent:
        return [_reason("hide_rate_high", "critical", norm.section, numbers, **params)]
    return [_reason("hide_rate_ok", "ok", norm.section, numbers, **params)]


@validated
def judge_hide_rate(hides: Count, views: Count, norms: Norms) -> Verdict:
    """Share of viewers who hid the post against the guide's «10-20% is normal».

    Up to ``max_percent`` (20%) → ``hide_rate_ok``; above → ``hide_rate_high`` (critical: the guide
    says to change the creative or the public); no views → ``hide_rate_unknown`` (warning).
    """
    return _verdict("hide_rate", _hide_rate_reasons(hides, views, norms))


def _target_action_reasons(
    stats: PlacementStats, reach: float | None, norms: Norms
) -> list[Reason]:
    """Target actions as a share of transitions (clicks), against the guide's 5%.

    The guide: «процент охвата высокий, а целевых действий меньше 5%» — the people who saw the
    post are measured by reach; the actions are counted among those who came over (clicked),
    not among all views (5% of views would be far above any ordinary CTR).
    """
    norm = norms.target_action
    where = _where(stats.placed_via)
    if stats.target_actions is None:
        numbers: dict[str, Number] = {"conversion_percent": None}
        return [
            _reason(
                "target_actions_unknown",
                "missing",
                norm.section,
                numbers,
                "target_actions_none",
                where=where,
            )
        ]
    if stats.clicks is None:
        numbers = {"conversion_percent": None, "target_actions": stats.target_actions}
        return [
            _reason(
                "target_actions_unknown",
                "missing",
                norm.section,
                numbers,
                "target_actions_no_clicks",
                where=where,
                min=fmt_number(norm.min_percent),
            )
        ]
    conversion = conversion_percent(stats.target_actions, stats.clicks)
    if conversion is None:
        numbers = {"conversion_percent": None, "clicks": stats.clicks}
        return [_reason("target_actions_unknown", "warning", norm.section, numbers)]
    numbers = {
        "conversion_percent": conversion,
        "target_actions": stats.target_actions,
        "clicks": stats.clicks,
        "min_percent": norm.min_percent,
        "reach_percent": reach,
    }
    params = {"percent": _shown(conversion, norm.min_percent), "min": fmt_number(norm.min_percent)}
    if conversion >= norm.min_percent:
        return [_reason("target_actions_ok", "ok", norm.section, numbers, **params)]
    if reach is not None and reach >= norms.reach.min_percent:
        return [
            _reason(
                "format_mismatch",
                "critical",
                norm.section,
                numbers,
                reach=_shown(reach, norms.reach.min_percent),
                **params,
            )
        ]
    return [_reason("target_actions_low", "warning", norm.section, numbers, **params)]


def _cost_reasons(stats: PlacementStats) -> list[Reason]:
    """CTR, CPM, CPC and cost per subscriber: the guide sets no norms for them, so info only."""
    views, clicks, subscribers, budget = (
        stats.views,
        stats.clicks,
        stats.subscribers,
        stats.budget_rub,
    )
    # (rule, key in numbers, value, digits shown, inputs) for every figure the inputs allow;
    # 0 digits: a share, shown by ``shown_figure`` like everywhere else.
    rows: list[tuple[str, str, float | None, int, dict[str, Number]]] = []
    if clicks is not None:
        inputs: dict[str, Number] = {"clicks": clicks, "views": views}
        rows.append(("ctr_value", "ctr_percent", ctr_percent(clicks, views), 0, inputs))
    if budget is not None:
        inputs = {"budget_rub": budget, "views": views}
        rows.append(("cpm_value", "cpm_rub", cpm(budget, views), 2, inputs))
        if clicks is not None:
            inputs = {"budget_rub": budget, "clicks": clicks}
            rows.append(("cpc_value", "cpc_rub", cpc(budget, clicks), 2, inputs))
        if subscribers is not None:
            inputs = {"budget_rub": budget, "subscribers": subscribers}
            value = cost_per_subscriber(budget, subscribers)
            rows.append(("cost_per_subscriber_value", "cost_per_subscriber_rub", value, 2, inputs))
    return [
        _reason(
            rule,
            "info",
            EFFICIENCY_SECTION,
            {key: value, **inputs},
            rule if value is not None else f"{rule}_none",
            value=_cost_text(value, digits),
        )
        for rule, key, value, digits, inputs in rows
    ]


def _cost_text(value: float | None, digits: int) -> str:
    if value is None:
        return ""
    return fmt_number(value, digits) if digits else shown_figure(value)


def judge_placement(stats: PlacementStats, norms: Norms) -> Verdict:
    """How did a placed ad post do? ``ok`` / ``no_data`` / ``warning`` / ``bad``.

    Reasons: hide rate (see ``judge_hide_rate``; unreported hides → ``hide_rate_unknown``,
    severity ``missing``), reach of the post when the public's size is known (see
    ``judge_reach``), target actions as a share of transitions (clicks): at least
    ``norms.target_action.min_percent`` (5%) → ``target_actions_ok``; below it with reach at or
    above the reach norm → ``format_mismatch`` (critical: the guide's «format does not fit the
    audience or the product is uninteresting in this niche»); below it otherwise →
    ``target_actions_low`` (warning); actions or clicks not reported → ``target_actions_unknown``
    (``missing``: «мало данных», not a fault). Costs (``ctr_value``, ``cpm_value``, ``cpc_value``,
    ``cost_per_subscriber_value``) are info only: the guide has no norm for them. The advice on
    where to get a missing figure follows ``stats.placed_via``.
    Combination rule as in the module docstring; ``missing`` alone gives ``no_data``.
    """
    reasons = _hide_rate_reasons(stats.hides, stats.views, norms, stats.placed_via)
    reach: float | None = None
    if stats.members_count is not None:
        reach = reach_percent(stats.views, stats.members_count)
        reasons += _reach_reasons(reach, "placement", norms, members=stats.members_count)
    reasons += _target_action_reasons(stats, reach, norms)
    reasons += _cost_reasons(stats)
    return _verdict("placement", reasons)
