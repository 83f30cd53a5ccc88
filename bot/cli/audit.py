"""`promo-advisor audit LINK [--json] [--type T] [--goal G] [--niche "..."] [--city C]`.

Audits one's own VK community by the guide: readiness for ads (the «readiness» checklist), search
visibility (phrases and the city in the name and description, name suggestions, the unique
hashtag), the content mix. Prints the chat's report, or with ``--json`` one JSON object
``{"input", "group", "community_type", "score", "items", "search", "content", "todo", ...}``;
a link that cannot be audited gives ``{"input", "error": {"code", "message"}}`` with the public
check's codes. Exit codes: 0 audited, 1 the link could not be audited, 2 the audit cannot run
(no VK token, bad arguments).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING

from advisor.config import Settings, get_settings
from advisor.knowledge.loader import KnowledgeError, load_knowledge
from advisor.texts import t
from bot.logs import setup_logging

if TYPE_CHECKING:
    from advisor.audit.result import AuditResult

log = logging.getLogger(__name__)

COMMUNITY_TYPES = ("commercial", "creative", "brand", "events")
GOALS = ("local_subscribers", "sales_any_region", "small_active")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "audit",
        help="проверить свою группу ВК: готовность к рекламе, поиск, контент",
        description=(
            "Проверяет вашу группу ВКонтакте по руководству: оформление, поиск, контент, "
            "оценка из 100 и список дел. Нужен VK_USER_TOKEN или VK_SERVICE_TOKEN."
        ),
    )
    parser.add_argument("link", metavar="LINK", help="ссылка на вашу группу")
    parser.add_argument("--json", action="store_true", help="ответ в JSON")
    parser.add_argument(
        "--type",
        choices=COMMUNITY_TYPES,
        default=None,
        help="тип сообщества (от него зависят пункты и советы)",
    )
    parser.add_argument("--goal", choices=GOALS, default=None, help="цель продвижения")
    parser.add_argument(
        "--niche",
        default="",
        metavar="ФРАЗЫ",
        help="как вас ищут клиенты, через запятую: «салон красоты, стрижки»",
    )
    parser.add_argument("--city", default=None, metavar="ГОРОД", help="город, где вы работаете")
    parser.set_defaults(func=run)


async def _audit(settings: Settings, args: argparse.Namespace, progress: bool) -> AuditResult:
    from advisor.audit.search import split_phrases
    from advisor.audit.service import Auditor
    from advisor.vk.gateway import VkGateway

    async def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    city = " ".join((args.city or "").split())
    async with VkGateway(settings) as vk:
        return await Auditor(settings, vk.reader).audit(
            args.link,
            community_type=args.type,
            goal=args.goal,
            phrases=split_phrases(args.niche) if args.niche else (),
            city=city or None,
            progress=say if progress else None,
        )


def run(args: argparse.Namespace) -> int:
    # Imported here: vkbottle takes a second to import, and every other command would pay it.
    from advisor.audit.render import cli_text
    from advisor.audit.rules import AuditRulesError, load_rules

    settings = get_settings()
    setup_logging(settings.log_level, quiet=True)
    if settings.vk_check_token is None:
        log.warning("audit: neither VK_USER_TOKEN nor VK_SERVICE_TOKEN is set")
        print(t("audit.errors.no_token"), file=sys.stderr)
        return 2
    try:
        knowledge = load_knowledge()
        load_rules()
        result = asyncio.run(_audit(settings, args, sys.stderr.isatty()))
    except (KnowledgeError, AuditRulesError) as exc:
        log.error("audit: knowledge failed to load: %s", exc)
        print(t("check.cli.broken_install"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print(cli_text(result, knowledge))
    return 0 if result.ok else 1
