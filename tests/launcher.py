"""Starts `python -m bot ARGS` for the tests, from a fork server that imported the bot once.

A bot process spends seconds of CPU importing aiogram (pydantic rebuilds its ~440 models) or
vkbottle before it does anything, and the suite starts dozens of them (every kill test restarts
its bot several times): on 2 cores that was about a third of the suite's CPU. So each test
worker keeps one fork server (``multiprocessing``'s forkserver) that has imported the bot's
modules, and a bot process is a fork of it that runs the same entry point as
``python -m bot ARGS`` (``bot.cli.main``) with the test's environment, working folder and
output files. It is still a process of its own: it listens on its own ports, holds its own
database connections, is stopped by SIGTERM and killed by SIGKILL, and its exit code is
reported like a child's.

What a fork cannot show (the command line, the imports themselves) is covered by the processes
that start a new interpreter: the shared bots of `test_telegram_bot.py` and
`test_vk_bot_longpoll.py` (``fresh=True``), the console chat's tests and the CLI on a terminal.
``TEST_FRESH_PROCESSES=1`` makes every start a new interpreter; the benches (`bench/`), which
measure the bot, always start new interpreters.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerProcess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What a bot process imports before its first request: every command and both front-ends.
PRELOAD = [
    "bot.cli",
    *(f"bot.cli.{path.stem}" for path in sorted((REPO / "bot" / "cli").glob("[!_]*.py"))),
    "bot.telegram.runner",
    "bot.vk.runner",
]
FRESH_ENV = "TEST_FRESH_PROCESSES"

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def always_fresh() -> bool:
    return os.environ.get(FRESH_ENV, "") not in ("", "0")


def _child(
    argv: list[str], env: dict[str, str], cwd: str, stdout: str | None, stderr: str | None
) -> None:
    """The forked process: the test's environment, folder and output files, then the command."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, path in ((1, stdout), (2, stderr)):
        target = os.open(path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, fd)
        os.close(target)
    from bot.cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class BotRun:
    """One started process; the part of ``asyncio.subprocess.Process`` that the tests use."""

    def __init__(
        self,
        forked: ForkServerProcess | None = None,
        spawned: asyncio.subprocess.Process | None = None,
    ) -> None:
        self._forked = forked
        self._spawned = spawned
        self._ending: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int:
        if self._spawned is not None:
            return self._spawned.pid
        assert self._forked is not None and self._forked.pid is not None
        return self._forked.pid

    @property
    def returncode(self) -> int | None:
        if self._spawned is not None:
            return self._spawned.returncode
        assert self._forked is not None
        return self._forked.exitcode

    async def wait(self) -> int:
        if self._spawned is not None:
            return await self._spawned.wait()
        forked = self._forked
        assert forked is not None
        if forked.exitcode is None:
            await asyncio.shield(self._ended())
        forked.join()
        assert forked.exitcode is not None
        return forked.exitcode

    def _ended(self) -> asyncio.Future[None]:
        """Done when the process has ended: one watch of its sentinel, however many wait."""
        if self._ending is None:
            assert self._forked is not None
            sentinel = self._forked.sentinel
            loop = asyncio.get_running_loop()
            ending: asyncio.Future[None] = loop.create_future()

            def ended() -> None:
                loop.remove_reader(sentinel)
                if not ending.done():
                    ending.set_result(None)

            loop.add_reader(sentinel, ended)
            self._ending = ending
        return self._ending

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:  # ended between the check and the signal
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def start_bot(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: Path | None = None,
    stderr: Path | None = None,
    fresh: bool = False,
) -> BotRun:
    """`python -m bot ARGV` with this environment and folder; output appended to the files
    (None: discarded). ``fresh`` starts a new interpreter instead of a fork."""
    if fresh or always_fresh():
        handles = [path.open("ab") if path else subprocess.DEVNULL for path in (stdout, stderr)]
        try:
            spawned = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=handles[0],
                stderr=handles[1],
            )
        finally:
            for handle in handles:
                if not isinstance(handle, int):
                    handle.close()
        return BotRun(spawned=spawned)
    forked = _context.Process(
        target=_child,
        args=(
            list(argv),
            dict(env),
            str(cwd),
            str(stdout) if stdout else None,
            str(stderr) if stderr else None,
        ),
        daemon=True,  # a bot a failed test left running is stopped when its worker exits
    )
    # The first start waits while the fork server imports the bot: not on the event loop,
    # where the fakes answer.
    await asyncio.to_thread(forked.start)
    return BotRun(forked=forked)


async def run_to_end(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    merged: bool = False,
    within: float = 60.0,
) -> tuple[int, str, str]:
    """`python -m bot ARGV` to its end: exit code, what it printed to stdout and to stderr
    (``merged``: both in the first, in order, and "" for the second)."""
    with tempfile.TemporaryDirectory(prefix="promo-advisor-run-") as folder:
        output, errors = Path(folder) / "stdout", Path(folder) / "stderr"
        run = await start_bot(
            argv, env=env, cwd=cwd, stdout=output, stderr=output if merged else errors
        )
        try:
            code = await asyncio.wait_for(run.wait(), within)
        except TimeoutError:
            run.kill()
            await run.wait()
            raise
        printed = [
            path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            for path in (output, errors)
        ]
    return code, printed[0], printed[1]
