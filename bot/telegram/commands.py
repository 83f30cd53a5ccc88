"""The command menu Telegram shows next to the input field."""

from __future__ import annotations

from aiogram.types import BotCommand

from advisor.texts import t

COMMANDS = ("start", "menu", "help", "check", "audit", "contest", "track")


def bot_commands() -> list[BotCommand]:
    return [
        BotCommand(command=name, description=t(f"telegram.commands.{name}")) for name in COMMANDS
    ]
