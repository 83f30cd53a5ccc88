"""A placed post's public figures from VK: ``wall.getById`` (user or service token).

VK shows views, likes, reposts and comments of any open post, and, with ``extended``, the size of
the community whose wall carries it (for the reach). Clicks, joins and hides are only in the
admin's statistics: the person still sends those.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from advisor.texts import t
from advisor.tracker.models import PostRef

if TYPE_CHECKING:
    from advisor.vk.api import VkClient

log = logging.getLogger(__name__)

# wall.getById takes up to 100 posts per call.
POSTS_PER_CALL = 100
FailureCode = Literal["unavailable", "misconfigured"]


@dataclass(frozen=True)
class PostFigures:
    """What VK reports about one post; ``None`` where VK has no such counter."""

    views: int | None
    likes: int | None
    reposts: int | None
    comments: int | None
    members: int | None = None
    public_name: str | None = None

    def counts(self) -> dict[str, int | None]:
        return {
            "views": self.views,
            "likes": self.likes,
            "reposts": self.reposts,
            "comments": self.comments,
            "members": self.members,
        }


class PostFiguresError(Exception):
    """VK could not be asked. ``message`` is the Russian text for the person."""

    def __init__(self, code: FailureCode) -> None:
        self.code: FailureCode = code
        self.message = t(f"tracker.vk.{code}")
        super().__init__(code)


class PostFiguresSource(Protocol):
    async def fetch(self, posts: Sequence[PostRef]) -> dict[str, PostFigures]:
        """Figures by ``PostRef.key``; a post VK did not return (deleted, hidden) is absent."""
        ...

    async def community(self, owner_id: int) -> tuple[str | None, int | None]:
        """The name and member count of the community whose wall is ``owner_id``."""
        ...


def _count(item: Mapping[str, Any], name: str) -> int | None:
    counter = item.get(name)
    if isinstance(counter, Mapping) and isinstance(counter.get("count"), int):
        return int(counter["count"])
    return None


def figures_from_response(response: Any) -> dict[str, PostFigures]:
    """Parse a ``wall.getById`` (extended) response; anything malformed is skipped."""
    if not isinstance(response, Mapping):
        return {}
    groups: dict[int, Mapping[str, Any]] = {}
    for group in response.get("groups") or []:
        if isinstance(group, Mapping) and isinstance(group.get("id"), int):
            groups[group["id"]] = group
    result: dict[str, PostFigures] = {}
    for item in response.get("items") or []:
        if not isinstance(item, Mapping):
            continue
        owner_id, post_id = item.get("owner_id"), item.get("id")
        if not isinstance(owner_id, int) or not isinstance(post_id, int):
            continue
        group = groups.get(-owner_id, {})
        members = group.get("members_count")
        name = group.get("name")
        result[f"{owner_id}_{post_id}"] = PostFigures(
            views=_count(item, "views"),
            likes=_count(item, "likes"),
            reposts=_count(item, "reposts"),
            comments=_count(item, "comments"),
            members=members if isinstance(members, int) else None,
            public_name=name.strip()[:100] if isinstance(name, str) and name.strip() else None,
        )
    return result


class VkPostFigures:
    """``PostFiguresSource`` over the VK API with the VK gateway's reader client (user or
    service token; retries, and the rate limit it shares with the public check and the audit)."""

    def __init__(self, client: VkClient) -> None:
        self._client = client

    async def community(self, owner_id: int) -> tuple[str | None, int | None]:
        """``groups.getById`` for a post VK did not return: its public is still known."""
        from advisor.vk.api import VkApiError, VkUnavailable

        if owner_id >= 0:
            return None, None
        try:
            response = await self._client.call(
                "groups.getById", {"group_ids": str(-owner_id), "fields": "members_count"}
            )
        except VkUnavailable as exc:
            log.warning("groups.getById: VK unavailable (%s)", exc.cause)
            raise PostFiguresError("unavailable") from None
        except VkApiError as exc:
            log.warning("groups.getById: VK error %s", exc.vk_code)
            return None, None
        groups = response.get("groups") if isinstance(response, Mapping) else response
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, Mapping) and group.get("id") == -owner_id:
                name, members = group.get("name"), group.get("members_count")
                return (
                    name.strip()[:100] if isinstance(name, str) and name.strip() else None,
                    members if isinstance(members, int) else None,
                )
        return None, None

    async def fetch(self, posts: Sequence[PostRef]) -> dict[str, PostFigures]:
        from advisor.vk.api import VkApiError, VkUnavailable

        keys = list(dict.fromkeys(post.key for post in posts))
        if not keys:
            return {}
        result: dict[str, PostFigures] = {}
        try:
            for start in range(0, len(keys), POSTS_PER_CALL):
                chunk = keys[start : start + POSTS_PER_CALL]
                response = await self._client.call(
                    "wall.getById",
                    {"posts": ",".join(chunk), "extended": 1, "fields": "members_count"},
                )
                result.update(figures_from_response(response))
        except VkUnavailable as exc:
            log.warning("wall.getById: VK unavailable (%s)", exc.cause)
            raise PostFiguresError("unavailable") from None
        except VkApiError as exc:
            log.warning("wall.getById: VK error %s", exc.vk_code)
            code: FailureCode = (
                "misconfigured" if exc.check_code == "misconfigured" else "unavailable"
            )
            raise PostFiguresError(code) from None
        return result
