"""Deterministic test data for the fake VK API: communities, their walls and members.

Nothing large is stored: member i and generated post k are computed on demand from the
spec and its seed, so a 1,000,000-member public costs a few hundred bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any, Literal

DAY = 86_400
ATTACHMENT_KINDS = ("photo", "video", "clip", "article", "poll", "link", "doc", "audio")
PublicKind = Literal[
    "healthy", "padded", "bots", "dead_reach", "closed", "deleted", "small", "huge"
]
Layout = Literal["uniform", "head", "tail", "bursts"]

_MASK = (1 << 64) - 1
_NORMAL = NormalDist()
# Member ids of a public live in their own block, ordered like the member list.
_MEMBER_BLOCK = 100_000_000
_MEMBER_BASE = 1_000_000_000
_MEMBER_STEP = 5

_FIRST_NAMES = {
    1: ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Светлана", "Дарья", "Юлия"),
    2: ("Иван", "Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Павел", "Никита", "Олег"),
}
_LAST_NAMES = {
    1: ("Иванова", "Смирнова", "Кузнецова", "Попова", "Соколова", "Лебедева", "Козлова"),
    2: ("Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов"),
}
CITIES = ((1, "Москва"), (2, "Санкт-Петербург"), (49, "Екатеринбург"), (60, "Казань"))
_PHRASES = (
    "Сегодня рассказываем о новинках недели.",
    "Скидка 15% до конца месяца — успейте!",
    "Как выбрать подарок, который точно понравится?",
    "Отвечаем на ваши вопросы в комментариях.",
    "Фотоотчёт с нашего мероприятия.",
    "Новое поступление уже в наличии.",
    "Делитесь мнением: что улучшить в первую очередь?",
    "Розыгрыш! Условия участия — в посте.",
    "#новинки #акция",
)


def _mix(value: int) -> int:
    """splitmix64: a fast, well-distributed 64-bit hash."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def unit(key: int, index: int, salt: int) -> float:
    """A deterministic uniform number in [0, 1) for (key, index, salt)."""
    return _mix(_mix(key ^ (salt * 0x2545F4914F6CDD1D & _MASK)) ^ (index & _MASK)) / 2**64


def _bits(value: int, shift: int) -> float:
    """16 bits of a hash at `shift`, as a uniform number in [0, 1)."""
    return ((value >> shift) & 0xFFFF) / 65536


def _pick(options: tuple[Any, ...], u: float) -> Any:
    return options[min(int(u * len(options)), len(options) - 1)]


@dataclass(frozen=True)
class PostSpec:
    """One wall post. `views=None` is a post without a view counter (pre-2017 posts)."""

    id: int
    date: int
    text: str = ""
    likes: int = 0
    reposts: int = 0
    comments: int = 0
    views: int | None = None
    is_pinned: bool = False
    marked_as_ads: bool = False
    from_id: int | None = None  # None: the wall owner itself
    attachments: tuple[str, ...] = ()  # kinds from ATTACHMENT_KINDS
    copy_history: tuple[PostSpec, ...] = ()  # the reposted original(s)
    owner_id: int | None = None  # None: the wall owner (set it for copy_history originals)
    post_type: str = "post"


@dataclass(frozen=True)
class UserSpec:
    id: int
    screen_name: str | None = None
    first_name: str = "Иван"
    last_name: str = "Петров"
    deactivated: Literal["deleted", "banned"] | None = None
    last_seen: int | None = None  # unix time; None: hidden
    is_closed: bool = False
    sex: int = 2
    city_id: int | None = 1


@dataclass(frozen=True)
class AppSpec:
    id: int
    screen_name: str
    title: str = "Приложение"


@dataclass(frozen=True, slots=True)
class Member:
    """A generated community member (or a registered user, via `from_user`)."""

    id: int
    first_name: str
    last_name: str
    sex: int
    deactivated: str | None
    last_seen: int | None
    platform: int
    city_id: int | None
    is_closed: bool
    bdate: str | None
    city_title: str | None = None  # None: the title of `city_id` in CITIES

    @classmethod
    def from_user(cls, user: UserSpec) -> Member:
        return cls(
            id=user.id,
            first_name="DELETED" if user.deactivated == "deleted" else user.first_name,
            last_name="" if user.deactivated == "deleted" else user.last_name,
            sex=user.sex,
            deactivated=user.deactivated,
            last_seen=None if user.deactivated else user.last_seen,
            platform=7,
            city_id=user.city_id,
            is_closed=user.is_closed,
            bdate=None,
        )


