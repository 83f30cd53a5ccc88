"""Inactive share: whole reads are exact; samples spread over the list and admit their error."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from advisor.vk.sampling import (
    PAGE_SIZE,
    BlockCount,
    estimate_inactive,
    is_inactive,
    plan_sample,
    whole_read_limit,
)

NOW = 1_700_000_000
DAY = 86_400


def test_is_inactive_definition() -> None:
    assert is_inactive({"id": 1, "deactivated": "deleted"}, NOW, 180)
    assert is_inactive({"id": 1, "deactivated": "banned"}, NOW, 180)
    assert is_inactive({"id": 1, "last_seen": {"time": NOW - 181 * DAY}}, NOW, 180)
    assert not is_inactive({"id": 1, "last_seen": {"time": NOW - 180 * DAY}}, NOW, 180)
    assert not is_inactive({"id": 1, "last_seen": {"time": NOW - 3600}}, NOW, 180)
    # Without last_seen a member counts as active.
    assert not is_inactive({"id": 1}, NOW, 180)
    assert not is_inactive({"id": 1, "last_seen": None}, NOW, 180)


def test_small_public_is_read_whole() -> None:
    plan = plan_sample(2500, 10_000, random.Random(1))
    assert plan.whole
    assert [(b.offset, b.count) for b in plan.blocks] == [(0, 1000), (1000, 1000), (2000, 500)]
    assert plan.size == 2500
    assert plan_sample(0, 10_000, random.Random(1)).blocks == ()


def test_whole_read_while_cheaper_than_a_sample() -> None:
    # 12 000 members: 12 full pages cost fewer calls than 100 sample blocks and are exact.
    assert whole_read_limit(10_000) == 20_000
    plan = plan_sample(12_000, 10_000, random.Random(1))
    assert plan.whole and len(plan.blocks) == 12 and plan.size == 12_000
    assert not plan_sample(20_001, 10_000, random.Random(1)).whole


def test_big_public_sample_spans_the_list() -> None:
    members = 1_000_000
    plan = plan_sample(members, 10_000, random.Random(7))
    assert not plan.whole
    assert plan.size <= 10_000
    assert len(plan.blocks) == 100
    assert all(b.count <= PAGE_SIZE for b in plan.blocks)
    # One block in every hundredth of the list: the last ones reach the tail, not only page one.
    for index, block in enumerate(plan.blocks):
        start, end = index * members // 100, (index + 1) * members // 100
        assert start <= block.offset and block.offset + block.count <= end
    assert plan.blocks[-1].offset >= 990_000
    # Offsets are random: another seed gives other offsets.
    other = plan_sample(members, 10_000, random.Random(8))
    assert [b.offset for b in other.blocks] != [b.offset for b in plan.blocks]


def test_small_budget_keeps_blocks_small() -> None:
    plan = plan_sample(50_000, 150, random.Random(3))
    assert plan.size <= 150
    assert len(plan.blocks) == 100


Layout = Callable[[int, int, random.Random], bool]


def _tail(fraction: float) -> Layout:
    return lambda index, total, rng: index >= total * (1 - fraction)


def _head(fraction: float) -> Layout:
    return lambda index, total, rng: index < total * fraction


def _uniform(fraction: float) -> Layout:
    return lambda index, total, rng: rng.random() < fraction


def _sample_estimate(members: int, layout: Layout, seed: int) -> tuple[float, tuple[float, float]]:
    rng = random.Random(seed)
    plan = plan_sample(members, 10_000, rng)
    counts = []
    for block in plan.blocks:
        inactive = sum(
            layout(i, members, rng) for i in range(block.offset, block.offset + block.count)
        )
        counts.append(BlockCount(block.count, inactive))
    estimate = estimate_inactive(counts, members, plan.whole)
    assert estimate is not None
    assert estimate.sampled == plan.size
    return estimate.percent, estimate.ci95


@pytest.mark.parametrize("layout", [_tail(0.2345), _head(0.2345), _uniform(0.2345)])
def test_million_member_estimate_within_two_points(layout: Layout) -> None:
    truth = 23.45
    for seed in range(20):
        percent, (low, high) = _sample_estimate(1_000_000, layout, seed)
        assert abs(percent - truth) <= 2.0, (seed, percent)
        assert low <= truth <= high, (seed, low, high)
        assert high - low < 6


def test_first_page_alone_would_be_wrong() -> None:
    # The reason for spreading the sample: the first 10 000 members of a tail-clustered public
    # are all active, so a first-pages sample would report 0% against the true 23.45%.
    layout = _tail(0.2345)
    first_pages = sum(layout(i, 1_000_000, random.Random(0)) for i in range(10_000))
    assert first_pages == 0


def test_whole_read_is_exact() -> None:
    counts = [BlockCount(1000, 150), BlockCount(500, 75)]
    estimate = estimate_inactive(counts, 1500, whole=True)
    assert estimate is not None
    assert estimate.percent == pytest.approx(15.0)
    assert estimate.ci95 == (pytest.approx(15.0), pytest.approx(15.0))
    assert estimate.whole and estimate.sampled == 1500


def test_interval_with_no_inactive_is_not_a_point() -> None:
    counts = [BlockCount(100, 0)] * 100
    estimate = estimate_inactive(counts, 1_000_000, whole=False)
    assert estimate is not None
    assert estimate.percent == 0
    low, high = estimate.ci95
    assert low == 0 and 0 < high < 0.1


def test_nobody_read_gives_none() -> None:
    assert estimate_inactive([], 1000, whole=True) is None
    assert estimate_inactive([BlockCount(0, 0)], 1000, whole=False) is None


def test_finite_population_narrows_the_interval() -> None:
    counts = [BlockCount(100, 20)] * 100
    big = estimate_inactive(counts, 10_000_000, whole=False)
    close = estimate_inactive(counts, 10_500, whole=False)
    assert big is not None and close is not None
    assert (close.ci95[1] - close.ci95[0]) < (big.ci95[1] - big.ci95[0]) / 3
