"""The readiness checklist judged from VK data: each item done, missing, or not visible.

One pure function per item turns the collected community into a status and a short Russian line
saying what was seen («обложки нет», «постов: 2 — нужно хотя бы 3»). What VK never shows (the
interactive menu, the audience portrait) is ``unknown``: the dialog asks the owner, and an
owner's yes/no fills exactly those gaps — a fact VK shows is never overridden by an old answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from advisor.audit.content import ContentFindings
from advisor.audit.rules import AuditRules
from advisor.audit.search import SearchFindings
from advisor.knowledge.models import Norms
from advisor.texts import t

if TYPE_CHECKING:
    from advisor.audit.fetch import CommunityData

Status = Literal["ok", "missing", "unknown"]
Source = Literal["vk", "owner", "none"]
# Sections a visitor can open, and the counters that show each one is filled.
MEDIA_SECTIONS = (
    ("photos", ("photos", "albums")),
    ("videos", ("videos",)),
    ("clips", ("clips",)),
    ("articles", ("articles",)),
)


@dataclass(frozen=True)
class Seen:
    """What the audit found for one item."""

    status: Status
    evidence: str
    source: Source = "vk"


@dataclass(frozen=True)
class Facts:
    data: CommunityData
    content: ContentFindings
    search: SearchFindings
    rules: AuditRules
    norms: Norms


def _e(key: str, **params: object) -> str:
    return t(f"audit.evidence.{key}", **params)


def starter_posts(f: Facts) -> Seen:
    data, content = f.data, f.content
    if data.wall_mode == 0:
        return Seen("missing", _e("starter_posts.wall_off"))
    if data.posts_total is None:
        return Seen("unknown", _e("starter_posts.hidden"))
    minimum = f.norms.readiness_posts.min_count
    if data.posts_total < minimum:
        return Seen("missing", _e("starter_posts.few", count=data.posts_total, min=minimum))
    if content.formats_used < f.rules.thresholds.min_formats:
        kind = t(f"audit.formats.{content.formats[0].format if content.formats else 'text'}")
        if one_format(f) is not None:
            # A feed that is kept up is done; one format is a to-do of its own (formats_todo).
            return Seen("ok", _e("starter_posts.one_format", format=kind))
        return Seen("missing", _e("starter_posts.one_style", count=data.posts_total, format=kind))
    # The count is the content block's («Контент: последние посты (N)»): one count per screen.
    return Seen("ok", _e("starter_posts.ok", formats=content.formats_used))


def one_format(f: Facts) -> str | None:
    """The one format of a feed with enough posts (the guide's «3-5» and more) that has no
    other: the fault is the variety, not the feed."""
    posts = f.data.posts_total
    formats = f.content.formats
    if posts is None or posts < f.norms.readiness_posts.max_count or len(formats) != 1:
        return None
    if f.rules.thresholds.min_formats <= 1:
        return None
    return formats[0].format


def cover(f: Facts) -> Seen:
    if f.data.cover_enabled is None:
        return Seen("unknown", _e("cover.unknown"))
    return Seen("ok", _e("cover.ok")) if f.data.cover_enabled else Seen("missing", _e("cover.off"))


def info_block(f: Facts) -> Seen:
    text = f.data.description.strip()
    minimum = f.rules.thresholds.min_description_chars
    if not text:
        return Seen("missing", _e("info_block.empty"))
    if len(text) < minimum:
        return Seen("missing", _e("info_block.short", chars=len(text), min=minimum))
    if f.data.contacts == 0 and f.data.can_message is False:
        return Seen("missing", _e("info_block.no_contact", chars=len(text)))
    return Seen("ok", _e("info_block.ok", chars=len(text)))


def goods(f: Facts) -> Seen:
    data = f.data
    if data.market_enabled is None:
        return Seen("unknown", _e("goods.unknown"))
    if not data.market_enabled:
        return Seen("missing", _e("goods.off"))
    if data.counters is None:
        return Seen("unknown", _e("goods.no_counters"))
    # VK leaves zero counters out: no "market" key is an empty section.
    items = data.counters.get("market", 0) + data.counters.get("market_services", 0)
    if items == 0:
        return Seen("missing", _e("goods.empty"))
    return Seen("ok", _e("goods.ok", count=items))


def pinned_post(f: Facts) -> Seen:
    if f.data.fixed_post or any(p.post.is_pinned for p in f.data.posts):
        return Seen("ok", _e("pinned_post.ok"))
    if f.data.posts_total is None:
        return Seen("unknown", _e("pinned_post.hidden"))
    return Seen("missing", _e("pinned_post.none"))


def links_contacts(f: Facts) -> Seen:
    data = f.data
    found = []
    if data.site:
        found.append(_e("links_contacts.site"))
    if data.links:
        found.append(_e("links_contacts.links", count=data.links))
    if data.addresses_enabled or data.addresses:
        found.append(_e("links_contacts.addresses", count=max(data.addresses, 1)))
    if not found:
        return Seen("missing", _e("links_contacts.none"))
    return Seen("ok", _e("links_contacts.ok", found=", ".join(found)))


def media_sections(f: Facts) -> Seen:
    counters = f.data.counters
    if counters is None:
        return Seen("unknown", _e("media_sections.unknown"))
    filled = [
        t(f"audit.media.{name}")
        for name, keys in MEDIA_SECTIONS
        if any(counters.get(key, 0) > 0 for key in keys)
    ]
    if len(filled) >= f.rules.thresholds.min_media_sections:
        return Seen("ok", _e("media_sections.ok", sections=", ".join(filled)))
    shown = ", ".join(filled) if filled else _e("media_sections.nothing")
    return Seen(
        "missing",
        _e("media_sections.few", sections=shown, min=f.rules.thresholds.min_media_sections),
    )


def interactive_menu(f: Facts) -> Seen:
    return Seen("unknown", _e("interactive_menu.hidden"), "none")


def audience_portrait(f: Facts) -> Seen:
    return Seen("unknown", _e("audience_portrait.hidden"), "none")


def name_keywords(f: Facts) -> Seen:
    return Seen(f.search.name_status, name_evidence(f.search))


def name_evidence(s: SearchFindings) -> str:
    """What the name shows: the search phrase, and the city or a personal brand."""
    parts = []
    if s.phrases:
        phrases = ", ".join(f"«{p}»" for p in s.phrases)
        if s.name_has_phrase:
            parts.append(_e("name_keywords.phrase_yes", phrases=phrases))
        elif s.name_has_phrase is False:
            parts.append(_e("name_keywords.phrase_no", phrases=phrases))
        else:
            parts.append(_e("name_keywords.phrase_unsure", phrases=phrases))
    else:
        parts.append(_e("name_keywords.phrase_unknown"))
    if s.name_has_city:
        parts.append(_e("name_keywords.city_yes"))
    elif s.name_has_person:
        parts.append(_e("name_keywords.person_yes"))
    else:
        parts.append(_e("name_keywords.local_no"))
    return "; ".join(parts)


JUDGES: dict[str, Callable[[Facts], Seen]] = {
    "starter_posts": starter_posts,
    "cover": cover,
    "info_block": info_block,
    "goods": goods,
    "pinned_post": pinned_post,
    "links_contacts": links_contacts,
    "media_sections": media_sections,
    "interactive_menu": interactive_menu,
    "name_keywords": name_keywords,
    "audience_portrait": audience_portrait,
}


def judge(item_id: str, facts: Facts) -> Seen:
    return JUDGES[item_id](facts)


def with_owner(seen: Seen, answer: str | None) -> Seen:
    """An owner's checklist answer fills what VK does not show; it never overrides VK."""
    if seen.status != "unknown" or answer not in ("yes", "no"):
        return seen
    status: Status = "ok" if answer == "yes" else "missing"
    return Seen(status, t(f"audit.evidence.owner_{answer}"), "owner")


def merge_answers(seen: Mapping[str, Seen], answers: Mapping[str, str]) -> dict[str, Seen]:
    return {item: with_owner(found, answers.get(item)) for item, found in seen.items()}


def merge_status(status: Status, answer: str | None) -> Status:
    """``with_owner`` for a bare status (what the dialog keeps between turns)."""
    if status != "unknown" or answer not in ("yes", "no"):
        return status
    return "ok" if answer == "yes" else "missing"
