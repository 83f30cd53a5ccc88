"""Engine replies to a Telegram chat: split to the limits, photos and files, edits in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from advisor.dialog.types import Outgoing
from advisor.texts import t
from bot.telegram.formatting import CAPTION_LIMIT, MESSAGE_LIMIT, as_html, fits, pieces
from bot.telegram.keyboards import inline_keyboard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Part:
    """One Telegram message: a text, a photo or a document, with an optional caption."""

    text: str = ""
    photo: bytes | None = None
    document: tuple[str, bytes] | None = None


def _parts(reply: Outgoing) -> list[_Part]:
    """The Telegram messages of one engine reply, in reading order."""
    parts: list[_Part] = []
    texts = pieces(reply.text, MESSAGE_LIMIT)
    if reply.image is not None:
        caption = reply.image.caption.strip()
        if fits(caption, CAPTION_LIMIT):
            parts.append(_Part(text=caption, photo=reply.image.png))
        else:
            # The verdict is longer than a caption may be: a short caption, the verdict after it.
            parts.append(_Part(text=t("telegram.chart_caption"), photo=reply.image.png))
            parts.extend(_Part(text=piece) for piece in pieces(caption, MESSAGE_LIMIT))
    if reply.document is not None:
        document = (reply.document.filename, reply.document.data)
        if len(texts) == 1 and fits(texts[0], CAPTION_LIMIT):
            parts.append(_Part(text=texts.pop(), document=document))
        else:
            parts.extend(_Part(text=piece) for piece in texts)
            texts = []
            parts.append(_Part(document=document))
    parts.extend(_Part(text=piece) for piece in texts)
    return parts


class Delivery:
    """Sends what the engine answered; remembers which chats blocked the bot to log that once."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._blocked: set[int] = set()

    async def send(
        self,
        chat_id: int,
        replies: list[Outgoing],
        *,
        edit: Message | None = None,
        raise_refused: bool = False,
    ) -> None:
        """Deliver ``replies``; when they are one plain text, edit ``edit`` in place instead.
        A chat that refuses messages is logged once, or with ``raise_refused`` the
        ``TelegramForbiddenError`` is left to the caller (a reminder is then dropped)."""
        try:
            if (
                edit is not None
                and self._can_edit(replies, edit)
                and await self._edit(edit, replies[0])
            ):
                self._blocked.discard(chat_id)
                return
            for reply in replies:
                await self._send_reply(chat_id, reply)
        except TelegramForbiddenError as error:
            if raise_refused:
                raise
            # The user blocked the bot (or left): retrying cannot help, and one line says it.
            if chat_id not in self._blocked:
                self._blocked.add(chat_id)
                log.warning("chat %s refuses messages (%s); not retrying", chat_id, error.message)
            return
        self._blocked.discard(chat_id)

    async def notice(self, chat_id: int, text: str) -> None:
        """A short front-end message (an apology): sent once, failures only logged."""
        try:
            await self.bot.send_message(chat_id=chat_id, text=as_html(text))
        except Exception as error:  # the notice is best effort: it must not raise again
            log.warning("could not send a notice to chat %s: %s", chat_id, error)

    @staticmethod
    def _can_edit(replies: list[Outgoing], message: Message) -> bool:
        if len(replies) != 1 or message.text is None:
            return False
        reply = replies[0]
        return (
            reply.image is None
            and reply.document is None
            and len(pieces(reply.text, MESSAGE_LIMIT)) == 1
        )

    async def _edit(self, message: Message, reply: Outgoing) -> bool:
        try:
            await self.bot.edit_message_text(
                chat_id=message.chat.id,
                message_id=message.message_id,
                text=as_html(reply.text.strip()),
                reply_markup=inline_keyboard(reply.buttons),
            )
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return True
            # Too old, deleted or otherwise uneditable: a new message says the same.
            log.info("editing message %s failed (%s); sending anew", message.message_id, error)
            return False
        return True

    async def _send_reply(self, chat_id: int, reply: Outgoing) -> None:
        parts = _parts(reply)
        if not parts:
            if reply.buttons:
                log.warning("an engine reply with buttons but no text for chat %s", chat_id)
            return
        keyboard = inline_keyboard(reply.buttons)
        for number, part in enumerate(parts, start=1):
            await self._send_part(chat_id, part, keyboard if number == len(parts) else None)

    async def _send_part(
        self, chat_id: int, part: _Part, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        caption = as_html(part.text) if part.text else None
        if part.photo is not None:
            await self.bot.send_photo(
                chat_id=chat_id,
                photo=BufferedInputFile(part.photo, filename="chart.png"),
                caption=caption,
                reply_markup=keyboard,
            )
        elif part.document is not None:
            filename, data = part.document
            await self.bot.send_document(
                chat_id=chat_id,
                document=BufferedInputFile(data, filename=filename),
                caption=caption,
                reply_markup=keyboard,
            )
        else:
            await self.bot.send_message(
                chat_id=chat_id, text=as_html(part.text), reply_markup=keyboard
            )
