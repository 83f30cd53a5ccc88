"""Load bench of the Telegram front-end: N people chat at once with one bot process.

Starts the fake Telegram Bot API in this process and the real ``python -m bot telegram`` (long
polling, SQLite by default) against it. Every simulated person goes through the same dialog a
real one would (/start, a section, the community profile, the readiness checklist answered by
buttons), pausing to "think" between actions. A reply's latency is the time from the update
being queued at the Bot API to the first message (or edit) the bot sends for it; an action with
no reply within --timeout is lost.

    python bench/telegram_load.py                  # 500 users
    python bench/telegram_load.py --users 100 --think 1 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.telegram_api import FakeTelegram, Output, TelegramUser
from tests.services import free_port
from tests.telegram_driver import BotProcess

# (kind, text or button label) — the path of a person preparing a commercial community.
SCRIPT: list[tuple[str, str]] = [
    ("say", "/start"),
    ("press", "Подготовить сообщество"),
    ("press", "Коммерческое"),
    ("press", "Продажи по любому ГЕО"),
    ("press", "Пройти чек-лист"),
    ("press", "Да"),
    ("press", "Нет"),
    ("press", "Да"),
    ("press", "Не знаю"),
    ("say", "меню"),
]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    fetch_waits: list[float] = field(default_factory=list)  # queued -> fetched by getUpdates
    handling: list[float] = field(default_factory=list)  # fetched -> first reply
    lost: int = 0
    actions: int = 0
    lost_examples: list[str] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def turn_done(
    user: TelegramUser, query_id: str | None, next_label: str | None
) -> Callable[[list[Output]], bool]:
    """The reply to an action is complete when a pressed button was acknowledged and the
    button the person presses next is on screen (the end of the script: any message)."""

    def done(new: list[Output]) -> bool:
        if query_id is not None and not user.fake.callbacks[query_id]["answered"]:
            return False
        if next_label is None:
            return any(o.kind != "action" for o in new)
        return any(o.message is not None and next_label in o.message.labels for o in new)

    return done


async def one_person(
    tg: FakeTelegram,
    user: TelegramUser,
    think: tuple[float, float],
    wait_seconds: float,
    results: Results,
    rng: random.Random,
) -> None:
    await asyncio.sleep(rng.uniform(0, think[1]))
    for step, (kind, value) in enumerate(SCRIPT):
        following = SCRIPT[step + 1] if step + 1 < len(SCRIPT) else None
        next_label = following[1] if following and following[0] == "press" else None
        mark = len(user.outputs)
        results.actions += 1
        started = time.monotonic()
        query_id = None
        if kind == "say":
            update = user.send_text(value)
        else:
            update = user.send_press(value)
            query_id = update["callback_query"]["id"]
        try:
            new = await tg.settle(
                user.id,
                mark,
                until=turn_done(user, query_id, next_label),
                seconds=wait_seconds,
                quiet=0.0,
            )
        except TimeoutError:
            results.lost += 1
            results.lost_examples.append(f"user {user.id}: no reply to {kind} {value!r}")
            return
        first = next(o for o in new if o.kind != "action")
        results.latencies.append(first.at - started)
        fetched = tg.fetched_at.get(update["update_id"])
        if fetched is not None:
            results.fetch_waits.append(fetched - started)
            results.handling.append(first.at - fetched)
        await asyncio.sleep(rng.uniform(*think))


def rss_peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


async def slow_shares(port: int, over: float = 0.25) -> list[str]:
    """The bot's own view (its /metrics histograms): how many turns and Bot API calls took
    longer than ``over`` seconds, so a tail can be placed inside or outside the process."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        text = await r.text()
    lines = []
    for family in text_string_to_metric_families(text):
        if family.name not in ("promo_advisor_turn_seconds", "promo_advisor_api_seconds"):
            continue
        totals: dict[str, list[float]] = {}
        for sample in family.samples:
            if not sample.name.endswith("_bucket"):
                continue
            label = sample.labels.get("method", "dialog turn")
            counts = totals.setdefault(label, [0.0, 0.0])
            if sample.labels["le"] == "+Inf":
                counts[0] += sample.value
            elif float(sample.labels["le"]) == over:
                counts[1] += sample.value
        for label, (count, fast) in sorted(totals.items()):
            if count:
                lines.append(
                    f"bot's own measure, {label}: "
                    f"{count - fast:.0f} of {count:.0f} over {over * 1000:.0f} ms"
                )
    return lines


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="telegram-load-"))
    health_port = free_port()
    extra = {"LOG_LEVEL": args.log_level, "HEALTH_PORT": str(health_port)}
    if args.database_url:
        extra["DATABASE_URL"] = args.database_url
    async with FakeTelegram() as tg:
        # A new interpreter, as deployed (tests/launcher.py forks the tests' bots).
        bot = BotProcess(tg, workdir, extra, fresh=True)
        print(f"starting the bot (log: {workdir})…", flush=True)
        await bot.start()
        assert bot.process is not None
        pid = bot.process.pid
        users = [tg.user(user_id=10_000_000 + n) for n in range(args.users)]
        results = Results()
        cpu_before = cpu_seconds(pid)
        own_before = time.process_time()
        started = time.monotonic()
        await asyncio.gather(
            *(one_person(tg, u, tuple(args.think), args.timeout, results, rng) for u in users)
        )
        elapsed = time.monotonic() - started
        cpu_after = cpu_seconds(pid)
        own_cpu = time.process_time() - own_before
        peak = rss_peak_mb(pid)
        own_view = await slow_shares(health_port)
        code = await bot.stop()
        failed_calls = [c for c in tg.calls if c.status not in (0, 200)]
        unanswered = tg.unanswered_callbacks()

    lat = results.latencies
    print(
        f"users: {args.users}, actions: {results.actions}, think: {args.think[0]}–{args.think[1]} s"
    )
    print(f"elapsed: {elapsed:.1f} s, throughput: {len(lat) / elapsed:.1f} replies/s")
    if lat:
        print(
            "reply latency: "
            f"p50 {percentile(lat, 0.50) * 1000:.0f} ms, "
            f"p90 {percentile(lat, 0.90) * 1000:.0f} ms, "
            f"p99 {percentile(lat, 0.99) * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms, mean {statistics.fmean(lat) * 1000:.0f} ms"
        )
        for name, part in (
            ("waiting for getUpdates", results.fetch_waits),
            ("in the bot", results.handling),
        ):
            if part:
                print(
                    f"  of which {name}: p50 {percentile(part, 0.50) * 1000:.0f} ms, "
                    f"p99 {percentile(part, 0.99) * 1000:.0f} ms, max {max(part) * 1000:.0f} ms"
                )
    for line in own_view:
        print(f"  {line}")
    print(f"messages lost: {results.lost}")
    for example in results.lost_examples[:5]:
        print(f"  {example}")
    print(
        f"failed Bot API calls: {len(failed_calls)}, unanswered button presses: {len(unanswered)}"
    )
    if cpu_before is not None and cpu_after is not None:
        used = cpu_after - cpu_before
        print(f"bot process CPU: {used:.1f} s ({used / elapsed:.0%} of one core)")
    print(f"load generator (fake Bot API and users) CPU: {own_cpu:.1f} s ({own_cpu / elapsed:.0%})")
    if peak is not None:
        print(f"bot process peak RSS: {peak:.0f} MB")
    print(f"bot exit code: {code}")
    target_met = bool(lat) and percentile(lat, 0.99) < 0.2 and results.lost == 0
    print(f"target p99 < 200 ms and 0 lost: {'met' if target_met else 'MISSED'}")
    return 0 if results.lost == 0 and code == 0 else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(2.0, 8.0),
        metavar=("MIN", "MAX"),
        help="seconds a person pauses between actions (uniform), default 2 8",
    )
    parser.add_argument(
        "--timeout", type=float, default=15.0, help="seconds before a reply is lost"
    )
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    parser.add_argument("--log-level", default="WARNING", help="the bot's LOG_LEVEL")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
