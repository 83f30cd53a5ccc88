"""THE fake VK API of the project's tests: a real aiohttp server on 127.0.0.1.

Usage::

    async with FakeVK() as vk:
        vk.add_public(make_public("healthy"))
        # call f"{vk.base_url}/groups.getById" with access_token=vk.service_token, v=5.199

Events (``user_message``, ``message_event``) wait in the Bots Long Poll, or, after
``serve_callback(urls, secret=...)``, are POSTed to Callback API servers (vk_callback.py).

Every answer is validated against the VK JSON Schema copy (see vk_schema.py); violations,
calls of methods the fake does not implement yet, and crashes of the fake itself are
collected in `schema_violations`, `unimplemented_calls` and `internal_errors`, which the
`fake_vk` fixture requires to be empty at teardown.

The schema checks run after the answers, one per turn of the event loop, on a JSON copy of each
answer taken when it is given: checking a big answer takes far longer than making it, and
checked in the answer's own path (an execute's 25 member calls one after another) they held up
the requests arriving meanwhile, which were then stamped together and looked like a burst to
the fake's rate limit: error 6 that VK, taking each request as it comes, would not give. (On a
thread of their own they were no better: the thread and the loop took turns at Python's lock.)
Reading ``schema_violations`` or ``problems`` first finishes the checks of every answer so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import struct
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .vk_callback import CallbackDelivery
from .vk_data import (
    AppSpec,
    Community,
    PostSpec,
    PublicSpec,
    UserSpec,
    make_public,
    with_changes,
)
from .vk_longpoll import LongPoll
from .vk_methods import HANDLERS, Call, ExecuteResult, VKError
from .vk_objects import access_key
from .vk_schema import VKSchema, load_schema, schema_dir

log = logging.getLogger(__name__)

API_VERSION = "5.199"
BOT_GROUP_ID = 200_000_001
TOKEN_OWNER_ID = 100_000_001
UPLOAD_SERVER_ID = 835_412
RATES = {"user": 3.0, "group": 20.0}
DEFAULT_CLIENT_INFO = {
    "button_actions": [
        "text",
        "vkpay",
        "open_app",
        "location",
        "open_link",
        "callback",
        "intent_subscribe",
        "intent_unsubscribe",
    ],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class VKRequest:
    """One method call the fake received (inner=True: made by execute's code)."""

    method: str
    params: dict[str, str]  # without access_token
    token_type: str | None  # "user" | "group" | "service"; None for an unknown token
    time: float  # time.monotonic() at arrival
    inner: bool = False
    error: int | None = None  # the VK error code answered, if any
    http_method: str = "POST"
    answered: float | None = None  # time.monotonic() when the answer was ready (HTTP calls)


def round_trips(requests: Iterable[VKRequest]) -> int:
    """The longest chain among HTTP ``requests`` of calls each sent after the previous one
    was answered: calls sent together, before any answer, make one round trip."""
    calls = sorted(requests, key=lambda r: r.time)
    depth: list[int] = []
    for index, call in enumerate(calls):
        before = [
            depth[i]
            for i, earlier in enumerate(calls[:index])
            if earlier.answered is not None and earlier.answered <= call.time
        ]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


@dataclass
class _Gathering:
    """Calls of ``methods`` held until ``count`` have arrived (see FakeVK.gather)."""

    methods: set[str]
    count: int
    within: float
    arrived: int = 0
    all_here: asyncio.Event = field(default_factory=asyncio.Event)

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.count:
            self.all_here.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_here.wait(), self.within)


@dataclass
class SentMessage:
    peer_id: int
    message: str
    keyboard: str | None  # the keyboard JSON exactly as sent
    attachment: str | None
    random_id: int
    message_id: int
    conversation_message_id: int
    date: int
    payload: str | None = None

    @property
    def keyboard_data(self) -> dict[str, Any] | None:
        return json.loads(self.keyboard) if self.keyboard else None

    def button_labels(self) -> list[str]:
        data = self.keyboard_data or {"buttons": []}
        return [button["action"].get("label", "") for row in data["buttons"] for button in row]


