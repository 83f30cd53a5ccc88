"""The ``promo-advisor`` command. Each sub-command lives in its own module of this package.

A module registers itself with ``register(subparsers)`` and sets ``func`` (args -> exit code) on its
parser; modules are discovered, so adding a command touches no shared list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata

from advisor.texts import t


class RussianHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help in Russian, like the rest of the interface; the descriptions and the
    lists of environment variables keep their line breaks."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, t("cli.usage") if prefix is None else prefix)


def russify(parser: argparse.ArgumentParser) -> None:
    """Russian titles and help for what argparse adds by itself."""
    parser.formatter_class = RussianHelpFormatter
    parser._positionals.title = t("cli.positionals")
    parser._optionals.title = t("cli.options")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = t("cli.help")


def version() -> str:
    try:
        return metadata.version("promo-advisor")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promo-advisor",
        description=t("cli.description"),
        formatter_class=RussianHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"promo-advisor {version()}",
        help=t("cli.version"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title=t("cli.commands"))
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(sub)
    russify(parser)
    for command in sub.choices.values():
        russify(command)
    return parser


def environment_help(command: str) -> str:
    """The environment variables a command reads, for its --help."""
    return t(f"cli.env.{command}")


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
