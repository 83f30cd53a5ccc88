"""The inactive share of a public's members: read whole, or estimated from a spread-out sample.

VK returns members in a fixed order that correlates with account age, so bots and abandoned
accounts cluster at one end of the list. A sample of the first pages would be badly biased; a
simple random sample would cost one request per member. The plan here is a stratified sample: the
list is cut into ``k`` equal strata and one block of ``b`` consecutive members is read at a random
offset inside each stratum (one ``groups.getMembers`` call per block). Every part of the list is
represented in proportion, so a cluster at either end moves the estimate by at most 1/k.

The 95% interval is Wilson's score interval on an effective sample size: the design effect comes
from the successive-difference variance of the strata (the standard estimator for one block per
stratum, Wolter 2007, ch. 8), never taken below a simple random sample's, with the finite
population correction. Read whole, the share is exact and the interval collapses to it. The
adaptive sample (a service token's) uses Student's quantile for its few dozen blocks.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

PAGE_SIZE = 1000  # groups.getMembers returns at most 1000 members per call
DEFAULT_STRATA = 100
Z95 = 1.959963984540054
DAY_SECONDS = 86400


@dataclass(frozen=True)
class Block:
    """``count`` consecutive members starting at ``offset`` (one ``groups.getMembers`` call)."""

    offset: int
    count: int


@dataclass(frozen=True)
class SamplePlan:
    members_count: int
    blocks: tuple[Block, ...]
    whole: bool
    """True when the blocks cover the whole list (no estimate, the share is exact)."""

    @property
    def size(self) -> int:
        return sum(block.count for block in self.blocks)


def whole_read_limit(budget: int, strata: int = DEFAULT_STRATA) -> int:
    """The largest public whose member list is read whole rather than sampled.

    Up to ``budget`` members always. Beyond it, a public is still read whole while that takes
    no more requests than the sample would (``strata`` calls) and at most twice the budget's
    members: for 12 000 members, 12 full pages beat 100 sample blocks, and give the exact share.
    """
    return max(budget, min(2 * budget, strata * PAGE_SIZE))


def plan_sample(
    members_count: int,
    budget: int,
    rng: random.Random,
    strata: int = DEFAULT_STRATA,
) -> SamplePlan:
    """The blocks to read: the whole list when it is small, else a stratified sample.

    Small means up to ``whole_read_limit(budget, strata)`` members. A sample reads at most
    ``budget`` members: ``strata`` blocks of equal size (fewer when the budget is smaller than
    ``strata``), one at a random offset in each stratum.
    """
    if members_count < 0 or budget < 1 or strata < 1:
        raise ValueError("members_count must be >= 0, budget and strata >= 1")
    if members_count <= whole_read_limit(budget, strata):
        blocks = tuple(
            Block(offset, min(PAGE_SIZE, members_count - offset))
            for offset in range(0, members_count, PAGE_SIZE)
        )
        return SamplePlan(members_count, blocks, whole=True)
    k = min(strata, budget)
    size = min(PAGE_SIZE, budget // k)
    result: list[Block] = []
    for index in range(k):
        start = index * members_count // k
        end = (index + 1) * members_count // k
        # Strata are longer than a block because members_count > budget >= k * size.
        result.append(Block(rng.randint(start, max(start, end - size)), size))
    return SamplePlan(members_count, tuple(result), whole=False)


def is_inactive(member: Mapping[str, Any], fetched_at: int, inactive_after_days: int) -> bool:
    """Deactivated (deleted or banned), or last seen more than ``inactive_after_days`` ago.

    A member without ``last_seen`` (hidden by privacy, or not reported) counts as active.
    """
    if member.get("deactivated") in ("deleted", "banned"):
        return True
    last_seen = member.get("last_seen")
    if not isinstance(last_seen, Mapping):
        return False
    seen = last_seen.get("time")
    if not isinstance(seen, int | float):
        return False
    return fetched_at - seen > inactive_after_days * DAY_SECONDS


@dataclass(frozen=True)
class BlockCount:
    """What one block held: members read and how many of them were inactive."""

    read: int
    inactive: int


def count_block(
    members: Iterable[Mapping[str, Any]], fetched_at: int, inactive_after_days: int
) -> BlockCount:
    read = inactive = 0
    for member in members:
        read += 1
        inactive += is_inactive(member, fetched_at, inactive_after_days)
    return BlockCount(read, inactive)


@dataclass(frozen=True)
class InactiveEstimate:
    percent: float
    ci95: tuple[float, float]
    sampled: int
    """Members examined (all of them when read whole)."""
    whole: bool


def t_quantile(df: int, probability: float = 0.975) -> float:
    """Student's t quantile: the Cornish–Fisher expansion around the normal one (Abramowitz and
    Stegun 26.7.5), within 0.01 of the exact value from 3 degrees of freedom on."""
    z = NormalDist().inv_cdf(probability)
    n = float(max(df, 1))
    return (
        z
        + (z**3 + z) / (4 * n)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * n**4)
    )


def _wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    if math.isinf(n):
        return p, p
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _design_variance(counts: Sequence[BlockCount], p: float) -> float | None:
    """Successive-difference variance of the ratio estimator (without the fpc)."""
    k = len(counts)
    if k < 2:
        return None
    mean_size = sum(c.read for c in counts) / k
    residuals = [(c.inactive - p * c.read) / mean_size for c in counts]
    squares = sum((b - a) ** 2 for a, b in itertools.pairwise(residuals))
    return squares / (2 * (k - 1)) / k


def estimate_inactive(
    counts: Sequence[BlockCount], members_count: int, whole: bool
) -> InactiveEstimate | None:
    """The inactive share in percent with its 95% interval; ``None`` when nobody was read.

    ``counts`` are in list order (stratum order), which the variance estimator relies on.
    """
    read = sum(c.read for c in counts)
    if read == 0:
        return None
    p = sum(c.inactive for c in counts) / read
    if whole:
        return InactiveEstimate(p * 100, (p * 100, p * 100), read, whole=True)
    population = max(members_count, read)
    fpc = 1 - read / population
    if fpc <= 0:
        lo, hi = p, p
    else:
        srs = p * (1 - p) / read
        design = _design_variance(counts, p)
        deff = max(1.0, design / srs) if design is not None and srs > 0 else 1.0
        effective = read / deff
        lo, hi = _wilson(p, effective / fpc)
    # Rounding drops float noise such as 2.7e-18 for a zero lower bound.
    return InactiveEstimate(p * 100, (round(lo * 100, 9), round(hi * 100, 9)), read, whole=False)


# --- the adaptive sample (a service token: one request per block) ---------------------------

FIRST_BLOCKS = 16  # blocks of the first round, one in each sixteenth of the list
SPLIT_STEP = 2  # strata split (one new block each) per later round around a cluster's edge
SPREAD_STEP = 8  # … and per later round on a list uneven throughout
MIN_BLOCKS = 22  # with groups.getById and two wall pages: 25 requests, spent in any case
TARGET_HALFWIDTH = 2.0  # points: the interval is narrow enough
ADAPTIVE_BLOCK = 500  # members per block: a request reads up to 1000, but more add little


def band(percent: float, thresholds: Sequence[float]) -> int:
    """Which verdict band ``percent`` falls in: thresholds are upper bounds (inclusive) of the
    bands but the last, which starts there: (20, 25) gives ≤20 → 0, 20–25 → 1, ≥25 → 2."""
    if not thresholds:
        return 0
    *inner, last = thresholds
    if percent >= last:
        return len(thresholds)
    return sum(percent > bound for bound in inner)


@dataclass
class _Cell:
    """One stratum of the adaptive sample: [start, end) with one block at a random offset."""

    start: int
    end: int
    block: Block
    count: BlockCount | None = None

    @property
    def width(self) -> int:
        return self.end - self.start

    @property
    def share(self) -> float | None:
        if self.count is None or self.count.read == 0:
            return None
        return self.count.inactive / self.count.read


def _block_in(start: int, end: int, size: int, rng: random.Random) -> Block:
    size = min(size, end - start)
    return Block(rng.randint(start, end - size), size)


class AdaptiveSample:
    """A stratified sample that grows where the list is uneven, and stops once it is precise.

    The first round reads ``first_blocks`` blocks: the very first and last members of the list,
    and one block at a random offset in each of as many equal strata between. The variance of
    the estimate comes from the differences between neighbouring strata (as in
    ``estimate_inactive``), each stratum's part weighted by its share of the list. While the
    95% interval is wider than ``target_halfwidth`` points either side and still
    reaches into more than one verdict band (``thresholds``), each later round splits the
    ``step`` strata adding most to the variance in two: the half without a block gets a new one
    at a random offset. A cluster of inactive members at the head or the tail is thus found by
    bisection; a list uneven everywhere (bursts) gets blocks spread everywhere, ``SPREAD_STEP``
    a round, up to ``max_blocks`` (requests) in all.

    It stops at ``min_blocks`` on a list uneven throughout, and on any other when even the
    cap's blocks would leave the interval reaching into another band (``_futile``): the verdict
    would stay as uncertain, at up to four times the requests.

    Limits (bench/check_public.py prints them): runs of thousands of bots can not be pinned
    down to ±2 points with a few dozen blocks (each block meets a run or not; the interval says
    so, ±10 points and more); and a sample whose blocks meet none of the runs looks like an
    even list, with a narrow interval around the share outside the runs. With runs holding half
    of the inactive members that happens to about one sample in eight at 22 blocks, which no
    interval computed from the blocks can cover without widening every even list's as much.

    Pure: no I/O; the caller reads the blocks ``next_blocks`` returns and ``record``s them.
    """

    def __init__(
        self,
        members_count: int,
        rng: random.Random,
        *,
        block_size: int = ADAPTIVE_BLOCK,
        first_blocks: int = FIRST_BLOCKS,
        max_blocks: int = DEFAULT_STRATA,
        step: int = SPLIT_STEP,
        target_halfwidth: float = TARGET_HALFWIDTH,
        thresholds: Sequence[float] = (),
        min_blocks: int = MIN_BLOCKS,
    ) -> None:
        if members_count < 1 or block_size < 1 or first_blocks < 1 or step < 1:
            raise ValueError("members_count, block_size, first_blocks and step must be >= 1")
        self.members_count = members_count
        self.rng = rng
        self.block_size = min(block_size, PAGE_SIZE)
        self.max_blocks = max(max_blocks, 1)
        self.step = step
        self.target_halfwidth = target_halfwidth
        self.thresholds = tuple(thresholds)
        self.min_blocks = min(min_blocks, self.max_blocks)
        k = max(1, min(first_blocks, self.max_blocks, members_count // self.block_size))
        self.first_blocks = k
        self.cells: list[_Cell] = []
        # The very first and last members are read (two strata of one block each): a cluster
        # at the head or the tail, however small, is then seen in the first round.
        ends = k >= 4 and members_count >= (k + 2) * self.block_size
        size = self.block_size if ends else 0
        inner = k - 2 if ends else k
        if ends:
            self.cells.append(_Cell(0, size, Block(0, size)))
        for index in range(inner):
            start = size + index * (members_count - 2 * size) // inner
            end = size + (index + 1) * (members_count - 2 * size) // inner
            self.cells.append(_Cell(start, end, _block_in(start, end, self.block_size, rng)))
        if ends:
            self.cells.append(
                _Cell(members_count - size, members_count, Block(members_count - size, size))
            )
        self._asked = [cell.block for cell in self.cells]
        self.rounds = 0
        self._background: float | None = None
        """Set after the first round: > 0 when the list is uneven throughout (``_first_look``)."""
        self._even = False
        """Set after the first round: no jump between its blocks at all."""

    # -- the caller's side ------------------------------------------------------------------

    @property
    def blocks(self) -> int:
        """Blocks asked for so far (each one ``groups.getMembers`` call)."""
        return len(self.cells)

    def next_blocks(self) -> list[Block]:
        """The blocks to read now; ``[]`` when the sample is complete."""
        if self._asked:
            asked, self._asked = self._asked, []
            self.rounds += 1
            return asked
        if any(cell.count is None for cell in self.cells) or self.done():
            return []
        new = self._split()
        if new:
            self.rounds += 1
        return new

    def record(self, block: Block, count: BlockCount) -> None:
        for cell in self.cells:
            if cell.block == block:
                cell.count = count
                break
        else:
            raise ValueError(f"{block} was not asked for")
        if self._background is None and all(cell.count is not None for cell in self.cells):
            self._first_look()

    def done(self) -> bool:
        """The interval is narrow enough, the verdict band is settled, more blocks could no
        longer settle it, or the cap is reached; never before ``min_blocks``: a run of bots may
        hide between the first round's blocks (a first round that meets none looks even), and
        more blocks cost no more than the requests a check may take anyway."""
        if self.blocks < self.min_blocks and self._candidates():
            return False
        estimate = self.estimate()
        if estimate is None:
            return True
        low, high = estimate.ci95
        halfwidth = (high - low) / 2
        if halfwidth <= self.target_halfwidth:
            return True
        if self._background:
            # Uneven throughout (runs of bots): more blocks meet more runs or not. Simulated
            # (10%, 23% and 45% of the list in runs, 150 000 and 1 000 000 members), growing
            # towards the cap took 40 requests on average and got the point estimate's band,
            # which decides the verdict, right no more often than stopping here.
            return True
        # Looking again after every round would let chance settle the band too often: the
        # band must hold over the 99% interval to stop on it.
        strict = self.estimate(0.99)
        assert strict is not None
        settled = self.thresholds and band(strict.ci95[0], self.thresholds) == band(
            strict.ci95[1], self.thresholds
        )
        if settled:
            return True
        if self.blocks >= self.max_blocks or not self._candidates():
            return True
        return self._futile(estimate.percent, halfwidth)

    def _futile(self, percent: float, halfwidth: float) -> bool:
        """Even at the cap the interval would be wider than the target and still reach into
        another verdict band: the half-width shrinks as 1/√blocks at best, so more requests
        would leave the verdict as uncertain as it is now (runs of bots, each block meeting
        one or not, are such a list). Only with verdict bands to settle."""
        if not self.thresholds:
            return False
        projected = halfwidth * math.sqrt(self.blocks / self.max_blocks)
        if projected <= self.target_halfwidth:
            return False
        return band(percent - projected, self.thresholds) != band(
            percent + projected, self.thresholds
        )

    def _first_look(self) -> None:
        """Tell one cluster (inactive members at the head or the tail) from a list uneven
        throughout (bursts of bot accounts): in the first round, a cluster shows as at most two
        neighbouring jumps between blocks, in one direction. Otherwise every stratum is taken
        to vary as much as neighbouring first-round blocks do on average (the stationary
        successive-difference variance), however alike its neighbours look, so the sample keeps
        spreading rather than trusting quiet stretches that may hide bursts between blocks."""
        shares = [cell.share or 0.0 for cell in self.cells]
        if len(shares) < 2:
            self._background = 0.0
            self._even = True
            return
        read = sum(cell.count.read for cell in self.cells if cell.count is not None)
        p = sum(cell.width * s for cell, s in zip(self.cells, shares, strict=True))
        p /= self.members_count
        noise = math.sqrt(2 * p * (1 - p) / max(1, read // len(shares)))
        diffs = [b - a for a, b in itertools.pairwise(shares)]
        jumps = [i for i, d in enumerate(diffs) if abs(d) > 4 * noise + 0.02]
        # A run of bots between two blocks of the same level jumps up and back down.
        one_cluster = (
            len(jumps) <= 2
            and (len(jumps) < 2 or jumps[1] == jumps[0] + 1)
            and len({diffs[i] > 0 for i in jumps}) <= 1
        )
        pooled = sum(d * d for d in diffs) / (2 * len(diffs))
        self._background = 0.0 if one_cluster else pooled
        self._even = not jumps

    # -- the estimate -----------------------------------------------------------------------

    def _known(self) -> list[_Cell]:
        return [cell for cell in self.cells if cell.share is not None]

    def _contributions(self, cells: Sequence[_Cell]) -> list[float]:
        """Each stratum's part of the variance: weight² × the variance between a block and its
        neighbours' (half the mean squared difference)."""
        shares = [cell.share or 0.0 for cell in cells]
        parts = []
        for index, cell in enumerate(cells):
            squares = [
                (shares[index] - shares[other]) ** 2 / 2
                for other in (index - 1, index + 1)
                if 0 <= other < len(cells)
            ]
            local = sum(squares) / len(squares) if squares else 0.0
            local = max(local, self._background or 0.0)
            if cell.width <= cell.block.count:
                local = 0.0  # read whole
            parts.append((cell.width / self.members_count) ** 2 * local)
        return parts

    def estimate(self, level: float = 0.95) -> InactiveEstimate | None:
        """The share with its interval (95% unless another ``level`` is given).

        Wilson's interval on the effective sample size, with Student's quantile for as many
        degrees of freedom as sampled strata less one instead of the normal one (Korn and
        Graubard 1998): the variance comes from a few dozen blocks, not from thousands of
        members, and a normal quantile would make the interval too narrow."""
        cells = self._known()
        read = sum(cell.count.read for cell in cells if cell.count is not None)
        if read == 0:
            return None
        covered = sum(cell.width for cell in cells)
        p = sum(cell.width * (cell.share or 0.0) for cell in cells) / covered
        fpc = 1 - read / max(self.members_count, read)
        if fpc <= 0:
            lo = hi = p
        else:
            # Never narrower than the same strata would give on an even list: each stratum's
            # block a simple random sample of its members (strata read whole add nothing).
            sampled = [
                (cell.width / covered) ** 2 / cell.count.read
                for cell in cells
                if cell.count is not None and cell.width > cell.block.count
            ]
            even = 1 / sum(sampled) if sampled else float(read)
            variance = sum(self._contributions(cells))
            spread = p * (1 - p)
            effective = min(even, spread / variance) if variance > 0 and spread > 0 else even
            z = t_quantile(max(1, len(sampled) - 1), (1 + level) / 2)
            lo, hi = _wilson(p, effective / fpc, z)
        return InactiveEstimate(
            p * 100, (round(lo * 100, 9), round(hi * 100, 9)), read, whole=False
        )

    # -- growing ----------------------------------------------------------------------------

    def _candidates(self) -> list[tuple[float, int]]:
        if self._background or self._even:
            # Uneven throughout, or even as far as seen: split the widest strata, whatever
            # their blocks held, so that where the sample grows never depends on what it found
            # (no bias towards bursts) and the gaps between blocks where runs may hide shrink.
            parts = [(cell.width / self.members_count) ** 2 for cell in self.cells]
        else:
            parts = self._contributions(self.cells)
        return sorted(
            (
                (part, index)
                for index, (part, cell) in enumerate(zip(parts, self.cells, strict=True))
                if part > 0 and cell.width >= 2 * self.block_size
            ),
            reverse=True,
        )

    def _split(self) -> list[Block]:
        # Up to min_blocks first (the requests a check takes anyway), beyond only if need be.
        limit = self.min_blocks if self.blocks < self.min_blocks else self.max_blocks
        room = limit - self.blocks
        step = max(self.step, SPREAD_STEP) if self._background else self.step
        chosen = sorted(index for _, index in self._candidates()[: min(step, room)])
        new: list[Block] = []
        for index in reversed(chosen):
            cell = self.cells[index]
            middle = (cell.start + cell.end) // 2
            block = cell.block
            if block.offset < middle < block.offset + block.count:
                # Cut beside the block, on the side leaving the halves closer in size.
                left, right = block.offset, block.offset + block.count
                middle = (
                    left
                    if abs(2 * left - cell.start - cell.end)
                    < abs(2 * right - cell.start - cell.end)
                    else right
                )
            if block.offset >= middle:
                empty = _Cell(
                    cell.start, middle, _block_in(cell.start, middle, self.block_size, self.rng)
                )
                kept = _Cell(middle, cell.end, block, cell.count)
                pair = [empty, kept]
            else:
                kept = _Cell(cell.start, middle, block, cell.count)
                empty = _Cell(
                    middle, cell.end, _block_in(middle, cell.end, self.block_size, self.rng)
                )
                pair = [kept, empty]
            self.cells[index : index + 1] = pair
            new.append(empty.block)
        return sorted(new, key=lambda b: b.offset)


