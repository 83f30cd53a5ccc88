"""The update middleware: each update answered once, through the one turn lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update

from bot.turns import TurnLifecycle

log = logging.getLogger(__name__)

CHANNEL = "telegram"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def update_key(bot: Bot, update_id: int) -> str:
    """An update's id for deduplication. The bot id is part of it: another bot (a new token)
    counts its updates anew."""
    return f"{bot.id}:{update_id}"


class OncePerUpdate(BaseMiddleware):
    """Runs each update inside the channel's turn lifecycle (``bot/turns.py``): claimed by its
    id first, skipped when delivered again, counted while in hand for draining."""

    def __init__(self, lifecycle: TurnLifecycle) -> None:
        self.lifecycle = lifecycle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot: Bot = data["bot"]
        async with self.lifecycle.turn(update_key(bot, event.update_id)) as fresh:
            if fresh:
                return await handler(event, data)
        return None
