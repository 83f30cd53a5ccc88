"""The audience portrait of a checked public, from the members already sampled for the inactive
share (pure functions, no I/O): the same ``groups.getMembers`` answers carry ``sex``, ``bdate``
and ``city`` (``scripts.MEMBER_FIELDS``), so the portrait costs no VK request.

Figures are counted among the *active* sampled members: not deactivated and seen within the
inactive norm's days (the complement of ``sampling.is_inactive``). Each share is a stratified
ratio estimate: a block stands for its ``weight`` of the member list, so a sample whose blocks
stand for unequal parts (a service token's adaptive sample) is weighted right; read whole, the
share is exact. ``target_ci95`` is the 95% interval as for the inactive share: Wilson's interval
on the effective sample size, the design effect from the neighbouring blocks' differences
(never below a simple random sample's), with the finite population correction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from advisor.vk.fit import AGE_BANDS, AudienceOut, CityShare, OwnerTarget
from advisor.vk.sampling import _wilson, is_inactive

WeightedMembers = tuple[float, Sequence[Mapping[str, Any]]]
"""A block of members in list order, with the share of the member list it stands for."""

TOP_CITIES = 5
_AGE_EDGES = (18, 25, 35, 45)  # AGE_BANDS: до 18, 18–24, 25–34, 35–44, 45+


@dataclass(frozen=True)
class BlockTally:
    """One block's part of a share: members read, members the share is among, and matches."""

    weight: float
    read: int
    eligible: int
    matched: int


@dataclass(frozen=True)
class ShareEstimate:
    percent: float
    ci95: tuple[float, float]
    eligible: int
    """Members the share is among (in the sample)."""


def ratio_share(
    tallies: Sequence[BlockTally], population: int, whole: bool
) -> ShareEstimate | None:
    """``matched`` among ``eligible`` over the blocks (list order), in percent, with its 95%
    interval; ``None`` when no block holds an eligible member."""
    used = [b for b in tallies if b.read > 0]
    eligible_mass = sum(b.weight * b.eligible / b.read for b in used)
    eligible = sum(b.eligible for b in used)
    if eligible == 0 or eligible_mass <= 0:
        return None
    p = sum(b.weight * b.matched / b.read for b in used) / eligible_mass
    p = min(1.0, max(0.0, p))
    if whole:
        return ShareEstimate(p * 100, (p * 100, p * 100), eligible)
    read = sum(b.read for b in used)
    fpc = 1 - read / max(population, read)
    if fpc <= 0:
        return ShareEstimate(p * 100, (p * 100, p * 100), eligible)
    # Linearised residuals per member of each block; each stratum's variance is half the mean
    # squared difference with its neighbours (the successive-difference estimator).
    residuals = [(b.matched - p * b.eligible) / b.read for b in used]
    variance = 0.0
    for index, block in enumerate(used):
        squares = [
            (residuals[index] - residuals[other]) ** 2 / 2
            for other in (index - 1, index + 1)
            if 0 <= other < len(used)
        ]
        if squares:
            variance += block.weight**2 * sum(squares) / len(squares)
    variance /= eligible_mass**2
    srs = p * (1 - p) / eligible
    deff = max(1.0, variance / srs) if srs > 0 and len(used) > 1 else 1.0
    low, high = _wilson(p, eligible / deff / fpc)
    return ShareEstimate(p * 100, (round(low * 100, 9), round(high * 100, 9)), eligible)


def norm_city(title: str) -> str:
    """City titles compared case-insensitively, ё as е, spaces trimmed."""
    return " ".join(title.casefold().replace("ё", "е").split())


def city_title(member: Mapping[str, Any]) -> str | None:
    city = member.get("city")
    if isinstance(city, Mapping):
        title = city.get("title")
        if isinstance(title, str) and title.strip():
            return title.strip()
    return None


def sex_of(member: Mapping[str, Any]) -> int | None:
    """1 female, 2 male, None not given (0 or absent)."""
    sex = member.get("sex")
    return sex if sex in (1, 2) else None


def age_of(member: Mapping[str, Any], today: date) -> int | None:
    """Whole years at ``today`` from a ``bdate`` with a year ("D.M.YYYY"); None without one."""
    bdate = member.get("bdate")
    if not isinstance(bdate, str):
        return None
    parts = bdate.split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    day, month, year = (int(part) for part in parts)
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= today.year):
        return None
    age = today.year - year - ((today.month, today.day) < (month, day))
    return age if age >= 0 else None


def age_band(age: int) -> str:
    for edge, band in zip(_AGE_EDGES, AGE_BANDS, strict=False):
        if age < edge:
            return band
    return AGE_BANDS[-1]


@dataclass(frozen=True)
class Portrait:
    """The contract's ``audience`` and the shares of active members whose fields are hidden,
    for the reasons («возраст скрыт у 70%»)."""

    audience: AudienceOut
    sex_hidden_percent: float | None
    age_hidden_percent: float | None
    city_hidden_percent: float | None


