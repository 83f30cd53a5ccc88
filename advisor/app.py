"""The advisor as front-ends see it: open it with settings, hand it user actions, close it."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.audit.actions import audit_actions
from advisor.check_budget import CheckBudget
from advisor.config import Settings, get_settings
from advisor.dialog.actions import TOOLS, PublicCheckPort, build_actions
from advisor.dialog.engine import DialogEngine, menu_row
from advisor.dialog.fit_actions import fit_parsers
from advisor.dialog.types import Incoming, Outgoing, ProgressCallback
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Knowledge
from advisor.observability import Metrics
from advisor.shared_state import SharedState, build_shared_state
from advisor.storage.db import create_engine, is_sqlite
from advisor.storage.delivery import DeliveryStore, Envelope, TurnOutcome
from advisor.storage.migrate import ensure_schema
from advisor.storage.store import ConversationStore
from advisor.texts import t
from advisor.tracker.actions import tracker_actions, tracker_parsers
from advisor.vk.gateway import VkGateway
from advisor.vk.links import extract_links

if TYPE_CHECKING:
    from advisor.audit.service import Auditor
    from advisor.tracker.vk_posts import VkPostFigures
    from advisor.vk.check import PublicChecker

log = logging.getLogger(__name__)

CONVERSATION_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class VkFeatures:
    """The features that read VK with the gateway's reader client; all None without a token."""

    public_check: PublicChecker | None = None
    auditor: Auditor | None = None
    post_figures: VkPostFigures | None = None


def _vk_features(
    settings: Settings, knowledge: Knowledge, vk: VkGateway, shared: SharedState, db: AsyncEngine
) -> VkFeatures:
    """The public check, the audit and the tracker's post figures, sharing one client (and so
    one rate limiter) when a token that can read walls is configured. The check keeps a
    snapshot of each public it fetches in the database (for growth between checks)."""
    client = vk.reader
    if client is None:
        return VkFeatures()
    # Imported here: the VK client stack is slow to import and only these features need it.
    from advisor.audit.service import Auditor
    from advisor.storage.snapshots import DbSnapshots
    from advisor.tracker.vk_posts import VkPostFigures
    from advisor.vk.check import PublicChecker

    return VkFeatures(
        public_check=PublicChecker(
            settings,
            knowledge.norms,
            client,
            cache=shared,
            snapshots=DbSnapshots(db),
            sampler=vk.sampler,
        ),
        auditor=Auditor(settings, client, knowledge),
        post_figures=VkPostFigures(client),
    )


