"""Content mix, rhythm and engagement (pure), and items VK leaves out of its answer."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.audit.content import analyse_content, post_format
from advisor.audit.fetch import AuditPost, parse_community, parse_post
from advisor.audit.rules import load_rules
from advisor.audit.service import evaluate
from advisor.knowledge.loader import load_knowledge
from tests.fakes.vk_data import DAY, PostSpec
from tests.fakes.vk_objects import post_object

RULES = load_rules()
KNOWLEDGE = load_knowledge()
OWNER = -500
NOW = 1_750_000_000


def vk_post(spec: PostSpec) -> AuditPost:
    """The post as the fake VK API renders it, parsed as the audit parses VK's answer."""
    parsed = parse_post(post_object(spec, OWNER))
    assert parsed is not None
    return parsed


def post(n: int, kinds: tuple[str, ...] = (), likes: int = 0, **fields: Any) -> AuditPost:
    return vk_post(
        PostSpec(id=100 + n, date=NOW - (n + 2) * DAY, attachments=kinds, likes=likes, **fields)
    )


def content(posts: list[AuditPost], members: int = 1000):
    return analyse_content(
        posts, owner_id=OWNER, members=members, fetched_at=NOW, rules=RULES.content
    )


def test_format_follows_the_priority() -> None:
    order = RULES.content.formats
    assert post_format(post(0, ("photo", "clip")), order) == "clip"
    assert post_format(post(0, ("photo", "video")), order) == "video"
    assert post_format(post(0, ("photo", "poll")), order) == "poll"
    assert post_format(post(0, ("link",)), order) == "text"  # a link preview is a text post
    assert post_format(post(0, ("doc", "audio")), order) == "text"
    assert post_format(post(0), order) == "text"


def test_a_repost_counts_by_its_original() -> None:
    original = PostSpec(id=7, date=NOW - 9 * DAY, owner_id=-900, attachments=("video",))
    repost = vk_post(PostSpec(id=1, date=NOW - 2 * DAY, copy_history=(original,)))
    assert post_format(repost, RULES.content.formats) == "video"


def test_hashtags_are_read_from_the_text() -> None:
    found = post(0, text="Совет #Полезныйсовет@salon_monespb и #акция, #Новинки2025")
    assert found.hashtags == ("Полезныйсовет@salon_monespb", "акция", "Новинки2025")


def test_others_posts_and_the_pin_are_not_the_feeds_mix() -> None:
    posts = [
        post(0, ("photo",), likes=10),
        post(1, ("clip",), likes=10, from_id=12345),  # a member's post on an open wall
        post(2, ("video",), likes=10, is_pinned=True),
    ]
    found = content(posts)
    assert found.posts_analyzed == 1
    assert [f.format for f in found.formats] == ["photo"]


def test_best_format_needs_two_formats_and_enough_posts() -> None:
    only_photos = content([post(n, ("photo",), likes=n) for n in range(5)])
    assert only_photos.best_format is None  # nothing to compare with
    few_clips = content(
        [post(0, ("clip",), likes=100)] + [post(n, ("photo",), likes=5) for n in range(1, 5)]
    )
    assert few_clips.best_format is None  # one clip proves nothing
    enough = content(
        [post(n, ("clip",), likes=100) for n in range(2)]
        + [post(n, ("photo",), likes=5) for n in range(2, 6)]
    )
    assert enough.best_format == "clip"
    clip = next(f for f in enough.formats if f.format == "clip")
    assert clip.er_percent == pytest.approx(10.0)  # (100 likes) / 1000 members × 100


def test_a_tie_has_no_best_format() -> None:
    tie = content([post(n, ("clip" if n < 2 else "photo",), likes=7) for n in range(4)])
    assert tie.best_format is None


def test_engagement_skips_posts_younger_than_a_day() -> None:
    fresh = vk_post(PostSpec(id=999, date=NOW - 3600, attachments=("clip",), likes=5000))
    posts = [fresh] + [post(n, ("clip",), likes=10) for n in range(2)]
    posts += [post(n, ("photo",), likes=20) for n in range(2, 4)]
    found = content(posts)
    clip = next(f for f in found.formats if f.format == "clip")
    assert clip.posts == 3 and clip.mean_activities == 10  # counted in the mix, not in ER
    assert found.best_format == "photo"
    assert found.days_since_last_post == pytest.approx(1 / 24)


def test_rhythm_and_absent_formats() -> None:
    weekly = content([post(n * 7, ("photo",)) for n in range(4)])
    assert weekly.posts_per_week == pytest.approx(4 / (3 * 7 + 2) * 7)
    assert weekly.absent == ["clip", "video"]
    assert not weekly.stale
    single = content([post(0, ("video",))])
    assert single.posts_per_week is None and single.days_since_last_post == pytest.approx(2)
    assert content([]).posts_analyzed == 0 and content([]).days_since_last_post is None
    old = content([post(40, ("photo",))])
    assert old.stale


def test_zero_members_still_ranks_by_activities() -> None:
    found = content(
        [post(n, ("clip",), likes=50) for n in range(2)]
        + [post(n, ("photo",), likes=5) for n in range(2, 4)],
        members=0,
    )
    assert found.best_format == "clip"
    assert all(f.er_percent is None for f in found.formats)


# --- fields VK may leave out -----------------------------------------------------------------


def group(**fields: Any) -> dict[str, Any]:
    base = {
        "id": 500,
        "name": "Салон красоты Тверь",
        "screen_name": "salon",
        "is_closed": 0,
        "type": "page",
        "members_count": 300,
        "description": "Салон красоты в Твери. " * 6,
        "can_message": 1,
        "site": "https://salon.example",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def judged(item: dict[str, Any], wall: Any = None) -> dict[str, str]:
    data = parse_community(item, wall, NOW, 1)
    result = evaluate(
        data, input_text="salon", knowledge=KNOWLEDGE, rules=RULES, community_type="commercial"
    )
    return {i.id: i.status for i in result.items}


def test_absent_fields_are_unknown_not_missing() -> None:
    statuses = judged(group())  # no cover, market, counters; the wall not read
    for item_id in ("cover", "goods", "media_sections", "starter_posts", "pinned_post"):
        assert statuses[item_id] == "unknown", item_id
    assert statuses["info_block"] == "ok"
    assert statuses["links_contacts"] == "ok"


def test_fixed_post_proves_the_pin_without_the_wall() -> None:
    assert judged(group(fixed_post=42))["pinned_post"] == "ok"


def test_market_services_count_as_goods() -> None:
    item = group(market={"enabled": 1}, counters={"market_services": 3})
    assert judged(item)["goods"] == "ok"
    assert judged(group(market={"enabled": 1}, counters={}))["goods"] == "missing"
