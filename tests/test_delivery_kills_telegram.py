"""Issue 17.1 on Telegram long polling: the real bot killed (SIGKILL) at random moments while
replies are in flight loses no reply and no update; what shows twice is counted and bounded
(see tests/kill_flow.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.kill_flow import (
    ANSWER_WITHIN,
    KILLS,
    PASSES,
    PEOPLE,
    RESUMED,
    STALL_SECONDS,
    Killer,
    compare,
    killed_database,
)
from tests.replicas import EXPECTED_ANSWERS, PRESSES, stored_answers
from tests.telegram_driver import BotProcess as TelegramProcess
from tests.telegram_flow import answers_of as telegram_answers
from tests.telegram_flow import press_update

Transcript = list[tuple[str, str]]
_CONTROL: dict[int, Transcript] = {}


async def _telegram_person(tg: FakeTelegram, user: TelegramUser) -> None:
    # Each answer is waited for whole (longer than a stalled message) before the next press.
    wait = {"seconds": ANSWER_WITHIN, "quiet": 2.5 * STALL_SECONDS}
    for _ in range(PASSES):
        await user.say("/start", **wait)
        menu = user.messages()[-1]
        for payload in PRESSES:
            mark = len(user.outputs)
            press_update(tg, user, menu, payload)
            await tg.settle(user.id, mark, **wait)


async def _telegram_run(
    workdir: Path, database_url: str, kills: int, seed: int
) -> tuple[dict[int, Transcript], int, str]:
    """One run: the people's transcripts, the kills made and the bot's log."""
    await asyncio.to_thread(workdir.mkdir)
    async with FakeTelegram() as tg:
        people = [tg.user(200_001 + n) for n in range(PEOPLE)]
        bot = TelegramProcess(tg, workdir, {"DATABASE_URL": database_url})
        await bot.start()
        tg.stall("sendMessage", STALL_SECONDS)
        tg.stall("editMessageText", STALL_SECONDS)

        async def kill() -> None:
            assert bot.process is not None
            bot.process.kill()
            await bot.process.wait()
            bot.process = None

        killer = Killer(kill, bot.start, seed)
        done = asyncio.Event()
        killing = asyncio.create_task(killer.run(kills, done))
        try:
            await asyncio.gather(*(_telegram_person(tg, p) for p in people))
        finally:
            done.set()
            await killing
            await asyncio.sleep(1.0)  # anything resent after the last restart arrives
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        return {p.id: telegram_answers(tg, p.id) for p in people}, killer.kills, bot.log_text()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_telegram_polling_killed_at_random_loses_no_reply(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    killed_url = await killed_database(database, tmp_path, request)
    killed_run = _telegram_run(tmp_path / "killed", killed_url, KILLS[database], 17)
    if _CONTROL:
        killed, kills, log = await killed_run
    else:  # the clean run, once for both databases, beside the first killed run (own fake)
        control_url = f"sqlite+aiosqlite:///{tmp_path / 'control.db'}"
        async with asyncio.TaskGroup() as runs:  # one failing stops the other
            clean = runs.create_task(_telegram_run(tmp_path / "control", control_url, 0, 0))
            killing = runs.create_task(killed_run)
        _CONTROL.update(clean.result()[0])
        killed, kills, log = killing.result()
    control = _CONTROL
    assert kills == KILLS[database], "the people finished before every kill was made"
    doubles, problems = compare(control, killed, kills)
    print(f"\nTelegram ({database}): {kills} kills, {doubles} messages shown twice")
    assert not problems, "\n".join(problems) + "\n" + log[-3000:]
    stored = await stored_answers(killed_url, "telegram", [200_001 + n for n in range(PEOPLE)])
    assert all(answers == EXPECTED_ANSWERS for answers in stored.values()), stored
    # The kills did find work in hand: some restart sent replies or handled updates left over.
    assert any(line in log for line in RESUMED), log[-3000:]
