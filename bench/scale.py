"""Scale-out bench: one vs two Telegram webhook replicas on PostgreSQL + Redis.

Starts a throw-away PostgreSQL cluster and a Redis server on 127.0.0.1 (tests/services.py; the
Debian packages .ci/run installs), the fake Telegram Bot API in this process, and real
``python -m bot telegram`` processes in webhook mode. For one replica, then for two (each run on
a fresh database and an empty Redis), --users simulated people (default 2,000) start together
and play the same dialog without pausing: /start, then presses through the profile into the
readiness checklist (--turns actions in all), each press made when the previous answer has
arrived. The fake delivers updates like Telegram behind a reverse proxy: a chat's updates one at
a time, chats at once (the webhook's max_connections), each to a replica picked at random, and a
--duplicates share posted to both replicas at the same moment.

A turn's latency runs from the update being queued at the fake to the first message (or edit)
of its answer. Per run it prints turns answered, throughput, latency percentiles, and lost and
duplicated replies: every person's whole transcript must equal that of a reference person who
played alone before the load (a reply missing is lost, one more than the reference or a repeated
Bot API call is duplicated). Then the throughput ratio of two replicas to one. RESULT: PASS when
both runs lost and duplicated nothing.

The webhook's 100 connections (Telegram's maximum, which the bot asks for) bound the updates in
flight, so with 2,000 people at once most of a turn's latency is its wait in Telegram's queue.
On a 2-core machine the replicas share the cores with PostgreSQL, Redis and this load generator,
whose CPU share is printed: when it nears 100 % it, not the bot, sets the pace, and the ratio
says only what a second replica adds on the same box. Per-replica CPU shows how the work split.
The default run (2,000 users × 3 turns, both configurations) takes about 2.5 minutes on 2 cores.

    python bench/scale.py [--users 2000] [--turns 3] [--duplicates 0.05] [--timeout 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bot.telegram.keyboards import EnginePress
from tests.fakes.telegram_api import BotMessage, FakeTelegram, Output, TelegramUser
from tests.replicas import PRESSES, TelegramReplica, backing_env, migrate, start_all, stop_all
from tests.services import PostgresServer, RedisServer, postgres_server, redis_server
from tests.telegram_flow import SEND_METHODS


@dataclass
class Run:
    replicas: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0
    examples: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    log_errors: int = 0
    cpu_seconds: list[float] = field(default_factory=list)  # each replica's, during the load
    generator_cpu: float = 0.0  # this process: the fake Bot API and the simulated people
    handled: list[int] = field(default_factory=list)  # updates each replica answered 2xx


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def shown(tg: FakeTelegram, chat_id: int) -> list[tuple[str, str]]:
    return [(o.kind, o.text) for o in tg.outputs[chat_id] if o.kind != "action"]


def send_calls(tg: FakeTelegram) -> Counter[int | None]:
    return Counter(c.chat_id for c in tg.calls if c.method in SEND_METHODS)


def send_turn(tg: FakeTelegram, user: TelegramUser, menu: BotMessage | None, turn: int) -> None:
    """Turn 0 is /start; turn n presses the n-th of PRESSES on the menu /start showed."""
    if turn == 0:
        user.send_text("/start")
        return
    assert menu is not None
    data = EnginePress(payload=PRESSES[turn - 1]).pack()
    tg.enqueue(tg.callback_update(user.id, menu, data))


async def play(
    tg: FakeTelegram,
    user: TelegramUser,
    turns: int,
    expected: list[int],
    seconds: float,
    run: Run | None,
) -> None:
    """One person's dialog; ``expected[i]``: the messages the i-th answer ends with."""
    menu: BotMessage | None = None
    for turn in range(turns):
        mark = len(user.outputs)
        started = time.monotonic()
        send_turn(tg, user, menu, turn)
        count = expected[turn] if expected else 1

        def complete(new: list[Output], count: int = count) -> bool:
            return sum(1 for o in new if o.kind != "action") >= count

        try:
            new = await tg.settle(user.id, mark, until=complete, seconds=seconds, quiet=0.0)
        except TimeoutError:
            if run is not None:
                run.lost += 1
                run.examples.append(f"user {user.id}: no answer to turn {turn + 1}")
            return
        if run is not None:
            first = next(o for o in new if o.kind != "action")
            run.latencies.append(first.at - started)
        if turn == 0:
            menu = user.messages()[-1]


async def reference(tg: FakeTelegram, turns: int) -> tuple[list[int], list[tuple[str, str]]]:
    """A person alone: how many messages each answer has, and the whole transcript."""
    user = tg.user(user_id=9_000_000)
    counts: list[int] = []
    menu: BotMessage | None = None
    for turn in range(turns):
        mark = len(user.outputs)
        send_turn(tg, user, menu, turn)
        new = await tg.settle(user.id, mark, seconds=60, quiet=0.5)
        counts.append(sum(1 for o in new if o.kind != "action"))
        if turn == 0:
            menu = user.messages()[-1]
    return counts, shown(tg, user.id)


