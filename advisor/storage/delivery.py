"""The inbox and the outbox: no kill point loses an update or a reply.

* **Inbox.** A front-end stores each update (``receive``) before it tells the platform the update
  arrived (the Telegram ``getUpdates`` offset, the VK long poll ``ts``, the Callback API "ok").
* **Outbox.** A turn's replies are written in the transaction that commits its conversation
  state (``ConversationStore.save``), together with the update's "handled" marks (its inbox row
  and ``processed_events``). A sender then delivers a chat's rows in ``id`` order and marks each
  sent once the platform accepted it.
* **Restart.** Inbox rows still unhandled are handled again (a redelivery of a committed turn is
  recognised by ``processed_events``); outbox rows still unsent are sent.

A process killed between the platform accepting a message and its mark sends that message
again on restart: VK drops it by its ``random_id`` (derived from the row), Telegram shows it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from advisor.dialog.types import Outgoing
from advisor.storage.batching import GroupCommit
from advisor.storage.tables import inbox, outbox, processed_events

EVENT_ID_CHARS = 96
_REPLIES: TypeAdapter[list[Outgoing]] = TypeAdapter(list[Outgoing])

WriterTurn = Callable[[], contextlib.AbstractAsyncContextManager[object]]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Envelope:
    """Where a turn's replies go: the chat, the update that caused them (marked handled with the
    turn) and what the front-end needs to send them later (a VK keyboard mode, a page number,
    the Telegram message to edit)."""

    channel: str
    chat_id: str
    event_id: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnOutcome:
    """What a turn commits besides its state: its replies, addressed."""

    envelope: Envelope
    replies: Sequence[Outgoing]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    chat_id: str
    event_id: str | None
    replies: list[Outgoing]
    context: dict[str, Any]
    sent_parts: int


@dataclass(frozen=True)
class InboxRow:
    event_id: str
    chat_id: str | None
    body: str


def _insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def write_outcomes(
    connection: AsyncConnection, dialect: str, outcomes: Sequence[TurnOutcome], now: datetime
) -> None:
    """Inside a turn's transaction: the replies into the outbox, the update marked handled."""
    rows = [
        {
            "channel": o.envelope.channel,
            "chat_id": o.envelope.chat_id,
            "event_id": o.envelope.event_id[:EVENT_ID_CHARS] if o.envelope.event_id else None,
            "body": _REPLIES.dump_json(list(o.replies)).decode(),
            "context": json.dumps(dict(o.envelope.context), separators=(",", ":")),
            "sent_parts": 0,
            "created_at": now,
        }
        for o in outcomes
        if o.replies
    ]
    if rows:
        await connection.execute(insert(outbox), rows)
    events = {
        (o.envelope.channel, o.envelope.event_id[:EVENT_ID_CHARS])
        for o in outcomes
        if o.envelope.event_id
    }
    await mark_events_handled(connection, dialect, sorted(events), now)


async def mark_events_handled(
    connection: AsyncConnection, dialect: str, events: Sequence[tuple[str, str]], now: datetime
) -> None:
    if not events:
        return
    await connection.execute(
        _insert(dialect, processed_events).on_conflict_do_nothing(),
        [{"channel": c, "event_id": e, "processed_at": now} for c, e in events],
    )
    await connection.execute(
        update(inbox)
        .where(
            and_(
                inbox.c.channel == bindparam("b_channel"),
                inbox.c.event_id == bindparam("b_event"),
                inbox.c.handled_at.is_(None),
            )
        )
        .values(handled_at=now),
        [{"b_channel": c, "b_event": e} for c, e in events],
    )


