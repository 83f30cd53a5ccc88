"""The guide's examples in the owner's own words: where the guide gives a pattern (a name with
the city, a rubric hashtag with the group's address), the owner's city, search phrases and
community address replace the guide's sample ones once they are known. Unknown parts keep the
guide's example."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from advisor.texts import t

_SCREEN_NAME = re.compile(r"(?:vk\.com/|^)([A-Za-z0-9_.]{2,64})/?$")


@dataclass(frozen=True)
class Owner:
    """What the owner told about their community (each part may be unknown)."""

    city: str | None = None
    phrases: tuple[str, ...] = field(default_factory=tuple)
    group: str | None = None  # the community's screen name


def owner_from(conversation: Any, remembered: dict[str, Any]) -> Owner:
    """The stored profile (its link; its city once the profile keeps one) and what the dialog
    remembered (the audit's city and search phrases)."""
    city = getattr(conversation, "city", None) or remembered.get("city")
    phrases = remembered.get("phrases") or []
    link = getattr(conversation, "community_link", None) or ""
    match = _SCREEN_NAME.search(link.strip())
    return Owner(
        city=city if isinstance(city, str) and city.strip() else None,
        phrases=tuple(p for p in phrases if isinstance(p, str) and p.strip()),
        group=match.group(1) if match else None,
    )


def _examples(key: str) -> list[str]:
    return [item.strip() for item in t(key).split("|") if item.strip()]


def _capital(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def adapt(text: str, owner: Owner) -> str:
    """``text`` with the guide's sample name, city and address replaced by the owner's."""
    if owner.group:
        for placeholder in _examples("examples.group_address"):
            text = text.replace(placeholder, owner.group)
    if owner.city:
        used = 0
        for example in _examples("examples.name_with_city"):
            if f"«{example}»" not in text:
                continue
            name = _without_city(example)
            if owner.phrases:
                name = _capital(owner.phrases[used % len(owner.phrases)])
                used += 1
            text = text.replace(f"«{example}»", f"«{name} {owner.city}»")
    return text


def _without_city(example: str) -> str:
    for city in _examples("examples.cities"):
        if example.endswith(" " + city):
            return example[: -len(city) - 1]
    raise ValueError(f"examples.name_with_city: {example!r} does not end with a listed city")