@dataclass
class _Block:
    weight: float
    read: int = 0
    active: int = 0
    with_sex: int = 0
    female: int = 0
    with_age: int = 0
    with_city: int = 0
    in_city: int = 0
    eligible: int = 0
    matched: int = 0

    def __post_init__(self) -> None:
        self.bands: Counter[str] = Counter()
        self.cities: Counter[str] = Counter()


def _matches(
    target: OwnerTarget, sex: int | None, age: int | None, city: str | None
) -> bool | None:
    """Whether a member matches every given criterion; None when a needed field is unknown."""
    verdict = True
    if target.city:
        if city is None:
            return None
        verdict &= norm_city(city) == norm_city(target.city)
    if target.sex:
        if sex is None:
            return None
        verdict &= sex == (1 if target.sex == "female" else 2)
    if target.age_min is not None or target.age_max is not None:
        if age is None:
            return None
        low = target.age_min if target.age_min is not None else 0
        high = target.age_max if target.age_max is not None else 200
        verdict &= low <= age <= high
    return verdict


def _share(blocks: Sequence[_Block], part: str, among: str) -> float | None:
    tallies = [BlockTally(b.weight, b.read, getattr(b, among), getattr(b, part)) for b in blocks]
    estimate = ratio_share(tallies, 0, whole=True)
    return estimate.percent if estimate is not None else None


def _counter_shares(
    blocks: Sequence[_Block], counters: Sequence[Counter[str]], among: str
) -> dict[str, float]:
    """Each key's weighted share among ``among`` (percent)."""
    mass = sum(b.weight * getattr(b, among) / b.read for b in blocks if b.read)
    if mass <= 0:
        return {}
    totals: dict[str, float] = {}
    for block, counter in zip(blocks, counters, strict=True):
        if not block.read:
            continue
        for key, count in counter.items():
            totals[key] = totals.get(key, 0.0) + block.weight * count / block.read
    return {key: value / mass * 100 for key, value in totals.items()}


def _hidden(blocks: Sequence[_Block], known: str) -> float | None:
    share = _share(blocks, known, "active")
    return None if share is None else 100 - share


def portrait(
    blocks: Sequence[WeightedMembers],
    *,
    fetched_at: int,
    inactive_after_days: int,
    population: int,
    whole: bool,
    target: OwnerTarget | None = None,
) -> Portrait:
    """The ``audience`` figures of the contract from the sampled blocks (in list order)."""
    today = datetime.fromtimestamp(fetched_at, UTC).date()
    target = target or OwnerTarget()
    tallies: list[_Block] = []
    for weight, members in blocks:
        block = _Block(weight)
        for member in members:
            block.read += 1
            if is_inactive(member, fetched_at, inactive_after_days):
                continue
            block.active += 1
            sex, age, city = sex_of(member), age_of(member, today), city_title(member)
            if sex is not None:
                block.with_sex += 1
                block.female += sex == 1
            if age is not None:
                block.with_age += 1
                block.bands[age_band(age)] += 1
            if city is not None:
                block.with_city += 1
                block.cities[city] += 1
                block.in_city += bool(target.city) and norm_city(city) == norm_city(
                    target.city or ""
                )
            if target.criteria_given:
                match = _matches(target, sex, age, city)
                if match is not None:
                    block.eligible += 1
                    block.matched += match
        tallies.append(block)
    active = sum(b.active for b in tallies)
    bands = _counter_shares(tallies, [b.bands for b in tallies], "with_age")
    age_percent = {band: bands.get(band, 0.0) for band in AGE_BANDS} if bands else None
    cities = _counter_shares(tallies, [b.cities for b in tallies], "with_city")
    top = sorted(cities.items(), key=lambda item: (-item[1], item[0]))[:TOP_CITIES]
    target_estimate = None
    if target.criteria_given:
        target_estimate = ratio_share(
            [BlockTally(b.weight, b.read, b.eligible, b.matched) for b in tallies],
            population,
            whole,
        )
    audience = AudienceOut(
        active_sampled=active,
        female_percent=_share(tallies, "female", "with_sex"),
        age_percent=age_percent,
        top_cities=[CityShare(city=city, percent=percent) for city, percent in top],
        city_percent=_share(tallies, "in_city", "with_city") if target.city else None,
        target_percent=target_estimate.percent if target_estimate else None,
        target_ci95=target_estimate.ci95 if target_estimate else None,
        sex_known=sum(b.with_sex for b in tallies),
        age_known=sum(b.with_age for b in tallies),
        city_known=sum(b.with_city for b in tallies),
    )
    return Portrait(
        audience=audience,
        sex_hidden_percent=_hidden(tallies, "with_sex"),
        age_hidden_percent=_hidden(tallies, "with_age"),
        city_hidden_percent=_hidden(tallies, "with_city"),
    )
