"""The issue's wall metrics, exactly as defined there (pure functions, no I/O).

* Posts analysed: up to N most recent wall posts that are not pinned, were published at least
  24 hours before the fetch, and were posted by the community itself (``from_id == owner_id``).
* ``er_percent``: mean over those posts of (likes + reposts + comments) / members × 100.
* ``reach_percent``: mean over those of them that carry ``views`` of views / members × 100.
* Ad posts: the eligible posts with ``marked_as_ads = 1``; ``ad_reach_percent`` is the same mean
  over the most recent 5–7 of them (the guide's «Соберите 5-7 постов»); with fewer than 5 it is
  ``None`` and the verdict relies on the regular posts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from advisor import formulas
from advisor.knowledge.models import AdPostsNorm

MIN_AGE_SECONDS = 24 * 3600


class WallPost(BaseModel):
    """The fields of a VK wall post the metrics read."""

    model_config = ConfigDict(frozen=True)

    id: int
    owner_id: int
    from_id: int
    date: int = Field(description="unix time of publication")
    is_pinned: bool = False
    marked_as_ads: bool = False
    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    views: int | None = Field(default=None, ge=0)

    @classmethod
    def from_vk(cls, item: Mapping[str, Any]) -> WallPost:
        """From a ``wall_wallpost_full`` object: absent counters are 0, absent views stay None."""

        def count(name: str) -> int | None:
            value = item.get(name)
            if isinstance(value, Mapping):
                value = value.get("count")
            return int(value) if isinstance(value, int | float) and value >= 0 else None

        return cls(
            id=int(item["id"]),
            owner_id=int(item["owner_id"]),
            from_id=int(item.get("from_id", item["owner_id"])),
            date=int(item["date"]),
            is_pinned=bool(item.get("is_pinned", 0)),
            marked_as_ads=bool(item.get("marked_as_ads", 0)),
            likes=count("likes") or 0,
            reposts=count("reposts") or 0,
            comments=count("comments") or 0,
            views=count("views"),
        )

    @property
    def activities(self) -> int:
        return formulas.activities_count(self.likes, self.reposts, self.comments)


def eligible_posts(posts: Iterable[WallPost], owner_id: int, fetched_at: int) -> list[WallPost]:
    """Not pinned, at least 24 h old at ``fetched_at``, by the community; newest first."""
    cutoff = fetched_at - MIN_AGE_SECONDS
    chosen = {
        post.id: post
        for post in posts
        if not post.is_pinned
        and post.date <= cutoff
        and post.from_id == owner_id
        and post.owner_id == owner_id
    }
    return sorted(chosen.values(), key=lambda post: (post.date, post.id), reverse=True)


def er_percent(posts: Sequence[WallPost], members: int) -> float | None:
    """Mean of (likes + reposts + comments) / members × 100; ``None`` without posts or members."""
    return formulas.engagement_percent(sum(p.activities for p in posts), members, len(posts))


def reach_percent(posts: Sequence[WallPost], members: int) -> float | None:
    """Mean of views / members × 100 over the posts that carry views; ``None`` if none do."""
    viewed = [p.views for p in posts if p.views is not None]
    return formulas.reach_percent(sum(viewed), members, len(viewed))


def post_er_percent(post: WallPost, members: int) -> float | None:
    return formulas.engagement_percent(post.activities, members)


def post_reach_percent(post: WallPost, members: int) -> float | None:
    return None if post.views is None else formulas.reach_percent(post.views, members)


@dataclass(frozen=True)
class WallMetrics:
    posts: list[WallPost]
    """The analysed posts, newest first."""
    ad_posts: list[WallPost]
    """The most recent eligible ad posts (at most the norm's maximum), newest first."""
    er_percent: float | None
    reach_percent: float | None
    ad_reach_percent: float | None

    @property
    def posts_analyzed(self) -> int:
        return len(self.posts)

    @property
    def ad_posts_analyzed(self) -> int:
        return len(self.ad_posts)


def wall_metrics(
    posts: Iterable[WallPost],
    *,
    owner_id: int,
    members: int,
    fetched_at: int,
    limit: int,
    ad_norm: AdPostsNorm,
) -> WallMetrics:
    """Every wall metric of the issue for one public."""
    eligible = eligible_posts(posts, owner_id, fetched_at)
    analysed = eligible[:limit]
    ads = [post for post in eligible if post.marked_as_ads][: ad_norm.max_posts]
    ad_reach = reach_percent(ads, members) if len(ads) >= ad_norm.min_posts else None
    return WallMetrics(
        posts=analysed,
        ad_posts=ads,
        er_percent=er_percent(analysed, members),
        reach_percent=reach_percent(analysed, members),
        ad_reach_percent=ad_reach,
    )
