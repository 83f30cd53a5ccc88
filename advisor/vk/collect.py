"""Collecting publics' data from VK in as few round trips as the token allows.

With a user token, ``execute`` runs up to 25 API calls in one round trip. The first script (see
``PUBLICS_SCRIPT``) reads, for every public it carries, the community and two pages of its wall,
then spends the calls left on the member lists small enough to read whole. One public always
fits, so a public costs ONE round trip; several publics share the scripts. A public too big to
read whole needs a sample of ``settings.check_member_sample`` members spread over the list (see
``sampling``): those ``groups.getMembers`` calls are known only once the size is, so they follow
in ``MEMBERS_SCRIPT`` calls of up to 25 each, sent concurrently with the other publics' pages.

A service token cannot call ``execute``: the same methods are called one by one, concurrently,
under the client's rate limiter.
"""

from __future__ import annotations

import asyncio
import json
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
from advisor.vk.sampling import (
    PAGE_SIZE,
    Block,
    BlockCount,
    SamplePlan,
    count_block,
    plan_sample,
    whole_read_limit,
)

EXECUTE_CALL_LIMIT = 25  # VK runs at most 25 API calls inside one execute
WALL_PAGE = 100  # wall.get returns at most 100 posts per call
WALL_PAGES = 2  # enough for N ≤ 100 analysed posts plus the 5–7 most recent ad posts
# filter=owner asks VK for the community's own posts only; metrics.eligible_posts checks again.
MEMBER_FIELDS = "last_seen"  # "deactivated" comes with every user object anyway
GROUP_FIELDS = "members_count"

Progress = Callable[[str], Awaitable[None]]
Stage = Literal["group", "wall", "members"]


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


@dataclass
class PublicData:
    """Everything collected for one public."""

    group: GroupInfo
    fetched_at: int
    posts: list[WallPost] = field(default_factory=list)
    member_blocks: list[BlockCount] = field(default_factory=list)
    """Inactive counts per member block, in member-list order."""
    members_whole: bool = False
    members_hidden: bool = False
    members_total: int = 0
    """The member count ``groups.getMembers`` reported (it can differ from the group's)."""
    requests: int = 0


@dataclass(frozen=True)
class CollectOptions:
    member_budget: int
    inactive_after_days: int
    rng: random.Random = field(default_factory=random.Random)


# --- the VKScript ---------------------------------------------------------------------------

# The first round trip for a batch of publics. ``publics`` holds, per public, the id or screen
# name, the wall's ``domain`` and whether the name must be resolved (then a person's or an app's
# name is told apart from a community's without another request). Member lists are read whole
# only up to ``whole_limit`` members and only with the calls left: ``budget`` counts them down.
PUBLICS_SCRIPT = """
var publics = {publics};
var budget = {budget};
var out = [];
var i = 0;
while (i < publics.length) {{
  var p = publics[i];
  var resolved = null;
  if (p[2]) {{
    resolved = API.utils.resolveScreenName({{"screen_name": p[0]}});
    budget = budget - 1;
  }}
  var info = API.groups.getById({{"group_id": p[0], "fields": "{group_fields}"}});
  var wall = [];
  var posts_offset = 0;
  while (posts_offset < {wall_total}) {{
    wall.push(API.wall.get({{"domain": p[1], "filter": "owner", "offset": posts_offset,
                            "count": {wall_page}}}));
    posts_offset = posts_offset + {wall_page};
  }}
  budget = budget - {fixed_calls};
  out.push({{"resolved": resolved, "info": info, "wall": wall}});
  i = i + 1;
}}
var pages = [];
i = 0;
while (i < out.length && budget > 0) {{
  var g = out[i].info.groups[0];
  if (g && g.is_closed == 0 && !g.deactivated) {{
    var offset = 0;
    while (offset < g.members_count && g.members_count <= {whole_limit} && budget > 0) {{
      pages.push([i, offset, API.groups.getMembers({{"group_id": g.id, "offset": offset,
                                                    "count": {page_size},
                                                    "fields": "{member_fields}"}})]);
      offset = offset + {page_size};
      budget = budget - 1;
    }}
  }}
  i = i + 1;
}}
return {{"publics": out, "pages": pages}};
"""

# Member blocks still to read (a big public's sample, or the rest of a long list), for any
# publics: up to 25 groups.getMembers calls per round trip.
MEMBERS_SCRIPT = """
var blocks = {blocks};
var result = [];
var i = 0;
while (i < blocks.length) {{
  result.push(API.groups.getMembers({{"group_id": blocks[i][0], "offset": blocks[i][1],
                                     "count": blocks[i][2], "fields": "{member_fields}"}}));
  i = i + 1;
}}
return result;
"""


def fixed_calls(ref: PublicRef) -> int:
    """API calls the first script makes for ``ref`` before any member page."""
    return (1 if ref.screen_name is not None else 0) + 1 + WALL_PAGES


def publics_script(refs: Sequence[PublicRef], member_budget: int) -> str:
    if sum(fixed_calls(ref) for ref in refs) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"more than {EXECUTE_CALL_LIMIT} calls for these publics")
    publics = [
        [ref.screen_name, ref.screen_name, 1]
        if ref.screen_name is not None
        else [ref.group_id, f"club{ref.group_id}", 0]
        for ref in refs
    ]
    return PUBLICS_SCRIPT.format(
        publics=json.dumps(publics),
        budget=EXECUTE_CALL_LIMIT,
        group_fields=GROUP_FIELDS,
        wall_total=WALL_PAGES * WALL_PAGE,
        wall_page=WALL_PAGE,
        fixed_calls=1 + WALL_PAGES,
        whole_limit=whole_read_limit(member_budget),
        page_size=PAGE_SIZE,
        member_fields=MEMBER_FIELDS,
    )


