"""Collecting publics' data from VK in as few round trips as the token allows.

With a user token, ``execute`` runs up to 25 API calls in one round trip (the scripts are in
``scripts``). One public is read in ONE round trip whatever its size (``ONE_PUBLIC_SCRIPT``): up
to three executes (VK's per-second limit for a user token) are sent at once; each reads the
member count with ``groups.getMembers(count=0)`` and computes its blocks' offsets from it inside
VKScript, from random positions in the strata passed as arguments; the first also reads the
community and its wall. Several publics share first scripts (``PUBLICS_SCRIPT``: the
communities, their walls, and the member lists small enough to read whole with the calls left);
a big public's sample follows in ``MEMBERS_SCRIPT`` calls.

A service token cannot call ``execute``: the same methods are called one by one, concurrently,
under the client's rate limiter, and a big public's sample is adaptive
(``sampling.AdaptiveSample``): a first round of blocks, then more only where the estimate is
still too uncertain to tell the verdict. Publics checked together interleave their requests
under the one limiter, taking turns (``turns``). A hidden member list (VK error 15) is noticed
on the first member call, which goes alone; nothing more is asked of it.

With a service token and the community's token (``VK_GROUP_TOKEN``) both configured, a big
public's sample goes through the community token's ``execute`` instead: hundreds of small blocks
at one spacing (``sampling.plan_systematic``), 25 a script, one public's executes sent at once
under the community client's limiter, beside the service token's wall pages. A failure of the
community token falls back to the service token's adaptive sample.

The member records are kept (``SampledBlock.members``) with the fields of ``MEMBER_FIELDS``, so
other statistics of the same sample need no other request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from advisor.vk.api import (
    CheckErrorCode,
    RequestTally,
    VkApiError,
    VkClient,
    VkUnavailable,
)
from advisor.vk.links import PublicRef
from advisor.vk.metrics import WallPost
from advisor.vk.overlap import (
    OVERLAP_SUBSAMPLE,
    PAIR_SUBSAMPLE,
    chunks,
    pair_questions,
    read_is_member,
    spread_subsample,
)
from advisor.vk.sampling import (
    ADAPTIVE_BLOCK,
    EXECUTE_CALL_LIMIT,
    PAGE_SIZE,
    AdaptiveSample,
    Block,
    BlockCount,
    InactiveEstimate,
    SamplePlan,
    count_block,
    estimate_inactive,
    plan_sample,
    plan_systematic,
    stratum_widths,
    whole_read_limit,
)
from advisor.vk.scripts import (
    GROUP_FIELDS,
    MEMBER_FIELDS,
    WALL_PAGE,
    WALL_PAGES,
    members_script,
    membership_script,
    one_public_plan,
    pack,
    publics_script,
    sample_scripts,
)
from advisor.vk.turns import Caller, InTurn, Turns

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]
Stage = Literal["group", "wall", "members"]
Ready = Callable[[int, "PublicData | Exception"], Awaitable[None]]
"""Called with a public's index in ``refs`` and its outcome as soon as it is collected."""
Preliminary = Callable[[PublicRef, InactiveEstimate], Awaitable[None]]
"""Called with a first estimate of a public's inactive share while its sample still grows."""


class CollectError(Exception):
    """The public cannot be analysed. ``problem`` refines ``code`` for the message."""

    def __init__(self, code: CheckErrorCode, problem: str | None = None, detail: str = "") -> None:
        self.code: CheckErrorCode = code
        self.problem = problem or code
        self.detail = detail
        super().__init__(f"{code}/{self.problem}: {detail}")


@dataclass(frozen=True)
class GroupInfo:
    id: int
    screen_name: str
    name: str
    members_count: int
    is_closed: int
    deactivated: str | None
    type: str

    @classmethod
    def from_vk(cls, item: Mapping[str, Any]) -> GroupInfo:
        group_id = int(item["id"])
        return cls(
            id=group_id,
            screen_name=str(item.get("screen_name") or f"club{group_id}"),
            name=str(item.get("name") or ""),
            members_count=int(item.get("members_count") or 0),
            is_closed=int(item.get("is_closed") or 0),
            deactivated=item.get("deactivated") or None,
            type=str(item.get("type") or "group"),
        )

    @property
    def owner_id(self) -> int:
        return -self.id


@dataclass(frozen=True)
class SampledBlock:
    """Members read by one ``groups.getMembers`` call, in the order VK listed them."""

    block: Block
    weight: float
    """The share of the member list this block stands for (its stratum's length / the count)."""
    members: tuple[Mapping[str, Any], ...]
    count: BlockCount


