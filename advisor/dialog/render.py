"""Turns knowledge items into plain Russian text (front-ends add their own formatting)."""

from __future__ import annotations

from collections.abc import Callable

from advisor.knowledge.models import Block, Knowledge, Topic
from advisor.texts import t
from advisor.verdicts import Verdict

_BLOCK_MARKS = {
    "list": "•",
    "pros": "＋",
    "cons": "−",
    "tips": "•",
    "warning": "⚠",
}


def render_block(block: Block) -> str:
    lines: list[str] = []
    if block.title:
        lines.append(block.title)
    if block.kind == "steps":
        lines.extend(f"{n}. {item}" for n, item in enumerate(block.items, start=1))
    elif block.kind in ("text", "example", "template"):
        if block.kind == "template":
            lines.extend(f"«{item}»" for item in block.items)
        else:
            lines.extend(block.items)
    else:
        mark = _BLOCK_MARKS[block.kind]
        lines.extend(f"{mark} {item}" for item in block.items)
    return "\n".join(lines)


def tailored_lines(topic: Topic, profile_keys: list[str]) -> list[str]:
    return [topic.tailored[key] for key in profile_keys if key in topic.tailored]


def render_topic(topic: Topic, profile_keys: list[str], tailored_title: str) -> str:
    parts = [topic.title.upper(), topic.summary]
    parts.extend(render_block(block) for block in topic.blocks)
    extra = tailored_lines(topic, profile_keys)
    if extra:
        parts.append("\n".join([tailored_title, *(f"• {line}" for line in extra)]))
    return "\n\n".join(part for part in parts if part)


def profile_titles(
    knowledge: Knowledge, community_type: str | None, goal: str | None
) -> tuple[str | None, str | None]:
    type_title = knowledge.community_type(community_type).title if community_type else None
    goal_title = knowledge.goal(goal).title if goal else None
    return type_title, goal_title


def render_verdict(verdict: Verdict, heading: Callable[[str], str]) -> str:
    """The verdict line, then each reason on its own line with the guide section it rests on."""
    lines = [heading(verdict.verdict), t("actions.reasons_title")]
    lines.extend(f"• {reason.text}" for reason in verdict.reasons)
    sections = list(dict.fromkeys(reason.section for reason in verdict.reasons))
    lines.extend(t("dialog.section_ref", section=section) for section in sections)
    return "\n".join(lines)
