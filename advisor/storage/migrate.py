"""Applies Alembic migrations and tells whether a database is up to date."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent


class SchemaOutdatedError(RuntimeError):
    """The database is not migrated to the code's revision."""


class DatabaseUnavailable(RuntimeError):
    """The database does not answer (wrong DATABASE_URL, server down, refused login)."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    except (OSError, DBAPIError) as exc:
        # The URL without its password; the driver's message says why (it names no secret).
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"{where}: {type(exc).__name__}: {exc}".strip()) from None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def ensure_schema(engine: AsyncEngine, *, auto_upgrade: bool) -> None:
    """Upgrade an embedded database in place; refuse a shared one that lags behind the code."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if auto_upgrade:
        await upgrade(engine)
        return
    raise SchemaOutdatedError(
        f"the database is at revision {current or 'none'}, the code needs {head}; "
        "run `promo-advisor migrate` first"
    )
