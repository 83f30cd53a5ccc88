"""`promo-advisor export --user ID --format csv|xlsx --out FILE`: a person's placements table.

ID is ``<channel>:<id in that channel>``: ``telegram:12345`` (the Telegram user id),
``vk:678`` (the VK user id), ``console:local:anna`` (the console chat's user). The chat shows it
in «Учёт размещений» → «Выгрузить таблицу».
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from advisor.config import get_settings
from advisor.knowledge.loader import load_knowledge
from advisor.storage.db import create_engine
from advisor.storage.migrate import current_revision, head_revision
from advisor.texts import t
from advisor.tracker.export import FORMATS, Format, export
from advisor.tracker.repository import PlacementRepository
from bot.logs import setup_logging

CHANNELS = ("console", "telegram", "vk")


class ExportError(Exception):
    """Stops the command with a Russian message and an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        self.message = message
        self.code = code
        super().__init__(message)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="выгрузить таблицу размещений пользователя")
    parser.add_argument(
        "--user",
        required=True,
        help="ID пользователя: telegram:12345, vk:678 или console:local:имя",
    )
    parser.add_argument("--format", choices=FORMATS, required=True, help="csv или xlsx")
    parser.add_argument("--out", required=True, help="куда записать файл; «-» — в stdout")
    parser.set_defaults(func=run)


def parse_user(value: str) -> tuple[str, str]:
    channel, _, external_id = value.strip().partition(":")
    if channel not in CHANNELS or not external_id:
        raise ExportError(t("tracker.cli.bad_user", user=value))
    return channel, external_id


async def export_table(user: str, fmt: Format, database_url: str) -> tuple[bytes, int]:
    """The file's bytes and the number of rows in it."""
    channel, external_id = parse_user(user)
    engine = create_engine(database_url)
    try:
        current = await current_revision(engine)
        if current != head_revision():
            raise ExportError(t("tracker.cli.schema", revision=current or "—"))
        repo = PlacementRepository(engine)
        user_pk = await repo.find_user(channel, external_id)
        if user_pk is None:
            raise ExportError(t("tracker.cli.no_user", user=user))
        rows = await repo.list(user_pk)
    finally:
        await engine.dispose()
    data, _ = export(rows, load_knowledge().norms, fmt)
    return data, len(rows)


def write_file(out: str, data: bytes) -> None:
    """Write whole or not at all: a temporary file beside the target, then a rename."""
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(out).expanduser()
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        reason = exc.strerror or type(exc).__name__
        raise ExportError(t("tracker.cli.write_failed", path=out, error=reason), 1) from None


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    setup_logging(settings.log_level, quiet=True)
    try:
        data, count = asyncio.run(export_table(args.user, args.format, settings.database_url))
        write_file(args.out, data)
    except ExportError as exc:
        print(exc.message, file=sys.stderr)
        return exc.code
    if args.out != "-":
        print(t("tracker.cli.done", count=count, path=args.out))
    return 0
