"""What goes into the dialog engine and what comes out: the contract with every front-end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["console", "telegram", "vk"]

# Front-ends carry a payload inside platform limits (Telegram callback_data is 64 bytes).
MAX_PAYLOAD_BYTES = 56


class Button(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=1, description="opaque; hand back as Incoming.payload")


class Image(BaseModel):
    # Bytes travel as base64 in JSON (a reply waiting in the outbox).
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    png: bytes
    caption: str = ""


class Document(BaseModel):
    """A file to send (an exported table)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    filename: str = Field(min_length=1, max_length=128)
    data: bytes
    mime: str = "application/octet-stream"


class Outgoing(BaseModel):
    """One message to show. ``buttons`` are rows of buttons."""

    model_config = ConfigDict(frozen=True)

    text: str
    buttons: list[list[Button]] = []
    image: Image | None = None
    document: Document | None = None
    # The step waits for a number: a front-end that picks buttons by number (the console)
    # must read a bare number as the answer instead.
    number_expected: bool = False


class Incoming(BaseModel):
    """One user action: a typed text or a pressed button's payload (exactly one of them)."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    user_id: str = Field(min_length=1, max_length=64)
    text: str | None = None
    payload: str | None = None
    # The platform's id of the update or event, when there is one: it is stored with the turn's
    # state, so a redelivery after a replica died mid-turn is known to be handled already.
    event_id: str | None = Field(default=None, max_length=96)


ProgressCallback = Callable[[str], Awaitable[None]]
"""Called with a short Russian status line while a long step (a public check) runs."""

DetailButton = Callable[[str, str, str], Button]
"""(key, a checked public's name, its full report) → the «Подробнее» button that shows that
report later: the dialog keeps the report, the public check builds the summary around the
buttons."""


@runtime_checkable
class ProgressBoard(Protocol):
    """A front-end's progress that can do more than one status line (``ProgressCallback``):
    a status message per item of the turn (a public of a check) that later lines replace.

    These lines go straight to the chat, not through the outbox: they are a courtesy while the
    turn runs, never the only place something is said. Everything an item's line says (a
    public's verdict among several, or that it could not be checked) is in the turn's reply
    too (the ranked summary), which is committed with the turn's state and sent from the
    outbox. So a process killed mid-check loses nothing: the turn was not committed, its
    update (kept in the inbox, or delivered again by the platform) is handled again on start,
    and that turn's summary carries every verdict; at worst a status line shows twice."""

    async def __call__(self, status: str) -> None:
        """The turn's status line (as ``ProgressCallback``)."""

    async def item(self, key: str, status: str) -> None:
        """One item's status: the first line of a ``key`` is shown as a message of its own,
        the next ones replace it (at most one message per item)."""
