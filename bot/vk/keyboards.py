"""Engine buttons → VK keyboards within VK's limits, split into pages when they do not fit.

VK's limits (dev.vk.com, «Клавиатуры для ботов»): an inline keyboard holds at most 6 rows of 5
buttons and 10 buttons in all; a regular keyboard 10 rows of 5 and 40 in all; a label is at most
40 characters. A keyboard that does not fit is cut into pages whose last row holds «назад» /
«далее» buttons; their payloads (``{"pg": n}``) are handled by the front-end, not the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vkbottle.tools.keyboard import Callback, Keyboard, Text

from advisor.dialog.types import Button
from advisor.texts import t

MAX_LABEL_CHARS = 40
ENGINE_KEY = "p"
PAGE_KEY = "pg"


class KeyboardMode(Enum):
    CALLBACK = "callback"  # inline keyboard, callback buttons (message_event)
    INLINE_TEXT = "inline_text"  # inline keyboard, text buttons carrying a payload
    TEXT = "text"  # regular keyboard under the input field, text buttons carrying a payload
    NONE = "none"  # the client shows no keyboards: the options are listed in the text


@dataclass(frozen=True)
class KeyboardLimits:
    rows: int
    per_row: int
    total: int


INLINE_LIMITS = KeyboardLimits(rows=6, per_row=5, total=10)
REGULAR_LIMITS = KeyboardLimits(rows=10, per_row=5, total=40)


@dataclass(frozen=True)
class ClientCaps:
    """What the person's VK client can show, from ``client_info`` of message_new."""

    keyboard: bool = True
    inline_keyboard: bool = False
    button_actions: frozenset[str] = frozenset({"text"})

    @classmethod
    def from_client_info(cls, info: Mapping[str, Any] | None) -> ClientCaps:
        if not isinstance(info, Mapping):
            # Without client_info (old API versions) VK documented text keyboards as supported.
            return cls()
        actions = info.get("button_actions")
        return cls(
            keyboard=bool(info.get("keyboard", False)),
            inline_keyboard=bool(info.get("inline_keyboard", False)),
            button_actions=frozenset(a for a in actions if isinstance(a, str))
            if isinstance(actions, list)
            else frozenset(),
        )

    @classmethod
    def callback_client(cls) -> ClientCaps:
        """A client that just pressed a callback button evidently supports them."""
        return cls(
            keyboard=True, inline_keyboard=True, button_actions=frozenset({"text", "callback"})
        )

    @property
    def mode(self) -> KeyboardMode:
        if self.inline_keyboard and "callback" in self.button_actions:
            return KeyboardMode.CALLBACK
        if self.inline_keyboard:
            return KeyboardMode.INLINE_TEXT
        if self.keyboard:
            return KeyboardMode.TEXT
        return KeyboardMode.NONE


def limits_for(mode: KeyboardMode) -> KeyboardLimits:
    return REGULAR_LIMITS if mode is KeyboardMode.TEXT else INLINE_LIMITS


def short_label(label: str) -> str:
    label = " ".join(label.split())
    if len(label) <= MAX_LABEL_CHARS:
        return label
    return label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def _chunks(rows: Sequence[Sequence[Button]], per_row: int) -> list[list[Button]]:
    """Rows no wider than ``per_row``; empty rows dropped."""
    out: list[list[Button]] = []
    for row in rows:
        for start in range(0, len(row), per_row):
            out.append(list(row[start : start + per_row]))
    return out


def paginate(rows: Sequence[Sequence[Button]], limits: KeyboardLimits) -> list[list[list[Button]]]:
    """The rows cut into pages; a page other than a lone one leaves a row for the pager.

    A row is never split between pages (yes / no / not sure stay together).
    """
    chunks = _chunks(rows, limits.per_row)
    if not chunks:
        return []
    if len(chunks) <= limits.rows and sum(map(len, chunks)) <= limits.total:
        return [chunks]
    max_rows, max_buttons = limits.rows - 1, limits.total - 2
    pages: list[list[list[Button]]] = [[]]
    count = 0
    for chunk in chunks:
        page = pages[-1]
        if page and (len(page) + 1 > max_rows or count + len(chunk) > max_buttons):
            pages.append([])
            page, count = pages[-1], 0
        page.append(chunk)
        count += len(chunk)
    return pages


def engine_payload(payload: str) -> str:
    return json.dumps({ENGINE_KEY: payload}, ensure_ascii=False, separators=(",", ":"))


def page_payload(page: int) -> str:
    return json.dumps({PAGE_KEY: page}, separators=(",", ":"))


def build_keyboard(
    rows: Sequence[Sequence[Button]], mode: KeyboardMode, page: int = 0
) -> tuple[str | None, int, int]:
    """(keyboard JSON or None, the page shown, the number of pages) for one message.

    In TEXT mode a message without buttons gets an empty keyboard, which removes the previous
    one: a stale keyboard under the input field would offer answers to an earlier question.
    """
    if mode is KeyboardMode.NONE:
        return None, 0, 0
    pages = paginate(rows, limits_for(mode))
    inline = mode is not KeyboardMode.TEXT
    if not pages:
        return (None if inline else _json(Keyboard(one_time=False))), 0, 0
    page = min(max(page, 0), len(pages) - 1)
    keyboard = Keyboard(one_time=False, inline=inline)
    for row in pages[page]:
        keyboard.row()
        for button in row:
            keyboard.add(_action(short_label(button.label), engine_payload(button.payload), mode))
    if len(pages) > 1:
        keyboard.row()
        if page > 0:
            keyboard.add(_action(t("vk.prev_page"), page_payload(page - 1), mode))
        if page < len(pages) - 1:
            keyboard.add(_action(t("vk.next_page"), page_payload(page + 1), mode))
    return _json(keyboard), page, len(pages)


def _json(keyboard: Keyboard) -> str:
    """vkbottle's ``get_json`` escapes Cyrillic (six bytes a letter); VK reads UTF-8 JSON."""
    data = {
        "one_time": keyboard.one_time,
        "inline": keyboard.inline,
        "buttons": [[button.get_data() for button in row] for row in keyboard.buttons if row],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _action(label: str, payload: str, mode: KeyboardMode) -> Callback | Text:
    # The payload goes as a JSON string, as the schema's keyboard button describes it.
    if mode is KeyboardMode.CALLBACK:
        return Callback(label=label, payload=payload)
    return Text(label=label, payload=payload)


def options_text(rows: Sequence[Sequence[Button]]) -> str:
    """The buttons as lines of text, for a client that shows no keyboards."""
    labels = [button.label for row in rows for button in row]
    if not labels:
        return ""
    return "\n".join([t("vk.options_title"), *(f"• {label}" for label in labels)])
