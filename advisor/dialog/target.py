"""The owner's target as the chat asks it: their city, their customers' sex and age, their own
community; parsed from what people type and turned into the check's ``OwnerTarget``.

Pure functions: a typed text in, values or a ``Refused`` with a Russian reason out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.dialog.fields import Refused
from advisor.morph import analyzer
from advisor.texts import t
from advisor.vk.fit import OwnerTarget, Sex
from advisor.vk.links import LinkError, parse_link

LOCAL_GOALS = frozenset({"local_subscribers"})
"""Goals whose customers live in one city: the city is asked for them."""

MAX_AGE = 120
MAX_CITY = 60

_CITY_CHARS = re.compile(r"^[а-яёa-z][а-яёa-z .\-]*[а-яёa-z]$", re.I)
_CITY_PREFIXES = re.compile(
    r"^(?:(?:мой|наш)\s+город\s*[-—:]?\s*|город\s+|г\.\s*|гор\.\s*|я\s+из\s+|мы\s+из\s+|из\s+|в\s+)+",
    re.I,
)
_CITY_LOWER = frozenset({"на", "де", "по", "у"})

_FEMALE = re.compile(r"\b(?:женщин\w*|девушк\w*|девочк\w*|мам\w*|жен\w*|дам\w*)", re.I)
_MALE = re.compile(r"\b(?:мужчин\w*|парн\w*|пацан\w*|муж\w*|мальчик\w*|пап\w*)", re.I)
_BOTH = re.compile(r"\b(?:все|всех|любые|любой|оба|обоих|разные|неважно|не\s+важно)\b", re.I)
_RANGE = re.compile(r"(?:от\s*)?(\d{1,3})\s*(?:[-–—]|до|по)\s*(\d{1,3})")
_FROM = re.compile(
    r"(?:от|старше|после|с)\s*(\d{1,3})|(\d{1,3})\s*\+|(\d{1,3})\s*(?:лет\s*)?и\s*старше"
)
_TO = re.compile(r"(?:до|младше|моложе)\s*(\d{1,3})")
_NEGATIVE = re.compile(r"(?:^|[^\d\s])\s*-\s*\d")


@dataclass(frozen=True)
class SexAge:
    sex: Sex | None
    age_min: int | None
    age_max: int | None

    @property
    def empty(self) -> bool:
        return self.sex is None and self.age_min is None and self.age_max is None


def _age(raw: str) -> int:
    value = int(raw)
    if value > MAX_AGE:
        raise Refused(t("target.age_invalid", max=MAX_AGE))
    return value


def parse_sex_age(text: str) -> SexAge | None:
    """«в основном женщины 25–40» → (female, 25, 40); «мужчины от 18 до 30», «от 30», «до 25»,
    «18+», «все» (no preference: all empty). None when the text names neither sex nor age.
    Raises ``Refused`` for ages out of range or in the wrong order."""
    lowered = text.lower().replace("ё", "е")
    female, male = bool(_FEMALE.search(lowered)), bool(_MALE.search(lowered))
    sex: Sex | None = "female" if female and not male else "male" if male and not female else None
    if _NEGATIVE.search(lowered):
        raise Refused(t("target.age_invalid", max=MAX_AGE))
    age_min = age_max = None
    if (found := _RANGE.search(lowered)) is not None:
        age_min, age_max = _age(found.group(1)), _age(found.group(2))
    else:
        if (low := _FROM.search(lowered)) is not None:
            age_min = _age(next(g for g in low.groups() if g))
        if (high := _TO.search(lowered)) is not None:
            age_max = _age(high.group(1))
    if age_min is not None and age_max is not None and age_min > age_max:
        raise Refused(t("target.age_order", low=age_min, high=age_max))
    result = SexAge(sex, age_min, age_max)
    if result.empty and not (female and male) and not _BOTH.search(lowered):
        return None
    return result


def _title(word: str) -> str:
    parts = word.split("-")
    return "-".join(
        p if p in _CITY_LOWER and i else p[:1].upper() + p[1:] for i, p in enumerate(parts)
    )


def parse_city(text: str) -> str:
    """A city as VK spells it: «г. Тверь», «мой город — тверь», «из Твери» → «Тверь»."""
    raw = " ".join(text.strip().strip(".!").split())
    stripped = _CITY_PREFIXES.sub("", raw).strip(" .—-")
    inflected = stripped != raw and raw.lower().split()[0] in ("в", "из", "я", "мы")
    if not stripped or len(stripped) > MAX_CITY or not _CITY_CHARS.match(stripped):
        raise Refused(t("target.city_invalid"))
    words = stripped.lower().replace("ё", "е").split()
    if inflected and len(words) == 1 and "-" not in words[0]:
        # «из Твери», «в Самаре»: the name as VK keeps it is the nominative.
        parses = analyzer().parse(words[0])
        geo = next((p for p in parses if "Geox" in p.tag), None)
        if geo is not None:
            words = [geo.normal_form]
    return " ".join(_title(w) for w in words)


def parse_my_group(text: str) -> str:
    """The owner's own community as a short link («vk.com/name»), or ``Refused``."""
    try:
        ref = parse_link(text.strip())
    except LinkError as exc:
        raise Refused(exc.message) from None
    return ref.display


@dataclass(frozen=True)
class StoredTarget:
    """The target as the profile keeps it (the users table's columns)."""

    goal: str | None
    city: str | None
    sex: str | None
    age_min: int | None
    age_max: int | None
    my_group: str | None


def owner_target(stored: StoredTarget, portrait_sex_age: str | None = None) -> OwnerTarget:
    """The check's target from the profile; sex and age fall back on the portrait
    questionnaire's «Пол и возраст» answer when the profile has none."""
    sex: Sex | None = (
        "female" if stored.sex == "female" else "male" if stored.sex == "male" else None
    )
    age_min, age_max = stored.age_min, stored.age_max
    if sex is None and age_min is None and age_max is None and portrait_sex_age:
        try:
            parsed = parse_sex_age(portrait_sex_age)
        except Refused:
            parsed = None
        if parsed is not None:
            sex, age_min, age_max = parsed.sex, parsed.age_min, parsed.age_max
    return OwnerTarget(
        city=stored.city,
        local_goal=bool(stored.city) and stored.goal in LOCAL_GOALS,
        sex=sex,
        age_min=age_min,
        age_max=age_max,
        my_group=stored.my_group,
    )


def sex_age_text(sex: str | None, age_min: int | None, age_max: int | None) -> str | None:
    """«женщины 25–40 лет», «мужчины от 18 лет»; None when nothing is set."""
    parts = [t(f"target.sex_{sex}")] if sex in ("female", "male") else []
    if age_min is not None and age_max is not None:
        parts.append(t("target.age_range", low=age_min, high=age_max))
    elif age_min is not None:
        parts.append(t("target.age_from", low=age_min))
    elif age_max is not None:
        parts.append(t("target.age_to", high=age_max))
    return " ".join(parts) if parts else None
