"""Engine replies → the VK messages to send: pieces under VK's length limit, keyboards, random_id.

Pure planning, no I/O. ``random_id`` is derived from the incoming event and the piece's place in
the reply, so sending the same reply again (a retried request, a redelivered event) is
recognised by VK as the same message and not shown twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.dialog.split import split_text
from advisor.dialog.types import Button, Document, Image, Outgoing
from bot.vk.keyboards import KeyboardMode, build_keyboard, options_text

VK_MESSAGE_LIMIT = 4096
INT32_MAX = 2**31 - 1


def random_id(event_id: str, piece: int | str) -> int:
    """A stable, non-zero int32 for (incoming event, piece); 0 would switch VK's check off."""
    digest = hashlib.blake2b(f"{event_id}:{piece}".encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") & INT32_MAX) or 1


@dataclass(frozen=True)
class Piece:
    """One messages.send call."""

    text: str
    keyboard: str | None = None
    image: Image | None = None
    document: Document | None = None


def _with_caption(message: Outgoing) -> str:
    caption = message.image.caption.strip() if message.image is not None else ""
    if caption and caption not in message.text:
        return f"{caption}\n\n{message.text}".strip()
    return message.text


def _text_pieces(text: str, limit: int) -> list[str]:
    return [piece for piece in split_text(text, limit) if piece] if text.strip() else []


def plan_reply(
    replies: Sequence[Outgoing], mode: KeyboardMode, limit: int = VK_MESSAGE_LIMIT
) -> list[Piece]:
    """The messages for a reply. A keyboard rides on the last piece of its message; under the
    input field (TEXT mode) only one keyboard is visible, so the reply's last buttons ride on
    its last piece and a reply without buttons clears the old keyboard."""
    last_rows: list[list[Button]] = []
    pieces: list[Piece] = []
    for message in replies:
        text = _with_caption(message)
        keyboard = None
        if message.buttons:
            last_rows = message.buttons
            if mode is KeyboardMode.NONE:
                text = "\n\n".join(p for p in (text, options_text(message.buttons)) if p)
            elif mode is not KeyboardMode.TEXT:
                keyboard = build_keyboard(message.buttons, mode)[0]
        texts = _text_pieces(text, limit)
        if not texts and (message.image is not None or message.document is not None):
            texts = [""]
        for index, piece in enumerate(texts):
            first, last = index == 0, index == len(texts) - 1
            pieces.append(
                Piece(
                    text=piece,
                    keyboard=keyboard if last else None,
                    image=message.image if first else None,
                    document=message.document if last else None,
                )
            )
    if mode is KeyboardMode.TEXT and pieces:
        keyboard = build_keyboard(last_rows, mode)[0]
        last = pieces[-1]
        pieces[-1] = Piece(last.text, keyboard, last.image, last.document)
    return pieces


def last_buttons(replies: Sequence[Outgoing]) -> list[list[Button]]:
    """The buttons of the reply's last message that has any."""
    for message in reversed(replies):
        if message.buttons:
            return message.buttons
    return []
