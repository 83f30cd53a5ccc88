"""Audience overlap: which share of a public's members is already in another community
(pure functions; the ``groups.isMember`` calls are made by ``collect`` and ``check``).

A spread subsample of the members sampled for the inactive share (all of them, active or not)
is asked about with ``groups.isMember`` (``IS_MEMBER_IDS`` ids a call). The share is estimated
over the blocks of the sample like the audience shares (``audience.ratio_share``): its interval
is for the share among ALL the public's members; read whole and asked whole, it is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from advisor.vk.audience import BlockTally, ShareEstimate, WeightedMembers, ratio_share
from advisor.vk.scripts import IS_MEMBER_IDS

OVERLAP_SUBSAMPLE = 2_500  # members asked about the owner's community: at most 5 calls
PAIR_SUBSAMPLE = 500  # members asked about another checked public: 1 call a pair
PAIR_MAX_ASKS = 10
"""Several publics: at most this many pairwise overlap questions (five publics in full)."""

_T = TypeVar("_T")


def member_id(member: Mapping[str, Any]) -> int | None:
    value = member.get("id")
    return value if isinstance(value, int) and value > 0 else None


def spread_subsample(blocks: Sequence[WeightedMembers], limit: int) -> list[int]:
    """Up to ``limit`` member ids evenly spaced over the sampled members in list order."""
    ids = [
        uid for _, members in blocks for uid in (member_id(m) for m in members) if uid is not None
    ]
    if len(ids) <= limit:
        return ids
    return [ids[int((index + 0.5) * len(ids) / limit)] for index in range(limit)]


def pair_questions(
    items: Sequence[_T], size: Callable[[_T], int], limit: int
) -> list[tuple[_T, _T]]:
    """One question per pair of items, at most ``limit``: (asker, other), the asker the one
    with fewer members (the earlier on a tie). The other direction follows from the member
    counts (``reverse_share``), so a pair costs one ``groups.isMember`` call, not two."""
    pairs = []
    for index, first in enumerate(items):
        for second in items[index + 1 :]:
            pairs.append((second, first) if size(second) < size(first) else (first, second))
    return pairs[: max(limit, 0)]


def reverse_share(share: ShareEstimate, asker_members: int, other_members: int) -> ShareEstimate:
    """The other public's members also in the asker, from the asker's share also in it: the
    common members are share × asker's members, a share of the other's members."""
    scale = asker_members / max(other_members, 1)
    low, high = share.ci95
    return ShareEstimate(
        min(100.0, share.percent * scale),
        (min(100.0, low * scale), min(100.0, high * scale)),
        share.eligible,
    )


def chunks(ids: Sequence[int], size: int = IS_MEMBER_IDS) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def read_is_member(answer: Any) -> dict[int, bool]:
    """``groups.isMember`` with ``user_ids``: [{member, user_id}, ...] → {user_id: member}."""
    found: dict[int, bool] = {}
    if isinstance(answer, list):
        for item in answer:
            if isinstance(item, Mapping) and isinstance(item.get("user_id"), int):
                found[item["user_id"]] = bool(item.get("member"))
    return found


def overlap_share(
    blocks: Sequence[WeightedMembers],
    answers: Mapping[int, bool],
    population: int,
    whole: bool,
) -> ShareEstimate | None:
    """The share of the public's members in the other community, from the asked members;
    ``whole``: the list was read whole (exact only when every member was asked)."""
    tallies: list[BlockTally] = []
    asked_all = True
    for weight, members in blocks:
        asked = matched = 0
        for member in members:
            uid = member_id(member)
            if uid is None:
                continue
            if uid in answers:
                asked += 1
                matched += answers[uid]
            else:
                asked_all = False
        tallies.append(BlockTally(weight, asked, asked, matched))
    return ratio_share(tallies, population, whole and asked_all)
