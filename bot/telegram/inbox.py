"""The Telegram side of the inbox: updates stored before their offset is confirmed.

``getUpdates`` confirms every update below its ``offset``, and aiogram's polling asks with the
next offset as soon as it has handed the batch over. This request middleware stores the batch
in the inbox when ``getUpdates`` answers, before aiogram sees it: if storing fails, aiogram's
polling backs off and asks again with the old offset, so Telegram delivers the batch again.
On start, the stored updates not handled yet are fed to the dispatcher again (``restore``).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    NextRequestMiddlewareType,
    RequestMiddlewareType,
)
from aiogram.enums import ChatType
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update

from bot.telegram.middlewares import update_chat, update_key
from bot.turns import TurnLifecycle


def inbox_entry(bot: Bot, update: Update) -> tuple[str, str | None, str] | None:
    """(event id, chat, body) of an update worth keeping; None for a group's or a channel's,
    which get one polite line and nothing stored (``PrivateChatsOnly``)."""
    chat = update_chat(update)
    if chat is not None and chat.type != ChatType.PRIVATE:
        return None
    body = update.model_dump_json(exclude_none=True)
    return update_key(bot, update.update_id), str(chat.id) if chat else None, body


def restore(bot: Bot, body: str) -> Update:
    """A stored update, ready for ``Dispatcher.feed_update``."""
    return Update.model_validate_json(body, context={"bot": bot})


def inbox_middleware(lifecycle: TurnLifecycle) -> RequestMiddlewareType:
    """The request middleware. A plain coroutine function, not an object with ``__call__``: the
    retrying middleware registered before it (tenacity) awaits only what looks like one."""

    async def store_updates(
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        # aiogram's request chain hands back the method's result (typed as a Response).
        response = await make_request(bot, method)
        result: Any = response
        if isinstance(method, GetUpdates) and isinstance(result, list):
            updates: list[Any] = result
            entries = [inbox_entry(bot, u) for u in updates if isinstance(u, Update)]
            await lifecycle.receive([entry for entry in entries if entry is not None])
        return response

    return store_updates