# --- the user token's sample: offsets computed inside VKScript ------------------------------


def stratum_offset(members_count: int, strata: int, index: int, position: float, size: int) -> int:
    """The offset of stratum ``index``'s block at ``position`` ∈ [0, 1) of the room in it.

    The VKScript of ``collect`` does the same arithmetic with the count it has just read
    (``parseInt`` truncates like ``int`` here), so the offsets need not wait for the count.
    """
    start = int(index * members_count / strata)
    end = int((index + 1) * members_count / strata)
    return start + int(position * max(0, end - start - size))


# --- the community token's sample: many small blocks at one spacing ----------------------------

EXECUTE_CALL_LIMIT = 25  # VK runs at most 25 API calls inside one execute
GROUP_BLOCKS_PER_EXECUTE = EXECUTE_CALL_LIMIT  # one groups.getMembers call a block
GROUP_MAX_EXECUTES = 18
"""At most this many executes a public: VK allows a community token 20 requests a second, and
the check's requests leave the last two of them to the VK bot's replies (``api``'s
``BACKGROUND_RESERVE``), so a public's executes go out at once (one round trip) and never wait
out a refusal. Simulated (bench/check_public.py, section 11): at 1 000 000 members fewer
executes leave the blocks further apart than a run of bots is long, and the worst error on
runs of bots with members spread between grows past ±2 points (5.2, 3.3 and 3.0 points at 6,
10 and 15 executes over 400 samples); with 18 it is 1.7 at most on the bench's lists, and 1.8
when the runs are 1 500 members long (20 executes would give 1.0, leaving the replies nothing)."""
GROUP_SPACING = 1000
"""Members between neighbouring blocks, at most, while the executes allow it (beyond 450 000
members they no longer do: 1 000 000 members get a block every 2 222)."""


