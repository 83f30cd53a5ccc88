"""What a visitor finds in the feed: the mix of formats, the rhythm, what earns engagement.

A post's format is the first of ``rules.content.formats`` among its media (a repost counts by its
original); a post without photo, video, clip, article or poll is text. Engagement is the guide's
ER of the community: (likes + reposts + comments) / members × 100, averaged per format over the
posts the public check would analyse (``advisor.vk.metrics.eligible_posts``: the community's own,
not pinned, at least a day old). Within one community members are the same for every post, so
the ranking by ER is the ranking by activities per post; it also works with 0 members.

Pure functions over already collected posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.audit.rules import ContentRules
from advisor.vk.metrics import eligible_posts, er_percent

if TYPE_CHECKING:
    from advisor.audit.fetch import AuditPost

DAY = 86_400
WEEK_DAYS = 7


def post_format(post: AuditPost, order: Sequence[str]) -> str:
    return next((kind for kind in order if kind in post.media), "text")


@dataclass(frozen=True)
class FormatStats:
    format: str
    posts: int
    share_percent: float
    engaged_posts: int
    """Posts of this format the engagement is averaged over."""
    mean_activities: float | None
    er_percent: float | None


@dataclass(frozen=True)
class ContentFindings:
    posts_analyzed: int
    formats: list[FormatStats]
    """Formats present among the recent posts, most frequent first."""
    posts_per_week: float | None
    days_since_last_post: float | None
    best_format: str | None
    absent: list[str]
    """Formats of ``rules.when_absent`` missing from the recent posts."""
    stale: bool

    @property
    def formats_used(self) -> int:
        return len(self.formats)

    def count(self, kind: str) -> int:
        return next((f.posts for f in self.formats if f.format == kind), 0)


def _rhythm(dates: Sequence[int], fetched_at: int) -> tuple[float | None, float | None]:
    if not dates:
        return None, None
    newest, oldest = max(dates), min(dates)
    since_last = max(0.0, (fetched_at - newest) / DAY)
    if len(dates) < 2:
        return None, since_last
    # The span runs to the fetch, not to the newest post, so a feed that stopped reads slower.
    span_days = max((fetched_at - oldest) / DAY, WEEK_DAYS)
    return len(dates) / span_days * WEEK_DAYS, since_last


def analyse_content(
    posts: Sequence[AuditPost],
    *,
    owner_id: int,
    members: int,
    fetched_at: int,
    rules: ContentRules,
) -> ContentFindings:
    own = [
        p
        for p in posts
        if p.post.owner_id == owner_id and p.post.from_id == owner_id and not p.post.is_pinned
    ]
    by_format: dict[str, list[AuditPost]] = {}
    for post in own:
        by_format.setdefault(post_format(post, rules.formats), []).append(post)
    eligible_ids = {p.id for p in eligible_posts([post.post for post in own], owner_id, fetched_at)}
    stats: list[FormatStats] = []
    for kind in rules.formats:
        group = by_format.get(kind)
        if not group:
            continue
        engaged = [p.post for p in group if p.post.id in eligible_ids]
        mean = sum(p.activities for p in engaged) / len(engaged) if engaged else None
        stats.append(
            FormatStats(
                format=kind,
                posts=len(group),
                share_percent=len(group) / len(own) * 100,
                engaged_posts=len(engaged),
                mean_activities=mean,
                er_percent=er_percent(engaged, members) if engaged else None,
            )
        )
    stats.sort(key=lambda s: (-s.posts, rules.formats.index(s.format)))
    ranked = [
        s
        for s in stats
        if s.mean_activities is not None and s.engaged_posts >= rules.min_posts_per_format
    ]
    best = None
    if len(ranked) >= 2:
        top = max(ranked, key=lambda s: s.mean_activities or 0.0)
        # A tie is no winner: nothing tells the owner which format to post more.
        if sum(1 for s in ranked if s.mean_activities == top.mean_activities) == 1:
            best = top.format
    per_week, since_last = _rhythm([p.post.date for p in own], fetched_at)
    present = {s.format for s in stats}
    return ContentFindings(
        posts_analyzed=len(own),
        formats=stats,
        posts_per_week=per_week,
        days_since_last_post=since_last,
        best_format=best,
        absent=[a.format for a in rules.when_absent if a.format not in present],
        stale=since_last is not None and since_last > rules.stale_after_days,
    )
