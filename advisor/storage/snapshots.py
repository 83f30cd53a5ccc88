"""Public snapshots in the database (``public_snapshots``): the check's ``SnapshotStore``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import and_, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.storage.tables import public_snapshots
from advisor.vk.growth import Snapshot


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every moment here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DbSnapshots:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def previous(self, group_id: int, before: datetime) -> Snapshot | None:
        query = (
            select(public_snapshots)
            .where(
                and_(
                    public_snapshots.c.group_id == group_id,
                    public_snapshots.c.fetched_at <= before,
                )
            )
            .order_by(public_snapshots.c.fetched_at.desc(), public_snapshots.c.id.desc())
            .limit(1)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return Snapshot(
            group_id=row.group_id,
            members_count=row.members_count,
            metrics=json.loads(row.metrics),
            fetched_at=_aware(row.fetched_at),
        )

    async def add(self, snapshot: Snapshot) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(public_snapshots).values(
                    group_id=snapshot.group_id,
                    members_count=snapshot.members_count,
                    metrics=json.dumps(snapshot.metrics, separators=(",", ":")),
                    fetched_at=snapshot.fetched_at,
                )
            )
