"""Engine buttons as inline keyboards: each payload travels in an aiogram CallbackData factory."""

from __future__ import annotations

from typing import Self

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from advisor.dialog.types import MAX_PAYLOAD_BYTES, Button


class EnginePress(CallbackData, prefix="e"):
    """A pressed engine button: ``e:<payload>``, at most 2 + 56 bytes of Telegram's 64.

    The engine's payload is opaque and uses ``:`` itself, so it is the single, last field and
    everything after the prefix belongs to it (the stock packing refuses separators in values).
    """

    payload: str

    def pack(self) -> str:
        data = f"{self.__prefix__}{self.__separator__}{self.payload}"
        if (
            len(self.payload.encode()) > MAX_PAYLOAD_BYTES
            or len(data.encode()) > MAX_CALLBACK_LENGTH
        ):
            raise ValueError(f"engine payload is too long for callback data: {self.payload!r}")
        return data

    @classmethod
    def unpack(cls, value: str) -> Self:
        prefix, separator, payload = value.partition(cls.__separator__)
        if prefix != cls.__prefix__ or not separator or not payload:
            raise ValueError(f"not an engine button: {value!r}")
        return cls(payload=payload)


def inline_keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """The keyboard for an engine message, or None when it has no buttons."""
    keyboard = [
        [
            InlineKeyboardButton(
                text=button.label, callback_data=EnginePress(payload=button.payload).pack()
            )
            for button in row
        ]
        for row in rows
        if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=keyboard) if keyboard else None
