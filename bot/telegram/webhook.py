"""The webhook endpoint: aiogram's request handler, with the update read strictly first.

aiogram parses the body inside the request handler, so a body that is not an update (broken
JSON, wrong types, a forged post that got past the secret) ended in an HTTP 500 and a traceback
in the log. Here it is refused with 400 and one warning line; a real update is handled as before,
answered once its turn is over.

Why nothing is lost to a kill (issue 17.1). Telegram takes an update as delivered only when the
webhook answers 2xx, and otherwise posts it again. The answer (``handle_in_background=False``)
comes after the turn: its state, its replies (the outbox) and the update's handled mark are
committed in one transaction and the replies sent. A process killed before that answers
nothing, so Telegram delivers the update again; a redelivery of a committed update is
recognised by its id and skipped (its unsent replies are sent from the outbox on start), so it
is answered once. A turn that fails is answered with an apology (committed the same way) and
confirmed: its redelivery would fail again.

That alone would need no inbox, but two answers come before the turn is over: aiogram answers
200 anyway after 55 s and lets a slow turn go on in the background (a check of several publics
on a busy token can take that long), and in one process without Redis a redelivery that arrives
while the first delivery's turn is in hand is skipped and answered at once. So, as with long
polling, the update is stored in the inbox before its turn runs: a process killed after such an
early answer handles the stored update on start (``_resume`` in the runner; with replicas the
Redis claim makes a starting replica wait for the outcome of a turn another one has in hand).
If the database cannot store it, the turn runs anyway (it then ends in the dialog's apology,
which beats no answer) and Telegram still gets no answer before it is over.
"""

from __future__ import annotations

import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.refusals import RefusalLog
from bot.telegram.inbox import inbox_entry
from bot.turns import TurnLifecycle
from bot.webhook_body import UnreadableBody, read_json, sender

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_matches(given: str, expected: str) -> bool:
    """Compares as bytes: any header value, non-ASCII included, is just a wrong secret (str
    comparison raises TypeError for non-ASCII text, which ended in an HTTP 500)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


class CheckedRequestHandler(SimpleRequestHandler):
    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, secret_token: str, lifecycle: TurnLifecycle
    ) -> None:
        # Answered after the turn, not on arrival: Telegram sends a chat's next update only
        # once this one is answered, so with several replicas one person's updates are still
        # handled in order, and an update a dying replica never finished is delivered again.
        # (aiogram answers anyway after 55 s and finishes the turn in the background.)
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
        self.refusals = RefusalLog(log)
        self.lifecycle = lifecycle

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        return secret_matches(telegram_secret_token, self.secret_token)

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            self.refusals.refused(
                "secret", "webhook: request with a wrong secret from %s refused", sender(request)
            )
            return web.Response(body="Unauthorized", status=401)
        try:
            if request.content_type != "application/json":
                raise UnreadableBody(f"content type {request.content_type!r}")
            body = await read_json(request)
            if not isinstance(body, dict):
                raise UnreadableBody(f"a JSON {type(body).__name__}, not an object")
            update = Update.model_validate(body, context={"bot": bot})
        except (UnreadableBody, ValidationError) as exc:
            reason = exc if isinstance(exc, UnreadableBody) else f"{exc.error_count()} bad fields"
            self.refusals.refused(
                "unreadable",
                "webhook: unreadable update from %s refused (%s)",
                sender(request),
                reason,
            )
            return web.Response(status=400, text="bad request")
        try:
            update.event_type  # noqa: B018 - raises for an update of no kind aiogram knows
        except UpdateTypeLookupError:
            # Nothing to answer; 200, or Telegram would deliver it again and again.
            log.info("webhook: update %s of no known kind ignored", update.update_id)
            return web.json_response({})
        await self._store(bot, update)
        result = await self.dispatcher.feed_webhook_update(bot, update, **self.data)
        return web.Response(body=self._build_response_writer(bot=bot, result=result))

    async def _store(self, bot: Bot, update: Update) -> None:
        """The update into the inbox before its turn (a group's is not kept: it gets one line)."""
        entry = inbox_entry(bot, update)
        if entry is None:
            return
        try:
            await self.lifecycle.receive([entry])
        except Exception as error:
            log.warning(
                "webhook: update %s not stored, handled anyway: %s",
                update.update_id,
                type(error).__name__,
            )
