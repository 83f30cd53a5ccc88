"""Drives the real `promo-advisor vk` process against the fake VK API, as VK users would.

``BotProcess`` starts ``python -m bot vk`` (tests/launcher.py) with the fake's URL and tokens;
``VkUser`` writes messages and presses buttons exactly as a VK client does: a callback button
becomes a ``message_event``, a text button a ``message_new`` with the button's label and payload.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.vk_api import DEFAULT_CLIENT_INFO, FakeVK, SentMessage
from tests.launcher import BotRun, start_bot

REPO = Path(__file__).resolve().parents[1]

# A client without inline keyboards: a regular keyboard with text buttons only.
TEXT_ONLY_CLIENT = {
    "button_actions": ["text", "location", "open_link"],
    "keyboard": True,
    "inline_keyboard": False,
    "carousel": False,
    "lang_id": 0,
}
CALLBACK_CLIENT = DEFAULT_CLIENT_INFO


def bot_env(vk: FakeVK, workdir: Path, **extra: str | None) -> dict[str, str]:
    """The bot's environment; an ``extra`` value of None removes that variable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VK_", "TELEGRAM_", "DATABASE_", "REDIS_", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'vk.db'}",
        VK_API_URL=vk.base_url,
        VK_GROUP_TOKEN=vk.group_token,
        VK_GROUP_ID=str(vk.group_id),
        VK_USER_TOKEN=vk.user_token,
        VK_REQUEST_TIMEOUT="3",
    )
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@dataclass
class BotProcess:
    """One `python -m bot vk` process; its stderr (the log) goes to a file."""

    vk: FakeVK
    workdir: Path
    extra_env: dict[str, str | None] = field(default_factory=dict)
    process: BotRun | None = None
    runs: int = 0
    fresh: bool = False  # a new interpreter instead of a fork (tests/launcher.py)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-{self.runs}.log"

    def log_text(self) -> str:
        return "\n".join(
            (self.workdir / f"bot-{n}.log").read_text(encoding="utf-8", errors="replace")
            for n in range(1, self.runs + 1)
        )

    async def start(self, *, wait_for_poll: bool = True) -> None:
        self.runs += 1
        self.process = await start_bot(
            ["vk"],
            env=bot_env(self.vk, self.workdir, **self.extra_env),
            cwd=self.workdir,
            stderr=self.log_path,
            fresh=self.fresh,
        )
        if wait_for_poll:
            await self.wait_listening()

    async def wait_listening(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while self.vk.longpoll.waiting == 0:
            self.assert_running()
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never started polling:\n" + self.log_text()[-3000:])
            await asyncio.sleep(0.02)

    def assert_running(self) -> None:
        assert self.process is not None
        code = self.process.returncode
        assert code is None, f"the bot exited with {code}:\n{self.log_text()[-3000:]}"

    async def stop(self, within: float = 20.0) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            await self.kill()
            raise TimeoutError("the bot did not stop on SIGTERM") from None

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def labels(message: SentMessage) -> list[str]:
    return message.button_labels()


@dataclass
class VkUser:
    """A person in the community's messages."""

    vk: FakeVK
    peer_id: int
    client_info: dict[str, Any] = field(default_factory=lambda: dict(CALLBACK_CLIENT))
    bot: BotProcess | None = None
    seen: int = 0
    last: list[SentMessage] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(m.message for m in self.last)

    def messages(self) -> list[SentMessage]:
        return self.vk.messages_to(self.peer_id)

    async def reply(self, within: float = 15.0, quiet: float = 0.4) -> list[SentMessage]:
        """The messages of the bot's answer: at least one new message, and the answer is over
        when its last message carries a keyboard or nothing more comes for ``quiet`` s."""
        deadline = time.monotonic() + within
        settled_at = None
        count = self.seen
        while True:
            if self.bot is not None:
                self.bot.assert_running()
            sent = self.messages()
            if len(sent) != count:
                count, settled_at = len(sent), time.monotonic()
            if len(sent) > self.seen:
                new = sent[self.seen :]
                if new[-1].keyboard is not None and new[-1].button_labels():
                    break
                if settled_at is not None and time.monotonic() - settled_at >= quiet:
                    break
            if time.monotonic() > deadline:
                log = self.bot.log_text()[-3000:] if self.bot else ""
                raise TimeoutError(f"no answer to peer {self.peer_id} in {within}s\n{log}")
            await asyncio.sleep(0.01)
        self.last = sent[self.seen :]
        self.seen = len(sent)
        return self.last

    async def say(self, text: str, **extra: Any) -> list[SentMessage]:
        self.vk.user_message(self.peer_id, text, client_info=self.client_info, **extra)
        return await self.reply()

    def button(self, label: str) -> tuple[dict[str, Any], str]:
        """The newest keyboard button with this label: (its action, the keyboard kind)."""
        for message in reversed(self.messages()):
            data = message.keyboard_data
            if not data:
                continue
            for row in data["buttons"]:
                for button in row:
                    if button["action"].get("label") == label:
                        return button["action"], "inline" if data.get("inline") else "regular"
        shown = [labels(m) for m in self.last]
        raise AssertionError(f"no button {label!r}; the last answer shows {shown}")

    async def press(self, label: str) -> list[SentMessage]:
        action, _ = self.button(label)
        if action["type"] == "callback":
            self.vk.message_event(self.peer_id, json.loads(action["payload"]))
        else:
            self.vk.user_message(
                self.peer_id, label, payload=action.get("payload"), client_info=self.client_info
            )
        return await self.reply()

    async def press_through_pages(self, label: str) -> list[SentMessage]:
        """Press a button, turning the keyboard's pages («далее») until it shows up."""
        for _ in range(10):
            if any(label in labels(m) for m in self.last):
                return await self.press(label)
            await self.press("Далее ▸")
        raise AssertionError(f"no button {label!r} on any page")
