"""Update middlewares: each update answered once, and a count of updates being handled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, Update
from sqlalchemy.exc import SQLAlchemyError

from advisor.texts import t

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
