"""Russian text of an audit: readiness with the score and to-do, search visibility, content."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta, timezone

from advisor.audit.result import AuditResult, ItemOut, TodoOut
from advisor.knowledge.models import Knowledge
from advisor.morph import counted
from advisor.numbers import format_number
from advisor.texts import t

# Moscow has kept UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3))


def _r(key: str, **params: object) -> str:
    return t(f"audit.report.{key}", **params)


def item_line(item: ItemOut) -> str:
    return _r("item", mark=_r(f"mark.{item.status}"), title=item.title, evidence=item.evidence)


def readiness_text(result: AuditResult, knowledge: Knowledge) -> str:
    assert result.group is not None and result.score is not None
    lines = [
        _r("title", name=result.group.name, screen_name=result.group.screen_name),
        _r("score", score=result.score),
    ]
    missing_mandatory = [i.title for i in result.items if i.mandatory and i.status == "missing"]
    if missing_mandatory and result.score_cap is not None:
        titles = ", ".join(missing_mandatory)
        lines.append(_r("capped", cap=result.score_cap, titles=titles))
    if result.community_type:
        kind = knowledge.community_type(result.community_type).title.lower()
        lines.append(_r("type", type=kind))
    else:
        lines.append(_r("no_type"))
    blocks = ["\n".join(lines), "\n".join(item_line(item) for item in result.items)]
    blocks.append(todo_text(result))
    tailored = _tailored(result)
    if tailored:
        blocks.append("\n".join([_r("tailored_title"), *(f"• {line}" for line in tailored)]))
    return "\n\n".join(blocks)


def todo_text(result: AuditResult) -> str:
    questions = {item.id: item.question or "" for item in result.items}
    return todo_lines(result.todo, questions)


def todo_lines(todo: Sequence[TodoOut], questions: Mapping[str, str]) -> str:
    """The to-do list; an item VK does not show reads «Проверьте: …» with its question."""
    if not todo:
        return _r("todo_none")
    lines = [_r("todo_title")]
    for number, entry in enumerate(todo, start=1):
        gain = format_number(entry.gain, 0)
        if entry.status == "unknown":
            question = questions.get(entry.id, "")
            lines.append(
                _r("todo_check", number=number, title=entry.title, gain=gain, question=question)
            )
            continue
        if not entry.scored:
            lines.append(_r("todo_plain", number=number, title=entry.title, advice=entry.advice))
            continue
        line = _r("todo_item", number=number, title=entry.title, gain=gain, advice=entry.advice)
        if entry.mandatory:
            line += _r("todo_mandatory")
        lines.append(line)
    return "\n".join(lines)


def _tailored(result: AuditResult) -> list[str]:
    seen: list[str] = []
    for item in result.items:
        if item.tailored and item.tailored not in seen:
            seen.append(item.tailored)
    return seen


def search_text(result: AuditResult) -> str:
    s = result.search
    assert s is not None
    name_item = next((i for i in result.items if i.id == "name_keywords"), None)
    lines = [_r("search_title")]
    if name_item is not None:
        lines.append(_r("search_name", evidence=name_item.evidence))
    if s.description_has_phrase is False and s.description_has_city is False and not s.phrases:
        lines.append(_r("description_empty"))
    else:
        phrase = {True: "yes", False: "no", None: "unknown"}[s.description_has_phrase]
        city = "yes" if s.description_has_city else "no"
        lines.append(
            _r(
                "search_description",
                phrase=_r(f"description_phrase_{phrase}"),
                city=_r(f"description_city_{city}"),
            )
        )
    if s.phrase_source == "activity":
        lines.append(_r("phrases_from_activity"))
    lines.append(names_line(result))
    others = ", ".join(s.hashtag_alternatives) or "—"
    lines.append(_r("hashtag", hashtag=s.hashtag, others=others))
    if s.hashtags_in_use:
        lines.append(_r("hashtag_in_use", tags=", ".join(s.hashtags_in_use)))
    if s.general_hashtags:
        lines.append(_r("hashtag_general", count=s.general_hashtags))
    if s.default_address:
        lines.append(_r("hashtag_address"))
    return "\n".join(lines)


def names_line(result: AuditResult) -> str:
    s = result.search
    assert s is not None
    if s.suggested_names:
        return _r("names_title", names=", ".join(f"«{n}»" for n in s.suggested_names))
    if s.phrase_source != "owner":
        return _r("names_need_phrase")
    if not s.city and not s.name_has_person:
        return _r("names_need_city")
    return _r("names_none")


def content_text(result: AuditResult) -> str:
    c = result.content
    assert c is not None
    if c.posts_analyzed == 0:
        lines = [_r("content_title", count=0), _r("content_empty")]
    else:
        lines = [_r("content_title", count=c.posts_analyzed)]
        for entry in c.formats:
            params = {
                "format": capitalise(t(f"audit.formats.{entry.format}")),
                "share": format_number(entry.share_percent, 0),
                "posts": counted(entry.posts, t("audit.report.post_word")),
            }
            if entry.er_percent is not None:
                er = format_number(entry.er_percent, 2 if entry.er_percent < 1 else 1)
                lines.append(_r("content_format_er", er=er, **params))
            else:
                lines.append(_r("content_format", **params))
        if c.days_since_last_post is not None:
            days = round(c.days_since_last_post)
            word = t("audit.report.day_word")
            when = _r("today") if days == 0 else _r("days_ago", days=counted(days, word))
            if c.posts_per_week is not None:
                per_week = format_number(c.posts_per_week, 1)
                lines.append(_r("content_rhythm", per_week=per_week, when=when))
            else:
                lines.append(_r("content_rhythm_one", when=when))
    if c.suggestions:
        lines.append("")
        lines.append(_r("suggestions_title"))
        lines.extend(_r("suggestion", text=s.text) for s in c.suggestions)
    return "\n".join(lines)


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def report_parts(result: AuditResult, knowledge: Knowledge) -> list[str]:
    """The report as chat messages: readiness, search, content."""
    return [readiness_text(result, knowledge), search_text(result), content_text(result)]


def cli_text(result: AuditResult, knowledge: Knowledge) -> str:
    if result.error is not None:
        return result.error.message
    assert result.fetched_at is not None
    moment = result.fetched_at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")
    parts = [*report_parts(result, knowledge), _r("fetched", time=moment)]
    return "\n\n".join(parts)