async def fresh_backing(pg: PostgresServer, redis: RedisServer, name: str) -> str:
    pg.create_database(name)
    url = pg.url(name)
    await migrate(url)
    client = Redis.from_url(redis.url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url


async def one_configuration(
    args: argparse.Namespace, pg: PostgresServer, redis: RedisServer, replicas: int, root: Path
) -> Run:
    run = Run(replicas)
    database_url = await fresh_backing(pg, redis, f"scale_{replicas}")
    env = backing_env(database_url, redis.url, LOG_LEVEL=args.log_level)
    async with FakeTelegram() as tg:
        processes = [
            TelegramReplica(tg, root / f"run{replicas}-replica{n}", env)
            for n in range(1, replicas + 1)
        ]
        for process in processes:
            process.fresh = True  # new interpreters, as deployed, not the tests' forks
        print(f"\n== {replicas} replica(s): starting…", flush=True)
        await start_all(processes)
        try:
            tg.spread_webhooks(
                [p.url for p in processes], duplicates=args.duplicates, seed=args.seed
            )
            counts, transcript = await reference(tg, args.turns)
            reference_calls = send_calls(tg)[9_000_000]
            users = [tg.user(user_id=10_000_000 + n) for n in range(args.users)]
            pids = [p.process.pid for p in processes if p.process is not None]
            cpu_before = [cpu_seconds(pid) for pid in pids]
            posted_before = len(tg.webhook_log)
            own_before = time.process_time()
            started = time.monotonic()
            await asyncio.gather(
                *(play(tg, u, args.turns, counts, args.timeout, run) for u in users)
            )
            run.elapsed = time.monotonic() - started
            run.generator_cpu = time.process_time() - own_before
            run.cpu_seconds = [
                cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)
            ]
            answered = Counter(d.url for d in tg.webhook_log[posted_before:] if d.status == 200)
            run.handled = [answered[p.url] for p in processes]
            await asyncio.sleep(1.0)  # anything doubled arrives now
            calls = send_calls(tg)
            for user in users:
                seen = shown(tg, user.id)
                if seen == transcript and calls[user.id] == reference_calls:
                    continue
                extra = max(0, len(seen) - len(transcript)) + max(
                    0, calls[user.id] - reference_calls
                )
                if extra:
                    run.duplicated += extra
                    run.examples.append(f"user {user.id}: {extra} replies too many")
                elif len(seen) == len(transcript):
                    run.wrong += 1
                    run.examples.append(f"user {user.id}: answers differ from the reference")
        finally:
            run.exit_codes = await stop_all(processes)
        for process in processes:
            log = process.log_text()
            run.log_errors += sum(
                1 for line in log.splitlines() if " ERROR " in line or "Traceback" in line
            )
    return run


def report(run: Run, turns: int, users: int) -> None:
    lat = run.latencies
    print(f"turns answered: {len(lat)} of {users * turns} in {run.elapsed:.1f} s")
    print(f"throughput: {len(lat) / run.elapsed:.1f} turns/s")
    if lat:
        figures = ", ".join(
            f"p{int(share * 100)} {percentile(lat, share) * 1000:.0f} ms"
            for share in (0.50, 0.90, 0.99)
        )
        mean = statistics.fmean(lat) * 1000
        print(f"latency: {figures}, max {max(lat) * 1000:.0f} ms, mean {mean:.0f} ms")
    print(f"lost replies: {run.lost}, duplicated replies: {run.duplicated}, wrong: {run.wrong}")
    for example in run.examples[:5]:
        print(f"  {example}")
    work = ", ".join(
        f"{handled} updates, {cpu:.0f} s CPU ({cpu / run.elapsed:.0%} of a core)"
        for handled, cpu in zip(run.handled, run.cpu_seconds, strict=True)
    )
    print(f"per replica: {work}")
    share = run.generator_cpu / run.elapsed
    print(f"load generator (fake Bot API + people): {run.generator_cpu:.0f} s CPU ({share:.0%})")
    print(f"replica exit codes: {run.exit_codes}, error lines in their logs: {run.log_errors}")


def throughput(run: Run) -> float:
    return len(run.latencies) / run.elapsed if run.elapsed else 0.0


async def main(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="scale-"))
    print(
        f"{args.users} users × {args.turns} turns, duplicates {args.duplicates:.0%}; "
        f"logs in {root}",
        flush=True,
    )
    began = time.monotonic()
    (root / "redis").mkdir()
    with postgres_server() as pg, redis_server(root / "redis") as redis:
        runs = []
        for replicas in (1, 2):
            run = await one_configuration(args, pg, redis, replicas, root)
            report(run, args.turns, args.users)
            runs.append(run)
    one, two = runs
    print(f"\nthroughput ratio, 2 replicas / 1: {throughput(two) / throughput(one):.2f}")
    print(
        "p99 latency: "
        + ", ".join(
            f"{r.replicas} replica(s) {percentile(r.latencies, 0.99) * 1000:.0f} ms"
            for r in runs
            if r.latencies
        )
    )
    ok = all(
        r.lost == 0 and r.duplicated == 0 and r.wrong == 0 and r.exit_codes == [0] * r.replicas
        for r in runs
    )
    print(f"bench time: {time.monotonic() - began:.0f} s")
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument(
        "--turns", type=int, default=3, help=f"actions per person, 1–{len(PRESSES) + 1}"
    )
    parser.add_argument(
        "--duplicates", type=float, default=0.05, help="share of updates posted to both replicas"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds before a reply is lost"
    )
    parser.add_argument("--log-level", default="WARNING", help="the replicas' LOG_LEVEL")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.turns <= len(PRESSES) + 1:
        parser.error(f"--turns must be 1–{len(PRESSES) + 1}")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
