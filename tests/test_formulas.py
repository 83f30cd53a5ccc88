"""The guide's formulas against hand-computed figures, edge cases and the engagement norm curve."""

from __future__ import annotations

import inspect
import itertools
import math
from pathlib import Path

import pytest

from advisor import formulas as f
from advisor.formulas import FormulaInputError
from advisor.knowledge.guide import find_guide, guide_headings
from advisor.knowledge.loader import parse_file
from advisor.knowledge.models import EngagementAnchor, EngagementNorm, Norms

KNOWLEDGE = Path(f.__file__).parent / "knowledge" / "ru"


@pytest.fixture(scope="module")
def norms() -> Norms:
    loaded = parse_file(KNOWLEDGE / "norms.yaml").norms
    assert loaded is not None
    return loaded


# --- hand-computed values ----------------------------------------------------------------------


def test_activities_sum_likes_reposts_comments() -> None:
    assert f.activities_count(likes=120, reposts=15, comments=30) == 165
    assert f.activities_count() == 0


@pytest.mark.parametrize(
    ("activities", "members", "posts", "expected"),
    [
        (150, 1000, 1, 15.0),  # the guide's small-public norm exactly
        (3000, 100_000, 1, 3.0),  # the guide's big-public norm exactly
        (1650, 1000, 10, 16.5),  # 165 activities per post on average
        (0, 500, 3, 0.0),
        (250, 100, 1, 250.0),  # more activities than members: a lively small public, not an error
        (1, 3, 1, 100 / 3),
    ],
)
def test_engagement_percent(activities: int, members: int, posts: int, expected: float) -> None:
    assert f.engagement_percent(activities, members, posts) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("views", "members", "posts", "expected"),
    [
        (50_000, 500_000, 1, 10.0),  # the guide's example: 500 000 members, 50 000 views
        (100_000, 500_000, 1, 20.0),
        (420_000, 200_000, 7, 30.0),  # 7 ad posts, 60 000 views each
        (0, 10, 1, 0.0),
    ],
)
def test_reach_percent(views: int, members: int, posts: int, expected: float) -> None:
    assert f.reach_percent(views, members, posts) == pytest.approx(expected, rel=1e-12)


def test_ratio_formulas_hand_computed() -> None:
    assert f.hide_rate_percent(150, 1000) == 15.0
    assert f.hide_rate_percent(201, 1000) == pytest.approx(20.1)
    assert f.conversion_percent(40, 1000) == 4.0
    assert f.conversion_percent(50, 1000) == 5.0
    assert f.ctr_percent(37, 2000) == pytest.approx(1.85)
    assert f.cpm(1500.0, 12_000) == pytest.approx(125.0)
    assert f.cpm(1500, 12_000) == pytest.approx(125.0)  # an int budget is fine
    assert f.cpc(1500.0, 60) == pytest.approx(25.0)
    assert f.cost_per_subscriber(1000.0, 8) == pytest.approx(125.0)
    assert f.cost_per_subscriber(0.0, 8) == 0.0


def test_percent_of_round_figures_is_exact() -> None:
    # Scaling before dividing: 15 of 100 is 15.0, not 15.000000000000002.
    assert f.engagement_percent(15, 100) == 15.0
    assert f.reach_percent(7, 100) == 7.0
    assert f.hide_rate_percent(29, 100) == 29.0


# --- edge cases --------------------------------------------------------------------------------


