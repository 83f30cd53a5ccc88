"""One person's action in, the advisor's reply out: dedup, button answers, paging, progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from advisor.app import Advisor
from advisor.dialog import payloads
from advisor.dialog.types import Incoming
from advisor.storage.delivery import Envelope, OutboxRow
from advisor.texts import t
from advisor.vk.api import VkApiError
from bot.outbox import Accepted, OutboxSender
from bot.turns import TurnLifecycle
from bot.vk.events import VkAction
from bot.vk.keyboards import KeyboardMode, build_keyboard
from bot.vk.outgoing import Piece, last_buttons, plan_reply, random_id
from bot.vk.sender import UNREACHABLE_CODES, VkSender

log = logging.getLogger(__name__)

CHANNEL = "vk"
# A public check reports several stages; one status line per this many seconds is enough.
PROGRESS_INTERVAL = 8.0
TYPING_EVERY = 5.0
RERENDER = payloads.encode(payloads.RESUME)
# Turns touching the database at once: more would only queue inside the connection pool (and,
# on SQLite, for its single write lock), where a wait can time out; sending, the slow part
# under load, happens outside this bound.
ENGINE_SLOTS = 16


class Progress:
    """What the person sees while a long step runs (a ``ProgressBoard``): "typing…" from the
    first status until the turn is over (``stop``); the turn's status lines in ONE message,
    edited (messages.edit) at most once per PROGRESS_INTERVAL and marked done at the end; one
    message per item (a public's first estimate), replaced by its final line or verdict. They
    go straight to the chat: the turn's reply, committed with its state, says all they say
    (``ProgressBoard``)."""

    def __init__(self, sender: VkSender, action: VkAction) -> None:
        self.sender = sender
        self.action = action
        self.status_id: int | None = None
        self.last = float("-inf")
        self.items: dict[str, int | None] = {}
        self.stopped = False
        self._typing: asyncio.Task[None] | None = None

    def _start_typing(self) -> None:
        if self._typing is None:
            self._typing = asyncio.create_task(self._keep_typing())

    async def __call__(self, status: str) -> None:
        self._start_typing()
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        await self._show("status", status)

    async def _show(self, key: str, text: str) -> None:
        peer = self.action.peer_id
        if key == "status":
            known = self.status_id
        else:
            known = self.items.get(key)
        if known is not None:
            await self.sender.edit_text(peer, known, text)
            return
        if key != "status" and key in self.items:
            return  # its first message was not sent: the final answer will say it all
        if key != "status":
            self.items[key] = None  # being sent
        rid = random_id(self.action.event_id, f"progress:{key}")
        message_id = await self.sender.send_status(peer, rid, text)
        if key == "status":
            self.status_id = message_id
        else:
            self.items[key] = message_id

    async def item(self, key: str, status: str) -> None:
        self._start_typing()
        await self._show(f"item:{key}", status)

    async def _keep_typing(self) -> None:
        # VK shows the indicator for about ten seconds: renewed while the step runs.
        while True:
            await self.sender.set_typing(self.action.peer_id)
            await asyncio.sleep(TYPING_EVERY)

    async def stop(self) -> None:
        if self.stopped:
            return  # the reply's sending stopped it already
        self.stopped = True
        if self._typing is not None:
            self._typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._typing
        if self.status_id is not None:
            # The status line must not keep saying "checking…" once the answer is there.
            await self.sender.edit_text(self.action.peer_id, self.status_id, t("vk.progress_done"))


def row_pieces(row: OutboxRow) -> list[Piece]:
    """The VK messages of an outbox row: the reply planned for the person's client, or the
    page of its last buttons that a «далее» / «назад» asked for."""
    mode = KeyboardMode(row.context.get("mode", KeyboardMode.TEXT.value))
    page = row.context.get("page")
    if not isinstance(page, int):
        return plan_reply(row.replies, mode)
    keyboard, shown, pages = build_keyboard(last_buttons(row.replies), mode, page)
    if pages == 0:
        # The step has no buttons any more: show it as it is now.
        return plan_reply(row.replies, mode)
    return [Piece(t("vk.page_title", page=shown + 1, pages=pages), keyboard)]


def row_key(row: OutboxRow) -> str:
    """What a row's random_ids derive from: sending it again after a kill repeats them, and
    VK shows nothing twice."""
    return f"outbox:{row.id}:{row.event_id or ''}"


class VkFrontend:
    def __init__(self, advisor: Advisor, sender: VkSender, slots: int = ENGINE_SLOTS) -> None:
        self.advisor = advisor
        self.sender = sender
        self.slots = asyncio.Semaphore(slots)
        self.lifecycle = TurnLifecycle(advisor, CHANNEL)
        self.outbox = OutboxSender(advisor, CHANNEL, self._send_row, self._give_up)

    async def _send_row(self, row: OutboxRow, accepted: Accepted) -> None:
        try:
            await self.sender.send_or_raise(int(row.chat_id), row_key(row), row_pieces(row))
        except VkApiError as exc:
            if exc.vk_code not in UNREACHABLE_CODES:
                raise
            log.info(
                "VK: peer %s does not accept the community's messages (error %d)",
                row.chat_id,
                exc.vk_code,
            )

    async def _give_up(self, row: OutboxRow, error: Exception) -> None:
        await self.sender.apologize(int(row.chat_id), row_key(row))

    async def _answer(self, incoming: Incoming, action: VkAction, context: dict[str, Any]) -> None:
        """The turn through the outbox (``Advisor.answer``); its replies sent from there."""
        chat = str(action.peer_id)
        envelope = Envelope(CHANNEL, chat, action.event_id, context)
        progress = Progress(self.sender, action) if action.page is None else None

        async def send() -> None:
            if progress is not None:
                await progress.stop()  # no "typing…" once the answer is on its way
            await self.outbox.send_locked(chat)

        try:
            async with self.slots:
                unsent = await self.advisor.answer(incoming, envelope, send, progress)
        finally:
            if progress is not None:
                await progress.stop()
        if unsent:  # the database is down: straight to the person, as the only way left
            pieces = plan_reply(unsent, action.caps.mode)
            await self.sender.send_pieces(action.peer_id, action.event_id, pieces)

    async def handle(self, action: VkAction) -> None:
        """Never raises: a failure is logged for the operator and the person gets an apology."""
        try:
            await self._handle(action)
        except Exception:
            log.exception("VK: event %s of peer %d failed", action.event_id, action.peer_id)
            await self.sender.apologize(action.peer_id, action.event_id)

    async def _handle(self, action: VkAction) -> None:
        async with self.lifecycle.turn(action.event_id) as fresh:
            if not fresh:
                return
            # The button's spinner is stopped while the turn runs, not after it.
            answering = (
                asyncio.create_task(self.sender.answer_event(action.answer))
                if action.answer is not None
                else None
            )
            try:
                await self._respond(action)
            finally:
                if answering is not None:
                    await answering

    async def _respond(self, action: VkAction) -> None:
        context: dict[str, Any] = {"mode": action.caps.mode.value}
        if action.page is not None:
            # «далее» / «назад» of a paged keyboard: the current step's buttons, that page.
            incoming = Incoming(channel=CHANNEL, user_id=str(action.peer_id), payload=RERENDER)
            await self._answer(incoming, action, {**context, "page": action.page})
            return
        if action.incoming is None:
            return
        # The event id goes with the turn's state: a redelivery after a crash is known by it.
        incoming = action.incoming.model_copy(update={"event_id": action.event_id[:96]})
        await self._answer(incoming, action, context)
