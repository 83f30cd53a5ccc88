"""`promo-advisor telegram`: the Telegram bot (long polling, or a webhook server)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from urllib.parse import urlsplit

from advisor.config import get_settings
from advisor.storage.migrate import DatabaseUnavailable, SchemaOutdatedError
from advisor.texts import t
from bot.cli import environment_help
from bot.logs import setup_logging

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "telegram",
        help="Telegram-бот (long polling; webhook, если задан TELEGRAM_WEBHOOK_URL)",
        epilog=environment_help("telegram"),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
    from aiogram.utils.token import TokenValidationError, validate_token

    from bot.telegram.runner import run_telegram

    settings = get_settings()
    setup_logging(settings.log_level)
    if settings.telegram_bot_token is None:
        print(t("telegram.no_token"), file=sys.stderr)
        return 2
    try:
        validate_token(settings.telegram_bot_token.get_secret_value())
    except TokenValidationError:
        print(t("telegram.bad_token"), file=sys.stderr)
        return 2
    webhook = settings.telegram_webhook_url
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        print(t("telegram.bad_webhook_url", url=webhook), file=sys.stderr)
        return 2
    if webhook and settings.redis_url and settings.telegram_webhook_secret is None:
        # Replicas (they share Redis) must share the secret: each one's setWebhook replaces it.
        print(t("telegram.webhook_secret_required"), file=sys.stderr)
        return 2
    try:
        return asyncio.run(run_telegram(settings))
    except SchemaOutdatedError as exc:
        print(t("console.schema_outdated", details=exc), file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(t("console.database_unreachable", details=exc), file=sys.stderr)
        return 1
    except TelegramUnauthorizedError:
        print(t("telegram.unauthorized"), file=sys.stderr)
        return 2
    except TelegramAPIError as exc:  # network errors included
        # The details go through the log, whose filter masks the token in request URLs.
        log.error("Telegram Bot API failed at start-up: %s: %s", type(exc).__name__, exc)
        print(t("telegram.api_unreachable", url=settings.telegram_api_url), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