@dataclass
class PublicData:
    """Everything collected for one public."""

    group: GroupInfo
    fetched_at: int
    posts: list[WallPost] = field(default_factory=list)
    member_blocks: list[SampledBlock] = field(default_factory=list)
    """The blocks read for the inactive share, in member-list order (empty when unknown)."""
    inactive: InactiveEstimate | None = None
    members_whole: bool = False
    members_hidden: bool = False
    members_total: int = 0
    """The member count ``groups.getMembers`` reported (it can differ from the group's)."""
    requests: int = 0
    member_of: dict[int, bool] | None = None
    """The owner's community (``CollectOptions.my_group``): asked member id → already in it.
    None: not asked, or VK refused the question."""
    pair_answers: dict[int, dict[int, bool] | None] = field(default_factory=dict)
    """Several publics with a user token: another checked public's id → the answers about
    ``pair_subsample``'s members (None: refused), asked in the round after the samples (for
    the pairs where this public asks: ``overlap.pair_questions``)."""

    @property
    def sample_blocks(self) -> int:
        """``groups.getMembers`` calls that read members for the sample."""
        return len(self.member_blocks)

    def weighted_members(self) -> list[tuple[float, Sequence[Mapping[str, Any]]]]:
        """The sampled blocks as (weight, members), in list order."""
        return [(block.weight, block.members) for block in self.member_blocks]


