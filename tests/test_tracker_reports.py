"""Tracker figures: each formula and verdict on a row, group sums, ranking, chat text, chart."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from matplotlib.image import imread

from advisor.knowledge.loader import load_knowledge
from advisor.tracker import render
from advisor.tracker.chart import comparison_chart
from advisor.tracker.models import Placement, StoredPlacement
from advisor.tracker.reports import (
    group_by,
    group_stats,
    placement_metrics,
    placement_verdict,
    rank,
)

NORMS = load_knowledge().norms
START = date(2025, 3, 1)


def row(**fields: object) -> Placement:
    base: dict[str, object] = {"public": "Кулинария", "method": "admin", "start": START}
    return Placement(**(base | fields))


def stored(number: int, **fields: object) -> StoredPlacement:
    now = datetime(2025, 3, 10, tzinfo=UTC)
    base: dict[str, object] = {"public": "Кулинария", "method": "admin", "start": START}
    return StoredPlacement(
        id=number, number=number, created_at=now, updated_at=now, **(base | fields)
    )


# --- each formula on a row ---------------------------------------------------------------------


def test_metrics_of_a_full_row() -> None:
    metrics = placement_metrics(
        row(budget=1500, views=12000, clicks=300, subscribers=40, hides=1800, actions=18)
    )
    assert metrics.cpm == pytest.approx(125.0)  # 1500 / 12000 * 1000
    assert metrics.cpc == pytest.approx(5.0)  # 1500 / 300
    assert metrics.ctr == pytest.approx(2.5)  # 300 / 12000 * 100
    assert metrics.cost_per_subscriber == pytest.approx(37.5)  # 1500 / 40
    assert metrics.conversion == pytest.approx(6.0)  # 18 / 300 * 100: of the clicks
    assert metrics.hide_rate == pytest.approx(15.0)  # 1800 / 12000 * 100


def test_metrics_need_their_inputs_and_a_nonzero_denominator() -> None:
    assert placement_metrics(row()) == placement_metrics(row(creative="x"))
    metrics = placement_metrics(row(budget=1000, views=0, clicks=0, subscribers=0))
    assert metrics.cpm is None and metrics.cpc is None and metrics.cost_per_subscriber is None
    assert metrics.ctr is None
    only_views = placement_metrics(row(views=500))
    assert only_views.cpm is None  # no budget
    assert only_views.hide_rate is None  # hides not reported


def test_free_placement_costs_nothing_per_subscriber() -> None:
    assert placement_metrics(row(method="free", budget=0, subscribers=12)).cost_per_subscriber == 0


# --- verdicts ----------------------------------------------------------------------------------


def test_no_verdict_without_views() -> None:
    assert placement_verdict(row(budget=100, subscribers=3), NORMS) is None


def test_hide_rate_within_the_guide_norm_and_conversion_ok() -> None:
    verdict = placement_verdict(row(views=1000, hides=200, clicks=100, actions=5), NORMS)
    assert verdict is not None
    assert verdict.verdict == "ok"
    assert verdict.rules() == ["hide_rate_ok", "target_actions_ok", "ctr_value"]


def test_hide_rate_above_twenty_percent_means_change_creative_or_public() -> None:
    verdict = placement_verdict(row(views=1000, hides=201, actions=50), NORMS)
    assert verdict is not None and verdict.verdict == "bad"
    assert "hide_rate_high" in verdict.rules()
    assert "Смените креатив или группу" in render.verdict_text(verdict)


def test_few_target_actions_with_good_reach_means_format_does_not_fit() -> None:
    # 1 500 views in a public of 10 000 is a 15% reach (the guide's 10-20%); 2% of the 150 who
    # clicked acted.
    verdict = placement_verdict(
        row(views=1500, members=10000, hides=30, clicks=150, actions=3), NORMS
    )
    assert verdict is not None and verdict.verdict == "bad"
    assert verdict.rules() == ["hide_rate_ok", "reach_ok", "format_mismatch", "ctr_value"]
    assert "формат поста не подходит аудитории" in render.verdict_text(verdict)


def test_few_target_actions_with_poor_reach_is_a_warning() -> None:
    verdict = placement_verdict(row(views=500, members=10000, hides=5, clicks=50, actions=1), NORMS)
    assert verdict is not None and verdict.verdict == "warning"
    assert verdict.rules() == ["hide_rate_ok", "reach_low", "target_actions_low", "ctr_value"]


def test_unreported_hides_and_actions_are_too_little_data() -> None:
    verdict = placement_verdict(row(views=1000), NORMS)
    assert verdict is not None and verdict.verdict == "no_data"
    assert verdict.rules() == ["hide_rate_unknown", "target_actions_unknown"]
    text = render.verdict_text(verdict)
    assert "мало данных" in text and "есть что улучшить" not in text


@pytest.mark.parametrize(
    ("method", "where", "not_where"),
    [
        ("admin", "у администратора паблика", "ЛК биржи"),
        ("vk_exchange", "в ЛК биржи ВК", "администратор"),
        ("third_party", "в ЛК биржи", "администратор"),
        ("vk_ads", "в рекламном кабинете VK Рекламы", "администратор"),
    ],
)
def test_missing_figures_advice_follows_the_method(method: str, where: str, not_where: str) -> None:
    verdict = placement_verdict(row(method=method, views=1000), NORMS)
    assert verdict is not None
    text = render.verdict_text(verdict)
    assert where in text and not_where not in text


def test_costs_are_info_reasons_and_left_out_of_the_chat_verdict() -> None:
    verdict = placement_verdict(
        row(views=1000, hides=10, actions=6, budget=500, clicks=20, subscribers=5), NORMS
    )
    assert verdict is not None and verdict.verdict == "ok"
    assert verdict.rules()[-4:] == [
        "ctr_value",
        "cpm_value",
        "cpc_value",
        "cost_per_subscriber_value",
    ]
    text = render.verdict_text(verdict)
    assert "обошёлся" not in text and "обошлась" not in text


# --- groups and ranking ------------------------------------------------------------------------


def test_group_ratios_come_from_sums_of_rows_reporting_both_inputs() -> None:
    rows = [
        row(budget=1000, views=10000, subscribers=10),
        row(budget=3000, views=10000, subscribers=90),
        row(budget=500),  # no subscribers reported: left out of the cost per subscriber
    ]
    stats = group_stats("k", "Кулинария", rows)
    assert stats.count == 3
    assert stats.budget == 4500
    assert stats.subscribers == 100
    assert stats.metrics.cost_per_subscriber == pytest.approx(40.0)  # 4000 / 100, not mean 21.7
    assert stats.metrics.cpm == pytest.approx(200.0)  # 4000 / 20000 * 1000
    assert stats.paid == 4000 and stats.paid_subscribers == 100


def test_grouping_by_public_ignores_case_and_spaces_and_keeps_first_spelling() -> None:
    rows = [
        row(public="Кулинария СПб", budget=100, subscribers=1),
        row(public="Мамы Москвы", budget=100, subscribers=1),
        row(public="кулинария  спб", budget=300, subscribers=1),
    ]
    groups = group_by(rows, "public")
    assert [(g.title, g.count, g.budget) for g in groups] == [
        ("Кулинария СПб", 2, 400),
        ("Мамы Москвы", 1, 100),
    ]


def test_grouping_by_method_and_creative() -> None:
    rows = [
        row(method="vk_ads", creative="видео"),
        row(method="admin", creative=None),
        row(method="vk_ads", creative="Видео"),
    ]
    assert [(g.key, g.count) for g in group_by(rows, "method")] == [("vk_ads", 2), ("admin", 1)]
    assert [(g.title, g.count) for g in group_by(rows, "creative")] == [("видео", 2), ("", 1)]


def test_ranking_best_worst_and_unranked() -> None:
    rows = [
        row(public="Дорогой", budget=5000, subscribers=10),  # 500 ₽
        row(public="Дешёвый", budget=1000, subscribers=50),  # 20 ₽
        row(public="Пустой", budget=2000, subscribers=0),  # money spent, nobody came
        row(public="Средний", budget=3000, subscribers=30),  # 100 ₽
        row(public="Без цифр", budget=1000),  # cannot be judged
        row(public="Пустой дешевле", budget=500, subscribers=0),
    ]
    ranking = rank(group_by(rows, "public"))
    assert [g.title for g in ranking.ranked] == [
        "Дешёвый",
        "Средний",
        "Дорогой",
        "Пустой дешевле",
        "Пустой",
    ]
    assert [g.title for g in ranking.unranked] == ["Без цифр"]
    assert ranking.best is not None and ranking.best.title == "Дешёвый"
    assert ranking.worst is not None and ranking.worst.title == "Пустой"


def test_equal_cost_ranks_more_subscribers_first() -> None:
    rows = [
        row(public="Мало", budget=100, subscribers=1),
        row(public="Много", budget=1000, subscribers=10),
    ]
    assert [g.title for g in rank(group_by(rows, "public")).ranked] == ["Много", "Мало"]


def test_one_group_has_no_best_or_worst() -> None:
    ranking = rank(group_by([row(budget=100, subscribers=4)], "public"))
    assert ranking.best is None and ranking.worst is None
    text = "\n".join(render.ranking_lines(ranking, "public"))
    assert "Для сравнения нужны хотя бы две группы" in text


def test_report_text_names_best_and_worst_per_grouping() -> None:
    rows = [
        stored(1, public="Кулинария", method="vk_exchange", creative="видео", budget=1500,
               views=12000, clicks=300, subscribers=40),
        stored(2, public="Мамы", method="admin", creative="скидка", budget=3000, views=8000,
               subscribers=0),
    ]  # fmt: skip
    text = render.report(rows)
    assert text.startswith(
        "Всего 2 размещения: бюджет 4 500 ₽, 20 000 просмотров, 300 переходов, 40 подписок."
    )
    assert "Лучше всего: «Кулинария» — 37,5 ₽ за подписчика." in text
    assert "Хуже всего: «Мамы» — потрачено 3 000 ₽, а подписчиков нет." in text
    assert "Лучше всего: «Биржа ВК» — 37,5 ₽ за подписчика." in text
    assert "Лучше всего: «видео» — 37,5 ₽ за подписчика." in text


def test_card_shows_every_figure_and_the_verdict() -> None:
    text = render.card(
        stored(3, creative="видео", budget=1500, end=date(2025, 3, 5), views=12000, clicks=300,
               subscribers=40, hides=1800, actions=18, likes=90),
        NORMS,
    )  # fmt: skip
    assert text.splitlines()[0] == "№3 · Кулинария · Напрямую у админа"
    assert "Период: 01.03.2025 — 05.03.2025 · бюджет: 1 500 ₽" in text
    assert "12 000 просмотров · 300 переходов · 40 подписок · 1 800 скрытий" in text
    assert (
        "CPM 125 ₽ · CPC 5 ₽ · CTR 2,5% · подписчик 37,5 ₽ · действия от переходов 6% · скрыли 15%"
        in text
    )
    assert "90 лайков" in text
    assert "Вывод: размещение сработало нормально." in text


# --- chart -------------------------------------------------------------------------------------


def test_chart_is_a_png_and_needs_a_cost_to_draw() -> None:
    rows = [
        row(public="А", method="vk_ads", budget=1000, subscribers=50),
        row(public="Б", method="admin", budget=3000, subscribers=0),
        row(public="В", method="free", budget=0, subscribers=5),
    ]
    png = comparison_chart(rows)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width, _ = imread(io.BytesIO(png), format="png").shape
    assert width > 600 and height > 400
    assert comparison_chart([row(budget=100, subscribers=0)]) is None
    assert comparison_chart([row(views=100)]) is None
