"""Logging set-up for the processes; secrets are masked in every record as a last defence."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from advisor.config import get_settings

# Query strings and form bodies that carry a token: VK's access_token, Telegram's bot<token> path.
_PATTERNS = [
    re.compile(r"(access_token=)[^&\s\"']+"),
    re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"),
]


class SecretFilter(logging.Filter):
    """Replaces configured secrets and token-shaped fragments in log messages with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._mask(record.exc_text)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configured_secrets() -> list[str]:
    settings = get_settings()
    values = [
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.vk_group_token,
        settings.vk_service_token,
        settings.vk_user_token,
        settings.vk_callback_secret,
        settings.vk_callback_confirmation,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def setup_logging(level: str = "INFO", *, quiet: bool = False, file: Path | None = None) -> None:
    """Log to stderr; ``quiet`` (one-shot commands) shows only warnings. With ``file`` (the console
    chat) every record goes to that file instead and nothing to the terminal, where a log line
    would land in the middle of the conversation."""
    handler: logging.Handler
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(file, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()  # an unwritable folder must not stop the chat
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(configured_secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("WARNING" if quiet and file is None else level.upper())
    for noisy in ("aiosqlite", "sqlalchemy.engine", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