@dataclass(frozen=True)
class CollectOptions:
    member_budget: int
    inactive_after_days: int
    rng: random.Random = field(default_factory=random.Random)
    thresholds: tuple[float, ...] = ()
    """Bounds of the inactive share's verdict bands (percent): a sample whose interval lies in
    one band stops growing."""
    preliminary: Preliminary | None = None
    request_window: int = 2
    """Several publics on a service token: requests handed to the client's limiter at once."""
    my_group: str | int | None = None
    """The owner's community (screen name or id): the sampled members are asked about it with
    ``groups.isMember`` (the audience overlap)."""
    pair_asks: int = 0
    """Several publics with a user token: at most this many pairwise overlap questions, asked
    in the same round trip as ``my_group``'s (with a service token, ``check`` asks them)."""

    @property
    def block_size(self) -> int:
        """Members per block of a service token's adaptive sample."""
        return max(100, min(ADAPTIVE_BLOCK, self.member_budget // 20))


# --- shared steps ---------------------------------------------------------------------------


def check_group(group: GroupInfo) -> None:
    if group.deactivated == "deleted":
        raise CollectError("not_found", "deleted", f"club{group.id} is deleted")
    if group.deactivated:
        raise CollectError("blocked", "blocked", f"club{group.id} is {group.deactivated}")
    if group.is_closed:
        raise CollectError("closed", "closed", f"club{group.id} is_closed={group.is_closed}")


def first_group(answer: Any) -> Mapping[str, Any] | None:
    groups = answer.get("groups") if isinstance(answer, Mapping) else answer
    if isinstance(groups, list) and groups and isinstance(groups[0], Mapping):
        return groups[0]
    return None


def _posts(pages: Sequence[Any]) -> list[WallPost]:
    posts: list[WallPost] = []
    for page in pages:
        if isinstance(page, Mapping):
            for item in page.get("items") or []:
                if isinstance(item, Mapping) and {"id", "owner_id", "date"} <= item.keys():
                    posts.append(WallPost.from_vk(item))
    return posts


class _Members:
    """Member blocks as they arrive; remembers whether the list was hidden or a read failed."""

    def __init__(self, options: CollectOptions, fetched_at: int) -> None:
        self.options = options
        self.fetched_at = fetched_at
        self.blocks: dict[int, tuple[Block, tuple[Mapping[str, Any], ...], BlockCount]] = {}
        self.hidden = False
        self.failed = False
        self.total = 0

    def add(self, offset: int, answer: Any) -> BlockCount | None:
        if not isinstance(answer, Mapping):
            return None
        self.total = max(self.total, int(answer.get("count") or 0))
        items = tuple(m for m in answer.get("items") or [] if isinstance(m, Mapping))
        count = count_block(items, self.fetched_at, self.options.inactive_after_days)
        self.blocks[offset] = (Block(offset, len(items)), items, count)
        return count

    def ordered(self) -> list[BlockCount]:
        return [self.blocks[offset][2] for offset in sorted(self.blocks)]

    def sampled(self, weights: Mapping[int, float] | None, population: int) -> list[SampledBlock]:
        """The blocks in list order; ``weights`` by offset, else each block's own length."""
        return [
            SampledBlock(
                block,
                weights[offset] if weights else block.count / max(population, 1),
                items,
                count,
            )
            for offset, (block, items, count) in sorted(self.blocks.items())
        ]


def _finish_members(
    data: PublicData,
    members: _Members,
    *,
    whole: bool,
    estimate: InactiveEstimate | None,
    weights: Mapping[int, float] | None = None,
) -> None:
    """Fill ``data``'s member fields; an unknown list (hidden, failed) gives no estimate."""
    data.members_hidden = members.hidden
    data.members_total = members.total
    data.members_whole = whole
    if members.hidden or members.failed:
        return
    population = max(data.group.members_count, members.total)
    data.member_blocks = members.sampled(weights, population)
    data.inactive = estimate


def _raise_group_error(exc: VkApiError, ref: PublicRef) -> None:
    raise CollectError(exc.check_code, None, f"{exc.method}: VK error {exc.vk_code}") from None


async def _explain_missing(client: Caller, ref: PublicRef, tally: RequestTally) -> NoReturn:
    """A screen name that is not a community: tell a person or an app from a missing name."""
    resolved = None
    if ref.screen_name is not None:
        resolved = await client.call(
            "utils.resolveScreenName", {"screen_name": ref.screen_name}, tally
        )
    explain_resolved(ref, resolved)


def explain_resolved(ref: PublicRef, resolved: Any) -> NoReturn:
    kind = resolved.get("type") if isinstance(resolved, Mapping) else None
    if kind == "user":
        raise CollectError("not_a_community", "person", f"{ref.key} is a user")
    if kind == "application":
        raise CollectError("not_a_community", "app", f"{ref.key} is an app")
    raise CollectError("not_found", "not_found", f"{ref.key}: resolveScreenName gave {kind!r}")


async def _say(progress: Progress | None, stage: Stage) -> None:
    if progress is not None:
        await progress(stage)


# --- groups.isMember (the audience overlap) ----------------------------------------------

MembershipAsk = tuple[str | int, Sequence[int]]
"""A community and up to 500 member ids to ask ``groups.isMember`` about."""


async def _ask_with_calls(
    client: Caller, asks: Sequence[MembershipAsk], tally: RequestTally
) -> list[dict[int, bool] | None]:
    """One request per question, all at once under the limiter; None: VK refused it."""

    async def one(group: str | int, ids: Sequence[int]) -> dict[int, bool] | None:
        params = {"group_id": group, "user_ids": ",".join(map(str, ids))}
        try:
            return read_is_member(await client.call("groups.isMember", params, tally))
        except VkApiError:
            return None

    return await _gather(one(group, ids) for group, ids in asks)


async def _ask_with_execute(
    client: VkClient, asks: Sequence[MembershipAsk], tally: RequestTally
) -> list[dict[int, bool] | None]:
    """Up to 25 questions per execute, the executes sent at once."""

    async def batch(part: Sequence[MembershipAsk]) -> list[dict[int, bool] | None]:
        try:
            result = await client.execute(membership_script(part), tally)
        except (VkApiError, VkUnavailable):
            return [None] * len(part)
        answers = result.response if isinstance(result.response, list) else []
        return [
            read_is_member(answers[i]) if i < len(answers) and answers[i] else None
            for i in range(len(part))
        ]

    parts = [asks[i : i + EXECUTE_CALL_LIMIT] for i in range(0, len(asks), EXECUTE_CALL_LIMIT)]
    return [answer for part in await _gather(batch(p) for p in parts) for answer in part]


async def ask_membership(
    client: VkClient, asks: Sequence[MembershipAsk], tally: RequestTally
) -> list[dict[int, bool] | None]:
    """``groups.isMember`` answers for ``asks`` in order (None: refused), as few requests as
    the token allows: inside executes with a user token, one request each with a service one."""
    if not asks:
        return []
    if client.kind == "user":
        return await _ask_with_execute(client, asks, tally)
    return await _ask_with_calls(client, asks, tally)


def merge_answers(answers: Sequence[dict[int, bool] | None]) -> dict[int, bool] | None:
    """One community's answers together; None when any question was refused or none asked."""
    if not answers or any(answer is None for answer in answers):
        return None
    merged: dict[int, bool] = {}
    for answer in answers:
        merged.update(answer or {})
    return merged


def pair_subsample(data: PublicData) -> list[int]:
    """The members asked about another checked public (one ``groups.isMember`` call)."""
    return spread_subsample(data.weighted_members(), PAIR_SUBSAMPLE)


def overlap_asks(data: PublicData, group: str | int) -> list[MembershipAsk]:
    """The questions about ``group`` for a spread subsample of ``data``'s sampled members."""
    ids = spread_subsample(data.weighted_members(), OVERLAP_SUBSAMPLE)
    return [(group, part) for part in chunks(ids)]


# --- user token: execute --------------------------------------------------------------------


@dataclass
class _Job:
    """One public being collected through execute."""

    ref: PublicRef
    members: _Members
    rounds: int = 0
    """Round trips that carried this public's calls (shared with the others in them)."""
    group: GroupInfo | None = None
    posts: list[WallPost] = field(default_factory=list)
    plan: SamplePlan | None = None
    error: Exception | None = None


def _read_public(
    job: _Job, answer: Mapping[str, Any], getbyid_error: int | None, wall_errors: Sequence[int]
) -> None:
    item = first_group(answer.get("info"))
    if item is None:
        code = getbyid_error if getbyid_error is not None else 100
        check_code = VkApiError("groups.getById", code).check_code
        if check_code != "not_found":
            raise CollectError(check_code, None, f"groups.getById: VK error {code}")
        explain_resolved(job.ref, answer.get("resolved"))
    job.group = GroupInfo.from_vk(item)
    check_group(job.group)
    for code in wall_errors:
        wall_closed = _wall_closed(VkApiError("wall.get", code))
        if wall_closed is not None:
            raise wall_closed
    job.posts = _posts(answer.get("wall") or [])


def _wall_closed(exc: VkApiError) -> CollectError | None:
    """A wall VK does not show us (e.g. error 7 or 15 on ``wall.get``): the check ends with a
    message about the wall, not about the whole community."""
    if exc.method == "wall.get" and exc.check_code == "closed":
        return CollectError("closed", "wall", f"wall.get: VK error {exc.vk_code}")
    return None


async def _first_round(client: VkClient, jobs: Sequence[_Job], options: CollectOptions) -> None:
    tally = RequestTally()
    try:
        result = await client.execute(
            publics_script([job.ref for job in jobs], options.member_budget), tally
        )
    except (VkApiError, VkUnavailable) as exc:
        for job in jobs:
            job.rounds += tally.count
            job.error = _as_collect_error(exc)
        return
    response = result.response if isinstance(result.response, Mapping) else {}
    publics = response.get("publics") or []
    # execute_errors come in call order, and so do the publics' groups.getById calls.
    getbyid_errors = iter(
        int(e.get("error_code", 0)) for e in result.errors if e.get("method") == "groups.getById"
    )
    # So do the wall pages': each page that failed (false) has its error in turn.
    wall_errors = iter(
        int(e.get("error_code", 0)) for e in result.errors if e.get("method") == "wall.get"
    )
    for index, job in enumerate(jobs):
        job.rounds += tally.count
        answer = publics[index] if index < len(publics) else {}
        answer = answer if isinstance(answer, Mapping) else {}
        failed = first_group(answer.get("info")) is None
        pages = answer.get("wall")
        failed_pages = (
            [p for p in pages if not isinstance(p, Mapping)] if isinstance(pages, list) else []
        )
        try:
            _read_public(
                job,
                answer,
                next(getbyid_errors, None) if failed else None,
                [next(wall_errors, 0) for _ in failed_pages],
            )
        except CollectError as exc:
            job.error = exc
    for page in response.get("pages") or []:
        if isinstance(page, list) and len(page) == 3 and isinstance(page[0], int):
            if 0 <= page[0] < len(jobs):
                _add_page(jobs[page[0]], int(page[1]), page[2], result.errors)


def _add_page(job: _Job, offset: int, answer: Any, errors: Sequence[Mapping[str, Any]]) -> None:
    if isinstance(answer, Mapping):
        job.members.add(offset, answer)
    elif _members_denied(errors):
        job.members.hidden = True
    else:
        job.members.failed = True


def _as_collect_error(exc: Exception) -> Exception:
    if isinstance(exc, VkApiError):
        detail = f"{exc.method}: VK error {exc.vk_code}"
        return _wall_closed(exc) or CollectError(exc.check_code, None, detail)
    return exc


async def _member_round(client: VkClient, blocks: Sequence[tuple[_Job, Block]]) -> None:
    tally = RequestTally()
    try:
        result = await client.execute(
            members_script([(job.group.id, block) for job, block in blocks if job.group]), tally
        )
    except (VkApiError, VkUnavailable) as exc:
        for job in {id(job): job for job, _ in blocks}.values():
            job.error = job.error or _as_collect_error(exc)
        return
    finally:
        for job in {id(job): job for job, _ in blocks}.values():
            job.rounds += tally.count
    answers = result.response if isinstance(result.response, list) else []
    for index, (job, block) in enumerate(blocks):
        answer = answers[index] if index < len(answers) else None
        _add_page(job, block.offset, answer, result.errors)


async def collect_with_execute(
    client: VkClient,
    refs: Sequence[PublicRef],
    options: CollectOptions,
    progress: Progress | None = None,
) -> list[PublicData | Exception]:
    """The publics through execute: one round trip for a public, shared ones for several."""
    fetched_at = int(time.time())
    jobs = [_Job(ref, _Members(options, fetched_at)) for ref in refs]
    by_ref = {ref.key: job for ref, job in zip(refs, jobs, strict=True)}
    await _say(progress, "group")
    batches = pack(refs)
    await _gather(
        _first_round(client, [by_ref[ref.key] for ref in batch], options) for batch in batches
    )
    pending: list[tuple[_Job, Block]] = []
    for job in jobs:
        if job.error is not None or job.group is None:
            continue
        job.plan = plan_sample(job.group.members_count, options.member_budget, options.rng)
        if job.members.hidden:
            continue
        done = set(job.members.blocks)
        pending += [(job, b) for b in job.plan.blocks if b.offset not in done]
    if pending:
        await _say(progress, "members")
        await _gather(
            _member_round(client, pending[i : i + EXECUTE_CALL_LIMIT])
            for i in range(0, len(pending), EXECUTE_CALL_LIMIT)
        )
    outcomes = [_finish(job, fetched_at) for job in jobs]
    await _overlap_round(client, outcomes, options)
    return outcomes


async def _overlap_round(
    client: VkClient, outcomes: Sequence[PublicData | Exception], options: CollectOptions
) -> None:
    """Several publics: the questions about the owner's community and the pairwise overlap in
    one more round trip (the member ids are known only once the samples are in)."""
    datas = {
        index: outcome
        for index, outcome in enumerate(outcomes)
        if isinstance(outcome, PublicData) and outcome.member_blocks
    }
    asks: list[MembershipAsk] = []
    owners: list[tuple[int, int | None]] = []  # (public index, other public's index or None)
    if options.my_group is not None:
        for index, data in datas.items():
            mine = overlap_asks(data, options.my_group)
            asks += mine
            owners += [(index, None)] * len(mine)
    sizes = {index: data.group.members_count for index, data in datas.items()}
    for a, b in pair_questions(list(datas), sizes.__getitem__, options.pair_asks):
        asks.append((datas[b].group.id, pair_subsample(datas[a])))
        owners.append((a, b))
    if not asks:
        return
    tally = RequestTally()
    answers = await _ask_with_execute(client, asks, tally)
    # The round trip carried calls for the askers and about the others: it counts for both.
    involved = {asker for asker, _ in owners} | {other for _, other in owners if other is not None}
    for index, data in datas.items():
        if index not in involved:
            continue
        if options.my_group is not None:
            data.member_of = merge_answers(
                [
                    answer
                    for answer, owner in zip(answers, owners, strict=True)
                    if owner == (index, None)
                ]
            )
        for answer, (asker, other) in zip(answers, owners, strict=True):
            if asker == index and other is not None:
                data.pair_answers[datas[other].group.id] = answer
        data.requests += tally.count


def _finish(job: _Job, fetched_at: int) -> PublicData | Exception:
    if job.error is not None:
        return job.error
    assert job.group is not None and job.plan is not None
    data = PublicData(group=job.group, fetched_at=fetched_at, posts=job.posts)
    data.requests = job.rounds
    members = job.members
    population = max(job.group.members_count, members.total)
    estimate = estimate_inactive(members.ordered(), population, job.plan.whole)
    _finish_members(data, members, whole=job.plan.whole, estimate=estimate)
    return data


def _members_denied(errors: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        e.get("method") == "groups.getMembers" and int(e.get("error_code", 0)) in (15, 203)
        for e in errors
    )


def _script_member_of(outcomes: Sequence[Any]) -> dict[int, bool] | None:
    """The ``groups.isMember`` answers the one-public executes carried (``member_of``)."""
    answers: list[dict[int, bool] | None] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            return None
        answer = outcome.response if isinstance(outcome.response, Mapping) else {}
        for item in answer.get("member_of") or []:
            answers.append(read_is_member(item) if isinstance(item, list) else None)
    return merge_answers(answers)


async def collect_one_with_execute(
    client: VkClient, ref: PublicRef, options: CollectOptions, progress: Progress | None = None
) -> PublicData:
    """One public in one round trip: the executes of ``one_public_plan`` sent at once."""
    tally = RequestTally()
    fetched_at = int(time.time())
    plan = one_public_plan(ref, options.member_budget, options.rng, mine=options.my_group)
    await _say(progress, "group")
    outcomes = await asyncio.gather(
        *(client.execute(script, tally) for script in plan.scripts), return_exceptions=True
    )
    head = outcomes[0]
    if isinstance(head, BaseException):
        if isinstance(head, VkApiError | VkUnavailable):
            raise _as_collect_error(head)
        raise head
    response = head.response if isinstance(head.response, Mapping) else {}
    item = first_group(response.get("info"))
    if item is None:
        errors = [e for e in head.errors if e.get("method") == "groups.getById"]
        code = int(errors[0].get("error_code", 100)) if errors else 100
        check_code = VkApiError("groups.getById", code).check_code
        if check_code != "not_found":
            raise CollectError(check_code, None, f"groups.getById: VK error {code}")
        explain_resolved(ref, response.get("resolved"))
    group = GroupInfo.from_vk(item)
    check_group(group)
    pages = response.get("wall")
    if isinstance(pages, list) and any(not isinstance(p, Mapping) for p in pages):
        # A wall page VK refused: its error says whether the wall is closed to us.
        for error in head.errors:
            if error.get("method") == "wall.get":
                closed = _wall_closed(VkApiError("wall.get", int(error.get("error_code", 0))))
                if closed is not None:
                    raise closed
    data = PublicData(group=group, fetched_at=fetched_at, posts=_posts(pages or []))
    members = _Members(options, fetched_at)
    totals: list[int] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            members.failed = True
            continue
        answer = outcome.response if isinstance(outcome.response, Mapping) else {}
        if answer.get("total") is None:
            if _members_denied(outcome.errors):
                members.hidden = True
            else:
                members.failed = True
            continue
        totals.append(int(answer["total"]))
        for pair in answer.get("blocks") or []:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)):
                members.failed = True
            elif members.add(pair[0], pair[1]) is None:
                members.hidden |= _members_denied(outcome.errors)
                members.failed |= not _members_denied(outcome.errors)
    members.total = max(totals, default=0)
    if options.my_group is not None:
        data.member_of = _script_member_of(outcomes)
    whole = members.total <= plan.whole_limit
    population = max(group.members_count, members.total)
    estimate = estimate_inactive(members.ordered(), population, whole)
    _finish_members(data, members, whole=whole, estimate=estimate)
    data.requests = tally.count
    return data


