"""Collecting one public's data from VK in as few round trips as the token allows.

With a user token one ``execute`` call gathers everything for a public (the VKScript below):
the community, two pages of its wall and, when the public is small enough, its whole member list.
A public too big to read whole needs a sample of ``settings.check_member_sample`` members spread
over the list (see ``sampling``); those ``groups.getMembers`` calls are known only once the size
is, so they follow in further ``execute`` calls of up to 25 calls each, sent concurrently.

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
# Calls the first execute spends before the member pages: utils.resolveScreenName,
# groups.getById and the wall pages.
_FIRST_CALLS = 2 + WALL_PAGES

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

# One public in one round trip. The community is read first (with a screen name, also what the
# name belongs to, so a person's or an app's name is told apart without another request); its
# member list is read whole in the same call only when it is small enough: for a big public the
# loop does not run. Values in {braces} are JSON literals filled in by ``public_script``.
PUBLIC_SCRIPT = """
var target = {target};
var resolved = {resolve};
var info = API.groups.getById({{"group_id": target, "fields": "{group_fields}"}});
var wall = [];
var posts_offset = 0;
while (posts_offset < {wall_total}) {{
  wall.push(API.wall.get({{"{wall_key}": {wall_value}, "filter": "owner",
                          "offset": posts_offset, "count": {wall_page}}}));
  posts_offset = posts_offset + {wall_page};
}}
var members = [];
var n = info.groups[0].members_count;
var offset = 0;
while (offset < n && n <= {whole_limit}) {{
  members.push(API.groups.getMembers({{"group_id": target, "offset": offset,
                                      "count": {page_size}, "fields": "{member_fields}"}}));
  offset = offset + {page_size};
}}
return {{"resolved": resolved, "info": info, "wall": wall, "members": members}};
"""

# Further member blocks of a big public: up to 25 groups.getMembers calls per round trip.
MEMBERS_SCRIPT = """
var blocks = {blocks};
var result = [];
var i = 0;
while (i < blocks.length) {{
  result.push(API.groups.getMembers({{"group_id": {group_id}, "offset": blocks[i][0],
                                     "count": blocks[i][1], "fields": "{member_fields}"}}));
  i = i + 1;
}}
return result;
"""


def first_call_whole_limit(member_budget: int) -> int:
    """The largest public the first execute reads whole (its calls must fit in one execute)."""
    return min(whole_read_limit(member_budget), (EXECUTE_CALL_LIMIT - _FIRST_CALLS) * PAGE_SIZE)


def public_script(ref: PublicRef, member_budget: int) -> str:
    if ref.group_id is not None:
        target: int | str = ref.group_id
        resolve = "null"
        wall_key, wall_value = "owner_id", json.dumps(-ref.group_id)
    else:
        target = str(ref.screen_name)
        resolve = f'API.utils.resolveScreenName({{"screen_name": {json.dumps(target)}}})'
        wall_key, wall_value = "domain", json.dumps(target)
    return PUBLIC_SCRIPT.format(
        target=json.dumps(target),
        resolve=resolve,
        group_fields=GROUP_FIELDS,
        wall_total=WALL_PAGES * WALL_PAGE,
        wall_page=WALL_PAGE,
        wall_key=wall_key,
        wall_value=wall_value,
        whole_limit=first_call_whole_limit(member_budget),
        page_size=PAGE_SIZE,
        member_fields=MEMBER_FIELDS,
    )


def members_script(group_id: int, blocks: Sequence[Block]) -> str:
    if len(blocks) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"at most {EXECUTE_CALL_LIMIT} blocks per execute")
    return MEMBERS_SCRIPT.format(
        blocks=json.dumps([[b.offset, b.count] for b in blocks]),
        group_id=group_id,
        member_fields=MEMBER_FIELDS,
    )


# --- shared steps ---------------------------------------------------------------------------


def _check_group(group: GroupInfo) -> None:
    if group.deactivated == "deleted":
        raise CollectError("not_found", "deleted", f"club{group.id} is deleted")
    if group.deactivated:
        raise CollectError("blocked", "blocked", f"club{group.id} is {group.deactivated}")
    if group.is_closed:
        raise CollectError("closed", "closed", f"club{group.id} is_closed={group.is_closed}")


def _first_group(answer: Any) -> Mapping[str, Any] | None:
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
    _explain_resolved(ref, resolved)


def _explain_resolved(ref: PublicRef, resolved: Any) -> NoReturn:
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


async def collect_with_execute(
    client: VkClient, ref: PublicRef, options: CollectOptions, progress: Progress | None = None
) -> PublicData:
    """One ``execute`` for the public; more only for the member sample of a big public."""
    tally = RequestTally()
    fetched_at = int(time.time())
    await _say(progress, "group")
    try:
        result = await client.execute(public_script(ref, options.member_budget), tally)
    except VkApiError as exc:
        _raise_group_error(exc, ref)
        raise
    answer = result.response if isinstance(result.response, Mapping) else {}
    item = _first_group(answer.get("info"))
    if item is None:
        failed = [e for e in result.errors if e.get("method") == "groups.getById"]
        code = int(failed[0].get("error_code", 0)) if failed else 100
        error = VkApiError("groups.getById", code)
        if error.check_code != "not_found":
            raise CollectError(error.check_code, None, f"groups.getById: VK error {code}")
        _explain_resolved(ref, answer.get("resolved"))
    group = GroupInfo.from_vk(item)
    _check_group(group)
    data = PublicData(group=group, fetched_at=fetched_at)
    data.posts = _posts(answer.get("wall") or [])
    members = _Members(options, fetched_at)
    pages = answer.get("members") or []
    plan = plan_sample(group.members_count, options.member_budget, options.rng)
    if group.members_count <= first_call_whole_limit(options.member_budget):
        for index, page in enumerate(pages):
            members.add(index * PAGE_SIZE, page)
        members.hidden = (
            group.members_count > 0 and not members.blocks and _members_denied(result.errors)
        )
    else:
        await _say(progress, "members")
        await _execute_blocks(client, group.id, plan, members, tally)
    data.member_blocks = members.ordered()
    data.members_whole = plan.whole
    data.members_hidden = members.hidden
    data.members_total = members.total
    data.requests = tally.count
    return data


def _members_denied(errors: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        e.get("method") == "groups.getMembers" and int(e.get("error_code", 0)) in (15, 203)
        for e in errors
    )


async def _execute_blocks(
    client: VkClient, group_id: int, plan: SamplePlan, members: _Members, tally: RequestTally
) -> None:
    chunks = [
        plan.blocks[i : i + EXECUTE_CALL_LIMIT]
        for i in range(0, len(plan.blocks), EXECUTE_CALL_LIMIT)
    ]

    async def run(chunk: Sequence[Block]) -> None:
        result = await client.execute(members_script(group_id, chunk), tally)
        answers = result.response if isinstance(result.response, list) else []
        for block, answer in zip(chunk, answers, strict=False):
            members.add(block.offset, answer)
        if _members_denied(result.errors):
            members.hidden = True

    await _gather(run(chunk) for chunk in chunks)
    if members.hidden:
        members.blocks.clear()


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
    item = _first_group(answer)
    if item is None:
        await _explain_missing(client, ref, tally)
    group = GroupInfo.from_vk(item)
    _check_group(group)
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


async def collect_public(
    client: VkClient, ref: PublicRef, options: CollectOptions, progress: Progress | None = None
) -> PublicData:
    """The public's data with the fewest round trips the client's token allows."""
    if client.kind == "user":
        return await collect_with_execute(client, ref, options, progress)
    return await collect_with_calls(client, ref, options, progress)


__all__ = [
    "CollectError",
    "CollectOptions",
    "GroupInfo",
    "PublicData",
    "VkUnavailable",
    "collect_public",
    "collect_with_calls",
    "collect_with_execute",
    "members_script",
    "public_script",
]
