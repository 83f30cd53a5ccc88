"""The VK long poll client against the fake VK API: a batch the inbox could not store is asked
for again with the same ts, never skipped, and the wait grows until a success (issue 17)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from advisor.config import Settings
from advisor.vk.api import VkClient
from bot.vk.longpoll import HandledTs, LongPoll
from tests.fakes.vk_api import FakeVK


async def test_a_batch_not_stored_is_asked_for_again_and_handled_once(
    fake_vk: FakeVK, caplog: pytest.LogCaptureFixture
) -> None:
    stored: list[list[str]] = []
    refusals = 2  # the inbox's database is down for the first two batches

    async def store(events: list[dict[str, Any]]) -> None:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise ConnectionError("database is down")
        stored.append([event["event_id"] for event in events])

    handled: list[str] = []
    both = asyncio.Event()

    def sink(events: list[dict[str, Any]], done: Any) -> None:
        for event in events:
            handled.append(event["event_id"])
            done()
        if len(handled) >= 2:
            both.set()

    settings = Settings(vk_api_url=fake_vk.base_url, vk_max_retries=0)
    client = VkClient(settings, SecretStr(fake_vk.group_token), "group")
    caplog.set_level(logging.WARNING, logger="bot.vk.longpoll")
    async with aiohttp.ClientSession() as http:
        poll = LongPoll(client, http, fake_vk.group_id, HandledTs(None), wait=1, store=store)
        running = asyncio.create_task(poll.run(sink))
        try:
            # Written once the poll listens: VK delivers what comes after its server's ts.
            for _ in range(600):  # a hang guard of 30 s, not a measurement
                if fake_vk.longpoll.waiting or running.done():
                    break
                await asyncio.sleep(0.05)
            assert fake_vk.longpoll.waiting, "the long poll never started"
            first = fake_vk.user_message(501, "привет")
            second = fake_vk.user_message(501, "меню")
            await asyncio.wait_for(both.wait(), 30)  # a hang guard, not a measurement
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await client.close()
    # Each event handled once, in order, and only after the inbox held it.
    assert handled == [first["event_id"], second["event_id"]]
    assert [event for batch in stored for event in batch] == handled
    waits = [
        float(record.getMessage().rsplit("asking again in ", 1)[1].split()[0])
        for record in caplog.records
        if "events not stored (ConnectionError)" in record.getMessage()
    ]
    assert len(waits) == 2 and waits[0] < waits[1], waits  # the second wait is longer
