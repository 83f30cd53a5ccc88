"""What a person pastes → which VK community to check.

``parse_link`` accepts every form people paste (full and mobile URLs, ``vk.ru``, no scheme,
``club123``/``public123``/``event123``, ``@name``, a bare screen name, a post link or ``?w=wall-…``,
a VK mention ``[club1|Name]``), with slashes, query strings, punctuation and words around it.
Anything else raises ``LinkError`` whose ``message`` tells the user, in Russian, what to send.
``extract_links`` finds the VK links and mentions inside free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from advisor.texts import t

LinkErrorCode = Literal["invalid_link", "not_a_community"]
LinkProblem = Literal[
    "empty", "garbage", "not_vk", "vk_page", "short_link", "person", "app", "too_long"
]

MAX_INPUT_CHARS = 2000

# Hosts whose first path segment names a community (or a person, an app, a post...).
_PAGE_HOSTS = frozenset(
    {
        "vk.com",
        "vk.ru",
        "vkontakte.ru",
        "vk.me",  # a community's "write a message" link: vk.me/name
        "vk.link",  # a community's landing page: vk.link/name
    }
)
_PAGE_PREFIXES = ("www.", "m.", "new.", "0.")
_SHORT_HOSTS = frozenset({"vk.cc"})
_VK_SUFFIXES = (".vk.com", ".vk.ru", ".vkontakte.ru", ".userapi.com", ".vk.me")

# First path segments that are VK's own pages, never a community's screen name.
_RESERVED = frozenset(
    """
    about ads al_feed apps audio audios away away.php blog bookmarks bugs calls catalog clips
    dev discover docs edu fave feed friends games gifts groups groups_list help im jobs join
    legal login logout mail market messages music mobile my newsfeed notifications pages
    photos podcasts pay press privacy restore search services settings share.php shopping
    stickers stories support terms verify video videos vkpay wall watch
    """.split()
)

# Object links whose owner id says whose page it is: wall-1_2, photo-1_2, video-1_2, ...
_OBJECT_RE = re.compile(
    r"^(?:wall|photo|video|clip|topic|album|market|poll|doc|story|podcast|article)"
    r"(-?)(\d{1,12})(?:_\d+)?$"
)
_BOARD_RE = re.compile(r"^board(\d{1,12})$")
_GROUP_RE = re.compile(r"^(?:club|public|event)(\d{1,12})$")
_PERSON_RE = re.compile(r"^id(\d{1,12})$")
_APP_RE = re.compile(r"^app(\d{1,12})(?:_-?\d+)?$")
_NUMBER_RE = re.compile(r"^-?(\d{1,12})$")
# VK screen names: Latin letters, digits, "_" and "."; at least one letter.
_SCREEN_RE = re.compile(r"^(?=[a-z0-9_.]*[a-z])[a-z0-9_][a-z0-9_.]{0,48}[a-z0-9_]$")
_MENTION_RE = re.compile(r"\[((?:club|public|event|id)\d{1,12}|[a-z0-9_.]{2,50})\|[^\]]*\]", re.I)

# A domain-looking token: host.tld with an optional path. Used to tell a site from a screen name
# with dots in it ("ivan.petrov"), so only common top-level domains count as a site.
_TLDS = frozenset(
    """
    com ru su net org info biz io me app pro online site store shop tv cc co uk de by kz ua
    рф рус xyz top club live link page blog tech dev ai us eu fm ly to gg ws tk
    """.split()
)

_TRIM = " \t\r\n\"'«»“”„‘’`<>()[]{}.,;:!?…—–"

_URL_IN_TEXT_RE = re.compile(
    r"(?<![\w.@-])(?:https?://)?(?:[a-z0-9-]+\.)*"
    r"(?:vk\.com|vk\.ru|vkontakte\.ru|vk\.me|vk\.link|vk\.cc)(?![\w-]|\.[\w-])"
    r"(?:[/?][A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]*)?",
    re.I,
)
_AT_IN_TEXT_RE = re.compile(r"(?<![\w@./])@([a-z0-9_.]{2,50})", re.I)
_ID_IN_TEXT_RE = re.compile(r"(?<![\w/.@-])((?:club|public|event)\d{1,12})(?![\w])", re.I)


@dataclass(frozen=True)
class PublicRef:
    """A community to check: by numeric id or by screen name (resolved through the API)."""

    group_id: int | None = None
    screen_name: str | None = None
    post_id: int | None = None

    def __post_init__(self) -> None:
        if (self.group_id is None) == (self.screen_name is None):
            raise ValueError("exactly one of group_id and screen_name is required")

    @property
    def key(self) -> str:
        """A stable identifier of the target: what the API is asked for."""
        return f"id{self.group_id}" if self.group_id is not None else f"@{self.screen_name}"

    @property
    def display(self) -> str:
        """How the community is named back to the user: its short link."""
        if self.screen_name is not None:
            return f"vk.com/{self.screen_name}"
        return f"vk.com/club{self.group_id}"

    @property
    def api_id(self) -> str:
        """The value for ``groups.getById(group_id=...)``: a number or a screen name."""
        return str(self.group_id) if self.group_id is not None else str(self.screen_name)


class LinkError(ValueError):
    """The input is not a community link. ``message`` says in Russian what to send instead."""

    def __init__(self, code: LinkErrorCode, problem: LinkProblem, source: str, **params: str):
        self.code: LinkErrorCode = code
        self.problem: LinkProblem = problem
        self.source = source
        self.message = t(f"links.{problem}", **params)
        super().__init__(f"{code}/{problem}: {source[:200]!r}")


def _clean(text: str) -> str:
    return text.strip().strip(_TRIM)


def _is_site(token: str) -> bool:
    host = token.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    labels = host.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1] in _TLDS


def _ref_from_segment(segment: str, source: str) -> PublicRef:
    """Classify one token: ``club1``, ``wall-1_2``, ``id5``, ``app7``, ``name``, ``-1``..."""
    token = segment.lower()
    if token.startswith("@"):
        # vk.com/@name-article-title is an article of the community "name".
        token = token[1:].split("-", 1)[0]
    if match := _GROUP_RE.match(token):
        return PublicRef(group_id=int(match.group(1)))
    if match := _OBJECT_RE.match(token):
        if match.group(1) == "-":
            post = token.split("_", 1)[1] if token.startswith("wall") and "_" in token else None
            return PublicRef(group_id=int(match.group(2)), post_id=int(post) if post else None)
        raise LinkError("not_a_community", "person", source)
    if match := _BOARD_RE.match(token):
        return PublicRef(group_id=int(match.group(1)))
    if _PERSON_RE.match(token):
        raise LinkError("not_a_community", "person", source)
    if _APP_RE.match(token):
        raise LinkError("not_a_community", "app", source)
    if match := _NUMBER_RE.match(token):
        if int(match.group(1)) == 0:
            raise LinkError("invalid_link", "garbage", source, text=_shown(source))
        return PublicRef(group_id=int(match.group(1)))
    if token in _RESERVED:
        raise LinkError("invalid_link", "vk_page", source, page=token)
    if _SCREEN_RE.match(token):
        return PublicRef(screen_name=token)
    raise LinkError("invalid_link", "garbage", source, text=_shown(source))


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "…"


def _from_url(url: str, source: str) -> PublicRef:
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    for prefix in _PAGE_PREFIXES:
        if host.startswith(prefix) and host[len(prefix) :] in _PAGE_HOSTS:
            host = host[len(prefix) :]
            break
    if host in _SHORT_HOSTS:
        raise LinkError("invalid_link", "short_link", source)
    if host not in _PAGE_HOSTS:
        if host.endswith(_VK_SUFFIXES):
            raise LinkError("invalid_link", "vk_page", source, page=host)
        raise LinkError("invalid_link", "not_vk", source, host=host or _shown(source))
    query = parse_qs(parts.query)
    # ?w=wall-1_2 (a post opened over a feed or a community page) and ?z=photo-1_2 name the
    # object being looked at, which wins over the page under it.
    for name in ("w", "z"):
        for value in query.get(name, []):
            candidate = _clean(value.split("/", 1)[0])
            if _OBJECT_RE.match(candidate.lower()):
                return _ref_from_segment(candidate, source)
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise LinkError("invalid_link", "vk_page", source, page=host)
    return _ref_from_segment(_clean(segments[0]), source)


def parse_link(text: str) -> PublicRef:
    """The community ``text`` points to, or ``LinkError`` explaining what to send instead."""
    if len(text) > MAX_INPUT_CHARS:
        raise LinkError("invalid_link", "too_long", text[:MAX_INPUT_CHARS])
    source = text
    found = extract_links(text)
    if found:
        text = found[0]
    cleaned = _clean(text)
    if not cleaned:
        problem: LinkProblem = "garbage" if source.strip() else "empty"
        raise LinkError("invalid_link", problem, source, text=_shown(source))
    lowered = cleaned.lower()
    if lowered.startswith("@"):
        return _ref_from_segment(_clean(lowered[1:]), source)
    if "://" in lowered or lowered.startswith(("vk.", "m.vk.", "www.")) or _is_site(lowered):
        return _from_url(cleaned, source)
    if any(ch.isspace() for ch in cleaned) or "/" in cleaned:
        raise LinkError("invalid_link", "garbage", source, text=_shown(source))
    return _ref_from_segment(cleaned, source)


def extract_links(text: str) -> list[str]:
    """VK links and mentions in free text, in order of appearance, without duplicates.

    Finds URLs on VK's hosts (with or without a scheme), ``@name`` mentions, ``[club1|Name]``
    mentions and ``club123``/``public123``/``event123`` tokens. A bare word is not taken for a
    screen name here: in a sentence it is almost always just a word.
    """
    text = text[: MAX_INPUT_CHARS * 5]
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        hits.append((start, value))

    for match in _URL_IN_TEXT_RE.finditer(text):
        value = match.group(0).rstrip(_TRIM.replace("/", ""))
        add(match.start(), match.end(), value)
    for match in _MENTION_RE.finditer(text):
        add(match.start(), match.end(), match.group(1))
    for match in _AT_IN_TEXT_RE.finditer(text):
        add(match.start(), match.end(), "@" + match.group(1).rstrip("."))
    for match in _ID_IN_TEXT_RE.finditer(text):
        add(match.start(), match.end(), match.group(1))
    result: list[str] = []
    for _, value in sorted(hits):
        if value and value not in result:
            result.append(value)
    return result