def members_script(blocks: Sequence[tuple[int, Block]]) -> str:
    """The script reading ``(group_id, block)`` pairs."""
    if len(blocks) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"at most {EXECUTE_CALL_LIMIT} blocks per execute")
    return MEMBERS_SCRIPT.format(
        blocks=json.dumps([[group_id, b.offset, b.count] for group_id, b in blocks]),
        member_fields=MEMBER_FIELDS,
    )


def pack(refs: Sequence[PublicRef]) -> list[list[PublicRef]]:
    """Publics in first-script batches, in order, each within the 25-call limit."""
    batches: list[list[PublicRef]] = []
    used = EXECUTE_CALL_LIMIT
    for ref in refs:
        cost = fixed_calls(ref)
        if used + cost > EXECUTE_CALL_LIMIT:
            batches.append([])
            used = 0
        batches[-1].append(ref)
        used += cost
    return batches


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
    """Counts member blocks as they arrive; remembers whether the list was hidden."""

    def __init__(self, options: CollectOptions, fetched_at: int) -> None:
        self.options = options
        self.fetched_at = fetched_at
        self.blocks: dict[int, BlockCount] = {}
        self.hidden = False
        self.failed = False
        self.total = 0

    def add(self, offset: int, answer: Any) -> None:
        if not isinstance(answer, Mapping):
            return
        self.total = max(self.total, int(answer.get("count") or 0))
        items = [m for m in answer.get("items") or [] if isinstance(m, Mapping)]
        self.blocks[offset] = count_block(items, self.fetched_at, self.options.inactive_after_days)

    def ordered(self) -> list[BlockCount]:
        return [self.blocks[offset] for offset in sorted(self.blocks)]


def _raise_group_error(exc: VkApiError, ref: PublicRef) -> None:
    raise CollectError(exc.check_code, None, f"{exc.method}: VK error {exc.vk_code}") from None


async def _explain_missing(client: VkClient, ref: PublicRef, tally: RequestTally) -> NoReturn:
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
    return [_finish(job, fetched_at) for job in jobs]


def _finish(job: _Job, fetched_at: int) -> PublicData | Exception:
    if job.error is not None:
        return job.error
    assert job.group is not None and job.plan is not None
    members = job.members
    unknown = members.hidden or members.failed
    return PublicData(
        group=job.group,
        fetched_at=fetched_at,
        posts=job.posts,
        member_blocks=[] if unknown else members.ordered(),
        members_whole=job.plan.whole,
        members_hidden=members.hidden,
        members_total=members.total,
        requests=job.rounds,
    )


def _members_denied(errors: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        e.get("method") == "groups.getMembers" and int(e.get("error_code", 0)) in (15, 203)
        for e in errors
    )


# --- service token: concurrent calls --------------------------------------------------------


async def collect_with_calls(
    client: VkClient, ref: PublicRef, options: CollectOptions, progress: Progress | None = None
) -> PublicData:
    """One method per request, all the independent ones at once, under the rate limiter."""
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
    data = PublicData(group=group, fetched_at=fetched_at)
    members = _Members(options, fetched_at)
    plan = plan_sample(group.members_count, options.member_budget, options.rng)
    await _say(progress, "wall")

    async def wall_page(page: int) -> Any:
        params = {
            "owner_id": group.owner_id,
            "filter": "owner",
            "offset": page * WALL_PAGE,
            "count": WALL_PAGE,
        }
        return await client.call("wall.get", params, tally)

    async def member_block(block: Block) -> None:
        params = {
            "group_id": group.id,
            "offset": block.offset,
            "count": block.count,
            "fields": MEMBER_FIELDS,
        }
        try:
            members.add(block.offset, await client.call("groups.getMembers", params, tally))
        except VkApiError as exc:
            if exc.vk_code not in (15, 203):
                raise
            members.hidden = True

    wall_tasks = [wall_page(page) for page in range(WALL_PAGES)]
    member_tasks = [member_block(block) for block in plan.blocks]
    results = await _gather([*wall_tasks, *member_tasks])
    data.posts = _posts(results[:WALL_PAGES])
    if members.hidden:
        members.blocks.clear()
    data.member_blocks = members.ordered()
    data.members_whole = plan.whole
    data.members_hidden = members.hidden
    data.members_total = members.total
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
) -> list[PublicData | Exception]:
    """Each public's data, or the exception that ended its collection, in ``refs`` order.

    The exceptions are ``CollectError`` (the issue's error codes) and ``VkUnavailable``.
    """
    if client.kind == "user":
        return await collect_with_execute(client, refs, options, progress)

    async def one(ref: PublicRef) -> PublicData | Exception:
        try:
            return await collect_with_calls(client, ref, options, progress)
        except (CollectError, VkUnavailable) as exc:
            return exc
        except VkApiError as exc:
            return _as_collect_error(exc)

    return list(await asyncio.gather(*(one(ref) for ref in refs)))


__all__ = [
    "CollectError",
    "CollectOptions",
    "GroupInfo",
    "PublicData",
    "VkUnavailable",
    "collect_publics",
    "collect_with_calls",
    "collect_with_execute",
    "members_script",
    "pack",
    "publics_script",
]
