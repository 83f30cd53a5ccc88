"""Reading one's own community from VK: ``groups.getById`` with the audit's fields and ``wall.get``.

With a user token it is ONE round trip: an ``execute`` script resolves a screen name (so a person's
or an app's page is told apart from a missing one), reads the community and its latest posts.
A service token cannot call ``execute``: the same methods are called one after another.

Errors are the public check's: ``CollectError`` with its codes (``not_found``, ``closed``,
``blocked``, ``not_a_community``, ``misconfigured``, ...) and ``VkUnavailable``. The community's
state is judged by ``advisor.vk.collect`` itself, so a deleted, banned or closed community means
the same here as in the public check.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor.vk.api import RequestTally, VkApiError, VkClient, VkUnavailable

# Shared with the public check, so both agree on what a deleted or closed community is.
from advisor.vk.collect import (
    CollectError,
    GroupInfo,
    check_group,
    explain_resolved,
    first_group,
)
from advisor.vk.links import PublicRef
from advisor.vk.metrics import WallPost

log = logging.getLogger(__name__)

GROUP_FIELDS = (
    "members_count,description,status,activity,city,site,links,contacts,addresses,market,"
    "fixed_post,counters,cover,can_message,wall"
)

AUDIT_SCRIPT = """
var resolved = null;
if ({resolve}) {{
  resolved = API.utils.resolveScreenName({{"screen_name": {name}}});
}}
var info = API.groups.getById({{"group_id": {group}, "fields": "{fields}"}});
var wall = API.wall.get({{"domain": {domain}, "filter": "owner", "count": {count}}});
return {{"resolved": resolved, "info": info, "wall": wall}};
"""

# A hashtag as VK links it: letters, digits, "_", optionally "@" and a community's address.
_HASHTAG = re.compile(r"#([\w]+(?:@[a-z0-9_.]+)?)", re.IGNORECASE)
_ATTACHMENT_FORMATS = {"clip", "video", "article", "poll", "photo"}


@dataclass(frozen=True)
class AuditPost:
    """One wall post: the metrics' view of it, its media kinds and its hashtags."""

    post: WallPost
    media: frozenset[str]
    """Attachment kinds among clip/video/article/poll/photo (of the original, for a repost)."""
    hashtags: tuple[str, ...]
    """As written, without «#», e.g. ``Полезныйсовет@salon_monespb``."""


@dataclass
class CommunityData:
    """What VK shows anyone about a community; ``None`` where VK said nothing."""

    group: GroupInfo
    fetched_at: int
    description: str = ""
    status: str = ""
    activity: str = ""
    city: str | None = None
    site: str = ""
    links: int = 0
    contacts: int = 0
    addresses: int = 0
    addresses_enabled: bool = False
    market_enabled: bool | None = None
    cover_enabled: bool | None = None
    fixed_post: int | None = None
    counters: dict[str, int] | None = None
    can_message: bool | None = None
    wall_mode: int | None = None
    """0 disabled, 1 open, 2 limited, 3 restricted."""
    posts: list[AuditPost] = field(default_factory=list)
    posts_total: int | None = None
    """The wall's count of the community's own posts; ``None`` when the wall was not readable."""
    requests: int = 0