# --- service token: concurrent calls --------------------------------------------------------


async def _read_block(
    client: Caller, group: GroupInfo, block: Block, members: _Members, tally: RequestTally
) -> BlockCount | None:
    """One block; ``None`` when the list turned out hidden (nothing more is then asked)."""
    if members.hidden:
        return None
    params = {
        "group_id": group.id,
        "offset": block.offset,
        "count": block.count,
        "fields": MEMBER_FIELDS,
    }
    try:
        answer = await client.call("groups.getMembers", params, tally)
    except VkApiError as exc:
        if exc.vk_code not in (15, 203):
            raise
        members.hidden = True
        return None
    count = members.add(block.offset, answer)
    if count is None:
        members.failed = True
    return count


async def _read_all(
    client: Caller,
    group: GroupInfo,
    blocks: Sequence[Block],
    members: _Members,
    tally: RequestTally,
) -> list[BlockCount | None]:
    """The blocks; the list's very first one alone: a hidden list costs one refused call, not
    one per block."""
    if not blocks:
        return []
    if members.blocks:
        return await _gather(_read_block(client, group, b, members, tally) for b in blocks)
    first = await _read_block(client, group, blocks[0], members, tally)
    if members.hidden:
        return [first]
    rest = await _gather(_read_block(client, group, b, members, tally) for b in blocks[1:])
    return [first, *rest]


