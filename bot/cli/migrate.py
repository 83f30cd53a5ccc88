"""`promo-advisor migrate`: applies the Alembic migrations to DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
import sys

from advisor.config import get_settings
from advisor.storage.db import create_engine
from advisor.storage.migrate import (
    DatabaseUnavailable,
    current_revision,
    head_revision,
    upgrade,
)
from advisor.texts import t
from bot.cli import environment_help
from bot.logs import setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "migrate", help="обновить схему базы данных", epilog=environment_help("migrate")
    )
    parser.set_defaults(func=run)


async def _migrate() -> str:
    engine = create_engine(get_settings().database_url)
    try:
        before = await current_revision(engine)
        if before == head_revision():
            return t("console.up_to_date", revision=before)
        await upgrade(engine)
        return t("console.migrated", revision=await current_revision(engine))
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    setup_logging(get_settings().log_level)
    try:
        print(asyncio.run(_migrate()))
    except DatabaseUnavailable as exc:
        print(t("console.database_unreachable", details=exc), file=sys.stderr)
        return 1
    return 0
