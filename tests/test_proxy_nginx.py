"""The production profile's reverse proxy, deploy/nginx.conf, run by a real nginx in front of two
real Telegram webhook replicas and two real VK Callback API replicas on PostgreSQL and Redis.

The config is used as it is, but for what only holds in the compose network (tests/services.py,
NginxServer): the fakes post to nginx, over plain HTTP and over TLS, and nginx spreads the
posts over the replicas. Every person gets every answer once and in order; a replica killed
mid-request costs nothing, because nginx hands its requests to the other one; nginx itself
refuses big bodies and unknown paths.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio

from tests import vk_flow
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.fakes.vk_api import FakeVK
from tests.replicas import (
    EXPECTED_ANSWERS,
    PRESSES,
    VK_CONFIRMATION,
    VK_SECRET,
    TelegramReplica,
    VkReplica,
    backing_env,
    health,
    log_problems,
    migrate,
    start_all,
    stop_all,
    stored_answers,
)
from tests.services import NginxServer, PostgresServer, ProxiedRequest, RedisServer, nginx_server
from tests.telegram_flow import (
    answers_of,
    check_nothing_lost_or_doubled,
    check_one_more_press_answered,
    greet,
    play_burst,
    play_control,
    press_all,
    send_calls,
    until_posted,
    wait_delivered,
)
from tests.vk_bot_driver import VkUser

pytestmark = pytest.mark.asyncio(loop_scope="module")

PEOPLE = 12  # per conversation test; the replica tests load the replicas harder
FIRST_VK_PEER = 4_000_001
HEALTHY = (200, {"status": "ok", "database": True, "redis": True})


@dataclass
class Stack:
    """The production profile on 127.0.0.1, shared by this module's tests (the last one kills
    a Telegram replica)."""

    tg: FakeTelegram
    vk: FakeVK
    database_url: str
    telegram: list[TelegramReplica]
    vk_replicas: list[VkReplica]
    nginx: NginxServer
    tls: ssl.SSLContext

    @property
    def telegram_urls(self) -> list[str]:
        """The webhook URL through each of nginx's listeners."""
        return [f"{base}/telegram/" for base in (self.nginx.http_url, self.nginx.https_url)]


def address(replica: TelegramReplica | VkReplica) -> str:
    """How nginx's log names the replica."""
    return f"127.0.0.1:{replica.port}"


def proxied_since(nginx: NginxServer, mark: int, prefix: str) -> list[ProxiedRequest]:
    return [r for r in nginx.requests()[mark:] if r.uri.startswith(prefix)]


