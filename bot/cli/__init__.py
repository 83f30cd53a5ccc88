"""The ``promo-advisor`` command. Each sub-command lives in its own module of this package.

A module registers itself with ``register(subparsers)`` and sets ``func`` (args -> exit code) on its
parser; modules are discovered, so adding a command touches no shared list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promo-advisor",
        description="Promo Advisor: a coach for promoting a VK community.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(sub)
    return parser


def default_command() -> str:
    """The main job: a configured bot, or the console chat when no bot token is set."""
    from advisor.config import get_settings

    settings = get_settings()
    if settings.telegram_bot_token is not None:
        return "telegram"
    if settings.vk_group_token is not None:
        return "vk"
    return "chat"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([default_command()])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
