"""Alembic environment: runs on the connection handed in by advisor.storage.migrate, or on its own
engine (``alembic upgrade head`` from the command line, reading DATABASE_URL)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import advisor.storage.tracker_tables  # noqa: F401  (registers the tracker's tables)
from advisor.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from advisor.config import get_settings
    from advisor.storage.db import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_standalone())