def test_zero_denominators_give_none_not_a_number() -> None:
    assert f.engagement_percent(10, 0) is None  # no members
    assert f.engagement_percent(0, 0) is None
    assert f.engagement_percent(10, 1000, posts=0) is None  # no posts analysed
    assert f.reach_percent(10, 0) is None
    assert f.reach_percent(0, 1000, posts=0) is None
    assert f.hide_rate_percent(0, 0) is None
    assert f.hide_rate_percent(5, 0) is None
    assert f.conversion_percent(3, 0) is None
    assert f.ctr_percent(0, 0) is None
    assert f.cpm(100.0, 0) is None
    assert f.cpc(100.0, 0) is None
    assert f.cost_per_subscriber(100.0, 0) is None


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: f.engagement_percent(-1, 100), "activities"),
        (lambda: f.engagement_percent(10, -100), "members"),
        (lambda: f.engagement_percent(10, 100, posts=-2), "posts"),
        (lambda: f.reach_percent(-5, 100), "views"),
        (lambda: f.hide_rate_percent(-1, 10), "hides"),
        (lambda: f.conversion_percent(-1, 10), "target_actions"),
        (lambda: f.ctr_percent(-1, 10), "clicks"),
        (lambda: f.cpm(-0.01, 10), "budget"),
        (lambda: f.cpc(10.0, -1), "clicks"),
        (lambda: f.cost_per_subscriber(10.0, -3), "subscribers"),
        (lambda: f.activities_count(likes=-1), "likes"),
    ],
)
def test_negative_inputs_are_rejected(call: object, field: str) -> None:
    with pytest.raises(FormulaInputError) as caught:
        call()  # type: ignore[operator]
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.problem == "negative"
    assert error.message_key == "verdicts.input_error.negative"
    assert "меньше нуля" in error.user_message()


@pytest.mark.parametrize("value", [True, 3.0, "3", None, [3]])
def test_counts_must_be_real_ints(value: object) -> None:
    with pytest.raises(FormulaInputError) as caught:
        f.reach_percent(value, 100)  # type: ignore[arg-type]
    assert caught.value.problem == "not_number"
    assert caught.value.field == "views"
    assert caught.value.user_message() == "Число просмотров: нужно число."


@pytest.mark.parametrize("budget", [math.nan, math.inf, -math.inf, "100"])
def test_budget_must_be_a_finite_number(budget: object) -> None:
    with pytest.raises(FormulaInputError) as caught:
        f.cpm(budget, 100)  # type: ignore[arg-type]
    assert caught.value.field == "budget"
    assert caught.value.problem in {"not_number", "negative"}


def test_huge_numbers_stay_finite() -> None:
    top = f.MAX_INPUT
    assert f.engagement_percent(top, 1) == pytest.approx(1e17)
    assert f.engagement_percent(1, top, posts=top) == pytest.approx(1e-28)
    assert f.reach_percent(top, top) == 100.0
    assert f.cpm(float(top), 1) == pytest.approx(1e18)
    assert f.cost_per_subscriber(1.0, top) == pytest.approx(1e-15)
    # VK-sized figures: 300 million members, 10 million views.
    assert f.reach_percent(10_000_000, 300_000_000) == pytest.approx(10 / 3)


def test_beyond_max_input_is_rejected_with_its_own_message() -> None:
    with pytest.raises(FormulaInputError) as caught:
        f.engagement_percent(f.MAX_INPUT + 1, 10)
    assert caught.value.problem == "too_large"
    assert "слишком большое" in caught.value.user_message()


def test_error_names_keyword_arguments_too() -> None:
    with pytest.raises(FormulaInputError) as caught:
        f.cpc(budget=10.0, clicks=-1)
    assert caught.value.field == "clicks"
    assert caught.value.function == "cpc"


def test_every_argument_has_a_russian_name() -> None:
    # FormulaInputError.user_message looks the argument up; a missing name would crash it.
    for name in (
        "activities_count",
        "engagement_percent",
        "reach_percent",
        "hide_rate_percent",
        "conversion_percent",
        "ctr_percent",
        "cpm",
        "cpc",
        "cost_per_subscriber",
    ):
        for field in inspect.signature(getattr(f, name)).parameters:
            error = FormulaInputError(name, field, -1, "negative")
            assert error.user_message().endswith("не может быть меньше нуля.")


# --- engagement norm -----------------------------------------------------------------------------


def test_norm_anchor_values(norms: Norms) -> None:
    norm = norms.engagement
    assert f.engagement_norm_percent(1000, norm) == 15.0
    assert f.engagement_norm_percent(100_000, norm) == 3.0
    # Halfway in log10 between 10^3 and 10^5.
    assert f.engagement_norm_percent(10_000, norm) == 9.0
    assert f.engagement_norm_percent(5000, norm) == pytest.approx(15 - 12 * math.log10(5) / 2)