async def _whole_list(
    client: Caller, group: GroupInfo, members: _Members, tally: RequestTally
) -> None:
    blocks = [
        Block(offset, min(PAGE_SIZE, group.members_count - offset))
        for offset in range(0, group.members_count, PAGE_SIZE)
    ]
    await _read_all(client, group, blocks, members, tally)


async def _adaptive_sample(
    client: Caller,
    ref: PublicRef,
    group: GroupInfo,
    members: _Members,
    tally: RequestTally,
    options: CollectOptions,
    progress: Progress | None,
) -> AdaptiveSample:
    sample = AdaptiveSample(
        group.members_count,
        options.rng,
        block_size=options.block_size,
        thresholds=options.thresholds,
    )
    await _say(progress, "members")
    while blocks := sample.next_blocks():
        counts = await _read_all(client, group, blocks, members, tally)
        if members.hidden or members.failed:
            break
        for block, count in zip(blocks, counts, strict=True):
            assert count is not None
            sample.record(block, count)
        if sample.rounds == 1 and options.preliminary is not None:
            estimate = sample.estimate()
            if estimate is not None and not sample.done():
                await options.preliminary(ref, estimate)
    return sample


@dataclass(frozen=True)
class _Sampled:
    """A big public's sample as read: its estimate and each block's weight by offset."""

    estimate: InactiveEstimate | None
    weights: dict[int, float]


