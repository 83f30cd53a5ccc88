"""The community audit end to end against the fake VK API: every item's status, search, content,
score, error codes, both token kinds. The ``fake_vk`` fixture fails a test whose VK answers break
the VK schema."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from advisor.audit.result import AuditResult
from advisor.audit.rules import load_rules
from advisor.audit.service import Auditor
from advisor.config import Settings
from advisor.knowledge.loader import load_knowledge
from advisor.texts import t
from advisor.vk.api import CheckErrorCode
from advisor.vk.gateway import VkGateway
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import DAY, PostSpec, PublicSpec, make_public

RULES = load_rules()
KNOWLEDGE = load_knowledge()
READINESS = [item.id for item in KNOWLEDGE.checklist("readiness").items]
NEVER_VISIBLE = {"interactive_menu", "audience_portrait"}
LONG_DESCRIPTION = (
    "Салон красоты в Твери: стрижки, окрашивание, маникюр. Запись онлайн и по телефону, "
    "напишите нам в сообщения группы. Правила: переносим запись за сутки. Адрес и часы работы — "
    "в разделе «Ссылки и контакты»."
)


def settings_for(vk: FakeVK, kind: str = "user", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "vk_api_url": vk.base_url,
        "vk_user_token": SecretStr(vk.user_token) if kind == "user" else None,
        "vk_service_token": SecretStr(vk.service_token) if kind == "service" else None,
        "vk_service_rate_per_second": vk.service_rate,
        "vk_max_retries": 1,
    }
    values.update(overrides)
    return Settings(**values)


def ready_spec(**overrides: Any) -> PublicSpec:
    """A commercial community that passes every item VK can show."""
    values: dict[str, Any] = {
        "id": 410_001,
        "screen_name": "salon_tver",
        "name": "Салон красоты Тверь",
        "activity": "Салон красоты",
        "city": "Тверь",
        "description": LONG_DESCRIPTION,
        "members_count": 2_000,
        "n_posts": 40,
        "pinned_index": 2,
    }
    values.update(overrides)
    return make_public("healthy", **values)


# One VK gateway per token kind in a test, as in a process: audits share its rate limiter.
_GATEWAYS: dict[str, VkGateway] = {}


@pytest.fixture(autouse=True)
async def _close_gateways() -> AsyncIterator[None]:
    yield
    gateways = list(_GATEWAYS.values())
    _GATEWAYS.clear()
    for gateway in gateways:
        await gateway.close()


async def audit(
    vk: FakeVK,
    link: str,
    kind: str = "user",
    *,
    settings: Settings | None = None,
    **options: Any,
) -> AuditResult:
    options.setdefault("community_type", "commercial")
    if settings is not None:
        async with VkGateway(settings) as gateway:
            return await Auditor(settings, gateway.reader).audit(link, **options)
    settings = settings_for(vk, kind)
    gateway = _GATEWAYS.setdefault(kind, VkGateway(settings))
    return await Auditor(settings, gateway.reader).audit(link, **options)


def statuses(result: AuditResult) -> dict[str, str]:
    return {item.id: item.status for item in result.items}


def expected_score(result: AuditResult) -> int:
    """The documented formula, computed here from the items and rules.yaml."""
    credit = {"ok": 1.0, "unknown": RULES.score.unknown_credit, "missing": 0.0}
    total = sum(item.points for item in result.items)
    raw = round(100 * sum(item.points * credit[item.status] for item in result.items) / total)
    if any(item.mandatory and item.status == "missing" for item in result.items):
        return min(raw, RULES.score.mandatory_missing_cap)
    return raw


# --- a ready community ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_ready_community_passes_every_visible_item(fake_vk: FakeVK, kind: str) -> None:
    spec = ready_spec()
    fake_vk.add_public(spec)
    result = await audit(fake_vk, f"https://vk.com/{spec.screen_name}", kind)
    assert result.ok, result.error
    assert [item.id for item in result.items] == READINESS  # commercial: goods applies
    for item_id, status in statuses(result).items():
        assert status == ("unknown" if item_id in NEVER_VISIBLE else "ok"), item_id
    assert (
        result.item("interactive_menu").question
        == KNOWLEDGE.checklist("readiness").items[READINESS.index("interactive_menu")].question
    )
    assert result.score == expected_score(result) == 95  # 100 − half of 4 + 6 points
    assert [entry.id for entry in result.todo] == ["audience_portrait", "interactive_menu"]
    assert result.group is not None and result.group.city == "Тверь"
    # User token: resolve, group and wall in ONE execute; service token: two calls, no resolve
    # (the name is found), no execute.
    if kind == "user":
        assert fake_vk.count(inner=False) == 1 and result.vk_requests == 1
        assert fake_vk.count("execute") == 1
    else:
        assert fake_vk.count("execute") == 0
        assert fake_vk.count("groups.getById") == 1 and fake_vk.count("wall.get") == 1
        assert result.vk_requests == 2


async def test_the_wall_is_read_once_with_the_audit_fields(fake_vk: FakeVK) -> None:
    spec = ready_spec()
    fake_vk.add_public(spec)
    await audit(fake_vk, f"club{spec.id}", "service")
    (group_call,) = [r for r in fake_vk.requests if r.method == "groups.getById"]
    fields = set(group_call.params["fields"].split(","))
    assert {"cover", "description", "site", "addresses", "links", "contacts", "market"} <= fields
    assert {"fixed_post", "counters", "activity", "city"} <= fields
    (wall_call,) = [r for r in fake_vk.requests if r.method == "wall.get"]
    assert wall_call.params["filter"] == "owner"
    assert int(wall_call.params["count"]) == RULES.thresholds.recent_posts


# --- each item fails -----------------------------------------------------------------------------

FAILING: list[tuple[str, dict[str, Any], str]] = [
    ("starter_posts", {"n_posts": 2, "pinned_index": 0}, "few"),
    ("starter_posts", {"n_posts": 4, "attachment_mix": {"photo": 1.0}}, "one_style"),
    ("starter_posts", {"wall": 0}, "wall_off"),
    ("cover", {"cover": False}, "off"),
    ("info_block", {"description": ""}, "empty"),
    ("info_block", {"description": "Салон красоты в Твери."}, "short"),
    ("info_block", {"contacts": 0, "can_message": False}, "no_contact"),
    ("goods", {"market_enabled": False}, "off"),
    ("goods", {"market_items": 0}, "empty"),
    ("pinned_post", {"pinned_index": None}, "none"),
    ("links_contacts", {"site": "", "links": (), "addresses": 0}, "none"),
    (
        "media_sections",
        {"counters": {"photos": 0, "albums": 0, "videos": 0, "clips": 0, "articles": 0}},
        "few",
    ),
    ("media_sections", {"counters": {"videos": 0, "clips": 0, "articles": 0}}, "few"),
    ("name_keywords", {"name": "Салон красоты «Лилия»"}, "local_no"),
]


@pytest.mark.parametrize(
    ("item_id", "changes", "case"), FAILING, ids=[f"{i}-{c}" for i, _, c in FAILING]
)
async def test_each_item_can_fail(
    fake_vk: FakeVK, item_id: str, changes: dict[str, Any], case: str
) -> None:
    spec = ready_spec(**changes)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.ok, result.error
    item = result.item(item_id)
    assert item.status == "missing", item
    assert item.source == "vk"
    # The checklist's own advice, so the audit and the dialog's checklist say the same.
    checklist_item = KNOWLEDGE.checklist("readiness").items[READINESS.index(item_id)]
    assert item.advice == checklist_item.advice
    assert item_id in [entry.id for entry in result.todo]
    # Everything else still passes: the failure is this item's alone.
    others = {i: s for i, s in statuses(result).items() if i != item_id and i not in NEVER_VISIBLE}
    if item_id != "starter_posts":  # a wall of 2 or one-style posts keeps its own statuses
        assert set(others.values()) == {"ok"}, others
    assert result.score == expected_score(result)


@pytest.mark.parametrize(
    ("changes", "key", "params"),
    [
        ({"n_posts": 2, "pinned_index": 0}, "few", {"count": 2, "min": 3}),
        ({"description": "Салон красоты в Твери."}, "short", {"chars": 22, "min": 100}),
    ],
)
async def test_evidence_says_what_was_seen(
    fake_vk: FakeVK, changes: dict[str, Any], key: str, params: dict[str, Any]
) -> None:
    spec = ready_spec(**changes)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    item = result.item("starter_posts" if key == "few" else "info_block")
    section = "starter_posts" if key == "few" else "info_block"
    assert item.evidence == t(f"audit.evidence.{section}.{key}", **params)


async def test_missing_starter_posts_caps_the_score(fake_vk: FakeVK) -> None:
    spec = ready_spec(n_posts=1, pinned_index=0)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.item("starter_posts").status == "missing"
    assert result.item("starter_posts").mandatory
    assert result.score == RULES.score.mandatory_missing_cap
    assert result.score_cap == RULES.score.mandatory_missing_cap
    assert result.todo[0].id == "starter_posts"  # mandatory first, whatever its points


# --- what VK does not show -----------------------------------------------------------------------


async def test_hidden_wall_makes_posts_and_pin_unknown(fake_vk: FakeVK) -> None:
    spec = ready_spec(pinned_index=None)
    fake_vk.add_public(spec)
    fake_vk.fail_next("wall.get", 15)
    result = await audit(fake_vk, spec.screen_name)
    assert result.ok
    assert result.item("starter_posts").status == "unknown"
    assert result.item("pinned_post").status == "unknown"
    assert result.content is not None and result.content.posts_analyzed == 0


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_wall_permission_denied_makes_posts_unknown(fake_vk: FakeVK, kind: str) -> None:
    """Error 7 on wall.get: the wall is not shown, the rest of the audit stands (no VK outage)."""
    spec = ready_spec()
    fake_vk.add_public(spec)
    fake_vk.fail_next("wall.get", 7)
    result = await audit(fake_vk, spec.screen_name, kind)
    assert result.ok, result.error
    assert any(r.method == "wall.get" and r.error == 7 for r in fake_vk.requests)
    assert result.item("starter_posts").status == "unknown"
    assert result.content is not None and result.content.posts_analyzed == 0


async def test_no_counters_makes_sections_and_goods_unknown(fake_vk: FakeVK) -> None:
    spec = ready_spec(counters=None)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.item("media_sections").status == "unknown"
    assert result.item("goods").status == "unknown"
    assert result.item("goods").evidence == t("audit.evidence.goods.no_counters")


async def test_name_without_a_known_phrase_is_unknown(fake_vk: FakeVK) -> None:
    # A city in the name, but VK's category says nothing of the niche and none was given.
    spec = ready_spec(name="Лилия Тверь", activity="Открытая группа")
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.item("name_keywords").status == "unknown"
    given = await audit(fake_vk, spec.screen_name, phrases=["салон красоты"])
    assert given.item("name_keywords").status == "missing"


async def test_owner_answers_fill_only_what_vk_does_not_show(fake_vk: FakeVK) -> None:
    spec = ready_spec(cover=False)
    fake_vk.add_public(spec)
    result = await audit(
        fake_vk,
        spec.screen_name,
        answers={"interactive_menu": "yes", "audience_portrait": "no", "cover": "yes"},
    )
    menu, portrait, cover = (
        result.item(i) for i in ("interactive_menu", "audience_portrait", "cover")
    )
    assert (menu.status, menu.source) == ("ok", "owner")
    assert (portrait.status, portrait.source) == ("missing", "owner")
    assert (cover.status, cover.source) == ("missing", "vk")  # VK's fact wins over an answer
    assert result.score == expected_score(result)


async def test_type_decides_the_items(fake_vk: FakeVK) -> None:
    spec = ready_spec(market_enabled=False)
    fake_vk.add_public(spec)
    creative = await audit(fake_vk, spec.screen_name, community_type="creative")
    assert "goods" not in statuses(creative)  # goods applies to commercial and brand only
    commercial = await audit(fake_vk, spec.screen_name, community_type="commercial")
    assert commercial.item("goods").status == "missing"
    assert commercial.item("goods").mandatory
    assert commercial.item("goods").tailored  # the guide's advice for a commercial group
    brand = await audit(fake_vk, spec.screen_name, community_type="brand")
    assert brand.item("goods").status == "missing" and not brand.item("goods").mandatory
    untyped = await audit(fake_vk, spec.screen_name, community_type=None)
    assert "goods" not in statuses(untyped)
    assert untyped.item("starter_posts").mandatory  # mandatory for every type
    # Without goods (12 points) the score is still out of 100: 100 × (88 − 5) / 88.
    assert creative.score == expected_score(creative) == 94


# --- search --------------------------------------------------------------------------------------


async def test_name_suggestions_phrase_and_city(fake_vk: FakeVK) -> None:
    spec = ready_spec(name="Салон красоты «Лилия»", city=None, screen_name="liliya_salon")
    fake_vk.add_public(spec)
    result = await audit(
        fake_vk, spec.screen_name, phrases=["салон красоты", "стрижки"], city="Тверь"
    )
    search = result.search
    assert search is not None
    assert search.suggested_names[:2] == ["Салон красоты Тверь", "Стрижки Тверь"]
    assert "Салон красоты «Лилия» Тверь" in search.suggested_names
    assert search.name_has_phrase is True and search.name_has_city is False
    assert result.item("name_keywords").status == "missing"
    assert search.description_has_phrase is True and search.description_has_city is True
    assert search.hashtag == "#Полезныйсовет@liliya_salon"
    assert all(tag.endswith("@liliya_salon") for tag in search.hashtag_alternatives)


async def test_hashtags_in_use_are_found(fake_vk: FakeVK) -> None:
    now = fake_vk.now
    posts = tuple(
        PostSpec(id=10 + n, date=now - (n + 2) * DAY, text=text, attachments=kinds, likes=5)
        for n, (text, kinds) in enumerate(
            [
                ("Совет дня #Полезныйсовет@salon_tver", ("photo",)),
                ("Новинка #новинки #акция", ("video",)),
                ("Ещё совет #Полезныйсовет@salon_tver", ("photo",)),
                ("Опрос", ("poll",)),
            ]
        )
    )
    spec = ready_spec(posts=posts)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.search is not None
    assert result.search.hashtags_in_use == ["#Полезныйсовет@salon_tver"]
    assert result.search.general_hashtags == 2
    assert not result.search.default_address


async def test_default_address_is_noted(fake_vk: FakeVK) -> None:
    spec = ready_spec(screen_name="club410001")
    fake_vk.add_public(spec)
    result = await audit(fake_vk, "club410001")
    assert result.search is not None and result.search.default_address
    assert result.search.hashtag == "#Полезныйсовет@club410001"


# --- content -------------------------------------------------------------------------------------


async def test_content_mix_and_best_format(fake_vk: FakeVK) -> None:
    now = fake_vk.now
    plan = [("clip", 90), ("clip", 70), ("photo", 10), ("photo", 12), ("photo", 8)]
    plan += [("text", 3), ("text", 5), ("poll", 40)]
    posts = [PostSpec(id=500, date=now - DAY, text="Закреп", is_pinned=True, likes=999)]
    for n, (kind, likes) in enumerate(plan):
        attachments = () if kind == "text" else (kind,)
        posts.append(
            PostSpec(id=400 - n, date=now - (n + 2) * DAY, attachments=attachments, likes=likes)
        )
    spec = ready_spec(posts=tuple(posts), members_count=1_000)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    content = result.content
    assert content is not None
    assert content.posts_analyzed == len(plan)  # the pinned post is not part of the mix
    mix = {f.format: f.posts for f in content.formats}
    assert mix == {"photo": 3, "clip": 2, "text": 2, "poll": 1}
    assert content.formats[0].format == "photo"  # most frequent first
    clip = next(f for f in content.formats if f.format == "clip")
    assert clip.mean_activities == 80 and clip.er_percent == pytest.approx(8.0)
    # The poll earned more per post but is a single post: not enough to call it the best.
    assert content.best_format == "clip"
    ids = [s.id for s in content.suggestions]
    assert "best_format" in ids and "no_video" in ids and "stories" in ids
    assert "no_clip" not in ids
    assert content.days_since_last_post == pytest.approx(2, abs=0.01)
    assert content.posts_per_week == pytest.approx(len(plan) / (len(plan) + 1) * 7, rel=0.01)


async def test_stale_feed_is_flagged(fake_vk: FakeVK) -> None:
    spec = ready_spec(last_post_days_ago=45, post_interval_days=3)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, spec.screen_name)
    assert result.content is not None
    assert "stale" in [s.id for s in result.content.suggestions]


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_error_codes(fake_vk: FakeVK, kind: str) -> None:
    fake_vk.add_public(make_public("closed", screen_name="closed_one"))
    fake_vk.add_public(make_public("deleted", screen_name="deleted_one"))
    fake_vk.add_public(ready_spec(id=410_050, screen_name="banned_one", deactivated="banned"))
    fake_vk.add_user(100_500, "ivan_petrov")
    fake_vk.add_app(7_000_001, "some_game")
    cases = {
        "https://t.me/something": ("invalid_link", None),
        "vk.com/id100500": ("not_a_community", t("audit.errors.person")),
        "ivan_petrov": ("not_a_community", t("audit.errors.person")),
        "vk.com/some_game": ("not_a_community", t("audit.errors.app")),
        "vk.com/no_such_group_here": ("not_found", None),
        "club999999": ("not_found", None),
        "deleted_one": ("not_found", t("audit.errors.deleted", what="vk.com/deleted_one")),
        "closed_one": ("closed", t("audit.errors.closed", what="vk.com/closed_one")),
        "banned_one": ("blocked", t("audit.errors.blocked", what="vk.com/banned_one")),
    }
    for link, (code, message) in cases.items():
        result = await audit(fake_vk, link, kind)
        assert result.error is not None, link
        assert result.error.code == code, (link, result.error)
        if message is not None:
            assert result.error.message == message
        assert result.to_json_dict() == {"input": link, "error": result.error.model_dump()}
    known = set(typing.get_args(CheckErrorCode))
    assert {code for code, _ in cases.values()} <= known


async def test_vk_unavailable(fake_vk: FakeVK) -> None:
    spec = ready_spec()
    fake_vk.add_public(spec)
    fake_vk.fail_next("execute", 10, times=2)  # vk_max_retries=1: two attempts
    result = await audit(fake_vk, spec.screen_name)
    assert result.error is not None and result.error.code == "vk_unavailable"
    assert result.error.message == t("audit.errors.vk_unavailable", what="vk.com/salon_tver")


async def test_bad_token_is_misconfigured_and_not_logged(
    fake_vk: FakeVK, caplog: pytest.LogCaptureFixture
) -> None:
    spec = ready_spec()
    fake_vk.add_public(spec)
    bad = "vk1.a.wrong-" + "z" * 30
    settings = settings_for(fake_vk, vk_user_token=SecretStr(bad))
    result = await audit(fake_vk, spec.screen_name, settings=settings)
    assert result.error is not None and result.error.code == "misconfigured"
    assert bad not in caplog.text and bad not in result.error.message
    assert "VK_USER_TOKEN" in caplog.text


async def test_no_token_is_misconfigured(fake_vk: FakeVK) -> None:
    settings = Settings(vk_api_url=fake_vk.base_url, vk_user_token=None, vk_service_token=None)
    async with VkGateway(settings) as gateway:
        assert gateway.reader is None
        result = await Auditor(settings, gateway.reader).audit("vk.com/salon_tver")
    assert result.error is not None and result.error.code == "misconfigured"
    assert result.error.message == t("audit.errors.no_token")
    assert fake_vk.count() == 0


async def test_audits_share_one_rate_limit(fake_vk: FakeVK) -> None:
    for n in range(4):
        fake_vk.add_public(ready_spec(id=410_100 + n, screen_name=f"salon_{n}"))
    settings = settings_for(fake_vk, vk_max_retries=0)  # no retry may hide a 6
    async with VkGateway(settings) as gateway:
        auditor = Auditor(settings, gateway.reader)
        links = [f"salon_{n % 4}" for n in range(10)]
        results = await asyncio.gather(*(auditor.audit(link) for link in links))
    assert all(r.ok for r in results), [r.error for r in results if r.error]
    assert [r for r in fake_vk.requests if r.error == 6] == []


# --- JSON ----------------------------------------------------------------------------------------


async def test_json_shape(fake_vk: FakeVK) -> None:
    spec = ready_spec(cover=False)
    fake_vk.add_public(spec)
    result = await audit(fake_vk, f"vk.com/{spec.screen_name}")
    data = result.to_json_dict()
    assert {"input", "group", "score", "items", "todo"} <= set(data)
    assert set(data) == {
        "input",
        "group",
        "community_type",
        "score",
        "items",
        "search",
        "content",
        "todo",
        "vk_requests",
        "fetched_at",
    }
    assert data["input"] == f"vk.com/{spec.screen_name}"
    assert data["group"]["screen_name"] == spec.screen_name
    for item in data["items"]:
        assert {"id", "status", "advice"} <= set(item)
        assert item["status"] in ("ok", "missing", "unknown")
        assert (item["advice"] is None) == (item["status"] == "ok")
    cover = next(i for i in data["items"] if i["id"] == "cover")
    assert cover["status"] == "missing"
    assert data["todo"][0]["id"] == "cover"  # the biggest gain: 14 of 100 points
    assert data["todo"][0]["gain"] == 14.0
