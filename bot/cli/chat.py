"""`promo-advisor chat`: the console chat (also what `promo-advisor` alone runs)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from advisor.config import get_settings
from advisor.storage.migrate import DatabaseUnavailable, SchemaOutdatedError
from advisor.texts import t
from bot.logs import setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="чат с советником в консоли")
    parser.add_argument("--user", help="id собеседника (по умолчанию — имя пользователя ОС)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.console import log_file, run_console

    settings = get_settings()
    setup_logging(settings.log_level, file=log_file(settings))
    try:
        return asyncio.run(run_console(settings, args.user))
    except SchemaOutdatedError as exc:
        print(t("console.schema_outdated", details=exc), file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(t("console.database_unreachable", details=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