class _SamplerFailed(Exception):
    """The community token could not read the sample (the service token reads it instead)."""


async def _community_sample(
    sampler: VkClient,
    group: GroupInfo,
    members: _Members,
    tally: RequestTally,
    options: CollectOptions,
) -> _Sampled:
    """A big public's sample through the community token: a systematic sample of small blocks
    (``sampling.plan_systematic``), 25 a script, all the executes sent at once (one round
    trip while the community token has room; the VK bot's own requests on it go first).
    Hidden members (VK error 15 or 203 inside execute) end it as ``members.hidden``; any other
    failure raises ``_SamplerFailed``."""
    count = group.members_count
    plan = plan_systematic(count, options.member_budget, options.rng)
    scripts = sample_scripts(group.id, plan.blocks)
    outcomes = await asyncio.gather(
        *(sampler.execute(script, tally, background=True) for script in scripts),
        return_exceptions=True,
    )
    step = EXECUTE_CALL_LIMIT
    parts = [plan.blocks[i : i + step] for i in range(0, len(plan.blocks), step)]
    for blocks, outcome in zip(parts, outcomes, strict=True):
        if isinstance(outcome, VkApiError):
            raise _SamplerFailed(f"{outcome.method}: VK error {outcome.vk_code}")
        if isinstance(outcome, VkUnavailable):
            raise _SamplerFailed(f"{outcome.method}: {outcome.cause}")
        if isinstance(outcome, BaseException):
            raise outcome
        answers = outcome.response if isinstance(outcome.response, list) else []
        for index, block in enumerate(blocks):
            answer = answers[index] if index < len(answers) else None
            if isinstance(answer, Mapping):
                members.add(block.offset, answer)
            elif _members_denied(outcome.errors):
                members.hidden = True
                break
            else:
                codes = [e.get("error_code") for e in outcome.errors]
                raise _SamplerFailed(f"groups.getMembers inside execute: VK errors {codes}")
    if members.hidden:
        return _Sampled(None, {})
    widths = stratum_widths(count, len(plan.blocks))
    weights = {b.offset: w / count for b, w in zip(plan.blocks, widths, strict=True)}
    population = max(count, members.total)
    return _Sampled(estimate_inactive(members.ordered(), population, whole=False), weights)


