"""The console chat: the dialog in a terminal, buttons shown as numbered choices.

Works with a pipe as well as a terminal, so scripts and tests can drive it line by line. In a
terminal, lines pasted at once are one message (contest rules over several lines); on a step that
waits for a number a bare number is the answer, and a button is chosen as «#2» or by its label.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import select
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog import payloads
from advisor.dialog.types import Button, Incoming, Outgoing
from advisor.storage.db import sqlite_file
from advisor.texts import t

# «выход» is not here: inside a form it means «leave the form» (the engine's cancel).
QUIT_WORDS = {"/quit", "/exit"}
PASTE_GAP_SECONDS = 0.05  # lines arriving closer than this were pasted together
LOG_FILE_NAME = "promo-advisor.log"


def log_file(settings: Settings) -> Path:
    """Where the console chat writes its log: beside its SQLite database (the folder the person
    was told about), else in the temporary folder. Never the terminal: a log line there would
    land in the middle of the conversation."""
    database = sqlite_file(settings.database_url)
    folder = database.parent if database is not None else Path(tempfile.gettempdir())
    return folder / LOG_FILE_NAME


class ConsoleChat:
    def __init__(self, advisor: Advisor, user_id: str, out: TextIO, image_dir: Path) -> None:
        self.advisor = advisor
        self.user_id = user_id
        self.out = out
        self.image_dir = image_dir
        self.choices: list[Button] = []
        self.number_expected = False
        self.images = 0

    def show(self, messages: list[Outgoing]) -> None:
        choices: list[Button] = []
        for message in messages:
            self.out.write(message.text.rstrip() + "\n")
            if message.image is not None:
                self.images += 1
                path = self.save(message.image.png, "promo-advisor-chart-", ".png")
                self.out.write(t("console.image_saved", path=path) + "\n")
                if message.image.caption:
                    self.out.write(message.image.caption + "\n")
            if message.document is not None:
                name = Path(message.document.filename)
                path = self.save(message.document.data, f"{name.stem}-", name.suffix)
                self.out.write(t("console.document_saved", path=path) + "\n")
            for row in message.buttons:
                for button in row:
                    choices.append(button)
                    self.out.write(f"  [{len(choices)}] {button.label}\n")
            self.out.write("\n")
        self.out.flush()
        if choices:
            self.choices = choices
        if messages:
            self.number_expected = messages[-1].number_expected

    def save(self, data: bytes, prefix: str, suffix: str) -> Path:
        """A new file of its own: the next chart or export (of this run or another one running
        at the same time) never overwrites it."""
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=self.image_dir)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return Path(name)

    def to_incoming(self, line: str) -> Incoming:
        """A choice's number («2» or «#2») or its exact label presses that button; anything else
        is text. Where the step waits for a number, a bare number is the answer, not a button."""
        text = line.strip()
        chosen = None
        number = text.removeprefix("#")
        by_number = text.startswith("#") or not self.number_expected
        if by_number and number.isdigit() and 1 <= int(number) <= len(self.choices):
            chosen = self.choices[int(number) - 1]
        else:
            lowered = text.lower()
            chosen = next((b for b in reversed(self.choices) if b.label.lower() == lowered), None)
        if chosen is not None:
            return Incoming(channel="console", user_id=self.user_id, payload=chosen.payload)
        return Incoming(channel="console", user_id=self.user_id, text=text)

    async def progress(self, status: str) -> None:
        self.out.write(f"… {status}\n")
        self.out.flush()

    async def turn(self, incoming: Incoming) -> list[Outgoing]:
        messages = await self.advisor.handle(incoming, _Board(self))
        self.show(messages)
        return messages


class _Board:
    """The console's ``ProgressBoard``: status lines as they come (a terminal cannot replace
    a line that scrolled away)."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def __call__(self, status: str) -> None:
        await self.chat.progress(status)

    async def item(self, key: str, status: str) -> None:
        await self.chat.progress(status)


def read_message(stream: TextIO, interactive: bool) -> str:
    """One line, or in a terminal every line pasted with it (a paste arrives at once)."""
    line = stream.readline()
    if not interactive or not line:
        return line
    lines = [line]
    while select.select([stream], [], [], PASTE_GAP_SECONDS)[0]:
        more = stream.readline()
        if not more:
            break
        lines.append(more)
    return "".join(lines)


async def run_console(settings: Settings, user_id: str | None = None) -> int:
    database = sqlite_file(settings.database_url)
    first_start = database is not None and not database.exists()
    advisor = await Advisor.open(settings)
    interactive = sys.stdin.isatty()
    chat = ConsoleChat(
        advisor,
        user_id or f"local:{getpass.getuser()}",
        sys.stdout,
        Path(tempfile.gettempdir()),
    )
    loop = asyncio.get_running_loop()
    try:
        if first_start:
            # A newcomer should know where the conversations and the tracker table are kept.
            chat.out.write(t("console.database_created", path=database) + "\n")
            chat.out.write(t("console.log_file", path=log_file(settings)) + "\n")
        if interactive:
            chat.out.write(t("console.hint") + "\n\n")
        opening = await chat.turn(
            Incoming(
                channel="console",
                user_id=chat.user_id,
                payload=payloads.encode(payloads.WELCOME_BACK),
            )
        )
        # A newcomer was just greeted; a /start typed first (habit from Telegram) would repeat it.
        skip_start = any(m.text.strip() == t("dialog.greeting").strip() for m in opening)
        while True:
            if interactive:
                chat.out.write("> ")
                chat.out.flush()
            line = await loop.run_in_executor(None, read_message, sys.stdin, interactive)
            if not line:
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            if not line.strip():
                continue
            if skip_start and line.strip().lower() == "/start":
                skip_start = False
                continue
            skip_start = False
            await chat.turn(chat.to_incoming(line))
    finally:
        await advisor.close()
    if interactive:
        chat.out.write(t("console.bye") + "\n")
    return 0
