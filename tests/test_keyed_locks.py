"""Per-person locks: one holder at a time in arrival order, and no lock kept for an idle person."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.types import Update

from advisor.app import Advisor
from advisor.config import Settings
from advisor.keyed_locks import KeyedLocks
from bot.telegram.isolation import ChatIsolation
from bot.telegram.runner import build_dispatcher
from tests.fakes.telegram_api import FakeTelegram


async def test_a_newcomer_waits_behind_a_woken_waiter() -> None:
    # The moment after a release, the lock reads unlocked while the woken waiter has not run:
    # pruning by ``locked()`` handed a newcomer a fresh lock and two ran at once.
    locks: KeyedLocks[str] = KeyedLocks()
    inside: list[str] = []
    most = 0

    async def work(name: str) -> None:
        nonlocal most
        async with locks.hold("person"):
            inside.append(name)
            most = max(most, len(inside))
            await asyncio.sleep(0.01)
            inside.remove(name)
            order.append(name)

    order: list[str] = []
    first = asyncio.create_task(work("A"))
    await asyncio.sleep(0)
    second = asyncio.create_task(work("B"))
    await asyncio.sleep(0.005)
    await first
    third = asyncio.create_task(work("C"))
    await asyncio.gather(second, third)
    assert most == 1
    assert order == ["A", "B", "C"]
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    release = asyncio.Event()

    async def hold_until_released() -> None:
        async with locks.hold("person"):
            await release.wait()

    async def wait_forever() -> None:
        async with locks.hold("person"):
            raise AssertionError("the cancelled waiter must never hold the lock")

    holder = asyncio.create_task(hold_until_released())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(wait_forever())
    await asyncio.sleep(0)
    assert len(locks) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert len(locks) == 0


async def test_different_keys_do_not_wait_for_each_other() -> None:
    locks: KeyedLocks[int] = KeyedLocks()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        async with locks.hold(1):
            started.set()
            await release.wait()

    task = asyncio.create_task(slow())
    await started.wait()
    async with asyncio.timeout(1):
        async with locks.hold(2):
            assert len(locks) == 2
    release.set()
    await task
    assert len(locks) == 0


async def test_the_dispatcher_keeps_no_lock_for_people_it_has_answered(
    tmp_path: Path, tg: FakeTelegram, telegram_client: Bot
) -> None:
    advisor = await Advisor.open(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
            vk_user_token=None,
            vk_service_token=None,
        )
    )
    bot = telegram_client
    try:
        dispatcher, _ = build_dispatcher(advisor, bot)
        isolation = dispatcher.fsm.events_isolation
        assert isinstance(isolation, ChatIsolation)
        people = [tg.user() for _ in range(40)]
        updates = [
            Update.model_validate(
                {"update_id": 1_000 + index, **tg.text_update(person.id, text)},
                context={"bot": bot},
            )
            for index, (person, text) in enumerate(
                (person, text) for person in people for text in ("/start", "/help")
            )
        ]
        await asyncio.gather(*(dispatcher.feed_update(bot, update) for update in updates))
        for person in people:
            texts = [message.text for message in person.messages()]
            # Both answered, the second after the first: one person's updates never overlap.
            assert "Здравствуйте" in texts[0], texts
            assert "Команды:" in texts[-1], texts
            assert sum("Команды:" in text for text in texts) == 1, texts
        assert len(isolation.locks) == 0
    finally:
        await advisor.close()
