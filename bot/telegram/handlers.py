"""The router: typed messages and pressed buttons go to the engine, its replies come back."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ErrorEvent, Message, Update

from advisor.app import Advisor
from advisor.dialog import payloads
from advisor.dialog.types import Incoming
from advisor.storage.delivery import Envelope
from advisor.texts import t
from bot.outbox import OutboxSender
from bot.telegram.delivery import Delivery, edit_target
from bot.telegram.keyboards import EnginePress
from bot.telegram.middlewares import CHANNEL, update_key
from bot.telegram.progress import TurnProgress

log = logging.getLogger(__name__)

# Re-render the current step: what an unknown button (of an older bot version) falls back to.
RESUME = payloads.encode(payloads.RESUME)


async def _turn(
    incoming: Incoming,
    chat_id: int,
    bot: Bot,
    advisor: Advisor,
    delivery: Delivery,
    outbox: OutboxSender,
    update: Update,
    edit: Message | None = None,
) -> None:
    """The turn commits its replies to the outbox with its state; they are sent from there."""
    target = edit_target(edit)
    envelope = Envelope(
        channel=CHANNEL,
        chat_id=str(chat_id),
        event_id=update_key(bot, update.update_id),
        context={"edit": target} if target is not None else {},
    )
    async with TurnProgress(bot, chat_id) as progress:

        async def send() -> None:
            await progress.finish()  # the status line says "done" before the answer shows
            await outbox.send_locked(str(chat_id))

        unsent = await advisor.answer(incoming, envelope, send, progress)
    if unsent:  # the database is down: straight to the chat, as the only way left
        await delivery.send(chat_id, unsent, edit=edit)


async def on_message(
    message: Message,
    bot: Bot,
    advisor: Advisor,
    delivery: Delivery,
    outbox: OutboxSender,
    event_update: Update,
) -> None:
    text = message.text if message.text is not None else message.caption
    chat_id = message.chat.id
    if text is None:
        await delivery.notice(chat_id, t("telegram.text_only"))
        return
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(chat_id),
        text=text,
        event_id=update_key(bot, event_update.update_id),
    )
    await _turn(incoming, chat_id, bot, advisor, delivery, outbox, event_update)


async def _acknowledge(query: CallbackQuery) -> None:
    # Stops the spinner on the button; a query that is too old can only be ignored.
    with suppress(TelegramBadRequest):
        await query.answer()


def _press_target(query: CallbackQuery) -> tuple[int, Message | None]:
    message = query.message
    if isinstance(message, Message):
        return message.chat.id, message
    if message is not None:  # inaccessible (too old): its chat is still known
        return message.chat.id, None
    return query.from_user.id, None


async def on_press(
    query: CallbackQuery,
    callback_data: EnginePress,
    bot: Bot,
    advisor: Advisor,
    delivery: Delivery,
    outbox: OutboxSender,
    event_update: Update,
) -> None:
    await _acknowledge(query)
    chat_id, message = _press_target(query)
    incoming = Incoming(
        channel=CHANNEL,
        user_id=str(chat_id),
        payload=callback_data.payload,
        event_id=update_key(bot, event_update.update_id),
    )
    await _turn(incoming, chat_id, bot, advisor, delivery, outbox, event_update, edit=message)


async def on_foreign_press(
    query: CallbackQuery,
    bot: Bot,
    advisor: Advisor,
    delivery: Delivery,
    outbox: OutboxSender,
    event_update: Update,
) -> None:
    await _acknowledge(query)
    chat_id, _ = _press_target(query)
    log.info("unknown button data %r in chat %s; showing the current step", query.data, chat_id)
    incoming = Incoming(channel=CHANNEL, user_id=str(chat_id), payload=RESUME)
    await _turn(incoming, chat_id, bot, advisor, delivery, outbox, event_update)


async def on_error(event: ErrorEvent, delivery: Delivery) -> bool:
    """Any failure: the operator gets the update id and the trace, the user an apology."""
    update = event.update
    log.error(
        "update %s failed: %s: %s",
        update.update_id,
        type(event.exception).__name__,
        event.exception,
        exc_info=event.exception,
    )
    chat = None
    if update.message is not None:
        chat = update.message.chat.id
    elif update.callback_query is not None:
        chat = _press_target(update.callback_query)[0]
    if chat is not None:
        await delivery.notice(chat, t("telegram.apology"))
    return True


def build_router() -> Router:
    router = Router(name="advisor")
    router.message.register(on_message)
    router.callback_query.register(on_press, EnginePress.filter())
    router.callback_query.register(on_foreign_press)
    router.errors.register(on_error)
    return router
