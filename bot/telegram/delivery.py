"""Engine replies to a Telegram chat: split to the limits, photos and files, edits in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from advisor.dialog.types import Outgoing
from advisor.storage.delivery import OutboxRow
from advisor.texts import t
from bot.outbox import Accepted
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


def _planned(
    chat_id: int, replies: list[Outgoing]
) -> list[tuple[_Part, InlineKeyboardMarkup | None]]:
    """Every Telegram message of a reply, in order, each reply's keyboard on its last part."""
    planned: list[tuple[_Part, InlineKeyboardMarkup | None]] = []
    for reply in replies:
        parts = _parts(reply)
        if not parts:
            if reply.buttons:
                log.warning("an engine reply with buttons but no text for chat %s", chat_id)
            continue
        keyboard = inline_keyboard(reply.buttons)
        planned.extend(
            (part, keyboard if number == len(parts) else None)
            for number, part in enumerate(parts, start=1)
        )
    return planned


def edit_target(message: Message | None) -> int | None:
    """The id of a pressed message a one-text reply may replace (it must show a text)."""
    return message.message_id if message is not None and message.text is not None else None


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
        await self._deliver(chat_id, replies, edit_target(edit), raise_refused=raise_refused)

    async def send_row(self, row: OutboxRow, accepted: Accepted) -> None:
        """An outbox row (``bot/outbox.py``): its messages from ``row.sent_parts`` on, each
        reported accepted; an edit in place when the row names the pressed message."""
        edit = row.context.get("edit")
        await self._deliver(
            int(row.chat_id),
            row.replies,
            edit if isinstance(edit, int) else None,
            skip=row.sent_parts,
            accepted=accepted,
        )

    async def _deliver(
        self,
        chat_id: int,
        replies: list[Outgoing],
        edit: int | None,
        *,
        skip: int = 0,
        accepted: Accepted | None = None,
        raise_refused: bool = False,
    ) -> None:
        try:
            if (
                edit is not None
                and skip == 0
                and self._can_edit(replies)
                and await self._edit(chat_id, edit, replies[0])
            ):
                self._blocked.discard(chat_id)
                return
            for number, (part, keyboard) in enumerate(_planned(chat_id, replies), start=1):
                if number <= skip:
                    continue
                await self._send_part(chat_id, part, keyboard)
                if accepted is not None:
                    await accepted(number)
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
    def _can_edit(replies: list[Outgoing]) -> bool:
        if len(replies) != 1:
            return False
        reply = replies[0]
        return (
            reply.image is None
            and reply.document is None
            and len(pieces(reply.text, MESSAGE_LIMIT)) == 1
        )

    async def _edit(self, chat_id: int, message_id: int, reply: Outgoing) -> bool:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=as_html(reply.text.strip()),
                reply_markup=inline_keyboard(reply.buttons),
            )
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return True
            # Too old, deleted or otherwise uneditable: a new message says the same.
            log.info("editing message %s failed (%s); sending anew", message_id, error)
            return False
        return True

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