def group_blocks(members_count: int, max_executes: int = GROUP_MAX_EXECUTES) -> int:
    """How many blocks the community token's sample reads (a multiple of 25, one execute each
    25): enough for ``GROUP_SPACING`` between blocks, at most ``max_executes`` executes."""
    if members_count < 1 or max_executes < 1:
        raise ValueError("members_count and max_executes must be >= 1")
    executes = -(-members_count // (GROUP_BLOCKS_PER_EXECUTE * GROUP_SPACING))
    return GROUP_BLOCKS_PER_EXECUTE * max(1, min(max_executes, executes))


def plan_systematic(
    members_count: int,
    budget: int,
    rng: random.Random,
    *,
    max_executes: int = GROUP_MAX_EXECUTES,
) -> SamplePlan:
    """A systematic sample of small blocks: the list cut into ``group_blocks`` equal strata,
    each read at the same random position (one random start, one spacing), ``budget`` members
    in all.

    One spacing for all blocks (rather than a position of its own in each stratum) is what
    pins runs of bots down: a run of length L holds L / spacing blocks, give or take one,
    wherever it starts, so the runs' share is nearly exact once the spacing is no longer than
    the runs; with independent positions each run's two ends would each add the chance of a
    block falling on either side. Simulated on runs starting off the strata's grid: worst
    error 0.1 point against 4.5 for independent positions (1 000 000 members, 500 blocks; runs
    of 2 000 members).
    The blocks stay one per stratum, so ``estimate_inactive``'s successive-difference
    variance applies (for a systematic sample it errs on the wide side when the list has
    runs, and is the usual estimate on an even one: Wolter 2007, ch. 8)."""
    if members_count < 1 or budget < 1:
        raise ValueError("members_count and budget must be >= 1")
    strata = min(group_blocks(members_count, max_executes), members_count)
    size = max(1, min(PAGE_SIZE, budget // strata, members_count // strata))
    position = rng.random()
    blocks = tuple(
        Block(stratum_offset(members_count, strata, index, position, size), size)
        for index in range(strata)
    )
    return SamplePlan(members_count, blocks, whole=False)


def stratum_widths(members_count: int, strata: int) -> list[int]:
    """The length of each of ``strata`` equal strata (``stratum_offset``'s cut)."""
    return [
        int((index + 1) * members_count / strata) - int(index * members_count / strata)
        for index in range(strata)
    ]


def run_adaptive(sample: AdaptiveSample, inactive_in: Callable[[Block], int]) -> InactiveEstimate:
    """Run ``sample`` to its end on a list known in memory (``inactive_in`` counts a block's
    inactive members): the same rounds as against VK, for simulations and the bench."""
    while blocks := sample.next_blocks():
        for block in blocks:
            sample.record(block, BlockCount(block.count, inactive_in(block)))
    estimate = sample.estimate()
    assert estimate is not None
    return estimate