def _default_mix() -> dict[str, float]:
    return {"photo": 0.55, "video": 0.08, "clip": 0.07, "link": 0.05, "poll": 0.02, "article": 0.03}


@dataclass(frozen=True)
class PublicSpec:
    """A community as the fake VK API serves it. Only `id`, `screen_name`, `name` are required."""

    id: int
    screen_name: str
    name: str
    members_count: int = 1000
    type: Literal["group", "page", "event"] = "page"
    is_closed: int = 0  # 0 open, 1 closed, 2 private
    deactivated: Literal["deleted", "banned"] | None = None
    description: str = ""
    seed: int = 0
    # What the community audit looks at.
    cover: bool = True
    has_photo: bool = True
    site: str = ""
    addresses: int = 0
    links: tuple[str, ...] = ()
    contacts: int = 0
    market_enabled: bool = False
    market_items: int = 0
    city: str | None = None
    counters: Mapping[str, int] | None = field(default_factory=dict)  # None: no counters
    activity: str = "Магазин"
    status: str = ""
    verified: bool = False
    wall: int = 1  # 0 disabled, 1 open, 2 limited, 3 restricted
    can_message: bool = True
    age_limits: int = 1
    start_date: int | None = None  # events only
    members_hidden: bool = False
    stats_access: bool = False  # stats.get answers for the user token
    # The wall: explicit `posts`, or `n_posts` generated from the parameters below.
    n_posts: int = 0
    posts: tuple[PostSpec, ...] = ()
    post_interval_days: float = 1.0
    last_post_days_ago: float = 0.5
    views_per_post: float | None = 500.0  # mean views; None: posts carry no views
    views_spread: float = 0.5  # sigma of the log-normal view distribution
    like_rate: float = 0.03  # likes per view
    repost_rate: float = 0.004
    comment_rate: float = 0.003
    attachment_mix: Mapping[str, float] = field(default_factory=_default_mix)
    ads_fraction: float = 0.0
    repost_fraction: float = 0.0  # posts that are reposts (copy_history)
    others_fraction: float = 0.0  # posts written by members (filter=others)
    pinned_index: int | None = None  # generated post (0 = newest) that is pinned
    # Members.
    inactive_fraction: float = 0.1
    inactive_layout: Layout = "uniform"  # tail: inactive members cluster at the list's end
    # bursts: bot farms joined in runs of `burst_run` consecutive members (neighbouring runs
    # merge into longer ones); `burst_share` of the inactive members are in runs, the rest spread.
    burst_run: int = 2000
    burst_share: float = 0.5
    deleted_share: float = 0.3  # of inactive members: deactivated="deleted"
    banned_share: float = 0.1  # of inactive members: deactivated="banned"
    active_seen_days: tuple[float, float] = (0.0, 30.0)
    inactive_seen_days: tuple[float, float] = (180.0, 1500.0)
    closed_profile_fraction: float = 0.15
    managers: tuple[int, ...] = ()
    # The audience portrait. None keeps the default mix (55% women, 80% with a city of CITIES,
    # birth years 1960–2004, every open profile showing its full bdate).
    female_share: float | None = None
    # (city_id, title, share of members): the rest have no city.
    city_mix: tuple[tuple[int, str, float], ...] | None = None
    birth_years: tuple[int, int] | None = None  # inclusive range of birth years
    bdate_no_year_share: float = 0.0  # of open profiles: bdate "D.M" without the year
    bdate_hidden_share: float = 0.0  # of open profiles: no bdate at all
    # Membership in other served communities: {community id: share of this one's members
    # who are also its members} (groups.isMember answers by it).
    also_in: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.id <= 0:
            raise ValueError("a community id is positive")
        if self.inactive_layout not in ("uniform", "head", "tail", "bursts"):
            raise ValueError(f"unknown inactive_layout {self.inactive_layout!r}")
        unknown = set(self.attachment_mix) - set(ATTACHMENT_KINDS)
        if unknown:
            raise ValueError(f"unknown attachment kinds {sorted(unknown)}")
        if not 0 <= self.inactive_fraction <= 1:
            raise ValueError("inactive_fraction is a share in [0, 1]")
        if self.burst_run < 1 or not 0 <= self.burst_share <= 1:
            raise ValueError("burst_run is >= 1 and burst_share a share in [0, 1]")
        if self.city_mix is not None and sum(share for _, _, share in self.city_mix) > 1 + 1e-9:
            raise ValueError("city_mix shares add up to more than 1")
        if self.bdate_no_year_share + self.bdate_hidden_share > 1:
            raise ValueError("bdate_no_year_share + bdate_hidden_share is more than 1")


