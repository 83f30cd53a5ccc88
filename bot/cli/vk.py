"""`promo-advisor vk`: the bot in a VK community's messages (long poll, or Callback API)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from advisor.config import get_settings
from advisor.storage.migrate import DatabaseUnavailable, SchemaOutdatedError
from advisor.texts import t
from bot.cli import environment_help
from bot.logs import setup_logging


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "vk", help="бот в сообщениях сообщества ВКонтакте", epilog=environment_help("vk")
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.vk.runner import route_vkbottle_logs, run_vk

    settings = get_settings()
    setup_logging(settings.log_level)
    route_vkbottle_logs()
    try:
        return asyncio.run(run_vk(settings))
    except SchemaOutdatedError as exc:
        print(t("console.schema_outdated", details=exc), file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(t("console.database_unreachable", details=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
