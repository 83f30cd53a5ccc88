"""Rendering of fake VK data as the JSON objects VK API 5.199 returns."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from .vk_data import CITIES, DAY, Community, Member, PostSpec

_CITY_TITLES = dict(CITIES)
_CDN = "https://sun9-1.userapi.com/impg"
# Without `fields`, groups.getById answers these only.
GROUP_BASE_FIELDS = ("id", "name", "screen_name", "is_closed", "type")


def _photo_urls(kind: str, object_id: int, present: bool) -> dict[str, str]:
    if not present:
        stub = "community" if kind == "group" else "camera"
        return {f"photo_{n}": f"https://vk.com/images/{stub}_{n}.png" for n in (50, 100, 200)}
    return {f"photo_{n}": f"{_CDN}/{kind}{object_id}_{n}.jpg" for n in (50, 100, 200)}


def access_key(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:18]


def group_object(
    community: Community, fields: Collection[str], *, user_viewer: bool
) -> dict[str, Any]:
    """A groups_group_full object with the base fields and the requested `fields`."""
    spec = community.spec
    group: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "screen_name": spec.screen_name,
        "is_closed": spec.is_closed,
        "type": spec.type,
    }
    if spec.deactivated:
        group["deactivated"] = spec.deactivated
    if user_viewer:
        group |= {"is_admin": 0, "is_member": 0, "is_advertiser": 0}
    group |= _photo_urls("group", spec.id, spec.has_photo and not spec.deactivated)
    if spec.type == "event" and spec.start_date is not None:
        group["start_date"] = spec.start_date
    if spec.deactivated:
        return group  # VK says nothing more about a deleted or banned community
    wanted = set(fields)
    for name in wanted:
        value = _group_field(community, name)
        if value is not None:
            group[name] = value
    return group


def _group_field(community: Community, name: str) -> Any:
    spec = community.spec
    if name == "members_count":
        return spec.members_count
    if name == "description":
        return spec.description
    if name == "status":
        return spec.status
    if name == "activity":
        return spec.activity
    if name == "verified":
        return int(spec.verified)
    if name == "has_photo":
        return int(spec.has_photo)
    if name == "site":
        return spec.site
    if name == "wall":
        return spec.wall
    if name == "age_limits":
        return spec.age_limits
    if name == "can_message":
        return int(spec.can_message)
    if name == "is_messages_blocked":
        return 0
    if name == "trending":
        return 0
    if name == "city" and spec.city:
        city_id = next((cid for cid, title in CITIES if title == spec.city), 1)
        return {"id": city_id, "title": spec.city}
    if name == "cover":
        if not spec.cover:
            return {"enabled": 0}
        return {
            "enabled": 1,
            "images": [
                {"url": f"{_CDN}/cover{spec.id}_{w}.jpg", "width": w, "height": w // 4}
                for w in (200, 400, 795, 1080, 1590)
            ],
        }
    if name == "addresses":
        info: dict[str, Any] = {"is_enabled": spec.addresses > 0}
        if spec.addresses:
            info |= {"main_address_id": spec.id * 10 + 1, "count": spec.addresses}
        return info
    if name == "links":
        return [
            {
                "id": index + 1,
                "url": url,
                "name": url.split("//", 1)[-1].split("/", 1)[0],
                "desc": "Ссылка",
                "edit_title": 1,
                "photo_50": f"{_CDN}/link{index}_50.png",
                "photo_100": f"{_CDN}/link{index}_100.png",
            }
            for index, url in enumerate(spec.links)
        ]
    if name == "contacts":
        return [
            {"user_id": community.member_base - 1 - n, "desc": "Администратор"}
            for n in range(spec.contacts)
        ]
    if name == "market":
        if not spec.market_enabled:
            return {"enabled": 0}
        return {
            "enabled": 1,
            "type": "advanced",
            "currency_text": "российский рубль",
            "currency": {"id": 643, "name": "RUB", "title": "₽"},
            "main_album_id": 0,
        }
    if name == "fixed_post":
        pinned = community.post_at(0) if community.posts_count else None
        return pinned.id if pinned is not None and pinned.is_pinned else None
    if name == "counters":
        if spec.counters is None:
            return None
        counters = {"photos": 120, "albums": 4, "videos": 10, "topics": 2, "articles": 1}
        counters |= {"clips": 5, "docs": 0}
        if spec.market_items:
            counters["market"] = spec.market_items
        if spec.addresses:
            counters["addresses"] = spec.addresses
        return counters | dict(spec.counters)
    if name == "members_count_text":
        return f"{spec.members_count} подписчиков"
    return None


def user_object(member: Member, fields: Collection[str], now: int) -> dict[str, Any]:
    """A users_user_full object as users.get / groups.getMembers(fields=...) return it."""
    user: dict[str, Any] = {
        "id": member.id,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "can_access_closed": not member.is_closed,
        "is_closed": member.is_closed,
    }
    if member.deactivated:
        user["deactivated"] = member.deactivated
    alive = member.deactivated is None
    for name in fields:
        if name == "last_seen" and alive and member.last_seen is not None:
            user["last_seen"] = {"time": member.last_seen, "platform": member.platform}
        elif name == "online":
            recent = alive and member.last_seen is not None and now - member.last_seen < 300
            user["online"] = int(recent)
        elif name == "sex":
            user["sex"] = member.sex
        elif name == "city" and alive and member.city_id is not None:
            title = member.city_title or _CITY_TITLES[member.city_id]
            user["city"] = {"id": member.city_id, "title": title}
        elif name == "country" and alive:
            user["country"] = {"id": 1, "title": "Россия"}
        elif name in {"photo_50", "photo_100", "photo_200"}:
            stub = f"https://vk.com/images/deactivated_{name[6:]}.png"
            user[name] = f"{_CDN}/u{member.id}_{name[6:]}.jpg" if alive else stub
        elif name == "has_photo":
            user["has_photo"] = int(alive)
        elif name in {"domain", "screen_name"}:
            user[name] = f"id{member.id}"
        elif name == "bdate" and alive and member.bdate and not member.is_closed:
            user["bdate"] = member.bdate
        elif name == "verified":
            user["verified"] = 0
    return user


def attachment_object(kind: str, owner_id: int, post: PostSpec, n: int) -> dict[str, Any]:
    """One wall attachment of `kind`; ids derive from the post so they are stable."""
    item_id = post.id * 10 + n + 1
    key = access_key(kind, owner_id, item_id)
    if kind == "photo":
        return {
            "type": "photo",
            "photo": {
                "id": 457_000_000 + item_id,
                "album_id": -7,
                "owner_id": owner_id,
                "user_id": 100,
                "date": post.date,
                "text": "",
                "has_tags": False,
                "access_key": key,
                "sizes": [
                    {
                        "type": t,
                        "width": w,
                        "height": w * 3 // 4,
                        "url": f"{_CDN}/p{item_id}{t}.jpg",
                    }
                    for t, w in (("s", 75), ("m", 130), ("x", 604), ("y", 807))
                ],
            },
        }
    if kind in {"video", "clip"}:
        video = {
            "id": 456_000_000 + item_id,
            "owner_id": owner_id,
            "title": "Видео" if kind == "video" else "Клип",
            "duration": 95 if kind == "video" else 24,
            "date": post.date,
            "views": (post.views or 0) * 2,
            "comments": 0,
            "type": "video" if kind == "video" else "short_video",
            "access_key": key,
            "image": [{"url": f"{_CDN}/v{item_id}.jpg", "width": 320, "height": 240}],
        }
        return {"type": kind, kind: video}
    if kind == "article":
        return {
            "type": "article",
            "article": {
                "id": item_id,
                "owner_id": owner_id,
                "title": "Статья",
                "subtitle": "",
                "url": f"https://vk.com/@club{-owner_id}-article-{item_id}",
                "views": post.views or 0,
                "state": "available",
                "published_date": post.date,
                "access_key": key,
            },
        }
    if kind == "poll":
        votes = post.likes // 2
        return {
            "type": "poll",
            "poll": {
                "id": item_id,
                "owner_id": owner_id,
                "created": post.date,
                "question": "Что вам интереснее?",
                "votes": votes,
                "answers": [
                    {"id": 1, "text": "Новинки", "votes": votes - votes // 3, "rate": 66.7},
                    {"id": 2, "text": "Скидки", "votes": votes // 3, "rate": 33.3},
                ],
                "anonymous": False,
                "multiple": False,
                "end_date": 0,
                "closed": False,
                "is_board": False,
                "can_edit": False,
                "can_vote": True,
                "can_report": True,
                "can_share": True,
                "disable_unvote": False,
            },
        }
    if kind == "link":
        return {
            "type": "link",
            "link": {
                "url": "https://example.ru/promo",
                "title": "Акция",
                "caption": "example.ru",
                "description": "",
                "is_favorite": False,
            },
        }
    if kind == "doc":
        return {
            "type": "doc",
            "doc": {
                "id": item_id,
                "owner_id": owner_id,
                "title": "price.pdf",
                "size": 120_000,
                "ext": "pdf",
                "date": post.date,
                "type": 1,
                "url": f"https://vk.com/doc{owner_id}_{item_id}",
            },
        }
    if kind == "audio":
        return {
            "type": "audio",
            "audio": {
                "id": item_id,
                "owner_id": owner_id,
                "artist": "Исполнитель",
                "title": "Трек",
                "duration": 180,
                "date": post.date,
            },
        }
    raise ValueError(f"unknown attachment kind {kind!r}")


def post_object(post: PostSpec, wall_owner_id: int) -> dict[str, Any]:
    """A wall_wallpost_full object; `is_pinned` appears only on the pinned post, as in VK."""
    owner_id = post.owner_id if post.owner_id is not None else wall_owner_id
    item: dict[str, Any] = {
        "id": post.id,
        "owner_id": owner_id,
        "from_id": post.from_id if post.from_id is not None else owner_id,
        "date": post.date,
        "post_type": post.post_type,
        "text": post.text,
        "marked_as_ads": int(post.marked_as_ads),
        "attachments": [
            attachment_object(kind, owner_id, post, n) for n, kind in enumerate(post.attachments)
        ],
        "post_source": {"type": "vk"},
        "comments": {"count": post.comments, "can_post": 1, "groups_can_post": True},
        "likes": {
            "count": post.likes,
            "user_likes": 0,
            "can_like": 1,
            "can_publish": 1,
            "repost_disabled": False,
        },
        "reposts": {
            "count": post.reposts,
            "wall_count": post.reposts,
            "mail_count": 0,
            "user_reposted": 0,
        },
        "hash": access_key("post", owner_id, post.id),
    }
    if post.is_pinned:
        item["is_pinned"] = 1
    if post.views is not None:
        item["views"] = {"count": post.views}
    if post.copy_history:
        item["copy_history"] = [post_object(original, owner_id) for original in post.copy_history]
    return item


def stats_periods(
    community: Community, interval: str, count: int, until: int
) -> list[dict[str, Any]]:
    """stats.get periods, newest first, derived from the public's reach parameters."""
    spec = community.spec
    length = {"day": DAY, "week": 7 * DAY, "month": 30 * DAY, "year": 365 * DAY}.get(interval, DAY)
    per_day = (spec.views_per_post or 0) / max(spec.post_interval_days, 0.1)
    periods = []
    end = until - until % DAY + DAY
    for n in range(count):
        days = length / DAY
        views = int(per_day * days)
        reach = int(views * 0.6)
        periods.append(
            {
                "period_from": end - (n + 1) * length,
                "period_to": end - n * length,
                "visitors": {"views": views, "visitors": int(views * 0.4)},
                "reach": {"reach": reach, "reach_subscribers": int(reach * 0.7)},
                "activity": {
                    "likes": int(views * spec.like_rate),
                    "comments": int(views * spec.comment_rate),
                    "copies": int(views * spec.repost_rate),
                    "subscribed": int(spec.members_count * 0.001 * days),
                    "unsubscribed": int(spec.members_count * 0.0008 * days),
                },
            }
        )
    return periods


__all__ = [
    "GROUP_BASE_FIELDS",
    "access_key",
    "attachment_object",
    "group_object",
    "post_object",
    "stats_periods",
    "user_object",
]
