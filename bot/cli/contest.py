"""`promo-advisor contest-check "TEXT" [--json]`: checks contest rules against the guide.

TEXT may be omitted or "-": the rules are read from stdin then.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from advisor.config import get_settings
from advisor.contest import check_contest, render_contest_report
from advisor.knowledge.loader import KnowledgeError, load_knowledge
from advisor.texts import t
from bot.logs import setup_logging

log = logging.getLogger(__name__)

# Far more than any contest post; the checker itself looks at the first ContestRules.max_chars.
_MAX_INPUT_CHARS = 1_000_000


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "contest-check",
        help="проверить условия конкурса на запрещённые ВК пункты",
        description="Проверяет условия конкурса или розыгрыша по правилам из гайда.",
    )
    parser.add_argument(
        "text", nargs="?", default="-", help='текст условий; "-" или пусто — читать из stdin'
    )
    parser.add_argument("--json", action="store_true", help="ответ в JSON")
    parser.set_defaults(func=run)


def _read_text(arg: str) -> str:
    if arg != "-":
        return arg
    data = sys.stdin.buffer.read(_MAX_INPUT_CHARS * 4)
    return data.decode("utf-8", errors="replace")[:_MAX_INPUT_CHARS]


def run(args: argparse.Namespace) -> int:
    setup_logging(get_settings().log_level, quiet=True)
    try:
        text = _read_text(args.text)
    except OSError as exc:
        log.warning("contest-check: cannot read the text: %s", exc)
        print(t("contest.cli.unreadable", reason=exc), file=sys.stderr)
        return 2
    if not text.strip():
        log.warning("contest-check: empty text")
        print(t("contest.cli.empty"), file=sys.stderr)
        return 2
    try:
        rules = load_knowledge().contest
    except KnowledgeError as exc:
        log.error("contest-check: knowledge base failed to load: %s", exc)
        print(t("contest.cli.knowledge_error"), file=sys.stderr)
        return 1
    report = check_contest(text, rules)
    if report.empty:
        log.warning("contest-check: the text has no words")
        print(t("contest.cli.empty"), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_contest_report(report))
    return 0
