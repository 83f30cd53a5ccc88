"""Reads and writes the dialog state.

Saves are group-committed: turns that finish while a transaction is being written wait for the
next one, which writes all of them at once. A turn still returns only after its own state is
committed, so a crash never loses a reply's state, and the cost of a commit is shared.

Loads can be served from a small in-process cache of committed states. That is only safe while
this process is the database's sole writer (the embedded SQLite default), so the cache is off
unless asked for; a stale entry would still be caught by the version check on save.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from advisor.storage.batching import GroupCommit
from advisor.storage.delivery import TurnOutcome, write_outcomes
from advisor.storage.tables import (
    checklist_answers,
    conversations,
    processed_events,
    questionnaire_answers,
    users,
)

log = logging.getLogger(__name__)

# Both dialects spell INSERT … ON CONFLICT; each has its own Insert class for it.
DialectInsert = postgresql.Insert | sqlite.Insert

PROFILE_FIELDS = (
    "community_type",
    "goal",
    "community_link",
    "target_city",
    "target_sex",
    "target_age_min",
    "target_age_max",
)
ProfileValue = str | int | None


class ConcurrentUpdateError(RuntimeError):
    """Another worker saved the same conversation first; the turn must be retried."""


@dataclass
class Conversation:
    """A person's dialog state as loaded from the database, plus writes queued during a turn."""

    user_pk: int
    channel: str
    external_id: str
    community_type: str | None
    goal: str | None
    community_link: str | None
    scenario: str | None
    step: str | None
    data: dict[str, Any]
    version: int
    target_city: str | None = None
    """The owner's city as VK spells it (the fit of a public to a local goal)."""
    target_sex: str | None = None
    """``female`` or ``male``: the owner's customers mostly; None: both or not said."""
    target_age_min: int | None = None
    target_age_max: int | None = None
    checklist_writes: dict[tuple[str, str], str] = field(default_factory=dict)
    questionnaire_writes: dict[tuple[str, str], str] = field(default_factory=dict)
    checklist_resets: set[str] = field(default_factory=set)
    _loaded_profile: tuple[ProfileValue, ...] = ()

    def profile(self) -> tuple[ProfileValue, ...]:
        return tuple(getattr(self, name) for name in PROFILE_FIELDS)

    def profile_changed(self) -> bool:
        return self._loaded_profile != self.profile()


@dataclass(frozen=True)
class _Committed:
    """A committed state as the cache keeps it: immutable, turned into a fresh Conversation."""

    user_pk: int
    profile: tuple[ProfileValue, ...]
    scenario: str | None
    step: str | None
    data: str
    version: int


def _now() -> datetime:
    return datetime.now(UTC)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _conversation(channel: str, external_id: str, state: _Committed) -> Conversation:
    conversation = Conversation(
        user_pk=state.user_pk,
        channel=channel,
        external_id=external_id,
        community_type=None,
        goal=None,
        community_link=None,
        scenario=state.scenario,
        step=state.step,
        data=json.loads(state.data) if state.data else {},
        version=state.version,
    )
    for name, value in zip(PROFILE_FIELDS, state.profile, strict=True):
        setattr(conversation, name, value)
    conversation._loaded_profile = state.profile
    return conversation


@dataclass
class _Pending:
    conversation: Conversation | None  # None: a turn that changed no state
    data: str
    done: asyncio.Future[None]
    event: tuple[str, str] | None = None
    outcome: TurnOutcome | None = None


_UPDATE_CONVERSATION = (
    update(conversations)
    .where(
        and_(
            conversations.c.user_id == bindparam("b_user"),
            conversations.c.version == bindparam("b_version"),
        )
    )
    .values(
        scenario=bindparam("b_scenario"),
        step=bindparam("b_step"),
        data=bindparam("b_data"),
        version=bindparam("b_new_version"),
        updated_at=bindparam("b_now"),
    )
)