async def collect_with_calls(
    client: Caller,
    ref: PublicRef,
    options: CollectOptions,
    progress: Progress | None = None,
    sampler: VkClient | None = None,
) -> PublicData:
    """One method per request, all the independent ones at once, under the rate limiter.

    ``sampler``: the community token's client. A public too big to read whole then gets its
    sample through it (``_community_sample``: one round trip of executes, beside the wall
    pages), and through ``client``'s adaptive sample only when the community token fails."""
    tally = RequestTally()
    fetched_at = int(time.time())
    await _say(progress, "group")
    try:
        answer = await client.call(
            "groups.getById", {"group_id": ref.api_id, "fields": GROUP_FIELDS}, tally
        )
    except VkApiError as exc:
        if exc.check_code == "not_found":
            await _explain_missing(client, ref, tally)
        _raise_group_error(exc, ref)
        raise
    item = first_group(answer)
    if item is None:
        await _explain_missing(client, ref, tally)
    group = GroupInfo.from_vk(item)
    check_group(group)
    if isinstance(client, InTurn):
        client.sized(group.members_count)
    data = PublicData(group=group, fetched_at=fetched_at)
    members = _Members(options, fetched_at)
    whole = group.members_count <= whole_read_limit(options.member_budget)
    await _say(progress, "wall")

    async def wall_page(page: int) -> Any:
        params = {
            "owner_id": group.owner_id,
            "filter": "owner",
            "offset": page * WALL_PAGE,
            "count": WALL_PAGE,
        }
        return await client.call("wall.get", params, tally)

    async def member_list() -> _Sampled | None:
        nonlocal members
        if whole:
            await _whole_list(client, group, members, tally)
            return None
        if sampler is not None:
            await _say(progress, "members")
            try:
                return await _community_sample(sampler, group, members, tally, options)
            except _SamplerFailed as exc:
                # The reason names the method and VK's error code, never a token.
                log.warning(
                    "public check: the community token could not sample club%d (%s); "
                    "the service token samples it instead",
                    group.id,
                    exc,
                )
                members = _Members(options, fetched_at)
        sample = await _adaptive_sample(client, ref, group, members, tally, options, progress)
        weights = {cell.block.offset: cell.width / group.members_count for cell in sample.cells}
        return _Sampled(sample.estimate(), weights)

    *pages, sampled = await _gather(
        [*(wall_page(page) for page in range(WALL_PAGES)), member_list()]
    )
    data.posts = _posts(pages)
    if sampled is None:
        population = max(group.members_count, members.total)
        estimate = estimate_inactive(members.ordered(), population, whole=True)
        _finish_members(data, members, whole=True, estimate=estimate)
    else:
        _finish_members(
            data, members, whole=False, estimate=sampled.estimate, weights=sampled.weights
        )
    if options.my_group is not None and data.member_blocks:
        asks = overlap_asks(data, options.my_group)
        data.member_of = merge_answers(await _ask_with_calls(client, asks, tally))
    data.requests = tally.count
    return data


