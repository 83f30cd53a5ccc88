"""The issue's wall metrics: which posts count, and the three means over them."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.knowledge.models import AdPostsNorm
from advisor.vk.metrics import (
    WallPost,
    eligible_posts,
    er_percent,
    reach_percent,
    wall_metrics,
)

OWNER = -42
NOW = 1_700_000_000
DAY = 86_400
ADS = AdPostsNorm(section="Подбор подходящих пабликов", min_posts=5, max_posts=7)


def post(post_id: int, age_days: float = 2, **fields: Any) -> WallPost:
    values: dict[str, Any] = {
        "id": post_id,
        "owner_id": OWNER,
        "from_id": OWNER,
        "date": int(NOW - age_days * DAY),
        "likes": 10,
        "reposts": 2,
        "comments": 3,
        "views": 200,
    }
    values.update(fields)
    return WallPost(**values)


def test_from_vk_reads_counters_and_missing_fields() -> None:
    item = {
        "id": 5,
        "owner_id": OWNER,
        "from_id": OWNER,
        "date": NOW,
        "is_pinned": 1,
        "marked_as_ads": 1,
        "likes": {"count": 7, "user_likes": 0},
        "reposts": {"count": 2},
        "comments": {"count": 1, "can_post": 0},
        "views": {"count": 300},
    }
    parsed = WallPost.from_vk(item)
    assert (parsed.likes, parsed.reposts, parsed.comments, parsed.views) == (7, 2, 1, 300)
    assert parsed.is_pinned and parsed.marked_as_ads
    bare = WallPost.from_vk({"id": 6, "owner_id": OWNER, "from_id": 9, "date": NOW})
    assert (bare.activities, bare.views, bare.is_pinned, bare.marked_as_ads) == (
        0,
        None,
        False,
        False,
    )


def test_eligible_posts_exclude_pinned_fresh_and_foreign() -> None:
    posts = [
        post(1, age_days=3),
        post(2, age_days=5, is_pinned=True),
        post(3, age_days=0.5),  # younger than 24 hours
        post(4, age_days=1.0),  # exactly 24 hours: counts
        post(5, age_days=2, from_id=777),  # a member's post on the wall
        post(6, age_days=4, owner_id=-7, from_id=-7),  # another wall (a repost source)
        post(7, age_days=10),
    ]
    assert [p.id for p in eligible_posts(posts, OWNER, NOW)] == [4, 1, 7]


def test_er_is_mean_activities_over_members() -> None:
    posts = [post(1, likes=10, reposts=0, comments=0), post(2, likes=30, reposts=5, comments=5)]
    # (10/1000 + 40/1000) / 2 * 100 = 2.5
    assert er_percent(posts, 1000) == pytest.approx(2.5)
    assert er_percent([], 1000) is None
    assert er_percent(posts, 0) is None


def test_reach_only_over_posts_with_views() -> None:
    posts = [post(1, views=100), post(2, views=None), post(3, views=300)]
    assert reach_percent(posts, 1000) == pytest.approx(20.0)
    assert reach_percent([post(1, views=None)], 1000) is None
    assert reach_percent(posts, 0) is None


def test_wall_metrics_limit_and_ads() -> None:
    regular = [post(i, age_days=1 + i, views=100) for i in range(1, 41)]
    ads = [post(100 + i, age_days=1.5 + i, marked_as_ads=True, views=50) for i in range(9)]
    fresh_ad = post(200, age_days=0.2, marked_as_ads=True, views=1)
    result = wall_metrics(
        [*regular, *ads, fresh_ad],
        owner_id=OWNER,
        members=1000,
        fetched_at=NOW,
        limit=30,
        ad_norm=ADS,
    )
    assert result.posts_analyzed == 30
    # The 30 most recent eligible posts, newest first: both kinds interleave by date.
    dates = [p.date for p in result.posts]
    assert dates == sorted(dates, reverse=True)
    assert result.ad_posts_analyzed == 7  # the guide's 5–7: the seven most recent
    assert [p.id for p in result.ad_posts] == [100, 101, 102, 103, 104, 105, 106]
    assert result.ad_reach_percent == pytest.approx(5.0)
    analysed_ads = sum(p.marked_as_ads for p in result.posts)
    expected_reach = (analysed_ads * 50 + (30 - analysed_ads) * 100) / 30 / 1000 * 100
    assert result.reach_percent == pytest.approx(expected_reach)
    assert result.er_percent == pytest.approx(1.5)


def test_fewer_than_five_ads_give_no_ad_reach() -> None:
    posts = [post(i, marked_as_ads=i <= 4, views=100) for i in range(1, 11)]
    result = wall_metrics(
        posts, owner_id=OWNER, members=1000, fetched_at=NOW, limit=30, ad_norm=ADS
    )
    assert result.ad_posts_analyzed == 4
    assert result.ad_reach_percent is None
    assert result.reach_percent == pytest.approx(10.0)


def test_no_posts_no_numbers() -> None:
    result = wall_metrics(
        [post(1, is_pinned=True)],
        owner_id=OWNER,
        members=1000,
        fetched_at=NOW,
        limit=30,
        ad_norm=ADS,
    )
    assert (result.posts_analyzed, result.er_percent, result.reach_percent) == (0, None, None)
    assert (result.ad_posts_analyzed, result.ad_reach_percent) == (0, None)


# --- issue 15: the portrait and the money figures (pure) ---------------------------------------


def test_age_in_whole_years_and_city_matching() -> None:
    from datetime import date

    from advisor.vk.audience import age_band, age_of, norm_city

    today = date(2026, 12, 3)
    assert age_of({"bdate": "3.12.2000"}, today) == 26  # the birthday itself
    assert age_of({"bdate": "4.12.2000"}, today) == 25  # the day before it
    assert age_of({"bdate": "4.12"}, today) is None  # no year
    assert age_of({}, today) is None
    assert [age_band(a) for a in (17, 18, 24, 25, 44, 45)] == [
        "до 18",
        "18–24",
        "18–24",
        "25–34",
        "35–44",
        "45+",
    ]
    assert norm_city("  Королёв ") == norm_city("королев")


def test_weighted_shares_and_the_interval() -> None:
    from advisor.vk.audience import BlockTally, ratio_share

    # Two blocks standing for unequal parts of the list: the share weighs them.
    blocks = [BlockTally(0.75, 100, 100, 10), BlockTally(0.25, 100, 100, 90)]
    estimate = ratio_share(blocks, 100_000, whole=False)
    assert estimate is not None and estimate.percent == pytest.approx(30.0)
    assert estimate.ci95[0] < 30 < estimate.ci95[1]
    exact = ratio_share(blocks, 200, whole=True)
    assert exact is not None and exact.ci95 == (exact.percent, exact.percent)
    assert ratio_share([BlockTally(1.0, 10, 0, 0)], 10, whole=True) is None


def test_ad_load_er_by_views_and_price() -> None:
    from advisor.vk.money import ad_load, er_views_percent, expected_views, price, round_half_up

    posts = [
        post(1, 2, views=1000, likes=50, reposts=0, comments=0, marked_as_ads=True),
        post(2, 3, views=2000, likes=50, reposts=0, comments=0),
        post(3, 6, views=None),
    ]
    load = ad_load(posts)
    assert load.ad_share_percent == pytest.approx(100 / 3)
    assert load.ad_posts_per_day == pytest.approx(1 / 4)
    assert ad_load(posts[:1]).ad_posts_per_day == 0
    assert er_views_percent(posts) == pytest.approx((5 + 2.5) / 2)
    assert expected_views(posts, 7) == 1500  # fewer than 3 ad posts: all posts with views
    ads = [post(i, i, views=v, marked_as_ads=True) for i, v in ((1, 100), (2, 301), (3, 200))]
    assert expected_views([*ads, *posts[1:]], 7) == 200
    assert round_half_up(2.5) == 3 and float(round_half_up(0.125, 2)) == 0.13
    figures = price(3000.0, 1500, 20.0)
    assert figures is not None
    assert (figures.cpm_rub, figures.target_cpm_rub) == (2000.0, 10000.0)
    assert price(3000.0, None, 20.0) is None and price(None, 1500, None) is None
