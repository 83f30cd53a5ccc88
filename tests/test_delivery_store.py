"""The inbox and the outbox in the database (SQLite and PostgreSQL): a turn's replies and its
update's handled mark commit with its state or not at all; what a restart finds to do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.dialog.types import Button, Document, Image, Outgoing
from advisor.storage.db import create_engine
from advisor.storage.delivery import DeliveryStore, Envelope, TurnOutcome
from advisor.storage.migrate import upgrade
from advisor.storage.store import ConcurrentUpdateError, ConversationStore


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _stores(engine: AsyncEngine) -> tuple[ConversationStore, DeliveryStore]:
    store = ConversationStore(engine)
    return store, DeliveryStore(engine, store.writer_turn)


async def test_replies_commit_with_the_state_and_mark_the_update_handled(
    engine: AsyncEngine,
) -> None:
    store, delivery = _stores(engine)
    await delivery.receive("telegram", [("1:5", "77", '{"update_id":5}')])
    assert [row.event_id for row in await delivery.unhandled("telegram")] == ["1:5"]
    conversation = await store.load("telegram", "77")
    conversation.step = "q1"
    replies = [
        Outgoing(text="Вопрос 1", buttons=[[Button(label="Да", payload="a:x:y:0:y")]]),
        Outgoing(
            text="Таблица",
            image=Image(png=b"\x89PNG\x00\xff", caption="График"),
            document=Document(filename="t.xlsx", data=b"PK\x03\x04\xff"),
        ),
    ]
    envelope = Envelope("telegram", "77", "1:5", {"edit": 12})
    await store.save(conversation, outcome=TurnOutcome(envelope, replies))

    assert await delivery.unhandled("telegram") == []
    assert await store.was_processed("telegram", "1:5")
    (row,) = await delivery.pending("telegram", "77")
    assert row.replies == replies  # bytes survive the JSON round trip
    assert (row.context, row.event_id, row.sent_parts) == ({"edit": 12}, "1:5", 0)
    assert await delivery.pending_chats("telegram") == ["77"]

    await delivery.mark_sent(row.id, 1, done=False)
    assert (await delivery.pending("telegram", "77"))[0].sent_parts == 1
    await delivery.mark_sent(row.id, 1, done=True)
    assert await delivery.pending("telegram", "77") == []
    assert await delivery.pending_chats("telegram") == []
    await delivery.close()


async def test_a_turn_that_loses_the_race_leaves_no_reply_behind(engine: AsyncEngine) -> None:
    store, delivery = _stores(engine)
    first = await store.load("vk", "5")
    second = await store.load("vk", "5")
    first.step = "a"
    await store.save(first, outcome=TurnOutcome(Envelope("vk", "5", "e1"), [Outgoing(text="A")]))
    second.step = "b"
    with pytest.raises(ConcurrentUpdateError):
        await store.save(
            second, outcome=TurnOutcome(Envelope("vk", "5", "e2"), [Outgoing(text="B")])
        )
    assert [r.replies[0].text for r in await delivery.pending("vk", "5")] == ["A"]
    assert not await store.was_processed("vk", "e2")  # its redelivery is handled afresh


async def test_a_turn_without_state_change_still_commits_its_replies(engine: AsyncEngine) -> None:
    store, delivery = _stores(engine)
    await delivery.receive("vk", [("e1", "5", "{}"), ("e2", "5", "{}"), ("e1", "5", "{}")])
    await store.record(TurnOutcome(Envelope("vk", "5", "e1"), [Outgoing(text="Ещё раз")]))
    assert [row.event_id for row in await delivery.unhandled("vk")] == ["e2"]
    await delivery.mark_handled("vk", "e2")
    assert await delivery.unhandled("vk") == []
    assert await store.was_processed("vk", "e2")
    assert [r.replies[0].text for r in await delivery.pending("vk", "5")] == ["Ещё раз"]
    await delivery.close()
