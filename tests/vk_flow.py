"""One person's conversation through the VK Callback replicas: the presses, what they saw, when
everyone has been answered."""

from __future__ import annotations

import asyncio
import time

from tests.fakes.vk_api import FakeVK
from tests.replicas import PRESSES
from tests.vk_bot_driver import VkUser


def answers_of(vk: FakeVK, peer_id: int) -> list[tuple[str, list[str]]]:
    return [(m.message, m.button_labels()) for m in vk.messages_to(peer_id)]


def send_calls(vk: FakeVK, peer_id: int) -> int:
    """messages.send calls VK accepted for the person: a doubled turn shows here even though
    VK does not show a message whose random_id it has seen."""
    return sum(
        1
        for r in vk.requests
        if r.method == "messages.send"
        and r.params.get("peer_id") == str(peer_id)
        and r.error is None  # a send refused (too many requests) and retried shows nothing
    )


def press(vk: FakeVK, peer_id: int, payload: str) -> None:
    vk.message_event(peer_id, {"p": payload})


async def play_control(vk: FakeVK, user: VkUser) -> None:
    await user.say("привет")
    assert "Выберите раздел" in user.text, user.text
    for payload in PRESSES:
        press(vk, user.peer_id, payload)
        await user.reply(within=60)


async def play_burst(vk: FakeVK, user: VkUser) -> None:
    await user.say("привет")
    for payload in PRESSES:
        press(vk, user.peer_id, payload)


async def wait_answered(vk: FakeVK, people: list[VkUser], expected: int) -> None:
    """Until every event was answered "ok" and nothing more arrived for a while: everyone has
    the answers expected, or 3 s passed without any (anything doubled would arrive then)."""
    assert vk.callback is not None
    deadline = time.monotonic() + 120
    quiet_since, count = time.monotonic(), len(vk.sent_messages)
    while True:
        if len(vk.sent_messages) != count:
            quiet_since, count = time.monotonic(), len(vk.sent_messages)
        quiet = time.monotonic() - quiet_since
        complete = all(len(vk.messages_to(p.peer_id)) >= expected for p in people)
        if not vk.callback.pending and (quiet > 3.0 or (complete and quiet > 1.0)):
            return
        assert time.monotonic() < deadline, f"{len(vk.callback.pending)} events undelivered"
        await asyncio.sleep(0.1)
