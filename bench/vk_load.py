"""Reply latency of the VK bot under many users, through the fake VK API's Bots Long Poll.

Starts the fake VK API in this process and ONE real `promo-advisor vk` process against it.
N users (default 500) each play a short dialog: a greeting typed, then buttons pressed
(callback buttons, answered with message_event) — the menu, the community type, the goal,
checklist answers. A turn's latency runs from the moment the user's event is queued in the long
poll to the moment the bot's complete answer (the message carrying the next keyboard) arrives.
Prints p50/p90/p99/max latency, throughput, the API requests the bot made, the turns that
never got an answer ("lost", must be 0) and answers without the expected buttons (apologies).

By default every user presses the next button the moment the answer arrives (no think time):
the worst case. ``--think`` adds seconds between a user's turns, ``--ramp`` spreads arrivals.

    python bench/vk_load.py [--users 500] [--turns 6] [--think 0] [--ramp 0] [--timeout 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.vk_api import FakeVK, SentMessage
from tests.vk_bot_driver import BotProcess

FIRST_PEER = 10_000_000
# The buttons pressed after the greeting, in order (the checklist is answered «Да» after these).
PATH = ["Подготовить сообщество", "Коммерческое", "Продажи по любому ГЕО", "Пройти чек-лист"]
NEXT_PAGE = "Далее ▸"


class Inbox:
    """Routes the messages the bot sends to the waiting user, stamped on arrival."""

    def __init__(self, vk: FakeVK) -> None:
        self.vk = vk
        self.queues: dict[int, asyncio.Queue[tuple[float, SentMessage]]] = defaultdict(
            asyncio.Queue
        )
        self.seen = 0

    async def run(self) -> None:
        while True:
            sent = self.vk.sent_messages
            now = time.monotonic()
            for message in sent[self.seen :]:
                self.queues[message.peer_id].put_nowait((now, message))
            self.seen = len(sent)
            await asyncio.sleep(0.002)


class User:
    def __init__(self, vk: FakeVK, inbox: Inbox, peer_id: int, timeout: float) -> None:
        self.vk = vk
        self.peer_id = peer_id
        self.inbox = inbox.queues[peer_id]
        self.timeout = timeout
        self.latencies: list[float] = []
        self.lost = 0
        self.wrong = 0
        self.keyboard: dict | None = None

    async def _answer(self, started: float) -> bool:
        """Waits for the message that carries the next keyboard; False when none came."""
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.lost += 1
                return False
            try:
                arrived, message = await asyncio.wait_for(self.inbox.get(), remaining)
            except TimeoutError:
                self.lost += 1
                return False
            if message.keyboard_data and message.button_labels():
                self.keyboard = message.keyboard_data
                self.latencies.append(arrived - started)
                return True

    def _payload(self, label: str) -> dict | None:
        for row in (self.keyboard or {}).get("buttons", []):
            for button in row:
                if button["action"].get("label") == label:
                    return json.loads(button["action"]["payload"])
        return None

    async def press(self, label: str) -> bool:
        for _ in range(5):
            if not self._payload(label) and not self._payload(NEXT_PAGE):
                self.wrong += 1  # an answer without the expected buttons (an apology)
                return False
            payload = self._payload(label)
            if payload is not None:
                started = time.monotonic()
                self.vk.message_event(self.peer_id, payload)
                return await self._answer(started)
            next_page = self._payload(NEXT_PAGE)
            assert next_page is not None
            started = time.monotonic()
            self.vk.message_event(self.peer_id, next_page)
            if not await self._answer(started):
                return False
        return False

    async def play(self, turns: int, think: float) -> None:
        started = time.monotonic()
        self.vk.user_message(self.peer_id, "привет")
        if not await self._answer(started):
            return
        steps = [*PATH, *["Да"] * max(0, turns)]
        for label in steps[: max(0, turns - 1)]:
            if think > 0:
                await asyncio.sleep(think)
            if not await self.press(label):
                return


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Run:
    users: list[User]
    elapsed: float
    calls: Counter[str]
    inner: Counter[str]
    rate_limited: int
    problems: list[str]
    exit_code: int
    log_tail: str


async def play_all(vk: FakeVK, bot: BotProcess, args: argparse.Namespace) -> Run:
    inbox = Inbox(vk)
    router = asyncio.create_task(inbox.run())
    users = [User(vk, inbox, FIRST_PEER + n, args.timeout) for n in range(args.users)]

    async def start(index: int, user: User) -> None:
        if args.ramp > 0:
            await asyncio.sleep(args.ramp * index / len(users))
        await user.play(args.turns, args.think)

    requests_before = len(vk.requests)
    began = time.monotonic()
    await asyncio.gather(*(start(n, u) for n, u in enumerate(users)))
    elapsed = time.monotonic() - began
    router.cancel()
    code = await bot.stop()
    requests = vk.requests[requests_before:]
    return Run(
        users=users,
        elapsed=elapsed,
        calls=Counter(r.method for r in requests if not r.inner),
        inner=Counter(r.method for r in requests if r.inner),
        rate_limited=sum(1 for r in requests if r.error == 6),
        problems=vk.problems,
        exit_code=code,
        log_tail=bot.log_text()[-2000:],
    )


def report(run: Run, args: argparse.Namespace) -> bool:
    latencies = [x for u in run.users for x in u.latencies]
    lost = sum(u.lost for u in run.users)
    wrong = sum(u.wrong for u in run.users)
    print(
        f"users: {args.users}, turns per user: {args.turns}, "
        f"think: {args.think:g} s, ramp: {args.ramp:g} s"
    )
    print(f"turns answered: {len(latencies)} of {args.users * args.turns} in {run.elapsed:.1f} s")
    print(f"throughput: {len(latencies) / run.elapsed:.1f} turns/s")
    if latencies:
        figures = ", ".join(
            f"p{int(share * 100)} {percentile(latencies, share):.3f} s"
            for share in (0.50, 0.90, 0.99)
        )
        print(
            f"reply latency: {figures}, max {max(latencies):.3f} s, "
            f"mean {statistics.fmean(latencies):.3f} s"
        )
    print("API requests by the bot: " + ", ".join(f"{m} {n}" for m, n in run.calls.most_common()))
    if run.inner:
        print("  inside execute: " + ", ".join(f"{m} {n}" for m, n in run.inner.most_common()))
    print(f"answered 'too many requests' (error 6): {run.rate_limited}")
    print(f"answers without the expected buttons: {wrong}")
    print(f"messages lost: {lost}")
    if run.problems:
        print("fake VK problems:", *run.problems[:10], sep="\n  ")
    if run.exit_code != 0:
        print(f"the bot exited with {run.exit_code}:\n{run.log_tail}")
    ok = lost == 0 and wrong == 0 and not run.problems and run.exit_code == 0
    print("RESULT:", "PASS" if ok else "FAIL")
    return ok


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="vk-load-") as workdir:
        async with FakeVK() as vk:
            # A new interpreter, as deployed (tests/launcher.py forks the tests' bots).
            bot = BotProcess(vk, Path(workdir), {"LOG_LEVEL": "WARNING"}, fresh=True)
            try:
                await bot.start()
                run = await play_all(vk, bot, args)
            finally:
                await bot.kill()
    return 0 if report(run, args) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--turns", type=int, default=6, help="turns per user (greeting + presses)")
    parser.add_argument("--think", type=float, default=0.0, help="seconds between turns")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which users arrive")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait a reply")
    sys.exit(asyncio.run(main(parser.parse_args())))
