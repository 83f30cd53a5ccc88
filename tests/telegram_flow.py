"""One person's conversation through the Telegram replicas: the presses, what they saw, when
everyone has been answered. Shared by the replica tests and the proxy test."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.telegram.keyboards import EnginePress
from tests.fakes.telegram_api import BotMessage, FakeTelegram, TelegramUser
from tests.kill_flow import collapse
from tests.replicas import EXPECTED_ANSWERS, PRESSES, is_subsequence, stored_answers

# The most messages one reply of this flow takes.
MAX_PARTS = 3
SEND_METHODS = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")


def press_update(tg: FakeTelegram, user: TelegramUser, message: BotMessage, payload: str) -> Any:
    data = EnginePress(payload=payload).pack()
    return tg.enqueue(tg.callback_update(user.id, message, data))


def answers_of(tg: FakeTelegram, chat_id: int) -> list[tuple[str, str]]:
    """What the person saw, in order: sends and edits with the text they showed."""
    return [(o.kind, o.text) for o in tg.outputs[chat_id] if o.kind != "action"]


def send_calls(tg: FakeTelegram, chat_id: int) -> int:
    """Every attempt to show something in the chat, refused ones included."""
    return sum(len(tg.calls_to(method, chat_id)) for method in SEND_METHODS)


async def greet(tg: FakeTelegram, user: TelegramUser) -> BotMessage:
    await user.say("/start", seconds=60)
    assert "Здравствуйте" in user.text, user.text
    return user.messages()[-1]


async def play_control(tg: FakeTelegram, user: TelegramUser) -> None:
    """The reference: one press at a time, each after the previous answer arrived."""
    menu = await greet(tg, user)
    for payload in PRESSES:
        mark = len(user.outputs)
        press_update(tg, user, menu, payload)
        await tg.settle(user.id, mark, seconds=60)


async def play_burst(tg: FakeTelegram, user: TelegramUser) -> None:
    """All presses at once, as a person tapping fast (or a slow network) would send them."""
    menu = await greet(tg, user)
    for payload in PRESSES:
        press_update(tg, user, menu, payload)


async def wait_delivered(tg: FakeTelegram, people: list[TelegramUser], expected: int) -> None:
    """Until every update was answered 2xx and nothing more came for a while: everyone has the
    answers expected, or 3 s passed without any (anything doubled would arrive then)."""
    deadline = time.monotonic() + 120

    def shown() -> int:
        return sum(len(outputs) for outputs in tg.outputs.values())

    quiet_since, count = time.monotonic(), shown()
    while True:
        if shown() != count:
            quiet_since, count = time.monotonic(), shown()
        quiet = time.monotonic() - quiet_since
        complete = all(len(answers_of(tg, p.id)) >= expected for p in people)
        if not tg.pending and (quiet > 3.0 or (complete and quiet > 1.0)):
            return
        assert time.monotonic() < deadline, f"{len(tg.pending)} updates undelivered"
        await asyncio.sleep(0.1)


def press_all(tg: FakeTelegram, people: list[TelegramUser], menus: list[BotMessage]) -> None:
    """Every person taps every press at once, as fast fingers (or a slow network) would."""
    for person, menu in zip(people, menus, strict=True):
        for payload in PRESSES:
            press_update(tg, person, menu, payload)


async def until_posted(tg: FakeTelegram, since: int, count: int) -> None:
    """Until ``count`` webhook posts were made after the first ``since``: the load is under way."""
    deadline = time.monotonic() + 60
    while len(tg.webhook_log) - since < count:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def check_nothing_lost_or_doubled(
    tg: FakeTelegram,
    database_url: str,
    people: list[TelegramUser],
    expected: list[tuple[str, str]],
) -> None:
    """After a replica died under load: everything stored, nothing lost or out of order, and a
    message shown twice only where the replica died right after Telegram accepted it."""
    chats = [p.id for p in people]
    stored = await stored_answers(database_url, "telegram", chats)
    assert all(stored[str(chat)] == EXPECTED_ANSWERS for chat in chats), stored
    for person in people:
        seen = answers_of(tg, person.id)
        # A reply the killed replica had not sent yet when it died may still be on its way (its
        # turn was stored, so the redelivery is skipped; the outbox sends it within seconds);
        # nothing else may be missing. It may have died between Telegram accepting a message
        # and its mark in the outbox: the survivor sends that one again, right after it.
        seen, doubled = collapse(seen)
        assert len(doubled) <= MAX_PARTS, (person.id, doubled)
        assert is_subsequence(seen, expected), "\n".join(
            [str(person.id), *(f"{k}: {t[:60]!r}" for k, t in seen), "expected:"]
            + [f"{k}: {t[:60]!r}" for k, t in expected]
        )
        assert seen[-1] == expected[-1], person.id


async def check_one_more_press_answered(
    tg: FakeTelegram, people: list[TelegramUser], menus: list[BotMessage]
) -> None:
    """The service carries on: one more checklist answer each, and the next question for all."""
    marks = {person.id: len(person.outputs) for person in people}
    for person, menu in zip(people, menus, strict=True):
        press_update(tg, person, menu, "a:prepare:checklist:4:y")
    # A reply the killed replica committed but had not sent comes first (from the outbox, by
    # the survivor): the answer is complete once the next question shows.
    settled = await asyncio.gather(
        *(
            tg.settle(
                person.id,
                marks[person.id],
                until=lambda new: any("Вопрос 6 из" in o.text for o in new),
                seconds=60,
            )
            for person in people
        )
    )
    assert all("Вопрос 6 из" in after[-1].text for after in settled)
