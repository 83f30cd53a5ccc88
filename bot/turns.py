"""One turn's lifecycle, the same for every front-end (Telegram, VK long poll, VK Callback).

The guarantees, stated once:

* **Once.** A platform update or event is claimed by its id before its turn runs
  (``Advisor.first_delivery``: in this process and not committed yet, or Redis when replicas
  share it); a redelivery of a claimed or committed id is skipped. A turn that ends (answered, or
  answered with an apology) marks the id handled; a turn cancelled by a shutdown releases it, so
  its redelivery is handled afresh.
* **A busy database is waited out.** SQLite's write lock under a burst makes the claim fail
  for a moment: it is retried. If the claim still fails (the database is down), the turn runs
  anyway — answering twice on a rare redelivery beats not answering, and a turn that cannot
  reach the database ends in the dialog's apology.
* **In order, one at a time per person.** Each front-end hands one person's updates over in
  arrival order; ``Advisor.handle`` then holds the person's lock (Redis across replicas), so two
  turns of one person never interleave. That lock is the only per-person lock of a turn.
* **Nothing lost to a kill.** An update is stored in the inbox (``receive``) before the platform
  is told it arrived; a turn's replies are committed to the outbox with its state and the
  update's handled mark (``Advisor.answer``), then sent from there (``bot/outbox.py``). On start
  (``resume``) the unhandled inbox rows are handled and the unsent outbox rows sent.
* **Draining.** A stopping process stops taking updates and waits (``drain``) for the turns in
  hand; the ids of handled updates, handled inbox rows and sent outbox rows are pruned after a
  while (``prune_handled_ids``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError, SQLAlchemyError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from advisor.app import Advisor
from advisor.storage.delivery import InboxRow

log = logging.getLogger(__name__)

CLAIM_ATTEMPTS = 4
KEEP_HANDLED_IDS = timedelta(days=2)
PRUNE_EVERY_SECONDS = 3600.0
# Errors a claim can meet when the database or Redis does not answer.
_UNREACHABLE = (SQLAlchemyError, OSError, ConnectionError)


class TurnLifecycle:
    """Claims, runs and releases the turns of one channel; counts those in hand."""

    def __init__(self, advisor: Advisor, channel: str) -> None:
        self.advisor = advisor
        self.channel = channel
        self.in_hand = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(CLAIM_ATTEMPTS),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception_type(OperationalError),
            reraise=True,
        )

    async def receive(self, events: Sequence[tuple[str, str | None, str]]) -> None:
        """Store arrived updates (event id, chat, raw body) in the inbox, waiting out a busy
        database. Raises when they cannot be stored: the caller must then not confirm them to
        the platform, which delivers them again."""
        if not events:
            return
        async for attempt in self._retrying():
            with attempt:
                await self.advisor.delivery.receive(self.channel, events)

    async def resume(self, feed: Callable[[InboxRow], object]) -> int:
        """Hand the updates stored but not handled (a killed process's) to ``feed`` in arrival
        order, before new ones arrive; their count. Each goes through ``turn`` as usual: one
        whose turn was committed is recognised there and skipped."""
        try:
            rows = await self.advisor.delivery.unhandled(self.channel)
        except _UNREACHABLE as error:
            log.warning("%s: stored updates not read: %s", self.channel, error)
            return 0
        if rows:
            log.info("%s: handling %d updates stored before a stop", self.channel, len(rows))
        for row in rows:
            feed(row)
        return len(rows)

    async def claim(self, event_id: str) -> bool:
        """True the first time this id is delivered (or when that cannot be known)."""
        retrying = self._retrying()
        try:
            async for attempt in retrying:
                with attempt:
                    return await self.advisor.first_delivery(self.channel, event_id)
        except _UNREACHABLE as error:
            log.warning(
                "%s: update %s not recorded as handled, handling it anyway: %s",
                self.channel,
                event_id,
                type(error).__name__,
            )
            return True
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def release(self, event_id: str, *, handled: bool) -> None:
        try:
            await self.advisor.delivered(self.channel, event_id, handled=handled)
        except Exception as error:  # the claim then lapses by itself
            log.warning("%s: update %s not marked as handled: %s", self.channel, event_id, error)

    @asynccontextmanager
    async def turn(self, event_id: str) -> AsyncIterator[bool]:
        """``async with lifecycle.turn(id) as fresh:`` — run the turn when ``fresh``."""
        self.in_hand += 1
        self._idle.clear()
        try:
            if not await self.claim(event_id):
                log.info(
                    "%s: update %s was delivered again; handled already", self.channel, event_id
                )
                yield False
                return
            handled = True
            try:
                yield True
            except asyncio.CancelledError:
                handled = False  # a shutdown: its redelivery is handled afresh
                raise
            finally:
                await self.release(event_id, handled=handled)
        finally:
            self.in_hand -= 1
            if self.in_hand == 0:
                self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """Wait until no turn is in hand (True) or ``seconds`` pass (False)."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await self._idle.wait()
                    # An update of the same person may be queued right behind the one that ended.
                    await asyncio.sleep(0.05)
                    if self.in_hand == 0:
                        return True
        except TimeoutError:
            return False


async def prune_handled_ids(advisor: Advisor, label: str) -> None:
    """Forever: forget the ids of updates handled long enough ago that none comes again."""
    while True:
        try:
            moment = datetime.now(UTC) - KEEP_HANDLED_IDS
            removed = await advisor.store.forget_processed_before(moment)
            removed += await advisor.delivery.forget_before(moment)
            log.debug("%s: forgot %d handled updates and sent replies", label, removed)
        except Exception:
            log.warning("%s: pruning handled update ids failed", label, exc_info=True)
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
