"""Callback API: VK posts each event to our HTTP server and wants "ok" back quickly.

``confirmation`` is answered with ``VK_CALLBACK_CONFIRMATION``; a request whose ``secret`` is not
``VK_CALLBACK_SECRET`` (or names another community) is refused with 403 (the bot does not start
without the secret: anyone could post a forged ``message_new`` otherwise), and the refusals are
logged at most once a minute. Any other event is
answered "ok" once it has been handled (the person answered), or after ANSWER_WITHIN seconds,
whichever comes first; the turn then goes on. Answering after the turn keeps one person's events
in order when several replicas share the traffic: the next event is sent after this "ok", so it
cannot overtake this one on another replica. VK retries an event it got no "ok" for, and the
retry is recognised by its ``event_id`` when it is handled.

Before anything else the event is stored in the inbox (``store``): "ok" is never said for an
event a kill could lose. When it cannot be stored the answer is 500 and VK posts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.refusals import RefusalLog
from bot.webhook_body import UnreadableBody, read_json, sender

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any], Callable[[], None]], None]
"""Takes an event and a callback to call once the event is handled."""
EventStore = Callable[[dict[str, Any]], Awaitable[None]]
"""Stores an event durably (the inbox); raises when it cannot."""
MAX_BODY_BYTES = 256 * 1024
# VK stops posting to a server whose answers keep failing, and a slow answer is a failure; a
# slow turn (a public check) is answered "ok" after this long and carries on.
ANSWER_WITHIN = 5.0


class CallbackServer:
    def __init__(
        self,
        sink: EventSink,
        *,
        confirmation: SecretStr,
        secret: SecretStr,
        group_id: int | None,
        store: EventStore | None = None,
    ) -> None:
        self.sink = sink
        self.store = store
        self.confirmation = confirmation
        self.secret = secret
        self.group_id = group_id
        self._runner: web.AppRunner | None = None
        self.refusals = RefusalLog(log)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/{tail:.*}", self.handle)
        return app

    def _secret_ok(self, body: dict[str, Any]) -> bool:
        given = body.get("secret")
        return isinstance(given, str) and hmac.compare_digest(
            given.encode(), self.secret.get_secret_value().encode()
        )

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
        except UnreadableBody as exc:
            self.refusals.refused(
                "unreadable",
                "VK callback: unreadable request from %s refused (%s)",
                sender(request),
                exc,
            )
            return web.Response(status=400, text="bad request")
        if not isinstance(body, dict):
            return web.Response(status=400, text="bad request")
        if not self._secret_ok(body):
            self.refusals.refused(
                "secret",
                "VK callback: request with a wrong secret from %s refused",
                sender(request),
            )
            return web.Response(status=403, text="forbidden")
        if self.group_id is not None and body.get("group_id") != self.group_id:
            self.refusals.refused(
                "community",
                "VK callback: request for community %.32r refused (this bot serves %d)",
                body.get("group_id"),
                self.group_id,
            )
            return web.Response(status=403, text="forbidden")
        if body.get("type") == "confirmation":
            log.info("VK callback: confirmation requested")
            return web.Response(text=self.confirmation.get_secret_value())
        body.pop("secret", None)
        if self.store is not None:
            try:
                await self.store(body)
            except Exception as exc:  # not stored: VK must post it again
                log.warning(
                    "VK callback: event %.64r not stored (%s); VK will retry",
                    body.get("event_id"),
                    type(exc).__name__,
                )
                return web.Response(status=500, text="retry")
        handled = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not handled.done():
                handled.set_result(None)

        try:
            self.sink(body, done)
        except Exception as exc:  # an event no retry can make readable: VK must not resend it
            log.error(
                "VK callback: event %.64r could not be read (%s: %s); skipped",
                body.get("event_id"),
                type(exc).__name__,
                exc,
            )
            return web.Response(text="ok")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(handled), ANSWER_WITHIN)
        return web.Response(text="ok")

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("VK callback server listening on %s:%d", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
