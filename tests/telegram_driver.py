"""Runs the real `python -m bot telegram` process (tests/launcher.py) against the fake Telegram
Bot API.

Used by the end-to-end tests and by ``bench/telegram_load.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.launcher import BotRun, start_bot

REPO = Path(__file__).resolve().parents[1]
START_SECONDS = 90.0


def bot_env(tg: FakeTelegram, workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VK_", "TELEGRAM_", "DATABASE_", "REDIS_", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'telegram.db'}",
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.base_url,
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    """One `python -m bot telegram` process at a time; each run's log goes to its own file."""

    tg: FakeTelegram
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: BotRun | None = None
    runs: int = 0
    fresh: bool = False  # a new interpreter instead of a fork (tests/launcher.py)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"telegram-{self.runs}.log"

    def log_text(self) -> str:
        return "\n".join(
            (self.workdir / f"telegram-{n}.log").read_text(encoding="utf-8", errors="replace")
            for n in range(1, self.runs + 1)
        )

    @property
    def webhook_mode(self) -> bool:
        return bool(self.extra_env.get("TELEGRAM_WEBHOOK_URL"))

    async def start(self) -> None:
        """Start and wait until the bot polls (or has registered its webhook)."""
        self.runs += 1
        ready_method = "setWebhook" if self.webhook_mode else "getUpdates"
        before = len(self.tg.calls_to(ready_method))
        self.process = await start_bot(
            ["telegram"],
            env=bot_env(self.tg, self.workdir, **self.extra_env),
            cwd=self.workdir,
            stdout=self.log_path,
            stderr=self.log_path,
            fresh=self.fresh,
        )
        process = self.process

        def ready() -> bool:
            return len(self.tg.calls_to(ready_method)) > before or process.returncode is not None

        waiting = asyncio.create_task(self.tg.wait_for(ready, START_SECONDS))
        exited = asyncio.create_task(process.wait())
        await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiting, exited):
            task.cancel()
        if process.returncode is not None:
            raise AssertionError(f"the bot exited with {process.returncode}:\n{self.log_text()}")
        if not ready():
            raise AssertionError(f"the bot did not start:\n{self.log_text()}")
        if self.webhook_mode:
            # The webhook is registered during start-up; the server listens right after.
            await asyncio.sleep(0.3)

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Signal the process and wait for it; its exit code."""
        process = self.process
        if process is None:
            return 0
        if process.returncode is None:
            process.send_signal(sig)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise AssertionError(f"the bot did not stop:\n{self.log_text()}") from None
        self.process = None
        return int(process.returncode or 0)

    async def restart(self) -> None:
        code = await self.stop()
        assert code == 0, self.log_text()
        await self.start()
