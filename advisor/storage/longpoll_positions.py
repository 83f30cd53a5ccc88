"""The VK Bots Long Poll position (``ts``) of each community, kept in the database.

It lives with the conversations it belongs to: a bot restarted or its container recreated asks
VK for what arrived while it was down instead of starting from "now". A position left in the
file of older versions (``vk-longpoll-<group>.json``) is read once when the database has none.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.storage.tables import vk_longpoll_positions as positions

log = logging.getLogger(__name__)


def _legacy_ts(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("VK long poll: ignoring the unreadable old position file %s: %s", path, exc)
        return None
    ts = state.get("ts") if isinstance(state, dict) else None
    return str(ts) if ts is not None else None


class LongPollPositions:
    def __init__(self, engine: AsyncEngine, group_id: int, legacy_file: Path | None = None) -> None:
        self.engine = engine
        self.group_id = group_id
        self.legacy_file = legacy_file

    async def load(self) -> str | None:
        query = select(positions.c.ts).where(positions.c.group_id == self.group_id)
        async with self.engine.connect() as connection:
            ts = (await connection.execute(query)).scalar()
        if ts is not None:
            return str(ts)
        legacy = _legacy_ts(self.legacy_file)
        if legacy is not None:
            log.info("VK long poll: continuing from the position in %s", self.legacy_file)
        return legacy

    async def save(self, ts: str) -> None:
        module = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        now = datetime.now(UTC)
        statement = module.insert(positions).values(group_id=self.group_id, ts=ts, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[positions.c.group_id], set_={"ts": ts, "updated_at": now}
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)