def test_norm_is_flat_outside_anchors(norms: Norms) -> None:
    norm = norms.engagement
    for members in (0, 1, 10, 999):
        assert f.engagement_norm_percent(members, norm) == 15.0
    for members in (100_001, 1_000_000, 300_000_000):
        assert f.engagement_norm_percent(members, norm) == 3.0


def test_norm_is_monotone(norms: Norms) -> None:
    sizes = sorted({int(10 ** (k / 50)) for k in range(0, 451)})  # 1 … 10^9, log-spaced
    values = [f.engagement_norm_percent(m, norms.engagement) for m in sizes]
    assert all(b <= a for a, b in itertools.pairwise(values))
    assert all(3.0 <= v <= 15.0 for v in values)
    # Strictly falling between the anchors.
    inside = [f.engagement_norm_percent(m, norms.engagement) for m in range(1000, 100_001, 997)]
    assert all(b < a for a, b in itertools.pairwise(inside))


def test_norm_with_three_anchors() -> None:
    norm = EngagementNorm(
        section="Подбор подходящих пабликов",
        anchors=[
            EngagementAnchor(members=100, min_percent=20),
            EngagementAnchor(members=1000, min_percent=15),
            EngagementAnchor(members=100_000, min_percent=3),
        ],
    )
    assert f.engagement_norm_percent(50, norm) == 20.0
    assert f.engagement_norm_percent(100, norm) == 20.0
    assert f.engagement_norm_percent(1000, norm) == 15.0
    assert f.engagement_norm_percent(10_000, norm) == 9.0
    assert f.engagement_norm_percent(10**7, norm) == 3.0
    assert 15 < f.engagement_norm_percent(500, norm) < 20


def test_norm_rejects_negative_members(norms: Norms) -> None:
    with pytest.raises(FormulaInputError) as caught:
        f.engagement_norm_percent(-1, norms.engagement)
    assert caught.value.field == "members"


# --- the data files ----------------------------------------------------------------------------


def test_norms_file_holds_the_guide_numbers(norms: Norms) -> None:
    assert [(a.members, a.min_percent) for a in norms.engagement.anchors] == [
        (1000, 15.0),
        (100_000, 3.0),
    ]
    assert norms.padding.members_from <= 5000 <= norms.padding.members_to
    assert norms.padding.er_max_percent == 3
    inactive = norms.inactive
    assert (inactive.normal_min_percent, inactive.normal_max_percent) == (10, 20)
    assert (inactive.pointless_from_percent, inactive.pointless_to_percent) == (25, 30)
    assert inactive.inactive_after_days == 180
    assert (norms.reach.min_percent, norms.reach.max_percent) == (10, 20)
    assert (norms.ad_posts.min_posts, norms.ad_posts.max_posts) == (5, 7)
    assert (norms.hide_rate.min_percent, norms.hide_rate.max_percent) == (10, 20)
    assert norms.target_action.min_percent == 5
    assert (norms.readiness_posts.min_count, norms.readiness_posts.max_count) == (3, 5)
    assert norms.free_board_start_subscribers.value == 100
    assert norms.mailing_free_days.value == 3


def test_cited_sections_are_guide_headings(norms: Norms) -> None:
    headings = guide_headings(find_guide().read_text(encoding="utf-8"))
    cited = {
        getattr(norms, name).section
        for name in type(norms).model_fields
        if hasattr(getattr(norms, name), "section")
    }
    formulas = parse_file(KNOWLEDGE / "formulas.yaml").formulas
    cited |= {formula.section for formula in formulas}
    assert cited - headings == set()


def test_formulas_file_matches_the_code() -> None:
    formulas = parse_file(KNOWLEDGE / "formulas.yaml").formulas
    assert {x.id for x in formulas} == {
        "engagement",
        "reach",
        "hide_rate",
        "conversion",
        "ctr",
        "cpm",
        "cpc",
        "cost_per_subscriber",
    }
    for formula in formulas:
        name = f"{formula.id}_percent" if formula.unit == "percent" else formula.id
        function = getattr(f, name)
        assert formula.inputs == list(inspect.signature(function).parameters), formula.id
