"""Turns knowledge items into plain Russian text (front-ends add their own formatting)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from advisor.knowledge.models import Block, Knowledge, Topic
from advisor.morph import lemmas
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


# Words that carry no subject: a statement restates another when their other words coincide.
_FILLER = frozenset(
    "и в во на с со не что по к а для от о об до из это как или у за же ли бы быть если при уже "
    "весь все она они он оно тот так без чтобы свой ваш наш вы мы".split()
)
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
# A summary sentence is not repeated when one body item says this share of its words, or the
# body and the screen's earlier cards together say this much of them.
SUMMARY_BY_ITEM = 0.4
SUMMARY_BY_ALL = 0.75
ITEM_REPEATED = 0.75  # a body item this much of which an earlier card said is left out
_STANDALONE = ("warning", "tips", "text")


def _content(text: str) -> frozenset[str]:
    return frozenset(w for w in lemmas(text) if w not in _FILLER and len(w) > 2)


def _covered(text: str, others: Iterable[str], share: float) -> bool:
    """Whether one of ``others`` says at least ``share`` of what ``text`` says (by lemmas)."""
    words = _content(text)
    if not words:
        return False
    return any(len(words & _content(other)) >= share * len(words) for other in others)


def _restated(sentence: str, body: list[str], earlier: list[str]) -> bool:
    words = _content(sentence)
    if not words:
        return False
    everything = frozenset().union(*(_content(text) for text in [*body, *earlier]))
    return _covered(sentence, body, SUMMARY_BY_ITEM) or len(
        words & everything
    ) >= SUMMARY_BY_ALL * len(words)


def render_topic(
    topic: Topic,
    profile_keys: list[str],
    tailored_title: str,
    *,
    profile_set: bool = False,
    said: list[str] | None = None,
) -> str:
    """A topic card: the title, the summary's sentences the body does not say again, the body.

    ``profile_set``: the blocks that tell how to choose the type and goal are left out.
    ``said``: what earlier cards of the same screen said; an item repeating one of them is left
    out (and this card's items are added to it)."""
    earlier = said if said is not None else []
    blocks = []
    for block in topic.blocks:
        if block.until_profile and profile_set:
            continue
        # An item of a list or under a title means something there («Что будет в отчёте:
        # охват»), so only standalone statements (warnings, tips, text) are dropped as said.
        standalone = block.kind in _STANDALONE and not block.title
        items = [
            item
            for item in block.items
            if not (standalone and _covered(item, earlier, ITEM_REPEATED))
        ]
        if items:
            blocks.append(block.model_copy(update={"items": items}))
    body = [item for block in blocks for item in block.items]
    summary = " ".join(
        sentence
        for sentence in _SENTENCE.split(topic.summary.strip())
        if sentence and not _restated(sentence, body, earlier)
    )
    earlier.extend(body)
    parts = [topic.title.upper(), summary]
    parts.extend(render_block(block) for block in blocks)
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


def lower_title(title: str) -> str:
    """A title inside a sentence: its first letter small, abbreviations kept («по любому ГЕО»)."""
    return title[:1].lower() + title[1:]


def render_verdict(verdict: Verdict, heading: Callable[[str], str]) -> str:
    """The verdict line, then each reason on its own line with the guide section it rests on."""
    lines = [heading(verdict.verdict), t("actions.reasons_title")]
    lines.extend(f"• {reason.text}" for reason in verdict.reasons)
    sections = list(dict.fromkeys(reason.section for reason in verdict.reasons))
    lines.extend(t("dialog.section_ref", section=section) for section in sections)
    return "\n".join(lines)
