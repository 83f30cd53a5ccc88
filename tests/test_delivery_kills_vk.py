"""Issue 17.1 on VK Bots Long Poll: the real bot killed (SIGKILL) at random moments while
replies are in flight loses no reply and no update, and shows none twice: a resend carries the
random_id derived from its outbox row, and VK drops it (see tests/kill_flow.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.vk_api import FakeVK
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
from tests.vk_bot_driver import BotProcess as VkProcess
from tests.vk_bot_driver import VkUser
from tests.vk_flow import answers_of as vk_answers
from tests.vk_flow import press as vk_press

Transcript = list[tuple[str, list[str]]]
_CONTROL: dict[int, Transcript] = {}


async def _vk_person(vk: FakeVK, user: VkUser) -> None:
    for _ in range(PASSES):
        vk.user_message(user.peer_id, "привет", client_info=user.client_info)
        await user.reply(within=ANSWER_WITHIN)
        for payload in PRESSES:
            vk_press(vk, user.peer_id, payload)
            await user.reply(within=ANSWER_WITHIN)


def _story(vk: FakeVK, people: list[VkUser]) -> str:
    """What each person did and got, for a failure's message."""
    lines = []
    for person in people:
        lines.append(f"peer {person.peer_id}:")
        for r in vk.requests:
            if r.params.get("peer_id") == str(person.peer_id) and r.method == "messages.send":
                text = r.params.get("message", "")[:40]
                lines.append(f"  {r.time:.2f} send {r.params.get('random_id')} {r.error} {text!r}")
        for event in vk.longpoll.events:
            obj = event["object"]
            peer = obj.get("peer_id", obj.get("message", {}).get("peer_id"))
            if peer == person.peer_id:
                lines.append(f"  event {event['event_id'][:10]} {event['type']}")
    return "\n".join(lines)


def _accepted_sends(vk: FakeVK, peer_id: int) -> int:
    return sum(
        1
        for r in vk.requests
        if r.method == "messages.send" and r.params.get("peer_id") == str(peer_id) and not r.error
    )


async def _vk_run(
    vk: FakeVK, workdir: Path, database_url: str, kills: int, seed: int
) -> tuple[dict[int, Transcript], int, int, str]:
    """One run: the transcripts, the kills made, the resends VK dropped and the bot's log."""
    await asyncio.to_thread(workdir.mkdir)
    first = 300_001 if kills else 310_001
    people = [VkUser(vk, first + n) for n in range(PEOPLE)]
    # A generous request timeout: on a loaded machine a stalled reply could otherwise time out
    # and become the apology, which the transcripts would count as a changed reply; this test
    # is about kills (timeouts have tests of their own).
    bot = VkProcess(vk, workdir, {"DATABASE_URL": database_url, "VK_REQUEST_TIMEOUT": "15"})

    async def start() -> None:
        """Up once this process polls (a killed one's request may still wait in the fake)."""
        polls = vk.longpoll.polls
        await bot.start(wait_for_poll=False)
        async with asyncio.timeout(60):
            while vk.longpoll.polls == polls:
                bot.assert_running()
                await asyncio.sleep(0.02)

    await start()
    vk.delay_next("messages.send", STALL_SECONDS, times=100_000)
    killer = Killer(bot.kill, start, seed)
    done = asyncio.Event()
    killing = asyncio.create_task(killer.run(kills, done))
    try:
        await asyncio.gather(*(_vk_person(vk, p) for p in people))
    except TimeoutError as error:
        raise AssertionError(_story(vk, people)) from error
    finally:
        done.set()
        await killing
        await asyncio.sleep(1.0)
        code = await bot.stop()
    assert code == 0, bot.log_text()[-3000:]
    transcripts = {p.peer_id - first: vk_answers(vk, p.peer_id) for p in people}
    dropped = sum(_accepted_sends(vk, p.peer_id) - len(p.messages()) for p in people)
    return transcripts, killer.kills, dropped, bot.log_text()


async def _control_run(workdir: Path) -> dict[int, Transcript]:
    """The clean run, on a fake of its own (one bot process polls each fake's long poll)."""
    async with FakeVK() as vk:
        control_url = f"sqlite+aiosqlite:///{workdir.parent / 'control.db'}"
        transcripts = (await _vk_run(vk, workdir, control_url, 0, 0))[0]
    # What the fake_vk fixture checks of the killed run's fake.
    assert vk.schema_violations == [], "fake VK answers violate the VK schema"
    assert vk.unimplemented_calls == [] and vk.internal_errors == [] and vk.problems == []
    return transcripts


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_vk_long_poll_killed_at_random_loses_no_reply_and_doubles_none(
    database: str, fake_vk: FakeVK, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    killed_url = await killed_database(database, tmp_path, request)
    killed_run = _vk_run(fake_vk, tmp_path / "killed", killed_url, KILLS[database], 29)
    if _CONTROL:
        killed, kills, dropped, log = await killed_run
    else:  # the clean run, once for both databases, beside the first killed run
        async with asyncio.TaskGroup() as runs:  # one failing stops the other
            clean = runs.create_task(_control_run(tmp_path / "control"))
            killing = runs.create_task(killed_run)
        _CONTROL.update(clean.result())
        killed, kills, dropped, log = killing.result()
    control = _CONTROL
    assert kills == KILLS[database], "the people finished before every kill was made"
    doubles, problems = compare(control, killed, kills)
    print(f"\nVK ({database}): {kills} kills, {dropped} resends dropped by VK, {doubles} doubles")
    assert not problems, "\n".join(problems) + "\n" + log[-3000:]
    assert doubles == 0
    assert not fake_vk.problems, fake_vk.problems
    stored = await stored_answers(killed_url, "vk", [300_001 + n for n in range(PEOPLE)])
    assert all(answers == EXPECTED_ANSWERS for answers in stored.values()), stored
    assert any(line in log for line in RESUMED), log[-3000:]