class Advisor:
    def __init__(
        self,
        settings: Settings,
        db: AsyncEngine,
        dialog: DialogEngine,
        shared: SharedState,
        vk: VkGateway,
        features: VkFeatures,
    ) -> None:
        self.settings = settings
        self.db = db
        self.dialog = dialog
        self.shared = shared
        self.vk = vk
        """One VK client per token for this process (``vk.community``: the VK bot's)."""
        self.features = features
        self.metrics = Metrics()
        self.delivery = DeliveryStore(db, dialog.store.writer_turn)
        """The inbox and the outbox (``advisor/storage/delivery.py``)."""

    @property
    def store(self) -> ConversationStore:
        return self.dialog.store

    @classmethod
    async def open(cls, settings: Settings | None = None) -> Advisor:
        settings = settings or get_settings()
        knowledge = load_knowledge()
        db = create_engine(settings.database_url)
        try:
            # The embedded SQLite database belongs to this process alone, so it is migrated in
            # place; a shared server database is migrated explicitly (`promo-advisor migrate`).
            await ensure_schema(db, auto_upgrade=is_sqlite(settings.database_url))
        except Exception:
            await db.dispose()
            raise
        # Only a process that owns its database alone may serve loads from memory.
        cache_size = CONVERSATION_CACHE_SIZE if is_sqlite(settings.database_url) else 0
        store = ConversationStore(db, cache_size=cache_size)
        shared = build_shared_state(settings.redis_url, store)
        # Every call made with one token, by any feature, is paced by that token's one client
        # (and across replicas by the shared pacer).
        vk = VkGateway(settings, pacer=shared.pace)
        features = _vk_features(settings, knowledge, vk, shared, db)
        checker: PublicCheckPort | None = features.public_check
        dialog = DialogEngine(
            knowledge,
            store,
            {
                **build_actions(
                    checker, extract_links, CheckBudget(shared, settings.check_budget_per_hour)
                ),
                **tracker_actions(
                    settings,
                    reminder_days=settings.tracker_reminder_days,
                    figures=features.post_figures,
                ),
                **audit_actions(settings, features.auditor),
            },
            find_links=extract_links,
            parsers={**tracker_parsers(), **fit_parsers()},
            tools=TOOLS,
            max_chars=settings.max_message_chars,
            welcome_back_after=settings.welcome_back_hours * 3600,
        )
        return cls(settings, db, dialog, shared, vk, features)

    async def first_delivery(self, channel: str, event_id: str) -> bool:
        """True the first time a platform delivers this update or event; False for a retry.

        With Redis a True is a claim: call ``delivered`` when the turn is over. Meanwhile
        another replica given the same id waits here for that outcome.
        """
        return await self.shared.first_time(channel, event_id)

    async def delivered(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        """The turn of an update ``first_delivery`` gave is over (``handled=False``: given up,
        so that a redelivery is handled afresh). Handled: its inbox row says so too (a turn that
        committed a state or replies marked it already, in its own transaction)."""
        try:
            if handled:
                await self.delivery.mark_handled(channel, event_id)
        finally:
            await self.shared.finished(channel, event_id, handled=handled)

    def person_lock(
        self, channel: str, user_id: str
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """The one per-person lock of a turn (Redis across replicas); its replies are sent
        under it too, so one person's messages go out in order and by one sender at a time."""
        return self.shared.lock(f"{channel}:{user_id}")

    async def _flooding(self, incoming: Incoming) -> list[Outgoing] | None:
        """None when the user is within the rate; else one polite notice, then silence."""
        if incoming.channel == "console":
            return None  # the local operator at the terminal, typing or piping a script
        count = await self.shared.hit(
            f"{incoming.channel}:{incoming.user_id}", self.settings.flood_window_seconds
        )
        limit = self.settings.flood_messages
        if count <= limit:
            return None
        if count == limit + 1:
            log.info("flood limit reached: channel=%s user=%s", incoming.channel, incoming.user_id)
            return [Outgoing(text=t("dialog.flood"))]
        return []

    async def handle(
        self, incoming: Incoming, progress: ProgressCallback | None = None
    ) -> list[Outgoing]:
        """The replies to one user action; never raises: a failure becomes an apology.

        An empty list means the action was dropped (flood limit) and nothing is to be sent.
        """
        channel = incoming.channel
        started = time.perf_counter()
        try:
            limited = await self._flooding(incoming)
            if limited is not None:
                self.metrics.dropped.labels(channel).inc()
                return limited
            async with self.person_lock(channel, incoming.user_id):
                replies = await self.dialog.handle(incoming, progress)
            self.metrics.updates.labels(channel).inc()
            self.metrics.turn_seconds.labels(channel).observe(time.perf_counter() - started)
            return replies
        except Exception:
            self.metrics.errors.labels(channel).inc()
            log.exception("dialog turn failed: channel=%s user=%s", channel, incoming.user_id)
            return self._apology()

    @staticmethod
    def _apology() -> list[Outgoing]:
        return [Outgoing(text=t("dialog.error"), buttons=menu_row())]

    async def answer(
        self,
        incoming: Incoming,
        envelope: Envelope,
        send: Callable[[], Awaitable[None]],
        progress: ProgressCallback | None = None,
    ) -> list[Outgoing]:
        """One user action through the outbox: the replies are committed with the turn's state
        and the update's handled mark, then ``send`` (the front-end's sender, which must not
        raise) delivers the chat's unsent replies, still under the person's lock.

        Returns what the caller must send itself: nothing, unless the outbox could not be
        written (the database is down), when the replies (or the apology) come back.
        """
        channel = incoming.channel
        started = time.perf_counter()
        try:
            limited = await self._flooding(incoming)
            if limited is not None:
                self.metrics.dropped.labels(channel).inc()
                async with self.person_lock(channel, incoming.user_id):
                    await self.store.record(TurnOutcome(envelope, limited))
                    await send()
                return []
            async with self.person_lock(channel, incoming.user_id):
                await self.dialog.handle(incoming, progress, envelope)
                self.metrics.updates.labels(channel).inc()
                self.metrics.turn_seconds.labels(channel).observe(time.perf_counter() - started)
                await send()
            return []
        except Exception:
            self.metrics.errors.labels(channel).inc()
            log.exception("dialog turn failed: channel=%s user=%s", channel, incoming.user_id)
        apology = self._apology()
        try:
            async with self.person_lock(channel, incoming.user_id):
                await self.store.record(TurnOutcome(envelope, apology))
                await send()
        except Exception as error:
            log.warning("the apology was not stored (%s); sending it directly", error)
            return apology
        return []

    async def health(self) -> dict[str, bool]:
        """Whether the database (and Redis, when configured) answer right now."""
        status = {"database": await self.store.ping()}
        if self.settings.redis_url:
            status["redis"] = await self.shared.ping()
        return status

    async def close(self) -> None:
        await self.vk.close()
        await self.delivery.close()
        await self.store.close()
        await self.shared.close()
        await self.db.dispose()