async def _gather(calls: Any) -> list[Any]:
    """Run the calls concurrently; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def collect_publics(
    client: VkClient,
    refs: Sequence[PublicRef],
    options: CollectOptions,
    progress: Progress | None = None,
    ready: Ready | None = None,
    sampler: VkClient | None = None,
) -> list[PublicData | Exception]:
    """Each public's data, or the exception that ended its collection, in ``refs`` order.

    The exceptions are ``CollectError`` (the issue's error codes) and ``VkUnavailable``.
    With a service token the publics are collected at once, their requests interleaved under
    the client's one limiter, the earlier public's first (``Turns``); ``ready`` hears of each
    as soon as it is in, before the others. ``sampler`` (the community token's client, with a
    service token only): big publics' samples go through its executes (``collect_with_calls``).
    """
    if client.kind == "user":
        if len(refs) == 1:
            try:
                outcomes: list[PublicData | Exception] = [
                    await collect_one_with_execute(client, refs[0], options, progress)
                ]
            except (CollectError, VkUnavailable) as exc:
                outcomes = [exc]
        else:
            outcomes = await collect_with_execute(client, refs, options, progress)
        if ready is not None:
            for index, outcome in enumerate(outcomes):
                await ready(index, outcome)
        return outcomes

    turns = Turns(options.request_window)

    async def one(index: int, ref: PublicRef) -> PublicData | Exception:
        outcome: PublicData | Exception
        caller: Caller = client if len(refs) == 1 else InTurn(client, turns, index)
        try:
            outcome = await collect_with_calls(caller, ref, options, progress, sampler)
        except (CollectError, VkUnavailable) as exc:
            outcome = exc
        except VkApiError as exc:
            outcome = _as_collect_error(exc)
        if ready is not None:
            await ready(index, outcome)
        return outcome

    return list(await asyncio.gather(*(one(index, ref) for index, ref in enumerate(refs))))


__all__ = [
    "CollectError",
    "CollectOptions",
    "GroupInfo",
    "PublicData",
    "SampledBlock",
    "VkUnavailable",
    "ask_membership",
    "collect_one_with_execute",
    "collect_publics",
    "collect_with_calls",
    "collect_with_execute",
    "pair_subsample",
]