@dataclass
class EventAnswer:
    event_id: str
    user_id: int
    peer_id: int
    event_data: dict[str, Any] | None


@dataclass
class Upload:
    data: bytes
    width: int
    height: int


@dataclass
class SavedDoc:
    """A document saved with docs.save (a file a bot attaches to its message)."""

    owner_id: int
    id: int
    access_key: str
    title: str
    ext: str
    date: int
    data: bytes = field(repr=False)


@dataclass
class Edit:
    """A messages.edit call VK accepted: the message's text before and after."""

    peer_id: int
    message_id: int
    before: str
    after: str


@dataclass
class Activity:
    """A messages.setActivity call: the community shows "typing…" in a conversation."""

    peer_id: int
    type: str
    time: float


@dataclass
class SavedPhoto:
    owner_id: int
    id: int
    access_key: str
    date: int
    width: int
    height: int
    data: bytes = field(repr=False)

    def sizes(self) -> list[tuple[str, int, int]]:
        result = []
        for kind, limit in (("s", 75), ("m", 130), ("x", 604), ("y", 807), ("z", 1080)):
            scale = min(1.0, limit / max(self.width, 1))
            result.append(
                (kind, max(1, round(self.width * scale)), max(1, round(self.height * scale)))
            )
        return result


class TokenBucket:
    """VK's per-token limit as GCRA: at most `rate` calls at once, then `rate` per second.

    A client spacing calls 1/rate apart, or using aiolimiter.AsyncLimiter(rate, 1), never
    hits it; `slack` (a share of one interval) forgives scheduling jitter of the event loop
    without ever letting rate + 1 calls through at once.
    """

    def __init__(self, rate: float, slack: float) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(rate, 1.0) - 1.0 + slack) * self.interval
        self.tat = 0.0

    def take(self, now: float) -> bool:
        tat = max(self.tat, now)
        if tat - now > self.tolerance:
            return False
        self.tat = tat + self.interval
        return True


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG image; None if `data` is none of them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return width, height
            pos += 2 + length
    return None