class DeliveryStore:
    """The inbox and outbox reads and the writes outside a turn (group-committed)."""

    def __init__(self, engine: AsyncEngine, writer_turn: WriterTurn) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._writer_turn = writer_turn
        self._received: GroupCommit[tuple[str, str, str | None, str], None] = GroupCommit(
            self._insert_received
        )
        self._handled: GroupCommit[tuple[str, str], None] = GroupCommit(self._write_handled)
        self._sent: GroupCommit[tuple[int, int, bool], None] = GroupCommit(self._write_sent)

    # --- inbox ---------------------------------------------------------------------------------

    async def receive(self, channel: str, events: Sequence[tuple[str, str | None, str]]) -> None:
        """Store arrived updates (event id, chat, raw body) durably, in one transaction when
        they come together; a repeat is ignored."""
        await asyncio.gather(
            *(
                self._received.submit((channel, event_id[:EVENT_ID_CHARS], chat_id, body))
                for event_id, chat_id, body in events
            )
        )

    async def receive_one(
        self, channel: str, event_id: str, chat_id: str | None, body: str
    ) -> None:
        await self._received.submit((channel, event_id[:EVENT_ID_CHARS], chat_id, body))

    async def _insert_received(self, items: list[tuple[str, str, str | None, str]]) -> list[None]:
        now = _now()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for channel, event_id, chat_id, body in items:
            rows.setdefault(
                (channel, event_id),
                {
                    "channel": channel,
                    "event_id": event_id,
                    "chat_id": chat_id,
                    "body": body,
                    # A microsecond apart: the arrival order survives one batch's single moment.
                    "received_at": now + timedelta(microseconds=len(rows)),
                },
            )
        statement = _insert(self._dialect, inbox).on_conflict_do_nothing()
        async with self._writer_turn(), self.engine.begin() as connection:
            await connection.execute(statement, list(rows.values()))
        return [None] * len(items)

    async def unhandled(self, channel: str) -> list[InboxRow]:
        """The channel's updates stored but not handled, in arrival order."""
        query = (
            select(inbox.c.event_id, inbox.c.chat_id, inbox.c.body)
            .where(and_(inbox.c.channel == channel, inbox.c.handled_at.is_(None)))
            .order_by(inbox.c.received_at)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [InboxRow(row.event_id, row.chat_id, row.body) for row in rows]

    async def mark_handled(self, channel: str, event_id: str) -> None:
        """An update whose turn committed nothing (or was answered outside the dialog)."""
        await self._handled.submit((channel, event_id[:EVENT_ID_CHARS]))

    async def _write_handled(self, items: list[tuple[str, str]]) -> list[None]:
        async with self._writer_turn(), self.engine.begin() as connection:
            await mark_events_handled(connection, self._dialect, sorted(set(items)), _now())
        return [None] * len(items)

    # --- outbox --------------------------------------------------------------------------------

    async def pending(self, channel: str, chat_id: str) -> list[OutboxRow]:
        """The chat's replies not sent yet, oldest first."""
        query = (
            select(outbox)
            .where(
                and_(
                    outbox.c.channel == channel,
                    outbox.c.chat_id == chat_id,
                    outbox.c.sent_at.is_(None),
                )
            )
            .order_by(outbox.c.id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            OutboxRow(
                id=row.id,
                channel=row.channel,
                chat_id=row.chat_id,
                event_id=row.event_id,
                replies=_REPLIES.validate_json(row.body),
                context=json.loads(row.context or "{}"),
                sent_parts=row.sent_parts,
            )
            for row in rows
        ]

    async def pending_chats(
        self, channel: str, created_before: datetime | None = None
    ) -> list[str]:
        """The chats with unsent replies (created before a moment, when given)."""
        condition = and_(outbox.c.channel == channel, outbox.c.sent_at.is_(None))
        if created_before is not None:
            condition = and_(condition, outbox.c.created_at < created_before)
        first = func.min(outbox.c.id)
        query = select(outbox.c.chat_id).where(condition).group_by(outbox.c.chat_id).order_by(first)
        async with self.engine.connect() as connection:
            return [row.chat_id for row in (await connection.execute(query)).all()]

    async def mark_sent(self, row_id: int, parts: int, *, done: bool) -> None:
        """``parts`` platform messages of the row were accepted; ``done``: all of them."""
        await self._sent.submit((row_id, parts, done))

    async def _write_sent(self, items: list[tuple[int, int, bool]]) -> list[None]:
        now = _now()
        parts: dict[int, int] = {}
        done: set[int] = set()
        for row_id, count, finished in items:
            parts[row_id] = max(parts.get(row_id, 0), count)
            if finished:
                done.add(row_id)
        progress = (
            update(outbox)
            .where(outbox.c.id == bindparam("b_id"))
            .values(sent_parts=bindparam("b_parts"))
        )
        finish = update(outbox).where(outbox.c.id == bindparam("b_id")).values(sent_at=now)
        async with self._writer_turn(), self.engine.begin() as connection:
            partial = [{"b_id": k, "b_parts": v} for k, v in sorted(parts.items()) if v]
            if partial:
                await connection.execute(progress, partial)
            if done:
                await connection.execute(finish, [{"b_id": k} for k in sorted(done)])
        return [None] * len(items)

    # --- housekeeping --------------------------------------------------------------------------

    async def forget_before(self, moment: datetime) -> int:
        """Drop handled inbox rows and sent outbox rows older than ``moment``."""
        async with self._writer_turn(), self.engine.begin() as connection:
            handled = await connection.execute(
                delete(inbox).where(
                    and_(inbox.c.handled_at.is_not(None), inbox.c.handled_at < moment)
                )
            )
            sent = await connection.execute(
                delete(outbox).where(and_(outbox.c.sent_at.is_not(None), outbox.c.sent_at < moment))
            )
        return int(handled.rowcount or 0) + int(sent.rowcount or 0)

    async def close(self) -> None:
        await self._received.close()
        await self._handled.close()
        await self._sent.close()
