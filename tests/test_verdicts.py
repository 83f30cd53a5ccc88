"""Verdicts: every rule hit by its own case, missing figures, and the combination rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from advisor import verdicts as v
from advisor.formulas import FormulaInputError
from advisor.knowledge.guide import find_guide, guide_headings
from advisor.knowledge.loader import parse_file
from advisor.knowledge.models import Norms
from advisor.verdicts import PlacementStats, PublicMetrics, Reason, Verdict

NORMS_FILE = Path(v.__file__).parent / "knowledge" / "ru" / "norms.yaml"


@pytest.fixture(scope="module")
def norms() -> Norms:
    loaded = parse_file(NORMS_FILE).norms
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def headings() -> set[str]:
    return guide_headings(find_guide().read_text(encoding="utf-8"))


def public(**changes: Any) -> PublicMetrics:
    """A healthy 50 000-member public (ER norm there ≈ 6.6%); ``changes`` spoil one figure."""
    figures: dict[str, Any] = {
        "members_count": 50_000,
        "posts_analyzed": 30,
        "er_percent": 8.0,
        "reach_percent": 14.0,
        "ad_posts_analyzed": 6,
        "ad_reach_percent": 12.0,
        "inactive_percent": 15.0,
        "inactive_ci95": (14.0, 16.0),
        "members_sampled": 10_000,
    }
    figures.update(changes)
    return PublicMetrics(**figures)


def placement(**changes: Any) -> PlacementStats:
    """A good placement: 10% reach, 12% hidden, 6% target actions of 500 clicks; ``changes``
    spoil it."""
    figures: dict[str, Any] = {
        "views": 5000,
        "members_count": 50_000,
        "hides": 600,
        "clicks": 500,
        "target_actions": 30,
    }
    figures.update(changes)
    return PlacementStats(**figures)


def reason(verdict: Verdict, rule: str) -> Reason:
    found = [r for r in verdict.reasons if r.rule == rule]
    assert len(found) == 1, f"{rule} not once in {verdict.rules()}"
    return found[0]


# --- a public: the healthy case and the combination rule ---------------------------------------


def test_healthy_public_is_buy(norms: Norms) -> None:
    verdict = v.judge_public(public(), norms)
    assert verdict.subject == "public"
    assert verdict.verdict == "buy"
    assert verdict.rules() == ["engagement_ok", "inactive_normal", "reach_ok"]
    assert verdict.summary == "Можно покупать рекламу в этом паблике."
    assert all(r.severity == "ok" for r in verdict.reasons)


def test_combination_info_only_stays_buy(norms: Norms) -> None:
    # ad_posts_few is info: it explains, it does not warn.
    verdict = v.judge_public(public(ad_posts_analyzed=2), norms)
    assert "ad_posts_few" in verdict.rules()
    assert verdict.verdict == "buy"


def test_combination_any_warning_is_caution(norms: Norms) -> None:
    verdict = v.judge_public(public(ad_reach_percent=5.0), norms)
    assert reason(verdict, "reach_low").severity == "warning"
    assert verdict.verdict == "caution"
    assert verdict.summary == "Рекламу брать можно, но осторожно: есть сомнения."


def test_combination_any_critical_is_avoid_even_with_good_figures(norms: Norms) -> None:
    verdict = v.judge_public(public(inactive_percent=27.0, inactive_ci95=(26.0, 28.0)), norms)
    assert reason(verdict, "inactive_pointless").severity == "critical"
    assert "engagement_ok" in verdict.rules() and "reach_ok" in verdict.rules()
    assert verdict.verdict == "avoid"
    assert verdict.summary == "Рекламу в этом паблике лучше не покупать."


def test_combination_critical_beats_warnings(norms: Norms) -> None:
    metrics = public(
        er_percent=1.0, ad_reach_percent=2.0, inactive_percent=40.0, inactive_ci95=None
    )
    verdict = v.judge_public(metrics, norms)
    severities = {r.severity for r in verdict.reasons}
    assert severities == {"info", "warning", "critical"}
    assert verdict.verdict == "avoid"


# --- engagement and padding --------------------------------------------------------------------


def test_engagement_ok_and_low_against_the_size_norm(norms: Norms) -> None:
    ok = v.judge_engagement(9.0, 10_000, norms)
    assert ok.verdict == "ok"
    found = reason(ok, "engagement_ok")
    assert found.numbers == {"er_percent": 9.0, "norm_percent": 9.0, "members": 10_000}
    assert found.text == (
        "Вовлеченность 9% — не ниже 9% для сообщества на 10 000 участников. 9% — ориентир бота "
        "(в руководстве нормы нет): руководство называет только 15% для групп до 1 000 "
        "участников и 3% для групп больше 100 000."
    )
    assert found.section == "Подбор подходящих пабликов"

    # Below the bot's own interpolation: said, but no downgrade on it alone.
    low = v.judge_engagement(8.5, 10_000, norms)
    found = reason(low, "engagement_low")
    assert found.severity == "info"
    assert low.verdict == "ok"
    assert "ниже 9%" in found.text and "ориентир бота (в руководстве нормы нет)" in found.text
    assert "норм" not in found.text.replace("нормы нет", "")

    # Against the guide's own anchors the norm is the guide's and a shortfall warns.
    guide_low = v.judge_engagement(14.0, 800, norms)
    assert reason(guide_low, "engagement_low").severity == "warning"
    assert guide_low.verdict == "warning"
    assert "ниже нормы 15%" in reason(guide_low, "engagement_low").text
    assert "ориентир" not in reason(guide_low, "engagement_low").text


def test_interpolated_norm_alone_never_downgrades_a_public(norms: Norms) -> None:
    # 20 000 members: the bot's 7.2% is not the guide's; 6% ER with every other figure healthy.
    verdict = v.judge_public(public(members_count=20_000, er_percent=6.0), norms)
    assert reason(verdict, "engagement_low").severity == "info"
    assert verdict.verdict == "buy"


def test_padding_with_bots_and_low_reach_is_avoid(norms: Norms) -> None:
    metrics = public(
        members_count=5000,
        er_percent=2.0,
        ad_reach_percent=4.0,
        inactive_percent=22.0,
        inactive_ci95=None,
    )
    verdict = v.judge_public(metrics, norms)
    found = reason(verdict, "padding_bots_low_reach")
    assert found.severity == "critical"
    assert "22%" in found.text and "4%" in found.text
    assert verdict.verdict == "avoid"
    # Any two of the three signs stay a doubt, not a refusal.
    for changes in ({"inactive_percent": 15.0}, {"ad_reach_percent": 12.0}, {"er_percent": 9.0}):
        partial = v.judge_public(public(**{**metrics.model_dump(), **changes}), norms)
        assert "padding_bots_low_reach" not in partial.rules()
        assert partial.verdict == "caution", changes


def test_every_reason_prints_one_share_alike(norms: Norms) -> None:
    # 2.996% rounds to «3» beside the 10.8% size norm but not beside the 3% padding ceiling;
    # 24.99% inactive rounds to «25» beside the 20% norm but not beside the 25% bound.
    metrics = public(
        members_count=5000,
        er_percent=2.996,
        ad_reach_percent=4.0,
        inactive_percent=24.99,
        inactive_ci95=None,
    )
    verdict = v.judge_public(metrics, norms)
    for rule in ("engagement_low", "padding_suspected", "padding_bots_low_reach"):
        assert "2,996%" in reason(verdict, rule).text, rule
    for rule in ("inactive_bots", "padding_bots_low_reach"):
        assert "24,99%" in reason(verdict, rule).text, rule
    assert v.shown_beside(24.99, "inactive_percent", verdict.reasons) == "24,99"
    assert v.shown_beside(2.996, "er_percent", verdict.reasons) == "2,996"
    # A reason about another value lends it no norms.
    assert v.shown_beside(19.996, "inactive_percent", verdict.reasons) == "20"


def test_engagement_small_and_big_publics_use_flat_ends(norms: Norms) -> None:
    assert v.judge_engagement(14.0, 400, norms).rules() == ["engagement_low"]
    assert v.judge_engagement(15.0, 400, norms).rules() == ["engagement_ok"]
    assert v.judge_engagement(3.0, 2_000_000, norms).rules() == ["engagement_ok"]
    assert v.judge_engagement(2.9, 2_000_000, norms).rules() == ["engagement_low"]


def test_engagement_text_never_prints_equal_figures_for_a_low_value(norms: Norms) -> None:
    # 10.79 against a norm of 10.806 would both round to «10,8».
    text = reason(v.judge_engagement(10.79, 5000, norms), "engagement_low").text
    assert "Вовлеченность 10,79%" in text and "ниже 10,8%" in text


def test_padding_suspected_around_5000_members(norms: Norms) -> None:
    verdict = v.judge_engagement(2.5, 5000, norms)
    found = reason(verdict, "padding_suspected")
    assert found.severity == "warning"
    assert found.numbers["er_max_percent"] == 3.0
    assert found.text == (
        "При 5 000 участниках вовлеченность всего 2,5% (не выше 3%) — "
        "похоже на накрутку подписчиков."
    )
    assert verdict.rules() == ["engagement_low", "padding_suspected"]


@pytest.mark.parametrize(
    ("members", "er", "suspected"),
    [
        (3000, 3.0, True),  # both band edges are inside
        (10_000, 3.0, True),
        (2999, 3.0, False),
        (10_001, 2.0, False),
        (5000, 3.01, False),
        (5000, 0.0, True),
    ],
)
def test_padding_band_edges(norms: Norms, members: int, er: float, suspected: bool) -> None:
    assert ("padding_suspected" in v.judge_engagement(er, members, norms).rules()) is suspected


@pytest.mark.parametrize(
    ("posts", "members", "text"),
    [
        (0, 5000, "Вовлеченность не посчитать: в сообществе нет постов."),
        (10, 0, "Вовлеченность не посчитать: в сообществе нет участников."),
        (
            10,
            5000,
            "Вовлеченность посчитать не удалось. Проверьте её в DataFan, Popsters или mytracker.",
        ),
        (
            None,
            5000,
            "Вовлеченность посчитать не удалось. Проверьте её в DataFan, Popsters или mytracker.",
        ),
    ],
)
def test_engagement_unknown_says_why(
    norms: Norms, posts: int | None, members: int, text: str
) -> None:
    verdict = v.judge_engagement(None, members, norms, posts_analyzed=posts)
    found = reason(verdict, "engagement_unknown")
    assert found.severity == "warning"
    assert found.numbers["er_percent"] is None
    assert found.text == text
    assert verdict.verdict == "warning"


def test_engagement_rejects_negative_figures(norms: Norms) -> None:
    with pytest.raises(FormulaInputError) as caught:
        v.judge_engagement(-1.0, 100, norms)
    assert caught.value.field == "er_percent"
    assert caught.value.user_message() == "Вовлеченность: число не может быть меньше нуля."
    with pytest.raises(FormulaInputError):
        v.judge_engagement(5.0, -100, norms)


# --- inactive members --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "rule", "label"),
    [
        (0.0, "inactive_normal", "ok"),
        (12.0, "inactive_normal", "ok"),
        (20.0, "inactive_normal", "ok"),
        (20.5, "inactive_bots", "warning"),
        (24.9, "inactive_bots", "warning"),
        (25.0, "inactive_pointless", "bad"),
        (31.0, "inactive_pointless", "bad"),
        (100.0, "inactive_pointless", "bad"),
    ],
)
def test_inactive_bands(norms: Norms, percent: float, rule: str, label: str) -> None:
    verdict = v.judge_inactive(percent, norms)
    assert verdict.rules() == [rule]
    assert verdict.verdict == label
    assert verdict.reasons[0].numbers["inactive_percent"] == percent


def test_inactive_texts_carry_numbers_and_sample(norms: Norms) -> None:
    verdict = v.judge_inactive(22.4, norms, members_sampled=10_000, members_count=80_000)
    assert verdict.reasons[0].text == (
        "Неактивных подписчиков 22,4% (по выборке из 10 000 участников) — больше 20%: "
        "среди подписчиков есть боты. Неактивные — удалённые страницы и те, кто не заходил "
        "больше 180 дней (срок — выбор бота, в руководстве его нет)."
    )
    full = v.judge_inactive(12.0, norms, members_sampled=3000, members_count=3000)
    assert "выборке" not in full.reasons[0].text  # every member was checked
    assert "больше 180 дней" in full.reasons[0].text
    assert "выбор бота" in full.reasons[0].text
    pointless = v.judge_inactive(26.0, norms)
    assert pointless.reasons[0].text == (
        "Неактивных подписчиков 26% — от 25% реклама в таком паблике бессмысленна. Неактивные — "
        "удалённые страницы и те, кто не заходил больше 180 дней (срок — выбор бота, в "
        "руководстве его нет)."
    )


def test_inactive_uncertain_when_the_interval_crosses_a_band(norms: Norms) -> None:
    verdict = v.judge_inactive(23.5, norms, inactive_ci95=(21.0, 26.2), members_sampled=900)
    assert verdict.rules() == ["inactive_bots", "inactive_uncertain"]
    found = reason(verdict, "inactive_uncertain")
    assert found.severity == "info"
    assert found.numbers == {"ci95_low": 21.0, "ci95_high": 26.2, "members_sampled": 900}
    assert "от 21% до 26,2%" in found.text
    assert verdict.verdict == "warning"  # the point estimate's band decides

    # Interval inside one band: no note.
    assert v.judge_inactive(23.5, norms, inactive_ci95=(22.0, 24.9)).rules() == ["inactive_bots"]
    # Normal estimate whose interval reaches the bots band: note, verdict still ok.
    edge = v.judge_inactive(19.0, norms, inactive_ci95=(17.5, 20.6))
    assert edge.rules() == ["inactive_normal", "inactive_uncertain"]
    assert edge.verdict == "ok"


def test_inactive_unknown(norms: Norms) -> None:
    verdict = v.judge_inactive(None, norms)
    found = reason(verdict, "inactive_unknown")
    assert found.severity == "warning"
    assert found.numbers == {"inactive_percent": None}
    assert "приложение ВК" in found.text


# --- reach -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reach", "rule", "label"),
    [
        (0.0, "reach_low", "warning"),
        (9.9, "reach_low", "warning"),
        (10.0, "reach_ok", "ok"),
        (20.0, "reach_ok", "ok"),
        (20.1, "reach_high", "ok"),
        (150.0, "reach_high", "ok"),
    ],
)
def test_reach_bands(norms: Norms, reach: float, rule: str, label: str) -> None:
    verdict = v.judge_reach(reach, norms)
    assert verdict.rules() == [rule]
    assert verdict.verdict == label


def test_reach_texts(norms: Norms) -> None:
    assert v.judge_reach(12.34, norms, kind="ad").reasons[0].text == (
        "Охват чужих рекламных постов — 12,3% от числа участников, в норме (10–20%)."
    )
    assert v.judge_reach(9.96, norms).reasons[0].text == (
        "Охват обычных постов — 9,96% от числа участников, ниже нормы 10%: пост увидят немногие."
    )
    assert v.judge_reach(25.0, norms, kind="placement").reasons[0].text == (
        "Охват вашего поста — 25% от числа участников, выше обычных 20%. Это хорошо."
    )


@pytest.mark.parametrize(
    ("posts", "members", "ending"),
    [
        (0, 100, "не посчитать: в сообществе нет постов."),
        (5, 0, "не посчитать: в сообществе нет участников."),
        (5, 100, "посчитать не удалось. Запросите статистику у владельца группы."),
    ],
)
def test_reach_unknown(norms: Norms, posts: int, members: int, ending: str) -> None:
    verdict = v.judge_reach(None, norms, posts_analyzed=posts, members_count=members)
    found = reason(verdict, "reach_unknown")
    assert found.numbers["reach_percent"] is None
    assert found.text.endswith(ending)
    assert verdict.verdict == "warning"


def test_public_judges_reach_on_ad_posts_when_there_are_enough(norms: Norms) -> None:
    verdict = v.judge_public(
        public(ad_posts_analyzed=5, ad_reach_percent=25.0, reach_percent=4.0), norms
    )
    found = reason(verdict, "reach_high")
    assert found.numbers["reach_percent"] == 25.0
    assert "чужих рекламных постов" in found.text
    assert "ad_posts_few" not in verdict.rules()


def test_public_with_few_ad_posts_judges_regular_posts(norms: Norms) -> None:
    verdict = v.judge_public(
        public(ad_posts_analyzed=4, ad_reach_percent=30.0, reach_percent=4.0), norms
    )
    few = reason(verdict, "ad_posts_few")
    assert few.numbers == {"ad_posts": 4, "min_posts": 5}
    assert few.text == (
        "Чужих рекламных постов нашлось 4, а для оценки нужно 5–7. Охват оценён по обычным постам."
    )
    low = reason(verdict, "reach_low")
    assert low.numbers["reach_percent"] == 4.0
    assert "обычных постов" in low.text
    assert verdict.verdict == "caution"


def test_public_with_ad_posts_but_unknown_ad_reach(norms: Norms) -> None:
    verdict = v.judge_public(public(ad_posts_analyzed=7, ad_reach_percent=None), norms)
    assert reason(verdict, "ad_reach_unknown").severity == "info"
    assert reason(verdict, "reach_ok").numbers["reach_percent"] == 14.0
    assert verdict.verdict == "buy"


# --- a public with missing figures -------------------------------------------------------------


def test_public_with_nothing_measured_explains_each_gap(norms: Norms) -> None:
    metrics = public(
        posts_analyzed=0,
        er_percent=None,
        reach_percent=None,
        ad_posts_analyzed=0,
        ad_reach_percent=None,
        inactive_percent=None,
        inactive_ci95=None,
        members_sampled=None,
    )
    verdict = v.judge_public(metrics, norms)
    assert verdict.rules() == [
        "engagement_unknown",
        "inactive_unknown",
        "ad_posts_few",
        "reach_unknown",
    ]
    for found in verdict.reasons:
        assert not any(isinstance(n, float) for n in found.numbers.values())
    assert "нет постов" in reason(verdict, "engagement_unknown").text
    assert "нет постов" in reason(verdict, "reach_unknown").text
    assert verdict.verdict == "caution"


def test_public_without_members_is_avoid(norms: Norms) -> None:
    metrics = public(
        members_count=0,
        er_percent=None,
        reach_percent=None,
        ad_reach_percent=None,
        ad_posts_analyzed=0,
        inactive_percent=None,
        inactive_ci95=None,
        members_sampled=0,
    )
    verdict = v.judge_public(metrics, norms)
    assert verdict.rules()[0] == "no_members"
    assert reason(verdict, "no_members").text == (
        "В сообществе нет участников — рекламу там некому увидеть."
    )
    assert "нет участников" in reason(verdict, "engagement_unknown").text
    assert "нет участников" in reason(verdict, "reach_unknown").text
    assert verdict.verdict == "avoid"


def test_public_metrics_validation() -> None:
    with pytest.raises(ValidationError):
        public(members_count=-1)
    with pytest.raises(ValidationError):
        public(inactive_percent=101.0)
    with pytest.raises(ValidationError):
        public(inactive_ci95=(20.0, 10.0))
    with pytest.raises(ValidationError):
        public(er_percent=float("nan"))
    with pytest.raises(ValidationError):
        public(unexpected=1)


# --- hide rate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hides", "views", "rule", "label"),
    [
        (0, 1000, "hide_rate_ok", "ok"),
        (150, 1000, "hide_rate_ok", "ok"),
        (200, 1000, "hide_rate_ok", "ok"),
        (201, 1000, "hide_rate_high", "bad"),
        (900, 1000, "hide_rate_high", "bad"),
        (0, 0, "hide_rate_unknown", "warning"),
        (3, 0, "hide_rate_unknown", "warning"),
    ],
)
def test_hide_rate(norms: Norms, hides: int, views: int, rule: str, label: str) -> None:
    verdict = v.judge_hide_rate(hides, views, norms)
    assert verdict.subject == "hide_rate"
    assert verdict.rules() == [rule]
    assert verdict.verdict == label
    assert verdict.reasons[0].section == "Оценка эффективности рекламы сообщества"


def test_hide_rate_texts(norms: Norms) -> None:
    assert v.judge_hide_rate(150, 1000, norms).reasons[0].text == (
        "Пост скрыли 15% просмотревших — это нормально (до 20%)."
    )
    high = v.judge_hide_rate(253, 1000, norms).reasons[0]
    assert high.text == (
        "Пост скрыли 25,3% просмотревших — больше 20%. Смените креатив или группу для рекламы."
    )
    assert high.numbers["hide_rate_percent"] == pytest.approx(25.3)
    unknown = v.judge_hide_rate(0, 0, norms).reasons[0]
    assert unknown.numbers["hide_rate_percent"] is None


def test_hide_rate_rejects_negative_input(norms: Norms) -> None:
    with pytest.raises(FormulaInputError) as caught:
        v.judge_hide_rate(-5, 100, norms)
    assert caught.value.field == "hides"


# --- a placed ad post --------------------------------------------------------------------------


def test_good_placement_is_ok(norms: Norms) -> None:
    verdict = v.judge_placement(placement(), norms)
    assert verdict.subject == "placement"
    assert verdict.rules() == ["hide_rate_ok", "reach_ok", "target_actions_ok", "ctr_value"]
    assert verdict.verdict == "ok"
    assert verdict.summary == "Всё в норме."
    assert reason(verdict, "target_actions_ok").numbers["conversion_percent"] == 6.0


def test_format_mismatch_with_good_reach_and_few_actions(norms: Norms) -> None:
    verdict = v.judge_placement(placement(views=15_000, target_actions=10), norms)
    found = reason(verdict, "format_mismatch")
    assert found.severity == "critical"
    assert found.section == "Напрямую через администратора"
    assert found.numbers["conversion_percent"] == 2.0
    assert found.numbers["reach_percent"] == 30.0
    assert found.text == (
        "Охват хороший (30%), а целевых действий всего 2% от переходов (меньше 5%): формат поста "
        "не подходит аудитории или продукт в этой нише неинтересен."
    )
    assert verdict.verdict == "bad"
    assert verdict.summary == "Есть серьёзная проблема."


def test_few_actions_with_low_reach_is_only_a_warning(norms: Norms) -> None:
    verdict = v.judge_placement(placement(views=2000, hides=0, target_actions=10), norms)
    assert verdict.rules() == ["hide_rate_ok", "reach_low", "target_actions_low", "ctr_value"]
    assert reason(verdict, "target_actions_low").text == (
        "Целевых действий 2% от переходов — меньше 5%."
    )
    assert verdict.verdict == "warning"


def test_few_actions_with_unknown_reach_is_a_warning(norms: Norms) -> None:
    verdict = v.judge_placement(placement(members_count=None, target_actions=10), norms)
    assert verdict.rules() == ["hide_rate_ok", "target_actions_low", "ctr_value"]
    assert verdict.verdict == "warning"


def test_target_actions_at_exactly_five_percent_are_enough(norms: Norms) -> None:
    verdict = v.judge_placement(placement(target_actions=25), norms)
    assert "target_actions_ok" in verdict.rules()


def test_placement_with_missing_reports(norms: Norms) -> None:
    verdict = v.judge_placement(PlacementStats(views=3000), norms)
    assert verdict.rules() == ["hide_rate_unknown", "target_actions_unknown"]
    assert "или у администратора паблика" in reason(verdict, "hide_rate_unknown").text
    assert "посмотрите" in reason(verdict, "target_actions_unknown").text
    # Figures not reported are «мало данных», not a fault.
    assert {r.severity for r in verdict.reasons} == {"missing"}
    assert verdict.verdict == "no_data"
    assert verdict.summary == "Мало данных для вывода."


def test_placement_without_views(norms: Norms) -> None:
    verdict = v.judge_placement(placement(views=0, hides=0, clicks=0, target_actions=0), norms)
    assert reason(verdict, "hide_rate_unknown").text == (
        "Долю скрытий не посчитать: у поста нет просмотров."
    )
    assert reason(verdict, "reach_low").numbers["reach_percent"] == 0.0
    assert reason(verdict, "target_actions_unknown").numbers["conversion_percent"] is None
    assert verdict.verdict == "warning"


def test_placement_costs_are_info(norms: Norms) -> None:
    stats = placement(clicks=250, target_actions=15, subscribers=40, budget_rub=2000.0)
    verdict = v.judge_placement(stats, norms)
    assert reason(verdict, "ctr_value").text == (
        "CTR 5%: такая доля просмотревших перешла по ссылке."
    )
    assert reason(verdict, "cpm_value").text == (
        "Тысяча просмотров обошлась в 400 ₽ (нормы CPM в руководстве нет)."
    )
    assert reason(verdict, "cpc_value").text == "Один переход обошёлся в 8 ₽."
    subscriber = reason(verdict, "cost_per_subscriber_value")
    assert subscriber.text == (
        "Один подписчик обошёлся в 50 ₽ (нормы цены подписчика в руководстве нет)."
    )
    assert subscriber.numbers == {
        "cost_per_subscriber_rub": 50.0,
        "budget_rub": 2000.0,
        "subscribers": 40,
    }
    assert {r.severity for r in verdict.reasons if r.rule.endswith("_value")} == {"info"}
    assert verdict.verdict == "ok"


def test_placement_costs_with_zero_denominators(norms: Norms) -> None:
    stats = placement(
        views=0, hides=0, target_actions=0, clicks=0, subscribers=0, budget_rub=999.99
    )
    verdict = v.judge_placement(stats, norms)
    assert reason(verdict, "ctr_value").text == "CTR не посчитать: у поста нет просмотров."
    assert reason(verdict, "cpm_value").numbers["cpm_rub"] is None
    assert reason(verdict, "cpc_value").text == "Цену перехода не посчитать: переходов не было."
    assert reason(verdict, "cost_per_subscriber_value").text == (
        "Цену подписчика не посчитать: подписок не было."
    )


def test_placement_money_is_shown_in_russian_notation(norms: Norms) -> None:
    stats = placement(views=1000, clicks=3, budget_rub=12_345.5)
    verdict = v.judge_placement(stats, norms)
    assert reason(verdict, "cpm_value").text == (
        "Тысяча просмотров обошлась в 12 345,5 ₽ (нормы CPM в руководстве нет)."
    )
    assert reason(verdict, "cpc_value").text == "Один переход обошёлся в 4 115,17 ₽."


def test_placement_stats_validation() -> None:
    with pytest.raises(ValidationError):
        PlacementStats(views=-1)
    with pytest.raises(ValidationError):
        PlacementStats(views=10, budget_rub=-5.0)


# --- the Verdict model and the texts -----------------------------------------------------------


def test_verdict_label_must_fit_subject() -> None:
    with pytest.raises(ValidationError):
        Verdict(subject="public", verdict="ok", summary="x", reasons=[])
    with pytest.raises(ValidationError):
        Verdict(subject="placement", verdict="buy", summary="x", reasons=[])


def test_empty_reasons_mean_the_best_label() -> None:
    assert v._verdict("public", []).verdict == "buy"
    assert v._verdict("reach", []).verdict == "ok"


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0, 1, "0"),
        (9.0, 1, "9"),
        (10.806, 1, "10,8"),
        (9.96, 1, "10"),
        (1234567, 0, "1 234 567"),
        (4115.1666, 2, "4 115,17"),
        (0.004, 2, "0"),
    ],
)
def test_fmt_number(value: float, digits: int, text: str) -> None:
    assert v.fmt_number(value, digits) == text


def _all_reasons(norms: Norms) -> list[Reason]:
    cases = [
        v.judge_public(public(), norms),
        v.judge_public(
            public(
                members_count=0,
                er_percent=None,
                reach_percent=None,
                ad_posts_analyzed=0,
                ad_reach_percent=None,
                inactive_percent=None,
                inactive_ci95=None,
            ),
            norms,
        ),
        v.judge_public(public(ad_posts_analyzed=9, ad_reach_percent=None), norms),
        v.judge_engagement(2.0, 5000, norms),
        v.judge_inactive(22.0, norms, inactive_ci95=(19.0, 26.0)),
        v.judge_inactive(30.0, norms),
        v.judge_reach(30.0, norms),
        v.judge_placement(placement(), norms),
        v.judge_placement(placement(views=15_000, clicks=5, subscribers=0, budget_rub=10.0), norms),
        v.judge_placement(placement(views=2000, hides=900, target_actions=1), norms),
        v.judge_placement(placement(views=15_000, target_actions=1), norms),
        v.judge_public(
            public(
                members_count=5000,
                er_percent=2.0,
                ad_reach_percent=4.0,
                inactive_percent=22.0,
                inactive_ci95=None,
            ),
            norms,
        ),
        v.judge_placement(PlacementStats(views=0), norms),
    ]
    return [r for verdict in cases for r in verdict.reasons]


def test_every_rule_is_covered_and_cites_a_guide_heading(norms: Norms, headings: set[str]) -> None:
    reasons = _all_reasons(norms)
    rules = {r.rule for r in reasons}
    assert rules >= {
        "no_members",
        "engagement_ok",
        "engagement_low",
        "engagement_unknown",
        "padding_suspected",
        "inactive_normal",
        "inactive_bots",
        "inactive_pointless",
        "inactive_unknown",
        "inactive_uncertain",
        "reach_low",
        "reach_ok",
        "reach_high",
        "reach_unknown",
        "ad_posts_few",
        "ad_reach_unknown",
        "hide_rate_ok",
        "hide_rate_high",
        "hide_rate_unknown",
        "target_actions_ok",
        "target_actions_low",
        "format_mismatch",
        "target_actions_unknown",
        "ctr_value",
        "cpm_value",
        "cpc_value",
        "cost_per_subscriber_value",
        "padding_bots_low_reach",
    }
    for found in reasons:
        assert found.section in headings, (found.rule, found.section)
        assert found.text and "{" not in found.text, found.rule


def test_small_non_zero_shares_do_not_read_as_zero() -> None:
    assert v._shown(0.0125) == "0,01"
    assert v._shown(0.0004) == "0,0004"
    assert v._shown(0.02) == "0,02"
    assert v._shown(0.0) == "0"
    assert v._shown(12.34) == "12,3"


# --- fit and money (issue 15) ------------------------------------------------------------------


def fit_rules(result: Verdict) -> dict[str, Reason]:
    return {r.rule: r for r in result.reasons}


@pytest.mark.parametrize(
    ("city_percent", "severity", "label"),
    [(4.0, "critical", "avoid"), (20.0, "warning", "caution"), (55.0, "ok", "buy")],
)
def test_city_fit_bands_for_a_local_goal(
    norms: Norms, city_percent: float, severity: str, label: str
) -> None:
    fit = v.FitFigures(local_goal=True, city="Тверь", city_percent=city_percent, active_sampled=900)
    result = v.judge_public(public(), norms, fit)
    reason = fit_rules(result)["city_fit"]
    assert reason.severity == severity and result.verdict == label
    assert "Тверь" in reason.text and "бота" in reason.text
    assert reason.numbers["city_percent"] == city_percent
    assert reason.section == norms.fit.section


def test_health_rules_are_unchanged_by_the_fit(norms: Norms) -> None:
    plain = v.judge_public(public(), norms)
    fitted = v.judge_public(public(), norms, v.FitFigures())
    assert fitted.reasons == plain.reasons and fitted.verdict == plain.verdict == "buy"


def test_unknown_shares_say_why(norms: Norms) -> None:
    hidden = v.FitFigures(local_goal=True, city="Тверь", members_known=False)
    assert (
        "список участников скрыт"
        in fit_rules(v.judge_public(public(), norms, hidden))["city_fit"].text
    )
    ages = v.FitFigures(other_criteria=True, active_sampled=500, age_hidden_percent=70.0)
    reason = fit_rules(v.judge_public(public(), norms, ages, target_age=True))["target_fit"]
    assert reason.severity == "warning" and "возраст скрыт у 70%" in reason.text


def test_target_overlap_ad_load_and_price_reasons(norms: Norms) -> None:
    fit = v.FitFigures(
        other_criteria=True,
        target_percent=6.0,
        target_ci95=(4.0, 8.5),
        active_sampled=3000,
        overlap_group="salon",
        overlap_percent=35.0,
        ad_share_percent=50.0,
        ad_posts_per_day=1.0,
        posts_analyzed=30,
        price_rub=3000.0,
        expected_views=1500,
        cpm_rub=2000.0,
        target_cpm_rub=33333.33,
    )
    result = v.judge_public(public(), norms, fit, target_sex=True)
    found = fit_rules(result)
    assert found["target_fit"].severity == "warning" and "от 4% до 8,5%" in found["target_fit"].text
    assert found["overlap"].severity == "warning" and "35%" in found["overlap"].text
    assert found["ad_load"].severity == "warning" and "50%" in found["ad_load"].text
    assert found["price"].severity == "info" and "33 333,33" in found["price"].text
    assert result.verdict == "caution"
    none = v.FitFigures(
        other_criteria=True, target_percent=0.0, price_rub=100.0, expected_views=10, cpm_rub=1.0
    )
    assert "не нашлось" in v.price_reasons(none, norms)[0].text
    no_views = v.price_reasons(v.FitFigures(price_rub=100.0), norms)
    assert [r.severity for r in no_views] == ["warning"]