class FakeVK:
    """The fake VK API server. See the module docstring."""

    rate_slack = 0.15  # of one interval between calls: 50 ms for a user token

    def __init__(
        self,
        *,
        latency: float = 0.0,
        service_rate: float = 5.0,
        user_rate: float = RATES["user"],
        group_rate: float = RATES["group"],
        group_id: int = BOT_GROUP_ID,
        user_id: int = TOKEN_OWNER_ID,
        now: int | None = None,
    ) -> None:
        self.latency = latency
        self.service_rate = service_rate
        self.group_id = group_id
        self.user_id = user_id
        self.now = now if now is not None else int(time.time())
        self.user_token = "vk1.a." + secrets.token_urlsafe(48)
        self.service_token = secrets.token_hex(32)
        self.group_token = "vk1.a." + secrets.token_urlsafe(56)
        self._tokens = {
            self.user_token: "user",
            self.service_token: "service",
            self.group_token: "group",
        }
        self._rates = {"user": user_rate, "group": group_rate, "service": service_rate}
        self._buckets: dict[str, TokenBucket] = {}
        self.schema: VKSchema = load_schema(str(schema_dir()))

        self.requests: list[VKRequest] = []
        self._violations: list[str] = []
        self._unchecked: deque[tuple[Callable[[Any], list[str]], str]] = deque()
        self._checking: asyncio.Task[None] | None = None
        self.unimplemented_calls: list[str] = []
        self.internal_errors: list[str] = []
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._delays: dict[str, deque[tuple[dict[str, str], float]]] = defaultdict(deque)
        # Method calls being answered right now, and the most there were at once.
        self.in_flight = 0
        self.peak_in_flight = 0
        self._gathering: _Gathering | None = None

        self.communities: dict[int, Community] = {}
        self.communities_by_name: dict[str, Community] = {}
        self.users: dict[int, UserSpec] = {}
        self.users_by_name: dict[str, UserSpec] = {}
        self.apps: dict[int, AppSpec] = {}
        self.apps_by_name: dict[str, AppSpec] = {}

        self.sent_messages: list[SentMessage] = []
        self.allowed_peers: set[int] = set()
        self.issued_events: dict[str, tuple[int, int]] = {}
        self.event_answers: list[EventAnswer] = []
        self._message_id = 0
        self._conversation_ids: dict[int, int] = defaultdict(int)
        self._sent_by_random_id: dict[tuple[int, int], SentMessage] = {}

        self.uploads: dict[str, Upload] = {}
        self.saved_photos: dict[tuple[int, int], SavedPhoto] = {}
        self._photo_id = 457_239_000
        self._secret = secrets.token_bytes(16)
        self.upload_server_id = UPLOAD_SERVER_ID
        self.doc_uploads: dict[str, tuple[str, bytes]] = {}  # key -> (file name, bytes)
        self.saved_docs: dict[tuple[int, int], SavedDoc] = {}
        self._doc_id = 680_000_000
        self.activities: list[Activity] = []
        self.edits: list[Edit] = []

        self.longpoll = LongPoll("")
        self.callback: CallbackDelivery | None = None
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self.add_public(
            PublicSpec(
                id=group_id,
                screen_name=f"club{group_id}_bot",
                name="Промо-советник",
                members_count=1,
                inactive_fraction=0.0,
            )
        )
        self.add_user(user_id, "token_owner", first_name="Анна", last_name="Владелец")

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> FakeVK:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._handle_method)
        app.router.add_route("*", "/whp/{group_id}", self._handle_longpoll)
        app.router.add_post("/upload/photo", self._handle_upload)
        app.router.add_post("/upload/doc", self._handle_doc_upload)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.longpoll.server_url = f"{self.root_url}/whp/{self.group_id}"
        return self

    async def stop(self) -> None:
        self._stopping.set()
        self.longpoll.close()
        if self.callback is not None:
            await self.callback.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.finish_checks()
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None

    async def __aenter__(self) -> FakeVK:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeVK is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL without a trailing slash; methods live at {base_url}/{name}."""
        return f"{self.root_url}/method"

    @property
    def schema_violations(self) -> list[str]:
        """What the answers given so far break of the VK schema (their checks finished)."""
        self.finish_checks()
        return self._violations

    def finish_checks(self) -> None:
        """Check every answer given so far now."""
        while self._unchecked:
            self._run_check(*self._unchecked.popleft())

    def _check(self, validate: Callable[[Any], list[str]], answer: Any) -> str:
        """Check ``answer`` (as VK would send it: a JSON copy taken now) soon; the JSON."""
        sent = _dumps(answer)
        self._unchecked.append((validate, sent))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop: no turns to wait for
            self.finish_checks()
            return sent
        if self._checking is None or self._checking.done():
            self._checking = loop.create_task(self._check_in_turns())
        return sent

    async def _check_in_turns(self) -> None:
        while self._unchecked:
            self._run_check(*self._unchecked.popleft())
            await asyncio.sleep(0)  # requests that came meanwhile are taken (and stamped) now

    def _run_check(self, validate: Callable[[Any], list[str]], sent: str) -> None:
        try:
            self._record_violations(validate(json.loads(sent)))
        except Exception as exc:  # a crash of the check must fail the test, not vanish
            log.exception("fake VK schema check crashed")
            self.internal_errors.append(f"schema check crashed: {exc!r}")

    @property
    def problems(self) -> list[str]:
        """Everything that must fail a test: schema violations, gaps and crashes of the fake."""
        unimplemented = [f"not implemented by the fake: {m}" for m in self.unimplemented_calls]
        return [*self.schema_violations, *unimplemented, *self.internal_errors]

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- data ------------------------------------------------------------------------

    def add_public(self, spec: PublicSpec) -> Community:
        """Serve a community (replacing one with the same id)."""
        old = self.communities.get(spec.id)
        if old is not None:
            self.communities_by_name.pop(old.spec.screen_name.lower(), None)
        community = Community(spec, self.now)
        self.communities[spec.id] = community
        self.communities_by_name[spec.screen_name.lower()] = community
        return community

    def update_public(self, public_id: int, **changes: Any) -> Community:
        """Change a served community, e.g. members_count growing during a campaign."""
        return self.add_public(with_changes(self.communities[public_id].spec, **changes))

    def public(self, public_id: int) -> Community:
        return self.communities[public_id]

    def add_user(self, id: int, screen_name: str | None = None, **fields: Any) -> UserSpec:
        user = UserSpec(id=id, screen_name=screen_name, **fields)
        self.users[id] = user
        if screen_name:
            self.users_by_name[screen_name.lower()] = user
        return user

    def add_app(self, id: int, screen_name: str, title: str = "Приложение") -> AppSpec:
        app = AppSpec(id=id, screen_name=screen_name, title=title)
        self.apps[id] = app
        self.apps_by_name[screen_name.lower()] = app
        return app

    # -- faults and records ----------------------------------------------------------

    def fail_next(self, method: str, code: int, times: int = 1) -> None:
        """The next `times` calls of `method` answer VK error `code` (an errors.json code)."""
        if code not in self.schema.errors:
            raise ValueError(f"{code} is not a VK error code of errors.json")
        self._failures[method].extend([code] * times)

    def delay_next(
        self,
        method: str,
        seconds: float,
        times: int = 1,
        *,
        where: Mapping[str, str] | None = None,
    ) -> None:
        """The next `times` calls of `method` answer `seconds` late (for timeout tests); with
        `where`, only calls whose parameters include these values (one public's page)."""
        self._delays[method].extend([(dict(where or {}), seconds)] * times)

    def delays_left(self, method: str) -> int:
        """How many calls of ``method`` are still to be delayed (``delay_next``)."""
        return len(self._delays.get(method, ()))

    def gather(self, methods: set[str], count: int, within: float = 10.0) -> None:
        """The next calls of these methods wait in the fake for each other until ``count`` of
        them are here at once (or ``within`` seconds pass): a client that makes them together
        gets them answered together, one that makes them one after another is seen doing so
        (``peak_in_flight`` stays low) — proven by counting, not by a clock."""
        self._gathering = _Gathering(set(methods), count, within)

    def count(self, method: str | None = None, *, inner: bool | None = None) -> int:
        """Calls received, of one method or all; inner=True/False: only/without execute's."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (inner is None or r.inner == inner)
        )

    def refused(self, token_type: str) -> int:
        """Round trips made with one kind of token that its per-token limit refused (error 6)."""
        return sum(
            1 for r in self.requests if r.token_type == token_type and not r.inner and r.error == 6
        )

    def busiest_window(self, token_type: str, seconds: float = 1.0) -> int:
        """The most round trips made with one kind of token (one token: the fake has one of each
        kind) that arrived within any ``seconds``; execute's inner calls ride in their round trip.
        """
        times = sorted(r.time for r in self.requests if r.token_type == token_type and not r.inner)
        busiest, first = 0, 0
        for last, arrived in enumerate(times):
            while arrived - times[first] >= seconds:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest

    def rounds(self, since: int = 0) -> int:
        """Round trips of the HTTP calls (from ``requests[since]`` on): the longest chain of
        calls each sent after the previous one was answered (calls sent together, before any
        answer, make one round)."""
        return round_trips(r for r in self.requests[since:] if not r.inner)

    def validate_response(
        self, method: str, body: Any, params: dict[str, Any] | None = None
    ) -> list[str]:
        """Schema violations of one answer body; [] when valid."""
        return self.schema.validate_response(method, body, params)

    def _record_violations(self, problems: list[str]) -> None:
        for problem in problems:
            log.error("fake VK answer violates the schema: %s", problem)
        self._violations.extend(problems)

    # -- method calls ----------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        name = request.match_info["name"]
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = params.pop("access_token", None)
        token_type = self._tokens.get(token) if token else None
        record = VKRequest(name, dict(params), token_type, arrived, http_method=request.method)
        self.requests.append(record)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await self._sleep(self.latency)
            gathering = self._gathering
            if gathering is not None and name in gathering.methods:
                await gathering.arrive()
            return await self._answer_method(name, params, token, token_type, arrived, record)
        finally:
            self.in_flight -= 1

    async def _answer_method(
        self,
        name: str,
        params: dict[str, str],
        token: str | None,
        token_type: str | None,
        arrived: float,
        record: VKRequest,
    ) -> web.Response:
        try:
            if token is None:
                raise VKError(5, "no access_token passed.")
            if token_type is None:
                raise VKError(5, "invalid access_token (4).")
            if not params.get("v"):
                raise VKError(8, "v (version) is required")
            bucket = self._buckets.get(token)
            if bucket is None:
                bucket = TokenBucket(self._rates[token_type], self.rate_slack)
                self._buckets[token] = bucket
            if not bucket.take(arrived):
                raise VKError(6)
            result = await self._run(name, params, token_type, inner=False)
        except VKError as error:
            record.error = error.code
            body = self._error_body(name, params, error)
        else:
            body = {"response": result}
            if isinstance(result, ExecuteResult):
                body = {"response": result.value}
                if result.errors:
                    body["execute_errors"] = result.errors
        sent = self._check(lambda copy: self.schema.validate_response(name, copy, params), body)
        record.answered = time.monotonic()
        return web.Response(text=sent, content_type="application/json")

    async def inner_call(
        self, method: str, params: dict[str, str], token_type: str
    ) -> tuple[bool, Any]:
        """A call made by execute's code: (True, response) or (False, error dict)."""
        record = VKRequest(method, dict(params), token_type, time.monotonic(), inner=True)
        self.requests.append(record)
        try:
            if method == "execute":
                raise VKError(13, "execute cannot call execute")
            value = await self._run(method, params, token_type, inner=True)
        except VKError as error:
            record.error = error.code
            body = self._error_body(method, params, error)
            self._check(lambda sent: self.schema.validate_error(method, sent), body)
            return False, body["error"]
        self._check(
            lambda sent: self.schema.validate_response(method, sent, params), {"response": value}
        )
        return True, value

    async def _run(self, name: str, params: dict[str, str], token_type: str, *, inner: bool) -> Any:
        if name not in self.schema.methods:
            raise VKError(3, f"no method {name}")
        handler = HANDLERS.get(name)
        if handler is None:
            self.unimplemented_calls.append(name)
            raise VKError(3, f"{name} is not implemented by the fake VK API")
        allowed = self.schema.allowed_token_types(name)
        if token_type not in allowed:
            if token_type == "group":
                raise VKError(27, "method is unavailable with group auth.")
            if token_type == "service":
                raise VKError(28, "method is unavailable with service token.")
            raise VKError(15, "method is unavailable with user auth.", subcode=1133)
        failures = self._failures.get(name)
        if failures:
            raise VKError(failures.popleft())
        delays = self._delays.get(name)
        for index, (where, seconds) in enumerate(delays or ()):
            if all(params.get(key) == value for key, value in where.items()):
                assert delays is not None
                del delays[index]
                await self._sleep(seconds)
                break
        try:
            return await handler(self, Call(name, params, token_type, inner))
        except VKError:
            raise
        except Exception as error:  # a bug of the fake must fail the test, not hang it
            log.exception("fake VK handler %s crashed", name)
            self.internal_errors.append(f"{name}: {type(error).__name__}: {error}")
            raise VKError(10) from error

    def _error_body(self, method: str, params: dict[str, str], error: VKError) -> dict[str, Any]:
        description = self.schema.errors[error.code]["description"]
        message = f"{description}: {error.detail}" if error.detail else description
        request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        request_params += [{"key": k, "value": str(v)} for k, v in params.items()]
        body: dict[str, Any] = {
            "error_code": error.code,
            "error_msg": message,
            "request_params": request_params,
        }
        if error.subcode is not None:
            body["error_subcode"] = error.subcode
        if error.code == 14:  # vkbottle's CaptchaError needs both
            sid = secrets.token_hex(6)
            body |= {"captcha_sid": sid, "captcha_img": f"{self.root_url}/captcha.php?sid={sid}"}
        return {"error": body}

    # -- Bots Long Poll --------------------------------------------------------------

    async def _handle_longpoll(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        if params.get("act") != "a_check":
            return web.json_response({"failed": 2})
        await self._sleep(self.latency)
        try:
            wait = float(params.get("wait", "25"))
        except ValueError:
            wait = 25.0
        answer = await self.longpoll.poll(params.get("key"), params.get("ts"), wait)
        return web.json_response(answer, dumps=_dumps)

    def serve_callback(
        self, urls: list[str], *, secret: str | None, duplicates: float = 0.0, seed: int = 0
    ) -> CallbackDelivery:
        """From now on events are POSTed to these Callback API servers instead of waiting in
        the long poll (see vk_callback.py)."""
        self.callback = CallbackDelivery(urls, secret=secret, duplicates=duplicates, seed=seed)
        return self.callback

    def longpoll_fail(self, code: int) -> None:
        """The next (or the waiting) long poll answers {"failed": code} (1, 2 or 3)."""
        self.longpoll.fail(code)

    async def wait_for_poll(self, within: float = 5.0) -> None:
        """Wait until a long poll request is waiting for events (the bot is listening)."""
        deadline = time.monotonic() + within
        while self.longpoll.waiting == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("nobody is polling the fake VK long poll")
            await asyncio.sleep(0.01)

    def push_event(self, type: str, object: dict[str, Any]) -> dict[str, Any]:
        """Queue a Bots Long Poll event; it is schema-checked and returned whole."""
        event = {
            "group_id": self.group_id,
            "type": type,
            "event_id": secrets.token_hex(20),
            "v": API_VERSION,
            "object": object,
        }
        self._check(self.schema.validate_event, event)
        if self.callback is not None:
            self.callback.push(event)
        else:
            self.longpoll.push(event)
        return event

    def _next_message_ids(self, peer_id: int) -> tuple[int, int]:
        self._message_id += 1
        self._conversation_ids[peer_id] += 1
        return self._message_id, self._conversation_ids[peer_id]

    def user_message(
        self,
        peer_id: int,
        text: str,
        payload: dict[str, Any] | str | None = None,
        *,
        client_info: dict[str, Any] | None = None,
        from_id: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user writes to the community: queues a message_new event and returns it."""
        message_id, conversation_id = self._next_message_ids(peer_id)
        message: dict[str, Any] = {
            "date": int(time.time()),
            "from_id": from_id if from_id is not None else peer_id,
            "id": message_id,
            "version": 10_000_000 + message_id,
            "out": 0,
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "attachments": attachments or [],
            "conversation_message_id": conversation_id,
            "peer_id": peer_id,
            "random_id": 0,
            "text": text,
        }
        if payload is not None:
            message["payload"] = payload if isinstance(payload, str) else _dumps(payload)
        self.allowed_peers.add(peer_id)
        return self.push_event(
            "message_new",
            {"message": message, "client_info": client_info or DEFAULT_CLIENT_INFO},
        )

    def message_event(
        self,
        peer_id: int,
        payload: dict[str, Any],
        *,
        user_id: int | None = None,
        conversation_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A user presses a callback button: queues a message_event event and returns it."""
        user = user_id if user_id is not None else peer_id
        event_id = secrets.token_hex(6)
        self.issued_events[event_id] = (user, peer_id)
        obj: dict[str, Any] = {
            "user_id": user,
            "peer_id": peer_id,
            "event_id": event_id,
            "payload": payload,
        }
        cmid = conversation_message_id or self._conversation_ids.get(peer_id)
        if cmid:
            obj["conversation_message_id"] = cmid
        return self.push_event("message_event", obj)

    # -- messages --------------------------------------------------------------------

    def allow_messages(self, peer_id: int) -> None:
        """The user allowed the community to write to them (without writing first)."""
        self.allowed_peers.add(peer_id)

    def deliver(
        self,
        peer_id: int,
        text: str,
        keyboard: str | None,
        attachment: str | None,
        random_id: int,
        payload: str | None = None,
    ) -> SentMessage:
        """Record a sent message; a repeated non-zero random_id to a peer is not re-sent."""
        if random_id:
            earlier = self._sent_by_random_id.get((peer_id, random_id))
            if earlier is not None:
                return earlier
        message_id, conversation_id = self._next_message_ids(peer_id)
        sent = SentMessage(
            peer_id=peer_id,
            message=text,
            keyboard=keyboard,
            attachment=attachment,
            random_id=random_id,
            message_id=message_id,
            conversation_message_id=conversation_id,
            date=int(time.time()),
            payload=payload,
        )
        self.sent_messages.append(sent)
        if random_id:
            self._sent_by_random_id[(peer_id, random_id)] = sent
        return sent

    def edit_message(self, peer_id: int, message_id: int, text: str) -> None:
        """Replace the text of a message the community sent to ``peer_id`` (messages.edit)."""
        for sent in self.sent_messages:
            if sent.peer_id == peer_id and sent.message_id == message_id:
                self.edits.append(Edit(peer_id, message_id, sent.message, text))
                sent.message = text
                return
        raise KeyError(message_id)

    def edits_of(self, peer_id: int) -> list[Edit]:
        return [e for e in self.edits if e.peer_id == peer_id]

    def messages_to(self, peer_id: int) -> list[SentMessage]:
        return [m for m in self.sent_messages if m.peer_id == peer_id]

    async def wait_sent(
        self, count: int = 1, *, peer_id: int | None = None, within: float = 5.0
    ) -> list[SentMessage]:
        """Wait until at least `count` messages were sent (to `peer_id`); returns them."""
        deadline = time.monotonic() + within
        while True:
            sent = self.sent_messages if peer_id is None else self.messages_to(peer_id)
            if len(sent) >= count:
                return list(sent)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(sent)} of {count} messages sent within {within}s")
            await asyncio.sleep(0.01)

    def record_event_answer(
        self, event_id: str, user_id: int, peer_id: int, data: dict[str, Any] | None
    ) -> None:
        self.event_answers.append(EventAnswer(event_id, user_id, peer_id, data))

    # -- photo upload ----------------------------------------------------------------

    def photo_owners(self) -> set[int]:
        return {-self.group_id, self.user_id}

    def upload_url(self, token_type: str) -> str:
        gid = self.group_id if token_type == "group" else 0
        return (
            f"{self.root_url}/upload/photo?act=do_add&mid={self.user_id}&aid=-3"
            f"&gid={gid}&hash={secrets.token_hex(16)}"
        )

    def upload_hash(self, photo: str) -> str:
        return hmac.new(self._secret, photo.encode(), hashlib.sha1).hexdigest()

    async def _handle_upload(self, request: web.Request) -> web.Response:
        await self._sleep(self.latency)
        form = await request.post()
        field_value = form.get("photo")
        items: list[dict[str, Any]] = []
        if isinstance(field_value, web.FileField):
            data = field_value.file.read()
            size = image_size(data)
            if size is not None:
                key = secrets.token_hex(12)
                self.uploads[key] = Upload(data, *size)
                items.append({"photo": key, "sizes": [], "kid": secrets.token_hex(16)})
        photo = _dumps(items)
        answer = {"server": self.upload_server_id, "photo": photo, "hash": self.upload_hash(photo)}
        return web.json_response(answer, dumps=_dumps)

    def take_upload(self, photo: str) -> Upload | None:
        """The upload a saveMessagesPhoto `photo` parameter refers to."""
        try:
            items = json.loads(photo)
            return self.uploads.get(items[0]["photo"])
        except (ValueError, LookupError, TypeError):
            return None

    def record_activity(self, peer_id: int, kind: str) -> None:
        self.activities.append(Activity(peer_id, kind, time.monotonic()))

    # -- document upload -------------------------------------------------------------

    def doc_upload_url(self, peer_id: int) -> str:
        return f"{self.root_url}/upload/doc?act=add_doc&peer={peer_id}&hash={secrets.token_hex(16)}"

    async def _handle_doc_upload(self, request: web.Request) -> web.Response:
        """VK's document upload server: the multipart field ``file``; answers {"file": ...}
        for docs.save, or {"error": ...}."""
        await self._sleep(self.latency)
        form = await request.post()
        field_value = form.get("file")
        if not isinstance(field_value, web.FileField) or not field_value.filename:
            return web.json_response({"error": "no file uploaded"})
        data = field_value.file.read()
        if not data:
            return web.json_response({"error": "the file is empty"})
        key = secrets.token_hex(12)
        self.doc_uploads[key] = (field_value.filename, data)
        file = f"{key}|{self.upload_hash(key)}"
        return web.json_response({"file": file}, dumps=_dumps)

    def take_doc_upload(self, file: str) -> tuple[str, bytes] | None:
        """The upload a docs.save ``file`` parameter refers to (each can be saved once)."""
        key, _, signature = file.partition("|")
        if signature != self.upload_hash(key):
            return None
        return self.doc_uploads.pop(key, None)

    def save_doc(self, owner_id: int, title: str, name: str, data: bytes) -> SavedDoc:
        self._doc_id += 1
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        saved = SavedDoc(
            owner_id=owner_id,
            id=self._doc_id,
            access_key=access_key("doc", owner_id, self._doc_id),
            title=title,
            ext=ext,
            date=int(time.time()),
            data=data,
        )
        self.saved_docs[(owner_id, saved.id)] = saved
        return saved

    def docs_sent_to(self, peer_id: int) -> list[SavedDoc]:
        """The documents attached to the messages sent to a person, in order."""
        found = []
        for message in self.messages_to(peer_id):
            for item in (message.attachment or "").split(","):
                match = re.fullmatch(r"doc(-?\d+)_(\d+)(?:_\w+)?", item.strip())
                if match:
                    found.append(self.saved_docs[(int(match.group(1)), int(match.group(2)))])
        return found

    def save_photo(self, owner_id: int, upload: Upload) -> SavedPhoto:
        self._photo_id += 1
        saved = SavedPhoto(
            owner_id=owner_id,
            id=self._photo_id,
            access_key=access_key("photo", owner_id, self._photo_id),
            date=int(time.time()),
            width=upload.width,
            height=upload.height,
            data=upload.data,
        )
        self.saved_photos[(owner_id, saved.id)] = saved
        return saved


__all__ = [
    "API_VERSION",
    "BOT_GROUP_ID",
    "TOKEN_OWNER_ID",
    "Activity",
    "AppSpec",
    "Community",
    "EventAnswer",
    "FakeVK",
    "PostSpec",
    "PublicSpec",
    "SavedDoc",
    "SavedPhoto",
    "SentMessage",
    "TokenBucket",
    "UserSpec",
    "VKRequest",
    "image_size",
    "make_public",
]