def audit_script(ref: PublicRef, count: int) -> str:
    if ref.screen_name is not None:
        name = json.dumps(ref.screen_name)
        return AUDIT_SCRIPT.format(
            resolve="true", name=name, group=name, domain=name, fields=GROUP_FIELDS, count=count
        )
    return AUDIT_SCRIPT.format(
        resolve="false",
        name='""',
        group=ref.group_id,
        domain=json.dumps(f"club{ref.group_id}"),
        fields=GROUP_FIELDS,
        count=count,
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    number = _int(value)
    return None if number is None else number != 0


def _media(item: Mapping[str, Any]) -> frozenset[str]:
    kinds: set[str] = set()
    sources = [item]
    history = item.get("copy_history")
    if isinstance(history, list) and history and isinstance(history[0], Mapping):
        sources.append(history[0])
    for source in sources:
        for attachment in source.get("attachments") or []:
            if isinstance(attachment, Mapping) and attachment.get("type") in _ATTACHMENT_FORMATS:
                kinds.add(str(attachment["type"]))
    return frozenset(kinds)


def parse_post(item: Mapping[str, Any]) -> AuditPost | None:
    if not {"id", "owner_id", "date"} <= item.keys():
        return None
    text = item.get("text") if isinstance(item.get("text"), str) else ""
    return AuditPost(
        post=WallPost.from_vk(item),
        media=_media(item),
        hashtags=tuple(_HASHTAG.findall(text or "")),
    )


def parse_community(
    item: Mapping[str, Any], wall: Any, fetched_at: int, requests: int
) -> CommunityData:
    """The audit's view of a ``groups_group_full`` object and a ``wall.get`` answer."""
    group = GroupInfo.from_vk(item)
    data = CommunityData(group=group, fetched_at=fetched_at, requests=requests)
    data.description = str(item.get("description") or "")
    data.status = str(item.get("status") or "")
    data.activity = str(item.get("activity") or "")
    city = item.get("city")
    if isinstance(city, Mapping) and isinstance(city.get("title"), str) and city["title"]:
        data.city = city["title"]
    data.site = str(item.get("site") or "").strip()
    data.links = len([x for x in item.get("links") or [] if isinstance(x, Mapping)])
    data.contacts = len([x for x in item.get("contacts") or [] if isinstance(x, Mapping)])
    addresses = item.get("addresses")
    if isinstance(addresses, Mapping):
        data.addresses_enabled = bool(addresses.get("is_enabled"))
        data.addresses = _int(addresses.get("count")) or 0
    market = item.get("market")
    if isinstance(market, Mapping):
        data.market_enabled = _flag(market.get("enabled"))
    cover = item.get("cover")
    if isinstance(cover, Mapping):
        data.cover_enabled = _flag(cover.get("enabled"))
    fixed = _int(item.get("fixed_post"))
    data.fixed_post = fixed if fixed else None
    counters = item.get("counters")
    if isinstance(counters, Mapping):
        data.counters = {
            str(k): int(v) for k, v in counters.items() if _int(v) is not None and v >= 0
        }
    data.can_message = _flag(item.get("can_message"))
    data.wall_mode = _int(item.get("wall"))
    if isinstance(wall, Mapping) and isinstance(wall.get("items"), list):
        data.posts_total = _int(wall.get("count"))
        posts = [parse_post(p) for p in wall["items"] if isinstance(p, Mapping)]
        data.posts = [p for p in posts if p is not None]
        if data.posts_total is None:
            data.posts_total = len(data.posts)
    return data


def _error_code(errors: Sequence[Mapping[str, Any]], method: str) -> int | None:
    for error in errors:
        if error.get("method") == method:
            return _int(error.get("error_code"))
    return None


async def _with_execute(client: VkClient, ref: PublicRef, count: int) -> CommunityData:
    tally = RequestTally()
    fetched_at = int(time.time())
    try:
        result = await client.execute(audit_script(ref, count), tally)
    except VkApiError as exc:
        raise CollectError(exc.check_code, None, f"execute: VK error {exc.vk_code}") from None
    answer = result.response if isinstance(result.response, Mapping) else {}
    item = first_group(answer.get("info"))
    if item is None:
        code = _error_code(result.errors, "groups.getById") or 100
        check_code = VkApiError("groups.getById", code).check_code
        if check_code != "not_found":
            raise CollectError(check_code, None, f"groups.getById: VK error {code}")
        explain_resolved(ref, answer.get("resolved"))
    check_group(GroupInfo.from_vk(item))
    wall = answer.get("wall")
    if not isinstance(wall, Mapping):
        wall_code = _error_code(result.errors, "wall.get")
        log.info("audit: wall of %s not readable (VK error %s)", ref.key, wall_code)
    return parse_community(item, wall, fetched_at, tally.count)


async def _with_calls(client: VkClient, ref: PublicRef, count: int) -> CommunityData:
    tally = RequestTally()
    fetched_at = int(time.time())
    try:
        answer = await client.call(
            "groups.getById", {"group_id": ref.api_id, "fields": GROUP_FIELDS}, tally
        )
    except VkApiError as exc:
        if exc.check_code != "not_found":
            detail = f"groups.getById: VK error {exc.vk_code}"
            raise CollectError(exc.check_code, None, detail) from None
        answer = None
    item = first_group(answer)
    if item is None:
        resolved = None
        if ref.screen_name is not None:
            resolved = await client.call(
                "utils.resolveScreenName", {"screen_name": ref.screen_name}, tally
            )
        explain_resolved(ref, resolved)
    group = GroupInfo.from_vk(item)
    check_group(group)
    params = {"owner_id": group.owner_id, "filter": "owner", "count": count}
    wall: Any = None
    try:
        wall = await client.call("wall.get", params, tally)
    except VkApiError as exc:
        if exc.check_code == "misconfigured":
            raise CollectError("misconfigured", None, f"wall.get: VK error {exc.vk_code}") from None
        log.info("audit: wall of %s not readable (VK error %d)", ref.key, exc.vk_code)
    return parse_community(item, wall, fetched_at, tally.count)


async def fetch_community(client: VkClient, ref: PublicRef, count: int) -> CommunityData:
    """The community and its ``count`` latest own posts; ``CollectError``/``VkUnavailable``."""
    if client.kind == "user":
        return await _with_execute(client, ref, count)
    return await _with_calls(client, ref, count)


__all__ = [
    "GROUP_FIELDS",
    "AuditPost",
    "CollectError",
    "CommunityData",
    "VkUnavailable",
    "audit_script",
    "fetch_community",
    "parse_community",
    "parse_post",
]
