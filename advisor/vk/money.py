"""What an ad post in a public would cost and how loaded with ads its wall is (pure functions).

Exactly the fit issue's definitions, over the analysed posts (``metrics.wall_metrics``):

* ``ad_load``: the share of analysed posts marked as ads, and ad posts per day over the days
  from the oldest to the newest analysed post (no +1; 0 with fewer than 2 posts).
* ``er_views_percent``: mean over the analysed posts with views of
  (likes + reposts + comments) / views × 100.
* ``price``: ``expected_views`` is the median views of the most recent ad posts among the
  analysed ones (up to the guide's 7) when at least 3 of them carry views, else the median views
  of the analysed posts, rounded half up; ``cpm`` = rub / expected_views × 1000 and
  ``target_cpm`` = rub / (expected_views × target_percent / 100) × 1000, both to 0.01.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from advisor.vk.fit import AdLoadOut, PriceOut
from advisor.vk.metrics import WallPost

DAY_SECONDS = 86_400
MIN_AD_POSTS_FOR_PRICE = 3


def round_half_up(value: float, digits: int = 0) -> Decimal:
    """``value`` rounded half up (2.5 → 3, 0.125 → 0.13), from its shortest decimal form."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def ad_load(posts: Sequence[WallPost]) -> AdLoadOut:
    """Over the analysed posts (any order)."""
    if not posts:
        return AdLoadOut(ad_share_percent=0.0, ad_posts_per_day=0.0)
    ads = sum(1 for p in posts if p.marked_as_ads)
    share = ads / len(posts) * 100
    dates = [p.date for p in posts]
    days = (max(dates) - min(dates)) / DAY_SECONDS
    per_day = ads / days if len(posts) >= 2 and days > 0 else 0.0
    return AdLoadOut(ad_share_percent=share, ad_posts_per_day=per_day)


def er_views_percent(posts: Sequence[WallPost]) -> float | None:
    """Mean of (likes + reposts + comments) / views × 100 over posts with views (> 0)."""
    rates = [p.activities / p.views * 100 for p in posts if p.views]
    return sum(rates) / len(rates) if rates else None


def expected_views(posts: Sequence[WallPost], max_ad_posts: int) -> int | None:
    """The views one more ad post may expect; None when no analysed post carries views."""
    newest_first = sorted(posts, key=lambda p: (p.date, p.id), reverse=True)
    ads = [p.views for p in newest_first if p.marked_as_ads and p.views is not None]
    ads = ads[:max_ad_posts]
    if len(ads) >= MIN_AD_POSTS_FOR_PRICE:
        return int(round_half_up(median(ads)))
    views = [p.views for p in newest_first if p.views is not None]
    return int(round_half_up(median(views))) if views else None


def price(rub: float | None, views: int | None, target_percent: float | None) -> PriceOut | None:
    """The price's figures; None without a price or without expected views."""
    if rub is None or not views:
        return None
    cpm = float(round_half_up(rub / views * 1000, 2))
    target_cpm = None
    if target_percent:
        target_cpm = float(round_half_up(rub / (views * target_percent / 100) * 1000, 2))
    return PriceOut(rub=rub, expected_views=views, cpm_rub=cpm, target_cpm_rub=target_cpm)
