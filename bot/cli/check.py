"""`promo-advisor check LINK [LINK ...] [--json] [--posts N] [--city NAME] [--sex female|male]
[--age MIN-MAX] [--my-group LINK] [--price RUBLES]`: is this public worth buying — for MY business?

Prints the same answer as the chat (several links: a comparison ranked best first), or with
``--json`` one JSON array with an object per link in input order. On a terminal, progress goes
to stderr. Exit codes: 0 every link analysed, 1 some link could not be (see its ``error``),
2 the check cannot run (no VK token, bad arguments).

The owner's target: ``--city`` means the goal is local (subscribers from that city); ``--sex``
and ``--age`` narrow the target audience; ``--my-group`` is the owner's own community (the
audience overlap); ``--price`` is what the admin asks for a post, the same for every link.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from advisor.config import Settings, get_settings
from advisor.knowledge.loader import KnowledgeError, load_knowledge
from advisor.texts import t
from advisor.vk.fit import OwnerTarget
from bot.logs import setup_logging

if TYPE_CHECKING:
    from advisor.vk.check import PublicResult
    from advisor.vk.growth import SnapshotStore

log = logging.getLogger(__name__)

MAX_LINKS = 50


def _posts(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("нужно целое число от 1 до 100") from None
    if not 1 <= number <= 100:
        raise argparse.ArgumentTypeError("нужно целое число от 1 до 100")
    return number


_AGE_RE = re.compile(r"^\s*(\d{1,3})\s*[-–—]\s*(\d{1,3})\s*$")


def _city(value: str) -> str:
    city = " ".join(value.split())
    if not city or len(city) > 100 or city.isdigit():
        raise argparse.ArgumentTypeError(t("check.cli.bad_city"))
    return city


def _age(value: str) -> tuple[int, int]:
    match = _AGE_RE.match(value)
    if match is None:
        raise argparse.ArgumentTypeError(t("check.cli.bad_age"))
    low, high = int(match.group(1)), int(match.group(2))
    if low > 120 or high > 120:
        raise argparse.ArgumentTypeError(t("check.cli.bad_age"))
    if low > high:
        raise argparse.ArgumentTypeError(t("check.cli.age_order", low=high, high=low))
    return low, high


def _price(value: str) -> float:
    text = value.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    text = text.removesuffix("₽").removesuffix("руб").removesuffix("р")
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("check.cli.bad_price")) from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(t("check.cli.bad_price"))
    return number


def _my_group(value: str) -> str:
    from advisor.vk.links import LinkError, parse_link

    try:
        parse_link(value)
    except LinkError as exc:
        raise argparse.ArgumentTypeError(t("check.cli.bad_my_group", why=exc.message)) from None
    return value.strip()


def target_from_args(args: argparse.Namespace) -> OwnerTarget | None:
    """The owner's target the flags give; None when none was given."""
    age: tuple[int, int] | None = args.age
    if not (args.city or args.sex or age or args.my_group):
        return None
    return OwnerTarget(
        city=args.city,
        local_goal=args.city is not None,
        sex=args.sex,
        age_min=age[0] if age else None,
        age_max=age[1] if age else None,
        my_group=args.my_group,
    )


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="проверить паблик ВК перед покупкой рекламы",
        description=(
            "Проверяет паблики ВКонтакте по нормам гайда: вовлеченность, охват, неактивные "
            "подписчики. Нужен VK_USER_TOKEN или VK_SERVICE_TOKEN."
        ),
    )
    parser.add_argument("links", nargs="+", metavar="LINK", help="ссылка на паблик")
    parser.add_argument("--json", action="store_true", help="ответ в JSON")
    parser.add_argument(
        "--posts", type=_posts, default=None, metavar="N", help="сколько последних постов считать"
    )
    parser.add_argument(
        "--city",
        type=_city,
        default=None,
        metavar="ГОРОД",
        help="ваш город: цель — подписчики из него (доля подписчиков из города в выводе)",
    )
    parser.add_argument(
        "--sex", choices=("female", "male"), default=None, help="пол вашей целевой аудитории"
    )
    parser.add_argument(
        "--age", type=_age, default=None, metavar="MIN-MAX", help="возраст целевой аудитории"
    )
    parser.add_argument(
        "--my-group",
        type=_my_group,
        default=None,
        metavar="ССЫЛКА",
        help="ваше сообщество: сколько подписчиков паблика уже в нём",
    )
    parser.add_argument(
        "--price",
        type=_price,
        default=None,
        metavar="РУБЛИ",
        help="сколько просит админ за пост (для цены тысячи просмотров)",
    )
    parser.set_defaults(func=run)


async def _check(
    settings: Settings,
    links: list[str],
    posts: int | None,
    show_progress: bool,
    target: OwnerTarget | None = None,
    price: float | None = None,
) -> list[PublicResult]:
    from advisor.vk.check import PublicChecker
    from advisor.vk.gateway import VkGateway

    async def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    async with VkGateway(settings) as vk, _snapshots(settings) as snapshots:
        checker = PublicChecker(
            settings, load_knowledge().norms, vk.reader, snapshots=snapshots, sampler=vk.sampler
        )
        return await checker.check(
            links,
            posts,
            progress if show_progress else None,
            target=target,
            prices=[price] * len(links) if price is not None else None,
        )


@asynccontextmanager
async def _snapshots(settings: Settings) -> AsyncIterator[SnapshotStore | None]:
    """The bot's database (``DATABASE_URL``) keeps a snapshot of each checked public, so the
    CLI's checks and the chat's see each other's growth. Without a usable database the check
    runs all the same, without growth."""
    from advisor.storage.db import create_engine, is_sqlite
    from advisor.storage.migrate import ensure_schema
    from advisor.storage.snapshots import DbSnapshots

    engine = create_engine(settings.database_url)
    store: SnapshotStore | None = None
    try:
        await ensure_schema(engine, auto_upgrade=is_sqlite(settings.database_url))
        store = DbSnapshots(engine)
    except Exception as exc:  # no database must never stop a check
        log.warning("check: public snapshots are not stored (%s)", type(exc).__name__)
    try:
        yield store
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    # Imported here: vkbottle takes a second to import, and every other command would pay it.
    from advisor.vk.render import cli_text

    settings = get_settings()
    setup_logging(settings.log_level, quiet=True)
    if settings.vk_check_token is None:
        log.warning("check: neither VK_USER_TOKEN nor VK_SERVICE_TOKEN is set")
        print(t("check.errors.no_token"), file=sys.stderr)
        return 2
    links: list[str] = args.links[:MAX_LINKS]
    if len(args.links) > MAX_LINKS:
        print(t("check.cli.too_many", limit=MAX_LINKS), file=sys.stderr)
    try:
        results = asyncio.run(
            _check(
                settings,
                links,
                args.posts,
                sys.stderr.isatty(),
                target_from_args(args),
                args.price,
            )
        )
    except KnowledgeError as exc:
        log.error("check: knowledge base failed to load: %s", exc)
        print(t("check.cli.broken_install"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if args.json:
        payload = [result.to_json_dict() for result in results]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(cli_text(results))
    return 0 if all(result.ok for result in results) else 1
