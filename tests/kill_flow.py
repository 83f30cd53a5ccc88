"""Issue 17.1, shared by the kill tests (test_delivery_kills_*.py): a SIGKILL at any moment
loses no reply and no update.

The real bot process (Telegram long polling; VK Bots Long Poll) serves a few people tapping
through a form while the fake API stalls every message sent (replies are in flight for a while);
the process is killed with SIGKILL at random moments — in the middle of a turn, while replies
are in flight, while a restarted one is still sending what the killed one left — and restarted on
the same database. Every person's transcript is then compared with a clean run's:

* nothing is lost and nothing is out of order;
* a message shows twice only where the process died between the platform accepting it and its
  mark in the outbox: on Telegram those doubles are counted and reported (at most one per person
  per kill, right after its first copy); on VK the random_id derived from the outbox row makes
  VK drop the resend, so none shows twice (the resends VK dropped are counted and reported).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from tests.replicas import migrate
from tests.services import PostgresServer

PEOPLE = 4
# Two passes through the form (the second one from a fresh /start): long enough for every kill
# to find people in the middle of something.
PASSES = 2
# Process starts are the slow part (seconds each): the suite makes a few kills per run, with
# random timing, so every CI run tries other moments; PostgreSQL, which the same code serves,
# gets fewer. KILL_TEST_KILLS=N soaks with N kills (N/2 on PostgreSQL) when there is time.
_SOAK = int(os.environ.get("KILL_TEST_KILLS", "0") or 0)
KILLS = {"sqlite": _SOAK or 5, "postgres": max(_SOAK // 2, 4)}
STALL_SECONDS = 0.3  # every message sent waits this long in the fake before it is carried out
# Each kill comes this long (at random) after the restarted process is up: right away (while it
# sends what the killed one left), in a turn, or while replies are in flight.
UPTIME = (0.0, 2.0)
ANSWER_WITHIN = 300.0  # a hang guard: each restart takes seconds on a busy machine

RESUMED = ("sending the unsent replies", "stored before a stop")

T = TypeVar("T")


@dataclass
class Killer:
    """Kills the bot at random moments while the people are busy; restarts it each time."""

    kill: Callable[[], Awaitable[None]]
    start: Callable[[], Awaitable[None]]
    seed: int
    kills: int = 0
    moments: list[float] = field(default_factory=list)

    async def run(self, most: int, people_done: asyncio.Event) -> None:
        rng = random.Random(self.seed)
        while self.kills < most and not people_done.is_set():
            await asyncio.sleep(rng.uniform(*UPTIME))
            if people_done.is_set():
                return
            await self.kill()
            self.kills += 1
            await self.start()


def collapse(transcript: Sequence[T]) -> tuple[list[T], list[int]]:
    """The transcript with each message shown twice in a row kept once, and where those were."""
    kept: list[T] = []
    doubled: list[int] = []
    for index, item in enumerate(transcript):
        if kept and kept[-1] == item:
            doubled.append(index)
            continue
        kept.append(item)
    return kept, doubled


def compare(
    control: dict[int, list[T]], killed: dict[int, list[T]], kills: int
) -> tuple[int, list[str]]:
    """Doubles in all; every difference that is not one (a loss, a reorder, a triple)."""
    problems = []
    doubles = 0
    for person, expected in control.items():
        clean, clean_doubled = collapse(expected)
        assert not clean_doubled, f"the clean run itself repeats a message: {expected}"
        seen, doubled = collapse(killed[person])
        if seen != clean:
            problems.append(f"person {person}:\n  saw      {seen}\n  expected {clean}")
        if len(doubled) > kills:
            problems.append(f"person {person}: {len(doubled)} doubles for {kills} kills")
        doubles += len(doubled)
    return doubles, problems


async def killed_database(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The database URL of the killed run (the clean run uses its own SQLite file)."""
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_service")
    name = f"kills_{tmp_path.name[-8:].lower()}".replace("-", "_")
    server.create_database(name)
    url = server.url(name)
    await migrate(url)
    return url
