"""Update middlewares: each update answered once, and a count of updates being handled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

CHANNEL = "telegram"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def update_key(bot: Bot, update_id: int) -> str:
    """An update's id for deduplication. The bot id is part of it: another bot (a new token)
    counts its updates anew."""
    return f"{bot.id}:{update_id}"


class OncePerUpdate(BaseMiddleware):
    """Skips an update whose id was handled before: Telegram redelivers after timeouts and
    restarts. The ids are kept in the database (or Redis), so a restarted process knows them."""

    def __init__(
        self,
        first_delivery: Callable[[str, str], Awaitable[bool]],
        delivered: Callable[..., Awaitable[None]] | None = None,
    ) -> None:
        # Advisor.first_delivery and .delivered: Redis when replicas share it, else the database.
        self.first_delivery = first_delivery
        self.delivered = delivered

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        key = update_key(bot, event.update_id)
        try:
            first_time = await self.first_delivery(CHANNEL, key)
        except SQLAlchemyError as error:
            # Answering twice in a rare redelivery beats not answering: handle it anyway.
            log.warning("update %s not recorded as handled: %s", event.update_id, error)
            first_time = True
        if not first_time:
            log.info("update %s was delivered again; it was handled already", event.update_id)
            return None
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            await self._delivered(key, handled=False)
            raise
        except BaseException:
            await self._delivered(key)
            raise
        await self._delivered(key)
        return result

    async def _delivered(self, key: str, *, handled: bool = True) -> None:
        if self.delivered is None:
            return
        try:
            await self.delivered(CHANNEL, key, handled=handled)
        except Exception as error:  # the claim then lapses by itself
            log.warning("update %s not marked as handled: %s", key, error)


class InFlight(BaseMiddleware):
    """Counts updates being handled so a stopping process can let them finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """Wait until nothing is being handled (True) or ``seconds`` pass (False)."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await self._idle.wait()
                    # An update of the same chat may be queued right behind the one that ended.
                    await asyncio.sleep(0.05)
                    if self.count == 0:
                        return True
        except TimeoutError:
            return False
