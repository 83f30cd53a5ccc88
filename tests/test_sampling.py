"""Inactive share: whole reads are exact; samples spread over the list and admit their error."""

from __future__ import annotations

import itertools
import random
from array import array
from collections.abc import Callable, Iterable

import pytest

from advisor.vk.sampling import (
    DEFAULT_STRATA,
    FIRST_BLOCKS,
    PAGE_SIZE,
    AdaptiveSample,
    Block,
    BlockCount,
    band,
    estimate_inactive,
    is_inactive,
    plan_sample,
    run_adaptive,
    stratum_offset,
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


# --- the adaptive sample (service token) -----------------------------------------------------

SHARE = 0.2345
BANDS = (20.0, 25.0)  # the guide's inactive bands: ≤20 normal, 20–25 bots, ≥25 pointless


def _inactive_list(members: int, layout: str, seed: int = 0, share: float = SHARE) -> array[int]:
    """Prefix sums of an in-memory member list: ``prefix[i]`` inactive among the first i.

    bursts: bot farms in runs of 2 000 consecutive members (neighbouring runs merge), half of
    the inactive share, the rest spread evenly; bursts_only: all of it in runs. The runs are
    drawn so that they hold their share of the list exactly.
    """
    rng = random.Random(seed)
    flags: Iterable[bool]
    if layout == "tail":
        flags = (i >= members - round(members * share) for i in range(members))
    elif layout == "head":
        flags = (i < round(members * share) for i in range(members))
    elif layout == "uniform":
        flags = (rng.random() < share for _ in range(members))
    else:
        in_runs = share if layout == "bursts_only" else share / 2
        spread = (share - in_runs) / (1 - in_runs)
        count = members // 2000
        chosen = set(rng.sample(range(count), round(count * in_runs)))
        flags = (i // 2000 in chosen or rng.random() < spread for i in range(members))
    prefix = array("l", [0])
    prefix.extend(itertools.accumulate(int(flag) for flag in flags))
    return prefix


def _simulate(
    members: int, layout: str, seeds: int, share: float = SHARE
) -> tuple[float, float, list[int], float]:
    """(worst error, interval coverage, blocks per sample, truth) over ``seeds`` samples."""
    prefix = _inactive_list(members, layout, share=share)
    truth = prefix[members] / members * 100
    worst, covered, blocks = 0.0, 0, []
    for seed in range(seeds):
        sample = AdaptiveSample(members, random.Random(seed), thresholds=BANDS)
        estimate = run_adaptive(sample, lambda b: prefix[b.offset + b.count] - prefix[b.offset])
        worst = max(worst, abs(estimate.percent - truth))
        covered += estimate.ci95[0] <= truth <= estimate.ci95[1]
        blocks.append(sample.blocks)
    return worst, covered / seeds, blocks, truth


@pytest.mark.parametrize("members", [150_000, 1_000_000])
@pytest.mark.parametrize("layout", ["head", "tail", "uniform"])
def test_adaptive_sample_fits_25_requests_within_two_points(members: int, layout: str) -> None:
    # 22 blocks + groups.getById + two wall pages = 25 requests with a service token.
    worst, coverage, blocks, _ = _simulate(members, layout, seeds=300)
    assert worst <= 2.0
    assert coverage >= 0.95
    assert max(blocks) <= 22
    # Fewer, larger blocks than the old design's 100 × 100 members; a cluster is bisected.
    assert min(blocks) >= FIRST_BLOCKS


@pytest.mark.parametrize("layout", ["head", "tail"])
@pytest.mark.parametrize("share", [0.03, 0.12, 0.4])
def test_adaptive_sample_finds_small_and_large_clusters(layout: str, share: float) -> None:
    # A cluster smaller than a stratum is still seen (the ends are read); far from the bands'
    # bounds the sample stops as soon as the band is settled, within the 25 requests.
    _, coverage, blocks, _ = _simulate(1_000_000, layout, seeds=200, share=share)
    assert coverage >= 0.95
    assert max(blocks) <= 22


@pytest.mark.parametrize("members", [150_000, 1_000_000])
def test_adaptive_sample_keeps_its_interval_honest_on_bursts(members: int) -> None:
    # Runs of thousands of bots cannot be pinned down to ±2 points in 22 requests (each block
    # meets a run or not): the interval says so (wide, and covering the truth), and the sample
    # stops at the 25 requests a check takes anyway, as more would not tell the band better.
    _, coverage, blocks, _ = _simulate(members, "bursts_only", seeds=300)
    assert coverage >= 0.95
    assert sum(b == 22 for b in blocks) / len(blocks) >= 0.95
    assert max(blocks) <= DEFAULT_STRATA


@pytest.mark.parametrize("share", [0.1, 0.45])
def test_adaptive_sample_on_runs_of_bots_tells_the_band_in_25_requests(share: float) -> None:
    # Far from the 20% and 25% bounds, 22 blocks tell the band of the share (which decides the
    # verdict) however wide the interval still is.
    members = 1_000_000
    bots = _inactive_list(members, "bursts_only", share=share)
    truth = bots[members] / members * 100
    right = stopped = 0
    for seed in range(40):
        sample = AdaptiveSample(members, random.Random(seed), thresholds=BANDS)
        estimate = run_adaptive(sample, lambda b: bots[b.offset + b.count] - bots[b.offset])
        right += band(estimate.percent, BANDS) == band(truth, BANDS)
        stopped += sample.blocks == 22
    assert right >= 36
    # A first round meeting one run (or none) looks like a cluster, and grows while that
    # could settle the band; the others stop at once.
    assert stopped >= 30


def test_band_bounds() -> None:
    assert [band(x, BANDS) for x in (0, 20, 20.01, 24.99, 25, 80)] == [0, 0, 1, 1, 2, 2]
    assert band(50, ()) == 0


def test_adaptive_sample_first_round_spans_the_list() -> None:
    sample = AdaptiveSample(1_000_000, random.Random(4))
    first = sample.next_blocks()
    assert len(first) == FIRST_BLOCKS and all(b.count == 500 for b in first)
    # The very first and last members, then one block in each of 14 equal strata between.
    assert first[0] == Block(0, 500) and first[-1] == Block(999_500, 500)
    width = (1_000_000 - 1000) // 14
    for index, block in enumerate(first[1:-1]):
        start = 500 + index * width
        assert start <= block.offset and block.offset + block.count <= start + width + 1
    assert sample.next_blocks() == []  # nothing more until the first round is recorded
    with pytest.raises(ValueError):
        sample.record(Block(1, 500), BlockCount(500, 0))


def test_stratum_offset_matches_plan_arithmetic() -> None:
    for members in (20_001, 150_000, 1_000_000):
        for index in (0, 33, 67):
            low = stratum_offset(members, 68, index, 0.0, 147)
            high = stratum_offset(members, 68, index, 0.999999, 147)
            assert low == int(index * members / 68)
            assert high + 147 <= int((index + 1) * members / 68)
