"""The advisor as front-ends see it: open it with settings, hand it user actions, close it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.config import Settings, get_settings
from advisor.dialog.actions import PublicCheckPort, build_actions
from advisor.dialog.engine import DialogEngine
from advisor.dialog.types import Button, Incoming, Outgoing, ProgressCallback
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Knowledge
from advisor.storage.db import create_engine, is_sqlite
from advisor.storage.migrate import ensure_schema
from advisor.storage.store import ConversationStore
from advisor.texts import t
from advisor.tracker.actions import tracker_actions
from advisor.vk.links import extract_links

log = logging.getLogger(__name__)

CONVERSATION_CACHE_SIZE = 10_000


class ChatPublicCheck:
    """Adapts the VK public check to the dialog: links in, chat messages out."""

    def __init__(self, settings: Settings, knowledge: Knowledge) -> None:
        from advisor.vk.check import PublicChecker

        self.checker = PublicChecker(settings, knowledge.norms)

    async def chat_answer(
        self, links: list[str], progress: Callable[[str], Awaitable[None]] | None
    ) -> list[Outgoing]:
        from advisor.vk.render import chat_messages

        results = await self.checker.check(links, progress=progress)
        return chat_messages(results)

    async def close(self) -> None:
        close = getattr(self.checker, "close", None)
        if close is not None:
            await close()


class Advisor:
    def __init__(
        self,
        settings: Settings,
        db: AsyncEngine,
        dialog: DialogEngine,
        public_check: ChatPublicCheck | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.dialog = dialog
        self.public_check = public_check

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
        public_check = ChatPublicCheck(settings, knowledge) if settings.vk_check_token else None
        checker: PublicCheckPort | None = public_check
        # Only a process that owns its database alone may serve loads from memory.
        cache_size = CONVERSATION_CACHE_SIZE if is_sqlite(settings.database_url) else 0
        dialog = DialogEngine(
            knowledge,
            ConversationStore(db, cache_size=cache_size),
            {**build_actions(checker, extract_links), **tracker_actions(settings)},
            find_links=extract_links,
            max_chars=settings.max_message_chars,
        )
        return cls(settings, db, dialog, public_check)

    async def handle(
        self, incoming: Incoming, progress: ProgressCallback | None = None
    ) -> list[Outgoing]:
        """The replies to one user action; never raises: a failure becomes an apology."""
        try:
            return await self.dialog.handle(incoming, progress)
        except Exception:
            log.exception(
                "dialog turn failed: channel=%s user=%s", incoming.channel, incoming.user_id
            )
            return [
                Outgoing(
                    text=t("dialog.error"),
                    buttons=[[Button(label=t("dialog.menu"), payload="m")]],
                )
            ]

    async def close(self) -> None:
        if self.public_check is not None:
            await self.public_check.close()
        await self.store.close()
        await self.db.dispose()
