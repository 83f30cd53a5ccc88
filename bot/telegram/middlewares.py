"""The update middleware: each update answered once, through the one turn lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, Update

from advisor.texts import t
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


def update_chat(update: Update) -> Chat | None:
    """The chat an update comes from: a message's, or the one under a pressed button."""
    if update.message is not None:
        return update.message.chat
    if update.edited_message is not None:
        return update.edited_message.chat
    if update.channel_post is not None:
        return update.channel_post.chat
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat
    return None


class PrivateChatsOnly(BaseMiddleware):
    """The bot coaches one person at a time: a group or channel would share one conversation and
    one tracker table (budgets included). Their updates get one polite line (a pressed button:
    its answer) and are dropped before anything about them is stored."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        chat = update_chat(event)
        if chat is None or chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        log.info("update %s from a %s chat: answered with one line", event.update_id, chat.type)
        bot: Bot = data["bot"]
        text = t("telegram.private_only")
        try:
            if event.callback_query is not None:
                await bot.answer_callback_query(event.callback_query.id, text=text, show_alert=True)
            elif event.message is not None:
                await bot.send_message(chat_id=chat.id, text=text)
        except Exception as error:  # best effort: a group that muted the bot is no failure
            log.warning("could not answer a %s chat: %s", chat.type, error)
        return None
