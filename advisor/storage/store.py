"""Reads and writes the dialog state: one query loads a conversation, one transaction saves it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from advisor.storage.tables import (
    checklist_answers,
    conversations,
    processed_events,
    questionnaire_answers,
    users,
)

PROFILE_FIELDS = ("community_type", "goal", "community_link")


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
    checklist_writes: dict[tuple[str, str], str] = field(default_factory=dict)
    questionnaire_writes: dict[tuple[str, str], str] = field(default_factory=dict)
    checklist_resets: set[str] = field(default_factory=set)
    _loaded_profile: tuple[str | None, ...] = ()

    def profile_changed(self) -> bool:
        return self._loaded_profile != tuple(getattr(self, name) for name in PROFILE_FIELDS)


def _now() -> datetime:
    return datetime.now(UTC)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class ConversationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    def _upsert(self, table: Any, values: dict[str, Any], keys: list[str], update_cols: list[str]):
        module = postgresql if self._dialect == "postgresql" else sqlite
        stmt = module.insert(table).values(**values)
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={col: stmt.excluded[col] for col in update_cols}
        )

    async def load(self, channel: str, external_id: str) -> Conversation:
        query = (
            select(
                users.c.id,
                users.c.community_type,
                users.c.goal,
                users.c.community_link,
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
        conversation = Conversation(
            user_pk=row.id,
            channel=channel,
            external_id=external_id,
            community_type=row.community_type,
            goal=row.goal,
            community_link=row.community_link,
            scenario=row.scenario,
            step=row.step,
            data=json.loads(row.data) if row.data else {},
            version=row.version or 0,
        )
        conversation._loaded_profile = (row.community_type, row.goal, row.community_link)
        return conversation

    async def _create(self, channel: str, external_id: str) -> Conversation:
        now = _now()
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    insert(users).values(channel=channel, external_id=external_id, created_at=now)
                )
                user_pk = int(result.inserted_primary_key[0])
                await connection.execute(
                    insert(conversations).values(
                        user_id=user_pk, data="{}", version=0, updated_at=now
                    )
                )
        except IntegrityError:
            # Another worker created this person at the same moment: read theirs.
            return await self.load(channel, external_id)
        conversation = Conversation(
            user_pk=user_pk,
            channel=channel,
            external_id=external_id,
            community_type=None,
            goal=None,
            community_link=None,
            scenario=None,
            step=None,
            data={},
            version=0,
        )
        conversation._loaded_profile = (None, None, None)
        return conversation

    async def save(self, conversation: Conversation) -> None:
        now = _now()
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(conversations)
                .where(
                    and_(
                        conversations.c.user_id == conversation.user_pk,
                        conversations.c.version == conversation.version,
                    )
                )
                .values(
                    scenario=conversation.scenario,
                    step=conversation.step,
                    data=_dumps(conversation.data),
                    version=conversation.version + 1,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                raise ConcurrentUpdateError(f"conversation {conversation.user_pk} changed")
            if conversation.profile_changed():
                await connection.execute(
                    update(users)
                    .where(users.c.id == conversation.user_pk)
                    .values({name: getattr(conversation, name) for name in PROFILE_FIELDS})
                )
            await self._write_answers(connection, conversation, now)
        conversation.version += 1
        conversation._loaded_profile = tuple(getattr(conversation, n) for n in PROFILE_FIELDS)
        conversation.checklist_writes.clear()
        conversation.questionnaire_writes.clear()
        conversation.checklist_resets.clear()

    async def _write_answers(
        self, connection: AsyncConnection, conversation: Conversation, now: datetime
    ) -> None:
        for checklist_id in conversation.checklist_resets:
            await connection.execute(
                delete(checklist_answers).where(
                    and_(
                        checklist_answers.c.user_id == conversation.user_pk,
                        checklist_answers.c.checklist_id == checklist_id,
                    )
                )
            )
        for (checklist_id, item_id), answer in conversation.checklist_writes.items():
            await connection.execute(
                self._upsert(
                    checklist_answers,
                    {
                        "user_id": conversation.user_pk,
                        "checklist_id": checklist_id,
                        "item_id": item_id,
                        "answer": answer,
                        "updated_at": now,
                    },
                    ["user_id", "checklist_id", "item_id"],
                    ["answer", "updated_at"],
                )
            )
        for (questionnaire_id, question_id), answer in conversation.questionnaire_writes.items():
            await connection.execute(
                self._upsert(
                    questionnaire_answers,
                    {
                        "user_id": conversation.user_pk,
                        "questionnaire_id": questionnaire_id,
                        "question_id": question_id,
                        "answer": answer,
                        "updated_at": now,
                    },
                    ["user_id", "questionnaire_id", "question_id"],
                    ["answer", "updated_at"],
                )
            )

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

    async def mark_processed(self, channel: str, event_id: str) -> bool:
        """Record an incoming update; False when it was recorded before (a redelivery)."""
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(processed_events).values(
                        channel=channel, event_id=event_id[:96], processed_at=_now()
                    )
                )
        except IntegrityError:
            return False
        return True

    async def forget_processed_before(self, moment: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(processed_events).where(processed_events.c.processed_at < moment)
            )
        return int(result.rowcount or 0)