class ConversationStore:
    def __init__(self, engine: AsyncEngine, *, cache_size: int = 0) -> None:
        self.engine = engine
        self._dialect = engine.dialect
        self._cache: OrderedDict[tuple[str, str], _Committed] = OrderedDict()
        self._cache_size = cache_size
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._seen: GroupCommit[tuple[str, str], bool] = GroupCommit(self._insert_seen)
        self._newcomers: GroupCommit[tuple[str, str], int | None] = GroupCommit(
            self._insert_newcomers
        )
        # SQLite has one writer at a time and makes a waiting one sleep in growing steps; taking
        # turns here instead keeps the two batch writers from ever waiting on each other there.
        self._write_turn = asyncio.Lock() if self._dialect.name == "sqlite" else None

    # --- loading -------------------------------------------------------------------------------

    async def load(self, channel: str, external_id: str) -> Conversation:
        key = (channel, external_id)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return _conversation(channel, external_id, cached)
        query = (
            select(
                users.c.id,
                *(users.c[name] for name in PROFILE_FIELDS),
                conversations.c.scenario,
                conversations.c.step,
                conversations.c.data,
                conversations.c.version,
            )
            .select_from(users.outerjoin(conversations, conversations.c.user_id == users.c.id))
            .where(and_(users.c.channel == channel, users.c.external_id == external_id))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return await self._create(channel, external_id)
        state = _Committed(
            user_pk=row.id,
            profile=tuple(getattr(row, name) for name in PROFILE_FIELDS),
            scenario=row.scenario,
            step=row.step,
            data=row.data or "{}",
            version=row.version or 0,
        )
        self._remember(key, state)
        return _conversation(channel, external_id, state)

    async def _create(self, channel: str, external_id: str) -> Conversation:
        key = (channel, external_id)
        if self._write_turn is None:
            # PostgreSQL writes rows concurrently: a newcomer's own transaction waits for nobody.
            user_pk = (await self._insert_users([key])).get(key)
        else:
            # SQLite: group-committed like saves. One at a time, each newcomer of a crowd (a bot
            # just announced) held the single write turn, and everyone's saves queued behind.
            user_pk = await self._newcomers.submit(key)
        if user_pk is None:
            # Another worker created this person at the same moment: read theirs.
            return await self.load(channel, external_id)
        state = _Committed(user_pk, (None,) * len(PROFILE_FIELDS), None, None, "{}", 0)
        self._remember((channel, external_id), state)
        return _conversation(channel, external_id, state)

    async def _insert_newcomers(self, keys: list[tuple[str, str]]) -> list[int | None]:
        created = await self._insert_users(keys)
        return [created.get(key) for key in keys]

    async def _insert_users(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Insert the people not stored yet, each with an empty conversation; the primary keys
        of those this call inserted (a person someone else inserted first is left out)."""
        module = postgresql if self._dialect.name == "postgresql" else sqlite
        now = _now()
        new_users = (
            module.insert(users)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(users.c.id, users.c.channel, users.c.external_id)
        )
        async with self._writer_turn(), self.engine.begin() as connection:
            result = await connection.execute(
                new_users,
                [
                    {"channel": channel, "external_id": external_id, "created_at": now}
                    # One order for every writer: two batches never wait on each other's rows
                    # in opposite orders.
                    for channel, external_id in sorted(set(keys))
                ],
            )
            created = {(row.channel, row.external_id): int(row.id) for row in result}
            if created:
                await connection.execute(
                    insert(conversations),
                    [
                        {"user_id": user_pk, "data": "{}", "version": 0, "updated_at": now}
                        for user_pk in created.values()
                    ],
                )
        return created

    def _remember(self, key: tuple[str, str], state: _Committed) -> None:
        if self._cache_size <= 0:
            return
        self._cache[key] = state
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, channel: str, external_id: str) -> None:
        self._cache.pop((channel, external_id), None)

    # --- saving (group commit) -----------------------------------------------------------------

    def writer_turn(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Held around every write transaction (SQLite: one writer of this process at a time)."""
        return self._write_turn if self._write_turn is not None else contextlib.nullcontext()

    _writer_turn = writer_turn

    async def save(
        self,
        conversation: Conversation,
        data_json: str | None = None,
        *,
        event: tuple[str, str] | None = None,
        outcome: TurnOutcome | None = None,
    ) -> None:
        """Commit the conversation; raises ConcurrentUpdateError if it changed meanwhile.

        ``data_json`` is ``conversation.data`` already serialised, when the caller has it.
        ``event`` (channel, update id) is recorded as processed in the same transaction;
        ``outcome``'s replies go into the outbox there too, and its update is marked handled.
        """
        data = data_json if data_json is not None else dumps(conversation.data)
        done = self._enqueue(_Pending(conversation, data, self._future(), event, outcome))
        try:
            await done
        except ConcurrentUpdateError:
            self.forget(conversation.channel, conversation.external_id)
            raise
        self._after_commit(conversation, data)

    async def record(self, outcome: TurnOutcome) -> None:
        """Commit a turn that changed no state: its replies and its update's handled mark."""
        await self._enqueue(_Pending(None, "", self._future(), None, outcome))

    @staticmethod
    def _future() -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()

    def _enqueue(self, item: _Pending) -> asyncio.Future[None]:
        self._queue.append(item)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop())
        return item.done

    def _after_commit(self, conversation: Conversation, data: str) -> None:
        conversation.version += 1
        conversation._loaded_profile = conversation.profile()
        conversation.checklist_writes.clear()
        conversation.questionnaire_writes.clear()
        conversation.checklist_resets.clear()
        self._remember(
            (conversation.channel, conversation.external_id),
            _Committed(
                conversation.user_pk,
                conversation.profile(),
                conversation.scenario,
                conversation.step,
                data,
                conversation.version,
            ),
        )

    async def _write_loop(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write_batch(batch)
            except _BatchConflict:
                # Some row lost a race: write them one by one to tell the losers apart.
                for item in batch:
                    await self._write_single(item)
            except Exception as exc:
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
            else:
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)

    async def _write_single(self, item: _Pending) -> None:
        try:
            await self._write_batch([item])
        except _BatchConflict:
            user = item.conversation.user_pk if item.conversation is not None else None
            item.done.set_exception(ConcurrentUpdateError(f"conversation {user} changed"))
        except Exception as exc:
            item.done.set_exception(exc)
        else:
            item.done.set_result(None)

    async def _write_batch(self, batch: list[_Pending]) -> None:
        now = _now()
        states = [item.conversation for item in batch if item.conversation is not None]
        rows = [
            {
                "b_user": item.conversation.user_pk,
                "b_version": item.conversation.version,
                "b_scenario": item.conversation.scenario,
                "b_step": item.conversation.step,
                "b_data": item.data,
                "b_new_version": item.conversation.version + 1,
                "b_now": now,
            }
            for item in batch
            if item.conversation is not None
        ]
        async with self._writer_turn(), self.engine.begin() as connection:
            if not rows:
                updated = 0
            elif self._dialect.supports_sane_multi_rowcount or len(rows) == 1:
                result = await connection.execute(_UPDATE_CONVERSATION, rows)
                updated = result.rowcount
            else:
                updated = 0
                for row in rows:
                    updated += (await connection.execute(_UPDATE_CONVERSATION, row)).rowcount
            if updated != len(rows):
                raise _BatchConflict
            for conversation in states:
                if conversation.profile_changed():
                    await connection.execute(
                        update(users)
                        .where(users.c.id == conversation.user_pk)
                        .values(dict(zip(PROFILE_FIELDS, conversation.profile(), strict=True)))
                    )
            await self._write_answers(connection, states, now)
            events = {item.event for item in batch if item.event is not None}
            if events:
                await connection.execute(
                    self._insert_seen_statement().on_conflict_do_nothing(),
                    [
                        {"channel": channel, "event_id": event_id[:96], "processed_at": now}
                        for channel, event_id in events
                    ],
                )
            outcomes = [item.outcome for item in batch if item.outcome is not None]
            if outcomes:
                await write_outcomes(connection, self._dialect.name, outcomes, now)

    def _dialect_insert(self, table: Table) -> DialectInsert:
        if self._dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _upsert(self, table: Table, keys: list[str], update_cols: list[str]) -> DialectInsert:
        stmt = self._dialect_insert(table)
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={col: stmt.excluded[col] for col in update_cols}
        )

    async def _write_answers(
        self, connection: AsyncConnection, batch: list[Conversation], now: datetime
    ) -> None:
        for conversation in batch:
            for checklist_id in conversation.checklist_resets:
                await connection.execute(
                    delete(checklist_answers).where(
                        and_(
                            checklist_answers.c.user_id == conversation.user_pk,
                            checklist_answers.c.checklist_id == checklist_id,
                        )
                    )
                )
        checklist_rows = [
            {
                "user_id": c.user_pk,
                "checklist_id": checklist_id,
                "item_id": item_id,
                "answer": answer,
                "updated_at": now,
            }
            for c in batch
            for (checklist_id, item_id), answer in c.checklist_writes.items()
        ]
        if checklist_rows:
            await connection.execute(
                self._upsert(
                    checklist_answers,
                    ["user_id", "checklist_id", "item_id"],
                    ["answer", "updated_at"],
                ),
                checklist_rows,
            )
        questionnaire_rows = [
            {
                "user_id": c.user_pk,
                "questionnaire_id": questionnaire_id,
                "question_id": question_id,
                "answer": answer,
                "updated_at": now,
            }
            for c in batch
            for (questionnaire_id, question_id), answer in c.questionnaire_writes.items()
        ]
        if questionnaire_rows:
            await connection.execute(
                self._upsert(
                    questionnaire_answers,
                    ["user_id", "questionnaire_id", "question_id"],
                    ["answer", "updated_at"],
                ),
                questionnaire_rows,
            )

    async def close(self) -> None:
        """Wait for queued saves to be written."""
        await self._newcomers.close()
        await self._seen.close()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer

    # --- other reads and writes ----------------------------------------------------------------

    async def checklist_answers(self, user_pk: int, checklist_id: str) -> dict[str, str]:
        query = select(checklist_answers.c.item_id, checklist_answers.c.answer).where(
            and_(
                checklist_answers.c.user_id == user_pk,
                checklist_answers.c.checklist_id == checklist_id,
            )
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.item_id: row.answer for row in rows}

    async def questionnaire_answers(self, user_pk: int, questionnaire_id: str) -> dict[str, str]:
        query = select(questionnaire_answers.c.question_id, questionnaire_answers.c.answer).where(
            and_(
                questionnaire_answers.c.user_id == user_pk,
                questionnaire_answers.c.questionnaire_id == questionnaire_id,
            )
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.question_id: row.answer for row in rows}

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(select(1))
        except Exception as exc:  # any driver error means "not reachable now"
            log.warning("database ping failed: %s", type(exc).__name__)
            return False
        return True

    async def mark_processed(self, channel: str, event_id: str) -> bool:
        """Record an incoming update; False when it was recorded before (a redelivery).

        Group-committed like saves: a burst of updates costs one write transaction.
        """
        return await self._seen.submit((channel, event_id[:96]))

    def _insert_seen_statement(self) -> DialectInsert:
        return self._dialect_insert(processed_events)

    async def was_processed(self, channel: str, event_id: str) -> bool:
        """Whether a turn for this update was committed (or, without Redis, it arrived)."""
        query = select(processed_events.c.event_id).where(
            and_(
                processed_events.c.channel == channel,
                processed_events.c.event_id == event_id[:96],
            )
        )
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).first() is not None

    async def _insert_seen(self, keys: list[tuple[str, str]]) -> list[bool]:
        """Per key, whether it was new. The same id twice in one batch: the first is new, the
        second a redelivery."""
        inserted = await self._insert_seen_rows(keys)
        results = []
        for key in keys:
            results.append(key in inserted)
            inserted.discard(key)
        return results

    async def _insert_seen_rows(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        stmt = (
            self._insert_seen_statement()
            .on_conflict_do_nothing()
            .returning(processed_events.c.channel, processed_events.c.event_id)
        )
        now = _now()
        rows = [
            {"channel": channel, "event_id": event_id, "processed_at": now}
            for channel, event_id in dict.fromkeys(keys)
        ]
        async with self._writer_turn(), self.engine.begin() as connection:
            result = await connection.execute(stmt, rows)
            return {(row.channel, row.event_id) for row in result}

    async def forget_processed_before(self, moment: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(processed_events).where(processed_events.c.processed_at < moment)
            )
        return int(result.rowcount or 0)


class _BatchConflict(Exception):
    """A batch's version check failed for at least one row."""
