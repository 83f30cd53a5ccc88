"""Dialog turns per second through the engine on SQLite, and bytes stored per conversation.

Targets (issue 2): at least 2,000 turns/s on one core, under 4 KB per conversation.
Runs a realistic walk for many users — profile, the readiness checklist by buttons, typed answers,
back, a calculator with typed numbers, menus — and prints the figures with PASS/FAIL.

    python bench/engine.py [--users 300] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog.types import Incoming, Outgoing

TARGET_TURNS_PER_SECOND = 2000
TARGET_BYTES_PER_CONVERSATION = 4096


def find_payload(replies: list[Outgoing], label: str) -> str:
    for message in reversed(replies):
        for row in message.buttons:
            for button in row:
                if button.label == label:
                    return button.payload
    raise LookupError(label)


async def walk(advisor: Advisor, user_id: str) -> int:
    """One user's session; returns the number of turns it made."""
    turns = 0

    async def say(text: str) -> list[Outgoing]:
        nonlocal turns
        turns += 1
        return await advisor.dialog.handle(Incoming(channel="telegram", user_id=user_id, text=text))

    async def press(replies: list[Outgoing], label: str) -> list[Outgoing]:
        nonlocal turns
        turns += 1
        payload = find_payload(replies, label)
        return await advisor.dialog.handle(
            Incoming(channel="telegram", user_id=user_id, payload=payload)
        )

    replies = await say("/start")
    replies = await press(replies, "Подготовить сообщество")
    replies = await press(replies, "Коммерческое")
    replies = await press(replies, "Продажи по любому ГЕО")
    replies = await press(replies, "Пройти чек-лист")
    for answer in ["Да", "Нет", "Да", "Не знаю"]:
        replies = await press(replies, answer)
    replies = await say("назад")
    for answer in ["да", "нет", "да", "да", "нет", "да", "да"]:
        replies = await say(answer)
    replies = await say("меню")
    replies = await press(replies, "Проверить паблик")
    replies = await press(replies, "Посчитать по цифрам")
    for number in ["5 000", "400", "700", "12"]:
        replies = await say(number)
    replies = await say("как провести розыгрыш?")
    replies = await say("меню")
    return turns


async def run(users: int, concurrency: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            vk_user_token=None,
            vk_service_token=None,
        )
        advisor = await Advisor.open(settings)
        try:
            await walk(advisor, "warm-up")
            semaphore = asyncio.Semaphore(concurrency)

            async def one(index: int) -> int:
                async with semaphore:
                    return await walk(advisor, f"user-{index}")

            cpu_start, wall_start = time.process_time(), time.perf_counter()
            counts = await asyncio.gather(*(one(i) for i in range(users)))
            cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
            turns = sum(counts)

            async with advisor.db.connect() as connection:
                rows = (
                    await connection.execute(
                        text(
                            "select (select count(*) from users),"
                            " (select coalesce(sum(length(data)+length(coalesce(scenario,''))"
                            "+length(coalesce(step,''))+40),0) from conversations),"
                            " (select coalesce(sum(length(checklist_id)+length(item_id)"
                            "+length(answer)+30),0) from checklist_answers),"
                            " (select coalesce(sum(length(channel)+length(external_id)+60),0)"
                            " from users)"
                        )
                    )
                ).one()
            db_file = Path(folder) / "bench.db"
        finally:
            await advisor.close()
        file_bytes = db_file.stat().st_size
    people, conversation_bytes, answer_bytes, user_bytes = rows
    per_conversation = (conversation_bytes + answer_bytes + user_bytes) / people
    per_file = file_bytes / people
    rate = turns / wall
    rate_cpu = turns / cpu if cpu else float("inf")
    print(f"users: {users}, concurrency: {concurrency}, turns: {turns}")
    print(f"wall: {wall:.2f} s -> {rate:,.0f} turns/s (single process, one event loop)")
    print(f"cpu:  {cpu:.2f} s -> {rate_cpu:,.0f} turns per CPU-second")
    print(f"stored per conversation (row payload estimate): {per_conversation:,.0f} bytes")
    print(f"database file per conversation (incl. indexes, free pages): {per_file:,.0f} bytes")
    ok_rate = rate >= TARGET_TURNS_PER_SECOND
    ok_size = per_conversation < TARGET_BYTES_PER_CONVERSATION
    print(f"turns/s >= {TARGET_TURNS_PER_SECOND}: {'PASS' if ok_rate else 'FAIL'}")
    print(f"bytes/conversation < {TARGET_BYTES_PER_CONVERSATION}: {'PASS' if ok_size else 'FAIL'}")
    return 0 if ok_rate and ok_size else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        # The target is for one core: pin the process (and aiosqlite's thread) to one.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    return asyncio.run(run(args.users, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
