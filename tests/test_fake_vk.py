"""The fake VK API answers like VK, over real HTTP, and every answer passes the VK schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from vkbottle import API
from vkbottle.exception_factory import VKAPIError

from tests.fakes.vk_api import (
    FakeVK,
    PostSpec,
    PublicSpec,
    TokenBucket,
    VKRequest,
    make_public,
)
from tests.fakes.vk_data import Community
from tests.fakes.vk_methods import HANDLERS
from tests.fakes.vk_schema import (
    DEFAULT_SCHEMA_DIR,
    SCHEMA_ENV,
    VKSchema,
    load_schema,
    validate_response,
)

V = "5.199"


class Client:
    """Calls the fake exactly as a VK client does: POST form (or GET query) to /method/name."""

    def __init__(self, session: aiohttp.ClientSession, vk: FakeVK) -> None:
        self.session = session
        self.vk = vk

    async def call(
        self, method: str, token: str | None, *, http: str = "POST", **params: Any
    ) -> dict[str, Any]:
        data = {key: str(value) for key, value in params.items()}
        if token is not None:
            data["access_token"] = token
        data.setdefault("v", V)
        url = f"{self.vk.base_url}/{method}"
        if http == "GET":
            async with self.session.get(url, params=data) as response:
                assert response.status == 200
                return await response.json()
        async with self.session.post(url, data=data) as response:
            assert response.status == 200
            return await response.json()

    async def ok(self, method: str, token: str, **params: Any) -> Any:
        body = await self.call(method, token, **params)
        assert "error" not in body, body
        return body["response"]

    async def error(self, method: str, token: str | None, **params: Any) -> int:
        body = await self.call(method, token, **params)
        assert "error" in body, body
        return body["error"]["error_code"]


def assert_clean(vk: FakeVK) -> None:
    assert vk.problems == []


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    """A fake without rate pressure, for tests of what the methods answer."""
    async with FakeVK(service_rate=1000, user_rate=1000, group_rate=1000) as fake:
        yield fake
    assert_clean(fake)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(vk: FakeVK, session: aiohttp.ClientSession) -> Client:
    return Client(session, vk)


def png(width: int, height: int) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# -- schema ---------------------------------------------------------------------------


def test_every_implemented_method_is_in_the_schema() -> None:
    schema = load_schema()
    assert set(HANDLERS) <= set(schema.methods)


def test_schema_folder_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv(SCHEMA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=SCHEMA_ENV):
        VKSchema()
    monkeypatch.setenv(SCHEMA_ENV, str(DEFAULT_SCHEMA_DIR))
    assert "groups.getMembers" in VKSchema().methods


def test_validation_catches_broken_answers() -> None:
    good = {"response": {"groups": [{"id": 1, "name": "x", "members_count": 5}], "profiles": []}}
    assert validate_response("groups.getById", good) == []
    wrong_type = {"response": {"groups": [{"id": 1, "members_count": "5"}], "profiles": []}}
    assert any("members_count" in p for p in validate_response("groups.getById", wrong_type))
    missing_id = {"response": {"groups": [{"name": "x"}]}}
    assert any("'id' is a required" in p for p in validate_response("groups.getById", missing_id))
    unknown_field = {"response": {"groups": [{"id": 1, "memberz_count": 5}]}}
    assert any("memberz_count" in p for p in validate_response("groups.getById", unknown_field))
    post = {"id": 1, "owner_id": -1, "date": 1, "likes": {"count": 1}}
    problems = validate_response("wall.get", {"response": {"count": 1, "items": [post]}})
    assert any("user_likes" in p for p in problems)
    assert validate_response("users.get", {"response": {"id": 1}}) != []
    assert validate_response("messages.send", {"response": "5"}, {"peer_id": "1"}) != []


def test_validation_of_errors() -> None:
    good = {"error": {"error_code": 5, "error_msg": "User authorization failed: no token"}}
    assert validate_response("users.get", good) == []
    wrong_message = {"error": {"error_code": 5, "error_msg": "Auth failed"}}
    assert validate_response("users.get", wrong_message) != []
    unknown_code = {"error": {"error_code": 99999, "error_msg": "x"}}
    assert validate_response("users.get", unknown_code) != []
    # 12 is not global: only methods that list it (execute) may answer it.
    compile_error = {"error": {"error_code": 12, "error_msg": "Unable to compile code"}}
    assert validate_response("execute", compile_error) == []
    assert validate_response("users.get", compile_error) != []


def test_known_quirks_are_accepted_narrowly() -> None:
    assert validate_response("utils.resolveScreenName", {"response": []}) == []
    assert validate_response("utils.resolveScreenName", {"response": [1]}) != []
    assert validate_response("execute", {"response": [1, 2]}) == []
    bad_errors = {"response": 1, "execute_errors": [{"method": "x"}]}
    assert validate_response("execute", bad_errors) != []


async def test_the_fake_records_its_own_broken_answer(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    async def broken(vk: FakeVK, call: Any) -> Any:
        return {"groups": [{"id": "not a number"}], "profiles": []}

    monkeypatch.setitem(HANDLERS, "groups.getById", broken)
    async with FakeVK() as fake:
        await Client(session, fake).call("groups.getById", fake.service_token, group_id=1)
        assert any("not a number" in p for p in fake.schema_violations)


async def test_a_crash_of_the_fake_is_recorded(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    async def crashing(vk: FakeVK, call: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setitem(HANDLERS, "users.get", crashing)
    async with FakeVK() as fake:
        body = await Client(session, fake).call("users.get", fake.service_token)
        assert body["error"]["error_code"] == 10
        assert fake.internal_errors


# -- tokens, limits, records, faults ----------------------------------------------------


async def test_tokens_and_version(client: Client, vk: FakeVK) -> None:
    assert len({vk.user_token, vk.group_token, vk.service_token}) == 3
    assert await client.error("users.get", None) == 5
    assert await client.error("users.get", "not-a-token") == 5
    body = await client.call("users.get", vk.service_token, v="")
    assert body["error"]["error_code"] == 8
    error = (await client.call("wall.get", vk.group_token, owner_id=-1))["error"]
    assert error["error_code"] == 27
    assert {"key": "owner_id", "value": "-1"} in error["request_params"]
    assert all(p["key"] != "access_token" for p in error["request_params"])
    assert await client.error("stats.get", vk.service_token, group_id=1) == 28
    assert await client.error("execute", vk.service_token, code="return 1;") == 28
    assert await client.error("messages.sendMessageEventAnswer", vk.user_token) == 15
    assert await client.error("no.suchMethod", vk.user_token) == 3
    assert [r.token_type for r in vk.requests[:3]] == [None, None, "service"]


async def test_get_and_post_both_work(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("small"))
    got = await client.call("groups.getById", vk.service_token, http="GET", group_id=270001)
    posted = await client.call("groups.getById", vk.service_token, group_id=270001)
    assert got == posted
    assert [r.http_method for r in vk.requests] == ["GET", "POST"]


def test_token_bucket_is_vk_like() -> None:
    user = TokenBucket(3, slack=0.15)
    assert [user.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert user.take(1 / 3) and not user.take(1 / 3)
    steady = TokenBucket(3, slack=0.15)
    assert all(steady.take(n / 3) for n in range(30))  # 1/3 s apart, forever
    jitter = TokenBucket(3, slack=0.15)
    assert all(jitter.take(n / 3 - (0.04 if n % 2 else 0.0)) for n in range(30))
    group = TokenBucket(20, slack=0.15)
    assert sum(group.take(0.0) for _ in range(25)) == 20
    slow = TokenBucket(0.5, slack=0.15)
    assert slow.take(0.0) and not slow.take(1.0) and slow.take(2.0)


async def test_user_rate_limit(fake_vk: FakeVK, session: aiohttp.ClientSession) -> None:
    client = Client(session, fake_vk)
    results = await asyncio.gather(
        *(client.call("users.get", fake_vk.user_token) for _ in range(4))
    )
    assert [r.get("error", {}).get("error_code") for r in results].count(6) == 1
    await asyncio.sleep(0.4)
    assert "response" in await client.call("users.get", fake_vk.user_token)
    # Another token has its own budget.
    assert "response" in await client.call("users.get", fake_vk.service_token)
    assert sum(r.error == 6 for r in fake_vk.requests) == 1


async def test_spacing_calls_never_hits_the_limit(
    fake_vk: FakeVK, session: aiohttp.ClientSession
) -> None:
    client = Client(session, fake_vk)
    for _ in range(7):
        assert "response" in await client.call("users.get", fake_vk.user_token)
        await asyncio.sleep(1 / 3)


async def test_group_and_service_rates(session: aiohttp.ClientSession) -> None:
    async with FakeVK(service_rate=2) as fake:
        client = Client(session, fake)
        burst = [client.call("users.get", fake.group_token, user_ids=1) for _ in range(20)]
        assert not any("error" in r for r in await asyncio.gather(*burst))
        await asyncio.sleep(1.1)
        flood = [client.call("users.get", fake.group_token, user_ids=1) for _ in range(30)]
        refused = sum("error" in r for r in await asyncio.gather(*flood))
        assert 1 <= refused <= 10
        results = await asyncio.gather(
            *(client.call("users.get", fake.service_token) for _ in range(3))
        )
        assert sum("error" in r for r in results) == 1
        assert fake.count("users.get") == 53
        assert sum(r.error == 6 for r in fake.requests) == refused + 1


def test_requests_per_window_and_refusals_are_counted_per_token() -> None:
    vk = FakeVK()
    arrivals = [("user", 0.0), ("user", 0.5), ("service", 0.6), ("user", 0.99), ("user", 1.0)]
    arrivals += [("user", 1.2), ("user", 1.25)]
    for kind, arrived in arrivals:
        vk.requests.append(VKRequest("users.get", {}, kind, 100.0 + arrived))
    vk.requests.append(VKRequest("users.get", {}, "user", 100.5, inner=True))  # rides in a trip
    vk.requests[-2].error = 6
    assert vk.busiest_window("user", 1.0) == 5  # 0.5 … 1.25
    assert vk.busiest_window("user", 0.3) == 4  # 0.99 … 1.25
    assert vk.busiest_window("user", 0.25) == 3  # 0.99 … 1.2: 1.0 … 1.25 spans a whole 0.25
    assert vk.busiest_window("service", 1.0) == 1
    assert vk.busiest_window("group", 1.0) == 0
    assert vk.refused("user") == 1 and vk.refused("service") == 0


async def test_latency(session: aiohttp.ClientSession) -> None:
    async with FakeVK(latency=0.2) as fake:
        started = time.monotonic()
        await Client(session, fake).call("users.get", fake.service_token)
        assert time.monotonic() - started >= 0.2


async def test_requests_are_recorded(client: Client, vk: FakeVK) -> None:
    await client.ok("users.get", vk.service_token, user_ids=vk.user_id, fields="sex")
    await client.ok("utils.resolveScreenName", vk.user_token, screen_name="token_owner")
    first = vk.requests[0]
    assert first.method == "users.get"
    assert first.params == {"v": V, "user_ids": str(vk.user_id), "fields": "sex"}
    assert first.token_type == "service"
    assert not first.inner and first.error is None
    assert first.time <= vk.requests[1].time
    assert vk.count() == 2
    assert vk.count("users.get") == 1
    assert vk.count("wall.get") == 0


async def test_fail_next_and_delay_next(client: Client, vk: FakeVK) -> None:
    vk.fail_next("users.get", 10, times=2)
    assert await client.error("users.get", vk.service_token) == 10
    assert await client.error("users.get", vk.service_token) == 10
    await client.ok("users.get", vk.service_token)
    vk.fail_next("users.get", 14)  # captcha carries what vkbottle needs
    error = (await client.call("users.get", vk.service_token))["error"]
    assert error["captcha_sid"] and error["captcha_img"]
    with pytest.raises(ValueError, match=r"errors\.json"):
        vk.fail_next("users.get", 424242)

    vk.delay_next("users.get", 1.0)
    timeout = aiohttp.ClientTimeout(total=0.2)
    url = f"{vk.base_url}/users.get"
    with pytest.raises(asyncio.TimeoutError):
        await client.session.post(
            url, data={"access_token": vk.service_token, "v": V}, timeout=timeout
        )
    # The delay went to the call that timed out; the next one is not held back.
    assert vk.delays_left("users.get") == 0
    await client.ok("users.get", vk.service_token)


# -- data methods -----------------------------------------------------------------------


async def test_resolve_screen_name(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("healthy", screen_name="coffee"))
    vk.add_public(make_public("closed", screen_name="club_closed", type="group"))
    vk.add_public(make_public("small", screen_name="party", type="event"))
    vk.add_user(5_001, "durov_test")
    vk.add_app(6_001, "some_game")
    token = vk.service_token
    resolve = client.ok
    assert await resolve("utils.resolveScreenName", token, screen_name="coffee") == {
        "type": "page",
        "object_id": 210001,
    }
    assert (await resolve("utils.resolveScreenName", token, screen_name="COFFEE"))["type"] == "page"
    assert (await resolve("utils.resolveScreenName", token, screen_name="club_closed"))[
        "type"
    ] == "group"
    assert (await resolve("utils.resolveScreenName", token, screen_name="party"))["type"] == "event"
    assert (await resolve("utils.resolveScreenName", token, screen_name="public210001"))[
        "object_id"
    ] == 210001
    assert await resolve("utils.resolveScreenName", token, screen_name="durov_test") == {
        "type": "user",
        "object_id": 5001,
    }
    assert await resolve("utils.resolveScreenName", token, screen_name="some_game") == {
        "type": "application",
        "object_id": 6001,
    }
    assert await resolve("utils.resolveScreenName", token, screen_name="no_such_name") == []


async def test_groups_get_by_id(client: Client, vk: FakeVK) -> None:
    healthy = vk.add_public(make_public("healthy", screen_name="coffee"))
    vk.add_public(make_public("deleted"))
    fields = "members_count,description,cover,site,addresses,links,contacts,market,fixed_post"
    fields += ",city,counters,activity,status,verified,wall"
    answer = await client.ok(
        "groups.getById", vk.service_token, group_ids="coffee,260001,999", fields=fields
    )
    assert set(answer) == {"groups", "profiles"}
    coffee, deleted = answer["groups"]
    assert coffee["id"] == 210001 and coffee["members_count"] == 12_000
    assert coffee["cover"]["enabled"] == 1 and coffee["market"]["enabled"] == 1
    assert coffee["fixed_post"] == healthy.post_at(0).id
    assert coffee["links"][0]["url"] == "https://example.ru/menu"
    assert coffee["city"] == {"id": 1, "title": "Москва"}
    assert deleted["deactivated"] == "deleted" and "members_count" not in deleted
    plain = await client.ok("groups.getById", vk.user_token, group_id="coffee")
    assert set(plain["groups"][0]) >= {"id", "name", "screen_name", "is_closed", "type"}
    assert "members_count" not in plain["groups"][0]
    assert await client.error("groups.getById", vk.service_token, group_id="missing") == 100
    own = await client.ok("groups.getById", vk.group_token)
    assert own["groups"][0]["id"] == vk.group_id


async def test_members_pagination(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("small", inactive_fraction=0.3))
    seen: list[int] = []
    offset = 0
    while True:
        page = await client.ok(
            "groups.getMembers", vk.service_token, group_id=270001, offset=offset, count=40
        )
        assert page["count"] == 150
        if not page["items"]:
            break
        seen += page["items"]
        offset += 40
    assert len(seen) == len(set(seen)) == 150
    assert seen == sorted(seen)
    descending = await client.ok(
        "groups.getMembers",
        vk.service_token,
        group_id="small_public_270001",
        sort="id_desc",
        count=150,
    )
    assert descending["items"] == seen[::-1]
    detailed = await client.ok(
        "groups.getMembers", vk.service_token, group_id=270001, count=150, fields="last_seen,sex"
    )
    users = detailed["items"]
    assert [u["id"] for u in users] == seen
    dead = [u for u in users if "deactivated" in u]
    assert dead and all("last_seen" not in u for u in dead)
    assert {u["deactivated"] for u in dead} <= {"deleted", "banned"}
    alive = [u for u in users if "deactivated" not in u]
    assert all("last_seen" in u and u["last_seen"]["time"] <= vk.now for u in alive)
    assert (
        await client.error("groups.getMembers", vk.service_token, group_id=270001, count=1001)
        == 100
    )
    assert await client.error("groups.getMembers", vk.service_token, group_id=999) == 125


async def test_members_layout_and_access(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("padded"))
    vk.add_public(make_public("closed"))
    vk.add_public(make_public("small", members_hidden=True))
    token = vk.service_token
    head = await client.ok(
        "groups.getMembers", token, group_id=220001, count=1000, fields="last_seen"
    )
    tail = await client.ok(
        "groups.getMembers", token, group_id=220001, offset=49_000, count=1000, fields="last_seen"
    )
    old = vk.now - 180 * 86_400

    def inactive(user: dict[str, Any]) -> bool:
        return "deactivated" in user or user["last_seen"]["time"] < old

    assert sum(map(inactive, head["items"])) == 0
    assert sum(map(inactive, tail["items"])) == 1000
    error = (await client.call("groups.getMembers", token, group_id=250001))["error"]
    assert error["error_code"] == 15
    assert await client.error("groups.getMembers", token, group_id=270001) == 15


def test_burst_layout_has_runs_of_bots() -> None:
    spec = make_public(
        "huge", members_count=400_000, inactive_fraction=0.2, inactive_layout="bursts"
    )
    community = Community(spec, 1_700_000_000)
    flags = [community.is_inactive(i) for i in range(spec.members_count)]
    share = sum(flags) / len(flags)
    assert abs(share - 0.2) < 0.03
    # Half the inactive members sit in whole runs of 2 000 consecutive members.
    runs = [sum(flags[i : i + 2000]) for i in range(0, len(flags), 2000)]
    full = sum(count == 2000 for count in runs)
    assert abs(full / len(runs) - 0.1) < 0.04
    # The rest are spread thinly: a run without bots has about 1/9 of its members inactive.
    thin = [count / 2000 for count in runs if count < 2000]
    assert abs(sum(thin) / len(thin) - 0.1 / 0.9) < 0.01
    assert all(community.member(i).deactivated or community.member(i).last_seen for i in range(50))
    with pytest.raises(ValueError):
        PublicSpec(id=1, screen_name="x", name="x", burst_run=0)


async def test_wall_get(client: Client, vk: FakeVK) -> None:
    mix = {"photo": 0.3, "video": 0.1, "clip": 0.1, "article": 0.1, "poll": 0.1, "link": 0.1}
    vk.add_public(make_public("healthy", attachment_mix=mix | {"doc": 0.1, "audio": 0.1}))
    token = vk.service_token
    first = await client.ok("wall.get", token, owner_id=-210001, count=100)
    assert first["count"] == 120 and len(first["items"]) == 100
    pinned, *rest = first["items"]
    assert pinned["is_pinned"] == 1 and all("is_pinned" not in p for p in rest)
    dates = [p["date"] for p in rest]
    assert dates == sorted(dates, reverse=True)
    kinds = {a["type"] for p in first["items"] for a in p["attachments"]}
    assert {"photo", "video", "clip", "article", "poll", "link"} <= kinds
    for post in first["items"]:
        assert post["owner_id"] == -210001 and post["views"]["count"] >= 0
        assert {
            "id",
            "from_id",
            "date",
            "text",
            "marked_as_ads",
            "likes",
            "reposts",
            "comments",
        } <= set(post)
    second = await client.ok(
        "wall.get", token, domain="healthy_public_210001", offset=100, count=100
    )
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 120
    assert await client.error("wall.get", token, owner_id=-210001, count=101) == 100
    by_id = await client.ok(
        "wall.getById", token, posts=f"-210001_{ids[0]},-210001_{ids[5]},-210001_9999"
    )
    assert [p["id"] for p in by_id["items"]] == [ids[0], ids[5]]


async def test_wall_closed_deleted_and_filters(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("closed"))
    vk.add_public(make_public("deleted"))
    vk.add_public(make_public("small", others_fraction=0.5, seed=3))
    token = vk.service_token
    closed = (await client.call("wall.get", token, owner_id=-250001))["error"]
    assert closed["error_code"] == 15 and "members" in closed["error_msg"]
    assert await client.error("wall.get", token, owner_id=-260001) == 15
    assert await client.error("wall.get", token, owner_id=-424242) == 100
    owner = await client.ok("wall.get", token, owner_id=-270004, filter="owner")
    others = await client.ok("wall.get", token, owner_id=-270004, filter="others")
    assert owner["count"] + others["count"] == 12 and others["count"] > 0
    assert all(p["from_id"] > 0 for p in others["items"])
    extended = await client.ok("wall.get", token, owner_id=-270004, extended=1)
    assert {"profiles", "groups"} <= set(extended)
    assert extended["groups"][0]["id"] == 270004


async def test_explicit_posts(client: Client, vk: FakeVK) -> None:
    original = PostSpec(
        id=77, date=vk.now - 9_000, text="Оригинал", owner_id=-555, attachments=("photo",)
    )
    posts = (
        PostSpec(id=1, date=vk.now - 86_400 * 900, text="Старый пост", views=None, likes=3),
        PostSpec(id=2, date=vk.now - 3_600, text="Репост", copy_history=(original,), views=40),
        PostSpec(
            id=3, date=vk.now - 86_400, text="Закреп", is_pinned=True, views=900, marked_as_ads=True
        ),
        PostSpec(id=4, date=vk.now - 60, attachments=("clip", "poll"), views=10, from_id=123),
    )
    vk.add_public(PublicSpec(id=4242, screen_name="explicit", name="Явные посты", posts=posts))
    items = (await client.ok("wall.get", vk.service_token, owner_id=-4242))["items"]
    assert [p["id"] for p in items] == [3, 4, 2, 1]
    assert items[0]["is_pinned"] == 1 and items[0]["marked_as_ads"] == 1
    assert items[1]["from_id"] == 123
    assert [a["type"] for a in items[1]["attachments"]] == ["clip", "poll"]
    assert items[2]["copy_history"][0]["owner_id"] == -555
    assert "views" not in items[3]


async def test_users_get(client: Client, vk: FakeVK) -> None:
    community = vk.add_public(make_public("small"))
    member = community.member(3)
    vk.add_user(7_001, "anna_test", first_name="Анна", last_name="Тестова", deactivated="banned")
    users = await client.ok(
        "users.get", vk.service_token, user_ids=f"{member.id},anna_test,99", fields="last_seen"
    )
    assert users[0]["id"] == member.id and users[0]["first_name"] == member.first_name
    assert users[1] == {
        "id": 7001,
        "first_name": "Анна",
        "last_name": "Тестова",
        "can_access_closed": True,
        "is_closed": False,
        "deactivated": "banned",
    }
    assert users[2]["deactivated"] == "deleted"
    me = await client.ok("users.get", vk.user_token)
    assert me[0]["id"] == vk.user_id
    assert await client.error("users.get", vk.service_token, user_ids="no_such_user") == 113


async def test_stats_get(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("healthy"))
    vk.add_public(make_public("small", stats_access=True))
    assert await client.error("stats.get", vk.user_token, group_id=210001) == 15
    assert await client.error("stats.get", vk.group_token, group_id=270001) == 27
    periods = await client.ok("stats.get", vk.user_token, group_id=270001, intervals_count=7)
    assert len(periods) == 7
    assert periods[0]["period_to"] > periods[1]["period_to"]
    assert periods[0]["visitors"]["views"] > 0


# -- execute ----------------------------------------------------------------------------


async def test_execute_loops_and_field_extraction(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("small"))
    code = """
        var ids = [], offset = 0, total = 1;
        while (offset < total) {
            var page = API.groups.getMembers({"group_id": 270001, "offset": offset, "count": 40});
            total = page.count;
            ids = ids + page.items;
            offset = offset + 40;
        }
        var wall = API.wall.get({owner_id: -270001, count: 5});
        var likes = wall.items@.likes@.count;
        var sum = 0, i = 0;
        while (i < likes.length) { sum += likes[i]; i++; }
        return {"ids": ids.length, "first": ids[0], "post_ids": wall.items@.id, "likes": sum};
    """
    answer = await client.ok("execute", vk.user_token, code=code)
    members = await client.ok("groups.getMembers", vk.user_token, group_id=270001, count=150)
    wall = await client.ok("wall.get", vk.user_token, owner_id=-270001, count=5)
    assert answer == {
        "ids": 150,
        "first": members["items"][0],
        "post_ids": [p["id"] for p in wall["items"]],
        "likes": sum(p["likes"]["count"] for p in wall["items"]),
    }
    inner = [r for r in vk.requests if r.inner]
    assert [r.method for r in inner] == ["groups.getMembers"] * 4 + ["wall.get"]
    assert all(r.token_type == "user" for r in inner)
    assert vk.count("execute") == 1 and vk.count(inner=True) == 5


async def test_execute_inner_errors(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("closed"))
    vk.fail_next("users.get", 6)
    code = """
        var a = API.wall.get({owner_id: -250001});
        var b = API.users.get({user_ids: [1, 2]});
        var c = API.stats.get({group_id: 250001});
        return [a, b, c, parseInt("42abc")];
    """
    body = await client.call("execute", vk.group_token, code=code)
    assert body["response"] == [False, False, False, 42]
    assert [(e["method"], e["error_code"]) for e in body["execute_errors"]] == [
        ("wall.get", 27),
        ("users.get", 6),
        ("stats.get", 27),
    ]
    assert all(e["error_msg"] for e in body["execute_errors"])
    assert [r.error for r in vk.requests if r.inner] == [27, 6, 27]


async def test_execute_compile_runtime_and_call_limit(client: Client, vk: FakeVK) -> None:
    assert await client.error("execute", vk.user_token, code="var = ;") == 12
    assert await client.error("execute", vk.user_token, code="return missing + 1;") == 13
    assert await client.error("execute", vk.user_token, code="while (true) {}") == 13
    many = "var i = 0; while (i < 25) { API.users.get({}); i = i + 1; } return i;"
    assert await client.ok("execute", vk.user_token, code=many) == 25
    too_many = "var i = 0; while (i < 26) { API.users.get({}); i = i + 1; } return i;"
    error = (await client.call("execute", vk.user_token, code=too_many))["error"]
    assert error["error_code"] == 13 and "API calls" in error["error_msg"]
    assert await client.ok(
        "execute", vk.user_token, code="var a = [3, 1]; a.push(7); return a;"
    ) == [3, 1, 7]
    assert await client.ok("execute", vk.user_token, code="return;") is None


async def test_execute_counts_once_toward_the_rate_limit(session: aiohttp.ClientSession) -> None:
    async with FakeVK(user_rate=0.5) as fake:  # one call per 2 s: timing cannot blur it
        client = Client(session, fake)
        code = "var i = 0, n = 0; while (i < 25) { n = n + API.users.get({}).length; i += 1; }"
        code += " return n;"
        assert await client.ok("execute", fake.user_token, code=code) == 25
        assert await client.error("execute", fake.user_token, code=code) == 6
        assert fake.count("execute") == 2 and fake.count("users.get", inner=True) == 25
        assert fake.problems == []


# -- Bots Long Poll ---------------------------------------------------------------------


async def _poll(client: Client, server: dict[str, str], wait: float = 1) -> dict[str, Any]:
    params = {"act": "a_check", "key": server["key"], "ts": server["ts"], "wait": str(wait)}
    async with client.session.post(server["server"], params=params) as response:
        return await response.json(content_type=None)


async def test_longpoll_delivers_events(client: Client, vk: FakeVK) -> None:
    server = await client.ok("groups.getLongPollServer", vk.group_token, group_id=vk.group_id)
    assert server["server"].startswith(vk.root_url)
    empty = await _poll(client, server, wait=0.1)
    assert empty == {"ts": server["ts"], "updates": []}

    waiting = asyncio.create_task(_poll(client, server, wait=10))
    await vk.wait_for_poll()
    event = vk.user_message(777, "Привет", payload={"command": "start"})
    answer = await asyncio.wait_for(waiting, 2)
    assert answer["updates"] == [event]
    message = answer["updates"][0]["object"]["message"]
    assert message["peer_id"] == 777 and message["from_id"] == 777 and message["text"] == "Привет"
    assert json.loads(message["payload"]) == {"command": "start"}
    assert answer["updates"][0]["object"]["client_info"]["keyboard"] is True

    server["ts"] = answer["ts"]
    vk.message_event(777, {"cmd": "next"})
    second = await _poll(client, server)
    obj = second["updates"][0]["object"]
    assert second["updates"][0]["type"] == "message_event"
    assert obj["payload"] == {"cmd": "next"} and obj["user_id"] == 777
    assert int(second["ts"]) == int(answer["ts"]) + 1
    assert await client.error("groups.getLongPollServer", vk.group_token, group_id=1) == 15
    assert (
        await client.error("groups.getLongPollServer", vk.service_token, group_id=vk.group_id) == 28
    )


async def test_longpoll_failures(client: Client, vk: FakeVK) -> None:
    server = await client.ok("groups.getLongPollServer", vk.group_token, group_id=vk.group_id)
    vk.user_message(1, "раз")
    vk.longpoll_fail(1)
    failed = await _poll(client, server)
    assert failed == {"failed": 1, "ts": str(int(server["ts"]) + 1)}
    assert (await _poll(client, server))["updates"][0]["object"]["message"]["text"] == "раз"

    vk.longpoll_fail(2)
    assert await _poll(client, server) == {"failed": 2}
    assert await _poll(client, server) == {"failed": 2}  # the old key stays dead
    renewed = await client.ok("groups.getLongPollServer", vk.group_token, group_id=vk.group_id)
    assert renewed["key"] != server["key"]
    vk.user_message(1, "два")
    kept_ts = {**renewed, "ts": server["ts"]}  # failed 2: new key, the old ts still works
    caught_up = await _poll(client, kept_ts)
    assert [u["object"]["message"]["text"] for u in caught_up["updates"]] == ["раз", "два"]

    waiting = asyncio.create_task(_poll(client, {**renewed, "ts": caught_up["ts"]}, wait=10))
    await vk.wait_for_poll()
    vk.longpoll_fail(3)  # also answers a poll that is already waiting
    assert await asyncio.wait_for(waiting, 2) == {"failed": 3}
    fresh = await client.ok("groups.getLongPollServer", vk.group_token, group_id=vk.group_id)
    assert (await _poll(client, fresh, wait=0.1))["updates"] == []
    assert await _poll(client, {**fresh, "key": "wrong"}) == {"failed": 2}
    with pytest.raises(ValueError):
        vk.longpoll_fail(4)


async def test_pushed_events_are_validated(vk: FakeVK) -> None:
    vk.push_event("message_new", {"message": {"id": 1}})
    assert any("conversation_message_id" in p for p in vk.schema_violations)
    vk.schema_violations.clear()


# -- messages ---------------------------------------------------------------------------


async def test_messages_send_and_dedup(client: Client, vk: FakeVK) -> None:
    vk.user_message(42, "Привет")
    keyboard = json.dumps(
        {
            "one_time": False,
            "inline": True,
            "buttons": [
                [
                    {
                        "action": {"type": "text", "label": "Да", "payload": '{"a":1}'},
                        "color": "positive",
                    }
                ],
                [{"action": {"type": "callback", "label": "Дальше", "payload": "{}"}}],
            ],
        }
    )
    send = {"peer_id": 42, "message": "Ответ", "keyboard": keyboard}
    first = await client.ok("messages.send", vk.group_token, random_id=1001, **send)
    again = await client.ok("messages.send", vk.group_token, random_id=1001, **send)
    assert first == again
    assert len(vk.sent_messages) == 1
    sent = vk.sent_messages[0]
    assert (sent.peer_id, sent.message, sent.keyboard, sent.random_id) == (
        42,
        "Ответ",
        keyboard,
        1001,
    )
    assert sent.button_labels() == ["Да", "Дальше"]
    await client.ok("messages.send", vk.group_token, peer_id=42, message="раз", random_id=0)
    await client.ok("messages.send", vk.group_token, peer_id=42, message="раз", random_id=0)
    assert [m.message for m in await vk.wait_sent(3, peer_id=42)] == ["Ответ", "раз", "раз"]
    many = await client.ok(
        "messages.send", vk.group_token, peer_ids="42", message="всем", random_id=5
    )
    assert many[0]["peer_id"] == 42 and many[0]["message_id"] > first


async def test_messages_send_errors(client: Client, vk: FakeVK) -> None:
    vk.allow_messages(43)
    token = vk.group_token
    assert await client.error("messages.send", token, peer_id=44, message="x", random_id=1) == 901
    assert await client.error("messages.send", token, peer_id=43, message="x") == 100
    assert await client.error("messages.send", token, peer_id=43, random_id=1) == 100
    assert (
        await client.error("messages.send", token, peer_id=43, message="я" * 4097, random_id=1)
        == 914
    )
    bad_keyboards = [
        "{not json",
        json.dumps({"buttons": [[{"action": {"type": "text"}}]]}),  # no label
        json.dumps({"buttons": [[{"action": {"type": "text", "label": "x" * 41}}]]}),
        json.dumps({"inline": True, "buttons": [[{"action": {"type": "text", "label": "x"}}]] * 7}),
        json.dumps({"buttons": [[{"action": {"type": "teleport", "label": "x"}}]]}),
    ]
    for keyboard in bad_keyboards:
        assert (
            await client.error(
                "messages.send", token, peer_id=43, message="x", random_id=2, keyboard=keyboard
            )
            == 911
        ), keyboard
    assert (
        await client.error(
            "messages.send", token, peer_id=43, message="x", random_id=3, attachment="photo-1"
        )
        == 100
    )
    assert vk.sent_messages == []


async def test_message_event_answer(client: Client, vk: FakeVK) -> None:
    event = vk.message_event(50, {"cmd": "more"})["object"]
    data = json.dumps({"type": "show_snackbar", "text": "Готово"})
    params = {"event_id": event["event_id"], "user_id": 50, "peer_id": 50}
    assert (
        await client.ok(
            "messages.sendMessageEventAnswer", vk.group_token, event_data=data, **params
        )
        == 1
    )
    assert vk.event_answers[0].event_data == {"type": "show_snackbar", "text": "Готово"}
    wrong = {**params, "event_id": "unknown"}
    assert await client.error("messages.sendMessageEventAnswer", vk.group_token, **wrong) == 100
    too_long = json.dumps({"type": "show_snackbar", "text": "я" * 91})
    assert (
        await client.error(
            "messages.sendMessageEventAnswer", vk.group_token, event_data=too_long, **params
        )
        == 100
    )


async def test_photo_upload_flow(client: Client, vk: FakeVK) -> None:
    vk.user_message(60, "график")
    server = await client.ok("photos.getMessagesUploadServer", vk.group_token, peer_id=60)
    form = aiohttp.FormData()
    form.add_field("photo", png(40, 30), filename="chart.png", content_type="image/png")
    async with client.session.post(server["upload_url"], data=form) as response:
        uploaded = json.loads(await response.text())
    assert set(uploaded) == {"server", "photo", "hash"}
    wrong_hash = {**uploaded, "hash": "0" * 40}
    assert await client.error("photos.saveMessagesPhoto", vk.group_token, **wrong_hash) == 121
    saved = await client.ok("photos.saveMessagesPhoto", vk.group_token, **uploaded)
    photo = saved[0]
    assert photo["owner_id"] == -vk.group_id and (photo["width"], photo["height"]) == (40, 30)
    attachment = f"photo{photo['owner_id']}_{photo['id']}_{photo['access_key']}"
    await client.ok("messages.send", vk.group_token, peer_id=60, attachment=attachment, random_id=9)
    assert vk.sent_messages[-1].attachment == attachment
    forged = f"photo{photo['owner_id']}_{photo['id'] + 1}"
    assert (
        await client.error(
            "messages.send", vk.group_token, peer_id=60, attachment=forged, random_id=10
        )
        == 100
    )

    form = aiohttp.FormData()
    form.add_field("photo", b"not an image", filename="x.png")
    async with client.session.post(server["upload_url"], data=form) as response:
        rejected = json.loads(await response.text())
    assert rejected["photo"] == "[]"
    assert await client.error("photos.saveMessagesPhoto", vk.group_token, **rejected) == 100


# -- data generation --------------------------------------------------------------------


def test_million_member_public_is_cheap() -> None:
    tracemalloc.start()
    try:
        fake = FakeVK()
        community = fake.add_public(make_public("huge"))
        last_page = list(community.members(999_000, 1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert community.spec.members_count == 1_000_000
    assert len(last_page) == 1000 and last_page[-1].id == community.member_id(999_999)
    assert peak < 3_000_000, peak


async def test_million_member_public_over_http(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("huge"))
    page = await client.ok(
        "groups.getMembers", vk.service_token, group_id=280001, offset=999_990, count=1000
    )
    assert page["count"] == 1_000_000 and len(page["items"]) == 10
    inactive = sum(vk.public(280001).is_inactive(i) for i in range(0, 1_000_000, 100))
    assert 1_800 < inactive < 2_200  # 20% spread evenly


def test_generation_is_deterministic() -> None:
    now = 1_700_000_000
    first = Community(make_public("bots"), now)
    again = Community(make_public("bots"), now)
    other = Community(make_public("bots", seed=1, id=230001), now)
    assert [first.member(i) for i in range(50)] == [again.member(i) for i in range(50)]
    assert [first.post_at(i) for i in range(20)] == [again.post_at(i) for i in range(20)]
    assert [first.member(i) for i in range(50)] != [other.member(i) for i in range(50)]
    for index in (0, 17, 29_999):
        assert first.member_index(first.member_id(index)) == index
    block = range(first.member_id(0), first.member_id(99) + 1)
    assert sum(first.member_index(uid) is not None for uid in block) == 100


def test_make_public_kinds() -> None:
    now = 1_700_000_000
    bots = Community(make_public("bots"), now)
    members = [bots.member(i) for i in range(2000)]
    banned = sum(m.deactivated == "banned" for m in members)
    assert 0.3 < banned / 2000 < 0.4
    dead = Community(make_public("dead_reach"), now)
    assert now - dead.post_at(0).date > 39 * 86_400
    healthy = Community(make_public("healthy"), now)
    assert now - healthy.post_at(1).date < 2 * 86_400
    with pytest.raises(ValueError):
        make_public("unknown")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PublicSpec(id=1, screen_name="x", name="x", inactive_layout="middle")  # type: ignore[arg-type]


async def test_update_public_for_campaigns(client: Client, vk: FakeVK) -> None:
    vk.add_public(make_public("small"))
    vk.update_public(270001, members_count=180, n_posts=14)
    group = await client.ok(
        "groups.getById", vk.service_token, group_id=270001, fields="members_count"
    )
    assert group["groups"][0]["members_count"] == 180
    assert (await client.ok("wall.get", vk.service_token, owner_id=-270001))["count"] == 14


# -- vkbottle against the fake -----------------------------------------------------------


async def test_vkbottle_api_client_talks_to_the_fake(vk: FakeVK) -> None:
    vk.add_public(make_public("healthy", screen_name="coffee"))
    api = API(vk.service_token)
    api.API_URL = f"{vk.base_url}/"  # vkbottle joins API_URL + method name
    try:
        answer = await api.request(
            "groups.getById", {"group_id": "coffee", "fields": ["members_count"]}
        )
        assert answer["response"]["groups"][0]["members_count"] == 12_000
        with pytest.raises(VKAPIError[100]):
            await api.request("groups.getById", {"group_id": "nope"})
        members = await api.groups.get_members(group_id=210001, count=3)
        assert members.count == 12_000 and len(members.items) == 3
    finally:
        await api.http_client.close()
    assert vk.requests[0].http_method == "POST" and vk.requests[0].params["v"] == V
    assert vk.requests[0].params["fields"] == "members_count"


async def test_vkbottle_bot_runs_against_the_fake(
    vk: FakeVK, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from vkbottle import Bot, Callback, GroupEventType, Keyboard, PhotoMessageUploader, Text
    from vkbottle.bot import Message, MessageEvent

    monkeypatch.chdir(tmp_path)  # BotPolling saves its ts under ./.vkbottle/
    api = API(vk.group_token)
    api.API_URL = f"{vk.base_url}/"
    bot = Bot(api=api)

    @bot.on.message(text="Привет")
    async def greet(message: Message) -> None:
        keyboard = Keyboard(inline=True).add(Text("Да", {"a": 1})).add(Callback("Ещё", {"c": 2}))
        await message.answer("Здравствуйте!", keyboard=keyboard.get_json())
        photo = await PhotoMessageUploader(bot.api).upload(png(8, 8), peer_id=message.peer_id)
        await message.answer("График", attachment=photo)

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=MessageEvent)
    async def pressed(event: MessageEvent) -> None:
        await event.show_snackbar("Готово")

    polling = asyncio.create_task(bot.run_polling())
    try:
        await vk.wait_for_poll()
        vk.user_message(11, "Привет")
        greeting, chart = await vk.wait_sent(2, within=10)
        assert greeting.button_labels() == ["Да", "Ещё"]
        assert chart.attachment is not None and chart.attachment.startswith(f"photo-{vk.group_id}_")
        vk.message_event(11, {"c": 2})
        for _ in range(250):
            if vk.event_answers:
                break
            await asyncio.sleep(0.02)
        assert vk.event_answers[0].event_data == {"type": "show_snackbar", "text": "Готово"}
        vk.longpoll_fail(2)  # the bot must fetch a new key and keep going
        vk.user_message(11, "Привет")
        await vk.wait_sent(4, within=10)
        assert vk.count("groups.getLongPollServer") == 2
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await api.http_client.close()


async def test_members_portrait_fields(client: Client, vk: FakeVK) -> None:
    spec = make_public(
        "small",
        female_share=0.8,
        city_mix=((72, "Тверь", 0.3), (2, "Санкт-Петербург", 0.5)),
        birth_years=(1990, 1999),
        bdate_no_year_share=0.3,
        bdate_hidden_share=0.2,
        closed_profile_fraction=0.0,
        inactive_fraction=0.0,
    )
    vk.add_public(spec)
    page = await client.ok(
        "groups.getMembers", vk.service_token, group_id=spec.id, count=150, fields="sex,bdate,city"
    )
    users = page["items"]
    assert {u["sex"] for u in users} == {1, 2}
    assert 0.65 < sum(u["sex"] == 1 for u in users) / 150 < 0.95
    titles = [u["city"]["title"] for u in users if "city" in u]
    assert set(titles) == {"Тверь", "Санкт-Петербург"} and 0.65 < len(titles) / 150 < 0.95
    with_year = [u["bdate"] for u in users if u.get("bdate", "").count(".") == 2]
    without_year = [u["bdate"] for u in users if u.get("bdate", "").count(".") == 1]
    absent = [u for u in users if "bdate" not in u]
    assert with_year and without_year and absent
    assert all(1990 <= int(b.rsplit(".", 1)[1]) <= 1999 for b in with_year)
    # Without `fields` asking for them, they are not there.
    bare = await client.ok(
        "groups.getMembers", vk.service_token, group_id=spec.id, count=5, fields="last_seen"
    )
    assert all({"sex", "bdate", "city"}.isdisjoint(u) for u in bare["items"])
    # The same fields inside execute.
    code = f'return API.groups.getMembers({{"group_id": {spec.id}, "count": 150, '
    code += '"fields": "sex,bdate,city"}).items;'
    assert await client.ok("execute", vk.user_token, code=code) == users


async def test_is_member_direct_and_in_execute(client: Client, vk: FakeVK) -> None:
    mine = vk.add_public(make_public("small", id=7001, screen_name="my_salon"))
    other = vk.add_public(make_public("healthy", also_in={7001: 0.4}))
    ids = [other.member_id(i) for i in range(500)]
    answer = await client.ok(
        "groups.isMember", vk.service_token, group_id="my_salon", user_ids=",".join(map(str, ids))
    )
    assert [a["user_id"] for a in answer] == ids
    expected = [int(other.in_also(i, 7001)) for i in range(500)]
    assert [a["member"] for a in answer] == expected
    assert 0.3 < sum(expected) / 500 < 0.5
    own = await client.ok(
        "groups.isMember", vk.service_token, group_id=7001, user_id=mine.member_id(3)
    )
    assert own == 1
    too_many = ",".join(str(other.member_id(i)) for i in range(501))
    assert (
        await client.error("groups.isMember", vk.service_token, group_id=7001, user_ids=too_many)
        == 100
    )
    code = f"""
        var page = API.groups.getMembers({{"group_id": {other.id}, "count": 50}});
        return API.groups.isMember({{"group_id": 7001, "user_ids": page.items.join(",")}});
    """
    inner = await client.ok("execute", vk.user_token, code=code)
    assert [a["member"] for a in inner] == expected[:50]
