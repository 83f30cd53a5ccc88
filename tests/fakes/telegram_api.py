"""A fake Telegram Bot API server for tests and benches: aiohttp on 127.0.0.1.

It behaves like a local Bot API server (``telegram-bot-api --local``, which allows plain-http
webhooks on any port) for the methods the bot calls: getMe, getUpdates (offset, limit, long-poll
timeout, 409 conflicts), setWebhook/deleteWebhook/getWebhookInfo (and it pushes updates to the
webhook with the secret header, as Telegram does: a chat's updates one at a time and in order,
chats at once up to max_connections; ``spread_webhooks`` puts a balancer of several replica URLs
in front, doubling some posts), setMyCommands/getMyCommands, sendMessage,
editMessageText, answerCallbackQuery, sendPhoto/sendDocument (multipart), sendChatAction.

Requests are validated the way Telegram validates them and refused with Telegram's error answers:
text length after entity parsing, well-formed ``parse_mode=HTML``, callback_data of 1-64 bytes,
caption length, unknown chats, edits of missing or unchanged messages, stale callback queries.
Every call is recorded. Tests play users with :class:`TelegramUser` (typing texts, pressing buttons
of the messages the bot sent) and inject failures: 429 with ``retry_after``, 403 for a blocked chat,
any error for the next call of a method, or a redirect loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import secrets
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

DEFAULT_TOKEN = "7000000001:AAHfakeTokenForTests-only_0123456789ab"
BOT_USERNAME = "promo_advisor_test_bot"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
MAX_BUTTONS = 100
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ApiError(Exception):
    """A refusal answered the way Telegram answers it."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --- parse_mode=HTML ---------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTES = r"""(?:\s+[a-zA-Z-]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))*"""
_START_TAG = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)({_ATTRIBUTES}|\s+expandable)\s*>")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of an HTML-formatted message, or ApiError like Telegram's parser."""
    out: list[str] = []
    length = 0  # in UTF-16 units, as entity offsets are
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    position = 0

    def error(message: str) -> ApiError:
        return bad_request(f"can't parse entities: {message}")

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    while position < len(source):
        char = source[position]
        if char == "<":
            end = _END_TAG.match(source, position)
            if end:
                name = end.group(1).lower()
                if not stack:
                    raise error(f"Unexpected end tag at byte offset {byte_offset(position)}")
                open_name, start, attributes = stack.pop()
                if open_name != name:
                    raise error(
                        f"Unmatched end tag at byte offset {byte_offset(position)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if length > start:
                    entity = {
                        "type": _HTML_TAGS[open_name],
                        "offset": start,
                        "length": length - start,
                    }
                    if open_name == "a":
                        entity["url"] = attributes.get("href", "")
                    entities.append(entity)
                position = end.end()
                continue
            start_tag = _START_TAG.match(source, position)
            if not start_tag:
                name = re.match(r"<\s*([^\s>]*)", source[position:])
                tag = name.group(1) if name else ""
                raise error(f'Unsupported start tag "{tag}" at byte offset {byte_offset(position)}')
            name = start_tag.group(1).lower()
            offset = byte_offset(position)
            if name not in _HTML_TAGS:
                raise error(f'Unsupported start tag "{name}" at byte offset {offset}')
            attributes = {
                key.lower(): value.strip("\"'")
                for key, value in _ATTRIBUTE.findall(start_tag.group(2) or "")
            }
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append((name, length, attributes))
            position = start_tag.end()
            continue
        if char == "&":
            entity = _ENTITY.match(source, position)
            if entity:
                body = entity.group(1)
                decoded: str | None
                if body.startswith("#"):
                    number = int(body[2:], 16) if body[1:2] in "xX" else int(body[1:])
                    decoded = chr(number) if 0 < number < 0x110000 else None
                else:
                    decoded = _NAMED_ENTITIES.get(body)
                if decoded is not None:
                    out.append(decoded)
                    length += utf16_len(decoded)
                    position = entity.end()
                    continue
        out.append(char)
        length += utf16_len(char)
        position += 1
    if stack:
        raise error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --- what the fake remembers -------------------------------------------------------------------


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    status: int = 0  # 0 while the call is being answered
    response: dict[str, Any] = field(default_factory=dict)
    answered_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


@dataclass
class BotMessage:
    """A message in a chat as the user sees it now (edits applied)."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: bytes | None = None
    document: bytes | None = None
    document_name: str | None = None
    edits: int = 0

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def labels(self) -> list[str]:
        return [button["text"] for button in self.buttons]

    @property
    def shown_text(self) -> str:
        return self.text if self.text is not None else (self.caption or "")


@dataclass
class Output:
    """One thing the bot did in a chat, in order: ``send``, ``edit`` or ``action``.

    ``message`` is the message as it is now (later edits included); ``text`` is what it showed
    right after this output.
    """

    kind: str
    message: BotMessage | None
    at: float
    method: str
    text: str = ""


@dataclass
class Failure:
    method: str | None
    chat_id: int | None
    error: ApiError | None
    times: int
    redirect: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        return (self.method is None or self.method == method) and (
            self.chat_id is None or self.chat_id == chat_id
        )


class FakeTelegram:
    """The server. ``async with FakeTelegram() as tg``; ``tg.base_url`` goes to TELEGRAM_API_URL."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, callback_timeout: float = 60.0) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.callback_timeout = callback_timeout
        self.calls: list[ApiCall] = []
        self.commands: list[dict[str, str]] = []
        self.webhook: dict[str, Any] | None = None
        self.pending: list[dict[str, Any]] = []
        self.chats: dict[int, list[BotMessage]] = {}
        self.outputs: dict[int, list[Output]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._failures: list[Failure] = []
        self._stalls: dict[str, float] = {}
        self._update_ids = itertools.count(700_000_001)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._chat_changed: dict[int, asyncio.Event] = {}
        self._poller: asyncio.Future[None] | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._in_delivery: set[int] = set()
        self._delivery_wake = asyncio.Event()
        # Webhook delivery: Telegram waits about a minute for an answer, then retries.
        self.webhook_timeout = 60.0
        self.webhook_retry_seconds = 0.5
        self.webhook_targets: list[str] = []
        # update_id -> when getUpdates first handed it out (a bench splits latency with it)
        self.fetched_at: dict[int, float] = {}
        self.webhook_duplicates = 0.0
        self.webhook_tls: ssl.SSLContext | bool = True  # aiohttp's default: verify as usual
        self.webhook_log: list[WebhookDelivery] = []
        self._rng = random.Random(0)
        self.base_url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._delivery_wake.set()
        await self._notify()
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- users and updates -------------------------------------------------------------------

    def user(self, user_id: int | None = None, first_name: str = "Анна") -> TelegramUser:
        user_id = user_id or 100_000 + len(self.users) + 1
        self.users[user_id] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": f"user{user_id}",
            "language_code": "ru",
        }
        self.chats.setdefault(user_id, [])
        self.outputs.setdefault(user_id, [])
        self._chat_changed.setdefault(user_id, asyncio.Event())
        return TelegramUser(self, user_id)

    def _chat(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        return {
            "id": user_id,
            "type": "private",
            "first_name": user["first_name"],
            "username": user["username"],
        }

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (an ``update_id`` is assigned when missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self.pending.append(update)
        self._wake()
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queue an update again with the same ``update_id``, as Telegram does after a failure."""
        self.pending.append(dict(update))
        self._wake()

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(user_id),
            "date": int(time.time()),
            "chat": self._chat(user_id),
            "from": self.users[user_id],
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        self.chats[user_id].append(
            BotMessage(user_id, message["message_id"], message["date"], False, text=text)
        )
        return {"message": message}

    def callback_update(self, user_id: int, message: BotMessage, data: str) -> dict[str, Any]:
        query_id = str(uuid.uuid4().int >> 64)
        self.callbacks[query_id] = {"answered": False, "at": time.monotonic(), "user": user_id}
        return {
            "callback_query": {
                "id": query_id,
                "from": self.users[user_id],
                "message": self._message_json(message),
                "chat_instance": str(user_id * 7919),
                "data": data,
            }
        }

    def _wake(self) -> None:
        self._delivery_wake.set()
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        if self.webhook is not None:
            self._ensure_delivery()
        asyncio.get_running_loop().create_task(self._notify())

    # --- failure injection -------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching calls with an error instead of doing them."""
        if code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or {
            400: "Bad Request: something went wrong",
            403: "Forbidden: bot was blocked by the user",
            500: "Internal Server Error",
        }.get(code, "Error")
        self._failures.append(
            Failure(method, chat_id, ApiError(code, description, retry_after), times)
        )

    def stall(self, method: str, seconds: float) -> None:
        """From now on every call of ``method`` waits ``seconds`` before it is carried out (0:
        no more): a slow network while replies are in flight. A call whose client went away
        meanwhile is still carried out, as by a server that got the whole request."""
        self._stalls[method] = seconds

    def redirect_loop(self, method: str, times: int = 1) -> None:
        """Answer the next call of ``method`` with endless redirects: the HTTP client gives up
        with an error whose text holds the request URL (and so the bot token)."""
        self._failures.append(Failure(method, None, None, times, redirect=True))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every send to the chat answers 403."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def _take_failure(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self._failures:
            if failure.matches(method, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    # --- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        return [
            call
            for call in self.calls
            if call.method == method and (chat_id is None or call.chat_id == chat_id)
        ]

    def messages(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.chats.get(chat_id, []) if m.from_bot]

    def unanswered_callbacks(self) -> list[str]:
        return [key for key, value in self.callbacks.items() if not value["answered"]]

    async def wait_for(self, predicate: Callable[[], bool], seconds: float = 15.0) -> None:
        """Wait until ``predicate`` holds; it is checked after every call the bot makes."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(predicate)

    async def settle(
        self,
        chat_id: int,
        mark: int,
        *,
        until: Callable[[list[Output]], bool] | None = None,
        seconds: float = 15.0,
        quiet: float = 0.25,
    ) -> list[Output]:
        """Outputs in a chat after ``mark`` once ``until`` holds and the bot went quiet."""
        outputs = self.outputs[chat_id]
        # One event per chat, not the global condition: a bench has hundreds of waiting users.
        changed = self._chat_changed[chat_id]

        def ready() -> bool:
            new = outputs[mark:]
            if until is not None:
                return until(new)
            return any(o.kind != "action" for o in new)

        async with asyncio.timeout(seconds):
            while True:
                changed.clear()
                if ready():
                    break
                await changed.wait()
        while True:
            seen = len(outputs)
            await asyncio.sleep(quiet)
            if len(outputs) == seen:
                return outputs[mark:]

    # --- HTTP ------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = value.file.read()
                        files[f"{key}:filename"] = (value.filename or key).encode()
                        params.setdefault(key, f"attach://{key}")
                    else:
                        params[key] = value
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        started = time.monotonic()
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        try:
            params, files = await self._params(request)
        except (ValueError, ApiError) as exc:
            error = exc if isinstance(exc, ApiError) else bad_request("can't parse request")
            return web.json_response(error.body(), status=error.code)
        if "redirect_loop" in request.query:
            raise web.HTTPFound(location=str(request.rel_url))
        # Recorded on arrival (a long poll may take seconds); status and answer follow.
        call = ApiCall(method, params, files, started, status=0)
        self.calls.append(call)
        await self._notify()
        handler = getattr(self, f"_m_{method.lower()}", None)
        stall = self._stalls.get(method, 0.0)
        if stall > 0 and not self._closing:
            await asyncio.sleep(stall)
        failure = self._take_failure(method, call.chat_id) if handler else None
        if failure is not None and failure.redirect:
            call.status = 302
            raise web.HTTPFound(location=f"{request.path}?redirect_loop=1")
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if failure is not None and failure.error is not None:
                raise failure.error
            result = await handler(params, files)
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as error:
            call.status, body = error.code, error.body()
        call.status = call.status or 200
        call.response = body
        call.answered_at = time.monotonic()
        await self._notify()
        return web.json_response(body, status=call.status)

    # --- parameter helpers ---------------------------------------------------------------------

    def _chat_id(self, params: dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id not in self.users:
            raise bad_request("chat not found")
        return chat_id

    def _check_not_blocked(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    @staticmethod
    def _json_param(params: dict[str, Any], key: str) -> Any:
        value = params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {key} JSON object") from None
        return value

    def _formatted(self, params: dict[str, Any], key: str, limit: int) -> tuple[str, str, list]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            text, entities = parse_html(raw)
        elif mode in ("", "none"):
            text, entities = raw, []
        else:
            raise bad_request(f"unsupported parse_mode {params.get('parse_mode')!r} in the fake")
        if utf16_len(text) > limit:
            kind = "message caption" if key == "caption" else "message"
            raise bad_request(f"{kind} is too long")
        return text, raw, entities

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = self._json_param(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard: rows must be arrays of buttons")
        count = 0
        for row in rows:
            for button in row:
                count += 1
                if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                actions = [k for k in button if k != "text"]
                if len(actions) != 1:
                    raise bad_request("can't parse inline keyboard button: one action per button")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if (
                        not isinstance(data, str)
                        or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
                    ):
                        raise bad_request("BUTTON_DATA_INVALID")
        if count > MAX_BUTTONS:
            raise bad_request("too many inline keyboard buttons")
        return markup

    def _message_json(self, message: BotMessage) -> dict[str, Any]:
        sender = self._me() if message.from_bot else self.users[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat(message.chat_id),
            "from": sender,
        }
        if message.edits:
            data["edit_date"] = int(time.time())
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.caption:
            data["caption"] = message.caption
        if message.photo is not None:
            width, height = _png_size(message.photo)
            file_number = next(self._file_ids)
            data["photo"] = [
                {
                    "file_id": f"photo-{file_number}",
                    "file_unique_id": f"uphoto-{file_number}",
                    "width": width,
                    "height": height,
                    "file_size": len(message.photo),
                }
            ]
        if message.document is not None:
            file_number = next(self._file_ids)
            data["document"] = {
                "file_id": f"doc-{file_number}",
                "file_unique_id": f"udoc-{file_number}",
                "file_name": message.document_name,
                "file_size": len(message.document),
            }
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Промо-советник",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _record_output(
        self, kind: str, message: BotMessage | None, chat_id: int, method: str
    ) -> None:
        shown = message.shown_text if message is not None else ""
        self.outputs.setdefault(chat_id, []).append(
            Output(kind, message, time.monotonic(), method, shown)
        )
        self._touch(chat_id)

    def _touch(self, chat_id: int) -> None:
        event = self._chat_changed.get(chat_id)
        if event is not None:
            event.set()

    def _new_message(self, chat_id: int, **fields: Any) -> BotMessage:
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            from_bot=True,
            **fields,
        )
        self.chats[chat_id].append(message)
        return message

    def _file(self, params: dict[str, Any], files: dict[str, bytes], key: str) -> tuple[bytes, str]:
        value = params.get(key)
        if not value:
            raise bad_request(f"there is no {key} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if name not in files:
                raise bad_request(f"file {name!r} is not attached")
            return files[name], files[f"{name}:filename"].decode()
        raise bad_request("wrong remote file identifier specified: the fake accepts uploads only")

    # --- methods -----------------------------------------------------------------------------

    async def _m_getme(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._me()

    async def _m_getupdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        try:
            offset = int(params.get("offset") or 0)
            limit = min(max(int(params.get("limit") or 100), 1), 100)
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except ValueError:
            raise bad_request("wrong parameter") from None
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if self._poller is not None and not self._poller.done():
            # Telegram ends the older long poll when another one starts.
            self._poller.set_exception(
                ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            )
        deadline = time.monotonic() + timeout
        while not self.pending and not self._closing and time.monotonic() < deadline:
            poller: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._poller = poller
            try:
                await asyncio.wait_for(asyncio.shield(poller), deadline - time.monotonic())
            except TimeoutError:
                break
            finally:
                if self._poller is poller:
                    self._poller = None
        allowed = self._json_param(params, "allowed_updates")
        batch = self.pending[:limit]
        if allowed:
            batch = [u for u in batch if any(kind in u for kind in allowed)]
        now = time.monotonic()
        for update in batch:
            self.fetched_at.setdefault(update["update_id"], now)
        return batch

    async def _m_setwebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTP URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.pending.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": self._json_param(params, "allowed_updates"),
            "max_connections": int(params.get("max_connections") or 40),
        }
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)
        self._ensure_delivery()
        return True

    async def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.pending.clear()
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _m_setmycommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        commands = self._json_param(params, "commands")
        if not isinstance(commands, list) or not 0 < len(commands) <= 100:
            raise bad_request("commands must be a non-empty list of at most 100 commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command"))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _m_getmycommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.commands

    async def _m_deletemycommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.commands = []
        return True

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = self._chat_id(params)
        text, raw, entities = self._formatted(params, "text", MAX_TEXT)
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup(params)
        self._check_not_blocked(chat_id)
        message = self._new_message(
            chat_id, text=text, html=raw, entities=entities, reply_markup=markup
        )
        self._record_output("send", message, chat_id, "sendMessage")
        return self._message_json(message)

    async def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        chat_id = self._chat_id(params)
        try:
            message_id = int(params.get("message_id") or 0)
        except ValueError:
            raise bad_request("message identifier is not specified") from None
        text, raw, entities = self._formatted(params, "text", MAX_TEXT)
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._markup(params)
        self._check_not_blocked(chat_id)
        message = next((m for m in self.chats[chat_id] if m.message_id == message_id), None)
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        if message.text == text and message.entities == entities and message.reply_markup == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.html, message.entities = text, raw, entities
        message.reply_markup = markup
        message.edits += 1
        self._record_output("edit", message, chat_id, "editMessageText")
        return self._message_json(message)

    async def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        query = self.callbacks.get(str(params.get("callback_query_id") or ""))
        stale = "query is too old and response timeout expired or query ID is invalid"
        if query is None or query["answered"]:
            raise bad_request(stale)
        if time.monotonic() - query["at"] > self.callback_timeout:
            raise bad_request(stale)
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["text"] = params.get("text")
        self._touch(query["user"])
        return True

    async def _send_media(self, params: dict[str, Any], files: dict[str, bytes], kind: str) -> Any:
        chat_id = self._chat_id(params)
        data, filename = self._file(params, files, kind)
        caption, _raw, entities = self._formatted(params, "caption", MAX_CAPTION)
        markup = self._markup(params)
        if kind == "photo":
            if not data.startswith(_PNG_MAGIC) and not data.startswith(b"\xff\xd8"):
                raise bad_request("IMAGE_PROCESS_FAILED")
            if len(data) > 10 * 1024 * 1024:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        elif not data:
            raise bad_request("file must be non-empty")
        self._check_not_blocked(chat_id)
        extra: dict[str, Any] = (
            {"photo": data}
            if kind == "photo"
            else {
                "document": data,
                "document_name": filename,
            }
        )
        message = self._new_message(
            chat_id, caption=caption, entities=entities, reply_markup=markup, **extra
        )
        self._record_output("send", message, chat_id, f"send{kind.title()}")
        return self._message_json(message)

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return await self._send_media(params, files, "photo")

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return await self._send_media(params, files, "document")

    async def _m_sendchataction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_not_blocked(chat_id)
        self._record_output("action", None, chat_id, "sendChatAction")
        return True

    # --- webhook delivery ----------------------------------------------------------------------

    def spread_webhooks(
        self,
        urls: list[str],
        *,
        duplicates: float = 0.0,
        seed: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Deliver webhook updates to these servers instead of the registered URL, as a reverse
        proxy in front of several bot replicas does: each delivery goes to a server picked at
        random (a failed one is retried on a new pick), and a ``duplicates`` share of the
        updates is posted to two servers at the same moment. An update counts as delivered when
        any server answered 2xx. ``tls``: how https URLs are verified (a context that trusts a
        test's self-signed certificate); by default as any client does."""
        self.webhook_targets = list(urls)
        self.webhook_duplicates = duplicates
        self.webhook_tls = True if tls is None else tls
        self._rng = random.Random(seed)

    def _ensure_delivery(self) -> None:
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self._deliver_forever())

    def _startable(self, busy: set[object]) -> list[tuple[object, dict[str, Any]]]:
        """The oldest pending update of every chat that has none in delivery."""
        seen: set[object] = set()
        ready = []
        for update in self.pending:
            chat = webhook_chat(update)
            if chat in seen:
                continue
            seen.add(chat)
            if chat not in busy and update["update_id"] not in self._in_delivery:
                ready.append((chat, update))
        return ready

    async def _deliver_forever(self) -> None:
        # Like Telegram: one chat's updates one at a time and in order, the next only after the
        # previous one was answered 2xx; different chats at once, up to max_connections.
        busy: set[object] = set()
        tasks: set[asyncio.Task[None]] = set()
        timeout = ClientTimeout(total=self.webhook_timeout)
        async with ClientSession(timeout=timeout) as http:
            try:
                while not self._closing and self.webhook is not None:
                    self._delivery_wake.clear()
                    room = self.webhook["max_connections"] - len(tasks)
                    for chat, update in self._startable(busy)[: max(room, 0)]:
                        busy.add(chat)
                        task = asyncio.create_task(self._deliver_chat(http, chat, update, busy))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._delivery_wake.wait(), 1.0)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver_chat(
        self, http: ClientSession, chat: object, update: dict[str, Any], busy: set[object]
    ) -> None:
        try:
            status = await self._post_update(http, update)
            if not 200 <= status < 300:
                # The chat's later updates wait behind the failed one, as at Telegram.
                await asyncio.sleep(self.webhook_retry_seconds)
        finally:
            busy.discard(chat)
            self._delivery_wake.set()

    def _targets(self, registered: str) -> list[str]:
        if not self.webhook_targets:
            return [registered]
        first = self._rng.choice(self.webhook_targets)
        others = [url for url in self.webhook_targets if url != first]
        if others and self._rng.random() < self.webhook_duplicates:
            return [first, self._rng.choice(others)]
        return [first]

    async def _post_once(
        self, http: ClientSession, url: str, body: str, headers: dict[str, str]
    ) -> int:
        try:
            async with http.post(url, data=body, headers=headers, ssl=self.webhook_tls) as resp:
                await resp.read()
                return resp.status
        except Exception:  # any failure means "deliver again later"
            return 0

    async def _post_update(self, http: ClientSession, update: dict[str, Any]) -> int:
        webhook = self.webhook
        if webhook is None:
            return 0
        headers = {"Content-Type": "application/json"}
        if webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        targets = self._targets(webhook["url"])
        body = json.dumps(update)
        self._in_delivery.add(update["update_id"])
        try:
            statuses = await asyncio.gather(
                *(self._post_once(http, url, body, headers) for url in targets)
            )
        finally:
            self._in_delivery.discard(update["update_id"])
        status = next((s for s in statuses if 200 <= s < 300), statuses[0])
        now = time.monotonic()
        for url, each in zip(targets, statuses, strict=True):
            self.webhook_log.append(WebhookDelivery(update["update_id"], url, each, now))
        self.webhook_deliveries.append((update["update_id"], status))
        if 200 <= status < 300:
            with contextlib.suppress(ValueError):
                self.pending.remove(update)
        await self._notify()
        return status


def webhook_chat(update: dict[str, Any]) -> object:
    """The chat an update belongs to (Telegram orders deliveries per chat); an update that
    names none is a chat of its own."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if not isinstance(body, dict):
            continue
        chat = body.get("chat")
        if kind == "callback_query":
            message = body.get("message")
            chat = message.get("chat") if isinstance(message, dict) else body.get("from")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
    return ("update", repr(update.get("update_id")))


@dataclass
class WebhookDelivery:
    """One POST of an update to a webhook server."""

    update_id: int
    url: str
    status: int  # 0: no answer (connection refused or reset, timeout)
    at: float


def _png_size(data: bytes) -> tuple[int, int]:
    if data.startswith(_PNG_MAGIC) and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1


class TelegramUser:
    """A person in a private chat with the bot: types texts, presses buttons, reads replies."""

    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.fake = fake
        self.id = user_id
        self.last: list[Output] = []

    @property
    def outputs(self) -> list[Output]:
        return self.fake.outputs[self.id]

    def messages(self) -> list[BotMessage]:
        return self.fake.messages(self.id)

    def send_text(self, text: str) -> dict[str, Any]:
        """Queue a typed message without waiting; returns the update."""
        return self.fake.enqueue(self.fake.text_update(self.id, text))

    def find_button(self, label: str) -> tuple[BotMessage, str]:
        """The newest bot message showing a button with this label, and the button's data."""
        for message in reversed(self.messages()):
            for button in message.buttons:
                if button["text"] == label and "callback_data" in button:
                    return message, button["callback_data"]
        shown = [m.labels for m in self.messages()[-3:]]
        raise AssertionError(f"no button {label!r}; last keyboards: {shown}")

    def send_press(self, label: str) -> dict[str, Any]:
        message, data = self.find_button(label)
        return self.fake.enqueue(self.fake.callback_update(self.id, message, data))

    async def say(self, text: str, **wait: Any) -> list[Output]:
        mark = len(self.outputs)
        self.send_text(text)
        self.last = await self.fake.settle(self.id, mark, **wait)
        return self.last

    async def press(self, label: str, **wait: Any) -> list[Output]:
        mark = len(self.outputs)
        update = self.send_press(label)
        query_id = update["callback_query"]["id"]
        until = wait.pop("until", None)

        def done(new: list[Output]) -> bool:
            answered = self.fake.callbacks[query_id]["answered"]
            return answered and (until(new) if until else any(o.kind != "action" for o in new))

        self.last = await self.fake.settle(self.id, mark, until=done, **wait)
        return self.last

    @property
    def text(self) -> str:
        """What the last action showed, as the user read it."""
        return "\n".join(o.text for o in self.last if o.message is not None)

    def labels(self) -> list[str]:
        return [label for o in self.last if o.message for label in o.message.labels]


def unique_ids(outputs: Iterable[Output]) -> list[int]:
    return sorted({o.message.message_id for o in outputs if o.message is not None})


def random_secret() -> str:
    return secrets.token_urlsafe(24)
