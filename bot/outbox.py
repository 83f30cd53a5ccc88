"""Sends a chat's outbox rows (``advisor/storage/delivery.py``) in order and marks them sent.

A turn's replies are committed to the outbox with its state; the turn then calls ``send_locked``
under the person's lock, so one person's messages leave in order and by one sender at a time
(across replicas too: the lock is Redis's then). On start, ``resume`` sends what a killed process
left unsent. The platform part (``Deliver``) sends one row from its ``sent_parts`` on and reports
each accepted message, so a kill in the middle of a long reply repeats at most one message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from advisor.app import Advisor
from advisor.storage.delivery import OutboxRow

log = logging.getLogger(__name__)

Accepted = Callable[[int], Awaitable[None]]
"""Called with the count of the row's platform messages accepted so far."""
Deliver = Callable[[OutboxRow, Accepted], Awaitable[None]]
"""Sends a row's platform messages from ``row.sent_parts`` on; raises when it cannot. A failure
it handles itself (a person who blocked the bot) returns normally: the row is done."""
GiveUp = Callable[[OutboxRow, Exception], Awaitable[None]]
"""Told about a row that could not be sent (the person gets an apology, best effort)."""

RESUME_CONCURRENCY = 16
# Rows left unsent while the process runs (the database failed as a turn read or marked them)
# are picked up this often, once they are this old.
SWEEP_EVERY = timedelta(seconds=5)


class OutboxSender:
    def __init__(
        self,
        advisor: Advisor,
        channel: str,
        deliver: Deliver,
        give_up: GiveUp,
        *,
        traceback: bool = False,
    ) -> None:
        self.advisor = advisor
        self.channel = channel
        self.deliver = deliver
        self.give_up = give_up
        # Whether a failed row's log line carries the traceback (the front-end's custom).
        self.traceback = traceback

    async def send(self, chat_id: str) -> None:
        """Send the chat's unsent rows, taking the person's lock."""
        async with self.advisor.person_lock(self.channel, chat_id):
            await self.send_locked(chat_id)

    async def send_locked(self, chat_id: str) -> None:
        """Send the chat's unsent rows; the caller holds the person's lock. Never raises: what
        cannot be read now is sent by the next turn of the chat or the next start."""
        try:
            rows = await self.advisor.delivery.pending(self.channel, chat_id)
        except Exception as error:
            log.warning("%s: unsent replies of chat %s not read: %s", self.channel, chat_id, error)
            return
        for row in rows:
            await self._send_row(row)

    async def _send_row(self, row: OutboxRow) -> None:
        delivery = self.advisor.delivery

        async def accepted(parts: int) -> None:
            try:
                await delivery.mark_sent(row.id, parts, done=False)
            except Exception as error:  # sent again after a restart: shown twice at worst
                log.warning("%s: reply %d not marked: %s", self.channel, row.id, error)

        try:
            await self.deliver(row, accepted)
        except Exception as error:
            log.error(
                "%s: the reply to update %s (chat %s) failed: %s: %s",
                self.channel,
                row.event_id,
                row.chat_id,
                type(error).__name__,
                error,
                exc_info=error if self.traceback else None,
            )
            await self.give_up(row, error)
        try:
            await delivery.mark_sent(row.id, row.sent_parts, done=True)
        except Exception as error:
            log.warning("%s: reply %d not marked sent: %s", self.channel, row.id, error)

    async def sweep_forever(self, every: timedelta = SWEEP_EVERY) -> None:
        """Forever: send what was left unsent meanwhile. Under each person's lock, as a turn
        sends, so never beside a turn's own sending."""
        while True:
            await asyncio.sleep(every.total_seconds())
            await self.resume(datetime.now(UTC) - every)

    async def resume(self, created_before: datetime | None = None) -> int:
        """Send every chat's unsent rows (those made before ``created_before``, when given: a
        replica leaves the rows of turns in hand elsewhere to their own senders); the count of
        chats."""
        try:
            chats = await self.advisor.delivery.pending_chats(self.channel, created_before)
        except Exception as error:
            log.warning("%s: unsent replies not read: %s", self.channel, error)
            return 0
        if chats:
            log.info("%s: sending the unsent replies of %d chats", self.channel, len(chats))
        slots = asyncio.Semaphore(RESUME_CONCURRENCY)

        async def one(chat_id: str) -> None:
            async with slots:
                try:
                    await self.send(chat_id)
                except Exception as error:  # the person's lock (Redis) was not to be had
                    log.warning("%s: chat %s not resumed: %s", self.channel, chat_id, error)

        await asyncio.gather(*(one(chat) for chat in chats))
        return len(chats)