class Community:
    """Runtime view of a PublicSpec: members and posts computed on demand."""

    def __init__(self, spec: PublicSpec, now: int) -> None:
        self.spec = spec
        self.now = now
        self.key = _mix(spec.seed * 1_000_003 + spec.id)
        self.member_base = _MEMBER_BASE + (spec.id % 10_000) * _MEMBER_BLOCK
        inactive = round(spec.inactive_fraction * spec.members_count)
        self._head_limit = inactive
        self._tail_start = spec.members_count - inactive
        # bursts: a run is a burst with probability q; the other members are inactive with
        # probability r, so that q + (1 - q) r = inactive_fraction.
        self._burst_q = spec.inactive_fraction * spec.burst_share
        rest = 1 - self._burst_q
        self._burst_r = (spec.inactive_fraction - self._burst_q) / rest if rest > 0 else 0.0
        explicit = sorted(spec.posts, key=lambda p: (not p.is_pinned, -p.date))
        self._explicit = tuple(explicit)

    @property
    def id(self) -> int:
        return self.spec.id

    @property
    def owner_id(self) -> int:
        return -self.spec.id

    # -- members ---------------------------------------------------------------------

    def _hashes(self, index: int) -> tuple[int, int]:
        # Two 64-bit hashes per member, cut into 16-bit uniforms: a member costs ~3 µs.
        first = _mix(self.key ^ (index * 0x9E3779B97F4A7C15 & _MASK))
        return first, _mix(first)

    def member_id(self, index: int) -> int:
        jitter = (self._hashes(index)[1] >> 56) % _MEMBER_STEP
        return self.member_base + index * _MEMBER_STEP + jitter

    def member_index(self, user_id: int) -> int | None:
        index = (user_id - self.member_base) // _MEMBER_STEP
        if 0 <= index < self.spec.members_count and self.member_id(index) == user_id:
            return index
        return None

    def is_inactive(self, index: int) -> bool:
        return self._inactive(index, self._hashes(index)[0])

    def _inactive(self, index: int, first_hash: int) -> bool:
        layout = self.spec.inactive_layout
        if layout == "head":
            return index < self._head_limit
        if layout == "tail":
            return index >= self._tail_start
        if layout == "bursts":
            if unit(self.key, index // self.spec.burst_run, 77) < self._burst_q:
                return True
            return _bits(first_hash, 0) < self._burst_r
        return _bits(first_hash, 0) < self.spec.inactive_fraction

    def member(self, index: int) -> Member:
        spec = self.spec
        h1, h2 = self._hashes(index)
        female = 0.55 if spec.female_share is None else spec.female_share
        sex = 1 if _bits(h1, 16) < female else 2
        first = _pick(_FIRST_NAMES[sex], _bits(h1, 32))
        last = _pick(_LAST_NAMES[sex], _bits(h1, 48))
        deactivated = None
        seen_range = spec.active_seen_days
        if self._inactive(index, h1):
            kind = _bits(h2, 0)
            if kind < spec.deleted_share:
                deactivated = "deleted"
            elif kind < spec.deleted_share + spec.banned_share:
                deactivated = "banned"
            seen_range = spec.inactive_seen_days
        if deactivated == "deleted":
            first, last = "DELETED", ""
        low, high = seen_range
        age_days = low + (high - low) * _bits(h2, 16)
        city_u = _bits(h2, 32)
        detail = h2 >> 48  # 16 more bits: platform, profile privacy, birth year
        city_id, city_title = self._city(index, city_u)
        return Member(
            id=self.member_base + index * _MEMBER_STEP + (h2 >> 56) % _MEMBER_STEP,
            first_name=first,
            last_name=last,
            sex=sex,
            deactivated=deactivated,
            last_seen=None if deactivated else self.now - int(age_days * DAY),
            platform=1 + detail % 7,
            city_id=city_id,
            is_closed=deactivated is None
            and (detail >> 3) % 100 < spec.closed_profile_fraction * 100,
            bdate=self._bdate(index, detail),
            city_title=city_title,
        )

    def _city(self, index: int, city_u: float) -> tuple[int | None, str | None]:
        mix = self.spec.city_mix
        if mix is None:
            return (None, None) if city_u > 0.8 else (_pick(CITIES, city_u / 0.8)[0], None)
        u = unit(self.key, index, 31)
        acc = 0.0
        for city_id, title, share in mix:
            acc += share
            if u < acc:
                return city_id, title
        return None, None

    def _bdate(self, index: int, detail: int) -> str | None:
        spec = self.spec
        day, month = 1 + index % 28, 1 + index % 12
        if spec.birth_years is None:
            year = 1960 + (detail >> 3) % 45
        else:
            first, last = spec.birth_years
            year = first + min(int(unit(self.key, index, 32) * (last - first + 1)), last - first)
        shown = unit(self.key, index, 33)
        if shown < spec.bdate_hidden_share:
            return None
        if shown < spec.bdate_hidden_share + spec.bdate_no_year_share:
            return f"{day}.{month}"
        return f"{day}.{month}.{year}"

    def in_also(self, index: int, other_id: int) -> bool:
        """Whether member `index` is also a member of community `other_id` (spec.also_in)."""
        share = self.spec.also_in.get(other_id, 0.0)
        return share > 0 and unit(self.key, index, 1_000 + other_id % 1_000_000) < share

    def members(self, offset: int, count: int, *, descending: bool = False) -> Iterator[Member]:
        total = self.spec.members_count
        for position in range(max(offset, 0), min(offset + count, total)):
            yield self.member(total - 1 - position if descending else position)

    # -- wall ------------------------------------------------------------------------

    @property
    def posts_count(self) -> int:
        return len(self._explicit) if self._explicit else self.spec.n_posts

    def post_at(self, position: int) -> PostSpec:
        """The post at `position` of the wall as wall.get orders it (pinned first)."""
        if self._explicit:
            return self._explicit[position]
        pinned = self.spec.pinned_index
        if pinned is None or pinned >= self.spec.n_posts:
            return self.generated_post(position)
        if position == 0:
            return self.generated_post(pinned)
        index = position - 1
        return self.generated_post(index if index < pinned else index + 1)

    def post_by_id(self, post_id: int) -> PostSpec | None:
        if self._explicit:
            return next((p for p in self._explicit if p.id == post_id), None)
        index = self.spec.n_posts - post_id
        return self.generated_post(index) if 0 <= index < self.spec.n_posts else None

    def author_of(self, position: int) -> int:
        """Author of the post at `position`, cheaper than building the post."""
        if self._explicit:
            return self._explicit[position].from_id or self.owner_id
        return self.post_at(position).from_id or self.owner_id

    def generated_post(self, index: int) -> PostSpec:
        spec, key = self.spec, self.key

        def u(salt: int) -> float:
            return unit(key, index, 100 + salt)

        interval = spec.post_interval_days * DAY
        date = int(
            self.now - spec.last_post_days_ago * DAY - index * interval - u(0) * interval / 2
        )
        views: int | None = None
        if spec.views_per_post is not None:
            sigma = spec.views_spread
            mu = math.log(max(spec.views_per_post, 1.0)) - sigma * sigma / 2
            z = _NORMAL.inv_cdf(min(max(u(1), 1e-9), 1 - 1e-9))
            views = max(0, round(math.exp(mu + sigma * z)))
        reach = views if views is not None else spec.members_count * 0.05
        likes = round(reach * spec.like_rate * (0.5 + u(2)))
        reposts = round(reach * spec.repost_rate * (0.5 + u(3)))
        comments = round(reach * spec.comment_rate * (0.5 + u(4)))
        attachments: tuple[str, ...] = ()
        roll, acc = u(5), 0.0
        for kind, weight in spec.attachment_mix.items():
            acc += weight
            if roll < acc:
                attachments = (kind,) * (1 + int(u(6) * 3) if kind == "photo" else 1)
                break
        words = 1 + int(u(7) * 4)
        text = " ".join(_pick(_PHRASES, u(8 + n)) for n in range(words))
        from_id = None
        if u(20) < spec.others_fraction and spec.members_count:
            from_id = self.member_id(int(u(21) * spec.members_count))
        copy_history: tuple[PostSpec, ...] = ()
        if u(22) < spec.repost_fraction:
            source = 1_000 + int(u(23) * 9_000)
            copy_history = (
                PostSpec(
                    id=1 + int(u(24) * 5_000),
                    date=date - int(u(25) * 10 * DAY),
                    text=_pick(_PHRASES, u(26)),
                    owner_id=-source,
                    attachments=("photo",),
                ),
            )
            text, attachments = "", ()
        return PostSpec(
            id=spec.n_posts - index,
            date=date,
            text=text,
            likes=likes,
            reposts=reposts,
            comments=comments,
            views=views,
            is_pinned=index == spec.pinned_index,
            marked_as_ads=u(27) < spec.ads_fraction,
            from_id=from_id,
            attachments=attachments,
            copy_history=copy_history,
        )


_KIND_IDS = {
    "healthy": 210_001,
    "padded": 220_001,
    "bots": 230_001,
    "dead_reach": 240_001,
    "closed": 250_001,
    "deleted": 260_001,
    "small": 270_001,
    "huge": 280_001,
}


def make_public(
    kind: PublicKind = "healthy",
    *,
    id: int | None = None,
    screen_name: str | None = None,
    seed: int = 0,
    **overrides: Any,
) -> PublicSpec:
    """A ready community of a typical condition; any PublicSpec field can be overridden.

    healthy     12k members, 8% inactive, daily posts, views ~12% of members, full profile
    padded      50k members, 55% inactive clustered at the list's end (bought subscribers)
    bots        30k members, 70% inactive spread evenly, many banned (bot farm)
    dead_reach  20k members, few inactive, but ~0.5% reach and no post for 40 days
    closed      a closed group (is_closed=1): members and wall are not readable
    deleted     a deleted community
    small       150 members, a post a week
    huge        1,000,000 members, 20% inactive, several posts a day
    """
    if kind not in _KIND_IDS:
        raise ValueError(f"unknown public kind {kind!r}; known: {sorted(_KIND_IDS)}")
    public_id = id if id is not None else _KIND_IDS[kind] + seed
    base: dict[str, Any] = {
        "id": public_id,
        "screen_name": screen_name or f"{kind}_public_{public_id}",
        "name": f"Тестовое сообщество ({kind})",
        "seed": seed,
        "description": "Кофейня и магазин зерна. Доставка по городу.",
        "city": "Москва",
        "site": "https://example.ru",
        "links": ("https://example.ru/menu",),
        "contacts": 1,
        "addresses": 1,
        "market_enabled": True,
        "market_items": 24,
        "n_posts": 120,
        "pinned_index": 3,
    }
    if kind == "healthy":
        base |= {"members_count": 12_000, "inactive_fraction": 0.08, "views_per_post": 1_500}
    elif kind == "padded":
        base |= {
            "members_count": 50_000,
            "inactive_fraction": 0.55,
            "inactive_layout": "tail",
            "views_per_post": 600,
            "like_rate": 0.01,
        }
    elif kind == "bots":
        base |= {
            "members_count": 30_000,
            "inactive_fraction": 0.7,
            "deleted_share": 0.2,
            "banned_share": 0.5,
            "views_per_post": 300,
            "like_rate": 0.005,
        }
    elif kind == "dead_reach":
        base |= {
            "members_count": 20_000,
            "inactive_fraction": 0.1,
            "views_per_post": 100,
            "last_post_days_ago": 40,
            "post_interval_days": 9,
            "cover": False,
            "site": "",
            "links": (),
            "contacts": 0,
            "market_enabled": False,
            "market_items": 0,
        }
    elif kind == "closed":
        base |= {"members_count": 3_000, "type": "group", "is_closed": 1, "views_per_post": 200}
    elif kind == "deleted":
        base |= {"members_count": 0, "deactivated": "deleted", "n_posts": 0, "pinned_index": None}
    elif kind == "small":
        base |= {
            "members_count": 150,
            "n_posts": 12,
            "post_interval_days": 7,
            "views_per_post": 60,
            "pinned_index": None,
            "market_enabled": False,
            "market_items": 0,
        }
    elif kind == "huge":
        base |= {
            "members_count": 1_000_000,
            "inactive_fraction": 0.2,
            "n_posts": 3_000,
            "post_interval_days": 0.25,
            "views_per_post": 40_000,
        }
    base |= overrides
    return PublicSpec(**base)


def with_changes(spec: PublicSpec, **changes: Any) -> PublicSpec:
    """A copy of `spec` with fields changed (a public growing during a campaign)."""
    return replace(spec, **changes)


__all__ = [
    "ATTACHMENT_KINDS",
    "CITIES",
    "DAY",
    "AppSpec",
    "Community",
    "Member",
    "PostSpec",
    "PublicKind",
    "PublicSpec",
    "UserSpec",
    "make_public",
    "unit",
    "with_changes",
]
