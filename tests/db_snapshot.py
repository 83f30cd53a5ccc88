"""Every row of a database, to tell what a test's inputs changed and what they left alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection

from advisor.storage.db import create_engine

# Rows that change by design whatever the input: the record of delivered update ids.
IGNORED_TABLES = frozenset({"processed_events"})

Snapshot = dict[str, list[tuple[Any, ...]]]


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def _read(connection: Connection, metadata: MetaData | None = None) -> Snapshot:
    if metadata is None:
        metadata = _reflect(connection)
    tables: Snapshot = {}
    for table in metadata.sorted_tables:
        if table.name in IGNORED_TABLES:
            continue
        rows = connection.execute(select(table)).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def reflect(database_url: str) -> MetaData:
    """The database's tables, to take many snapshots of a schema that stays put: reflecting
    them costs far more than reading their rows."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_reflect)
    finally:
        await engine.dispose()


async def snapshot(database_url: str, tables: MetaData | None = None) -> Snapshot:
    """Every row; of ``tables`` (from ``reflect``) if given, else of the tables there now."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_read, tables)
    finally:
        await engine.dispose()


def user_ids(state: Snapshot, channel: str, external_ids: Iterable[str]) -> dict[str, int]:
    """users.id of each person (channel, external_id) that exists."""
    wanted = set(external_ids)
    # users: id, channel, external_id, ... (the table's column order)
    return {
        row[2]: row[0] for row in state.get("users", []) if row[1] == channel and row[2] in wanted
    }


def rows_of(state: Snapshot, user_id: int, columns: dict[str, int]) -> Snapshot:
    """The rows that belong to one person: ``columns`` names the user_id column per table."""
    mine: Snapshot = {}
    for table, rows in state.items():
        if table == "users":
            mine[table] = [row for row in rows if row[0] == user_id]
        elif table in columns:
            mine[table] = [row for row in rows if row[columns[table]] == user_id]
    return mine


def user_columns(database_url_tables: Iterable[tuple[str, list[str]]]) -> dict[str, int]:
    return {
        table: names.index("user_id") for table, names in database_url_tables if "user_id" in names
    }


async def column_names(database_url: str) -> list[tuple[str, list[str]]]:
    engine = create_engine(database_url)

    def read(connection: Connection) -> list[tuple[str, list[str]]]:
        metadata = MetaData()
        metadata.reflect(connection)
        return [(t.name, [c.name for c in t.columns]) for t in metadata.sorted_tables]

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()