async def logged_since(nginx: NginxServer, mark: int, count: int) -> list[ProxiedRequest]:
    """The access log's lines after ``mark`` once there are ``count``: nginx writes a line when
    it is done with a request, which can be after the client read the answer (a refused body
    is still being read and thrown away then)."""
    deadline = time.monotonic() + 60
    while len(lines := nginx.requests()[mark:]) < count:
        assert time.monotonic() < deadline, lines
        await asyncio.sleep(0.05)
    return lines


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(
    postgres_service: PostgresServer,
    redis_service: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    postgres_service.create_database("proxy_nginx")
    database_url = postgres_service.url("proxy_nginx")
    await migrate(database_url)
    await redis_service.flush()
    root = tmp_path_factory.mktemp("proxy-nginx")
    env = backing_env(database_url, redis_service.url)
    async with FakeTelegram() as tg, FakeVK() as vk:
        telegram = [TelegramReplica(tg, root / f"bot-{n}", env) for n in (1, 2)]
        vk_replicas = [VkReplica(vk, root / f"bot-vk-{n}", env) for n in (1, 2)]
        upstreams = {f"bot-{n}:8080": r.port for n, r in enumerate(telegram, 1)}
        upstreams |= {f"bot-vk-{n}:8081": r.port for n, r in enumerate(vk_replicas, 1)}
        with nginx_server(upstreams) as nginx:
            try:
                await start_all([*telegram, *vk_replicas])
                tls = ssl.create_default_context(cafile=str(nginx.certificate))
                yield Stack(tg, vk, database_url, telegram, vk_replicas, nginx, tls)
            finally:
                codes = await stop_all([*telegram, *vk_replicas])
            errors = nginx.errors()
        assert codes == [0, 0, 0, 0]  # the killed one counts as gone
        for replica in [*telegram, *vk_replicas]:  # the killed one's log too, up to its death
            log = replica.log_text()
            assert log_problems(log) == [], log[-4000:]
            for secret in (tg.token, vk.group_token, vk.user_token, VK_SECRET):
                assert secret not in log
        # nginx had trouble only with the replica the last test kills, and with big bodies.
        for line in errors.splitlines():
            expected = "client intended to send too large body" in line or (
                f'upstream: "http://{address(telegram[0])}/' in line
            )
            assert expected or "[warn]" in line, errors[-4000:]
    assert vk.problems == []


async def test_nginx_answers_health_unknown_paths_and_big_bodies_itself(stack: Stack) -> None:
    nginx = stack.nginx
    mark = len(nginx.requests())
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        async with http.get(f"{nginx.http_url}/healthz") as response:
            assert (response.status, await response.text()) == (200, "ok\n")
        async with http.get(f"{nginx.https_url}/healthz", ssl=stack.tls) as response:
            assert (response.status, await response.text()) == (200, "ok\n")
        for path in ("/", "/admin", "/telegramx/", "/healthz/", "/vkontakte/"):
            async with http.get(f"{nginx.http_url}{path}") as response:
                assert response.status == 404, path
        # Just under 1 MB reaches a replica (which refuses it: no secret); just over, nginx
        # refuses itself, 413, and no replica sees it.
        under = b"[" + b" " * (1024 * 1024 - 2) + b"]"
        async with http.post(f"{nginx.http_url}/telegram/", data=under, headers=headers) as r:
            assert r.status == 401
        over = b"[" + b" " * (1024 * 1024 - 1) + b"]"
        for url in (f"{nginx.http_url}/telegram/", f"{nginx.http_url}/vk/"):
            async with http.post(url, data=over, headers=headers) as response:
                assert response.status == 413, url
    proxied = await logged_since(nginx, mark, 2 + 5 + 1 + 2)
    assert [(r.status, r.uri) for r in proxied if r.upstreams] == [(401, "/telegram/")]
    assert [(r.status, r.uri) for r in proxied if r.status == 413] == [
        (413, "/telegram/"),
        (413, "/vk/"),
    ]


async def test_vk_callbacks_through_nginx_answered_once_and_in_order(stack: Stack) -> None:
    vk, nginx = stack.vk, stack.nginx
    url = f"{nginx.http_url}/vk/"
    mark = len(nginx.requests())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        # VK asks for the confirmation string when the server address is saved; each replica
        # must give it, whichever nginx picks.
        confirmation = {"type": "confirmation", "group_id": vk.group_id, "secret": VK_SECRET}
        for _ in range(2):
            async with http.post(url, json=confirmation) as response:
                assert (response.status, await response.text()) == (200, VK_CONFIRMATION)
        # A refusal is passed on as it is, not repeated on the other replica.
        async with http.post(url, json={**confirmation, "secret": "wrong"}) as response:
            assert response.status == 403
    confirmations = await logged_since(nginx, mark, 3)
    assert {r.upstreams[0] for r in confirmations[:2]} == {address(r) for r in stack.vk_replicas}
    assert [len(r.upstreams) for r in confirmations] == [1, 1, 1]
    # The refusing replica's warning names the client nginx served (X-Real-IP), not just nginx.
    deadline = time.monotonic() + 30
    while not any(
        "wrong secret from 127.0.0.1 (via 127.0.0.1) refused" in r.log_text()
        for r in stack.vk_replicas
    ):
        assert time.monotonic() < deadline, "no warning names the sender"
        await asyncio.sleep(0.05)

    # Two addresses under /vk/ stand for VK's original post and its retry racing it.
    mark = len(nginx.requests())
    vk.serve_callback([url, f"{url}callback"], secret=VK_SECRET, duplicates=0.3, seed=11)
    # The reference person takes one step at a time while the others tap all at once.
    control = VkUser(vk, FIRST_VK_PEER)
    people = [VkUser(vk, FIRST_VK_PEER + n) for n in range(1, PEOPLE + 1)]
    await asyncio.gather(
        vk_flow.play_control(vk, control), *(vk_flow.play_burst(vk, p) for p in people)
    )
    expected = vk_flow.answers_of(vk, control.peer_id)
    assert len(expected) >= len(PRESSES) + 1
    assert "Вопрос 5 из" in expected[-1][0]
    await vk_flow.wait_answered(vk, people, len(expected))

    for person in people:
        assert vk_flow.answers_of(vk, person.peer_id) == expected, person.peer_id
        assert vk_flow.send_calls(vk, person.peer_id) == vk_flow.send_calls(vk, control.peer_id)
    answered = sorted(a.peer_id for a in vk.event_answers)
    assert answered == sorted(p.peer_id for p in [control, *people] for _ in PRESSES)
    stored = await stored_answers(stack.database_url, "vk")
    assert len(stored) == PEOPLE + 1
    assert all(answers == EXPECTED_ANSWERS for answers in stored.values()), stored

    assert vk.callback is not None
    assert all(post.ok for post in vk.callback.posts)
    assert len(vk.callback.posts) > len(vk.callback.delivered) + 10, "too few posted twice"
    proxied = proxied_since(nginx, mark, "/vk/")
    assert len(proxied) == len(vk.callback.posts)
    assert {r.upstreams[0] for r in proxied} == {address(r) for r in stack.vk_replicas}
    for replica in stack.vk_replicas:
        assert await health(replica.health_port) == HEALTHY


@dataclass
class Control:
    """The reference Telegram conversation: one press at a time, each after the answer."""

    user: TelegramUser
    answers: list[tuple[str, str]]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def control(stack: Stack) -> Control:
    tg = stack.tg
    tg.spread_webhooks(stack.telegram_urls, tls=stack.tls)
    user = tg.user()
    await play_control(tg, user)
    answers = answers_of(tg, user.id)
    assert len(answers) >= len(PRESSES) + 1
    assert "Вопрос 5 из" in answers[-1][1]
    return Control(user, answers)


async def test_telegram_updates_through_nginx_over_http_and_tls_answered_once_in_order(
    stack: Stack, control: Control
) -> None:
    tg, nginx = stack.tg, stack.nginx
    expected = control.answers
    posted, mark = len(tg.webhook_log), len(nginx.requests())
    # Half the posts come over TLS; a duplicate goes through both listeners at the same moment.
    tg.spread_webhooks(stack.telegram_urls, duplicates=0.3, seed=8, tls=stack.tls)
    people = [tg.user() for _ in range(PEOPLE)]
    await asyncio.gather(*(play_burst(tg, person) for person in people))
    await wait_delivered(tg, people, len(expected))

    for person in people:
        assert answers_of(tg, person.id) == expected, person.id
        assert send_calls(tg, person.id) == send_calls(tg, control.user.id), person.id
    assert tg.unanswered_callbacks() == []
    chats = [p.id for p in [control.user, *people]]
    stored = await stored_answers(stack.database_url, "telegram", chats)
    assert all(stored[str(chat)] == EXPECTED_ANSWERS for chat in chats), stored

    # Every post answered 200 on its first replica, over both listeners; both replicas worked.
    deliveries = tg.webhook_log[posted:]
    assert {(d.url, d.status) for d in deliveries} == {(u, 200) for u in stack.telegram_urls}
    updates = {d.update_id for d in deliveries}
    assert len(deliveries) > len(updates) + 10, "too few updates were posted twice"
    proxied = proxied_since(nginx, mark, "/telegram/")
    assert len(proxied) == len(deliveries)
    assert all((r.status, r.upstream_statuses) == (200, ["200"]) for r in proxied)
    assert {r.upstreams[0] for r in proxied} == {address(r) for r in stack.telegram}


async def test_a_replica_killed_under_load_nginx_hands_its_updates_to_the_other(
    stack: Stack, control: Control
) -> None:
    tg, nginx = stack.tg, stack.nginx
    doomed, survivor = stack.telegram
    expected = control.answers
    tg.spread_webhooks(stack.telegram_urls, duplicates=0.1, seed=3, tls=stack.tls)

    people = [tg.user() for _ in range(PEOPLE)]
    menus = await asyncio.gather(*(greet(tg, person) for person in people))
    posted, mark = len(tg.webhook_log), len(nginx.requests())
    press_all(tg, people, menus)
    # SIGKILL once a third of the presses are answered, with others in the replica's hands.
    await until_posted(tg, posted, len(people) * len(PRESSES) // 3)
    await doomed.kill()
    await wait_delivered(tg, people, len(expected))

    # Telegram never saw a failure: what the killed replica held (and whatever nginx sent it
    # afterwards, until it counted it down) was posted to the survivor within the same request.
    assert tg.pending == []
    assert {d.status for d in tg.webhook_log[posted:]} == {200}
    proxied = proxied_since(nginx, mark, "/telegram/")
    assert all(r.status == 200 for r in proxied)
    handed_over = [r for r in proxied if len(r.upstreams) == 2]
    assert handed_over, "nginx never had to try the other replica"
    assert {tuple(r.upstreams) for r in handed_over} == {(address(doomed), address(survivor))}
    # Some were in its hands when it died (not merely refused afterwards).
    in_hand = [
        line
        for line in nginx.errors().splitlines()
        if "while reading response header from upstream" in line
        and f'upstream: "http://{address(doomed)}/telegram/"' in line
    ]
    assert in_hand, nginx.errors()[-4000:]

    await check_nothing_lost_or_doubled(tg, stack.database_url, people, expected)

    # The survivor carries on behind nginx: one more press each, answered.
    await check_one_more_press_answered(tg, people, menus)
    assert await health(survivor.health_port) == HEALTHY
