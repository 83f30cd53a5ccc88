"""The audit in the dialog (scenario ``audit`` in ``knowledge/ru/scenarios_audit.yaml``).

«Проверь мою группу» opens the scenario. With a community link remembered from an earlier audit
(``conversation.community_link``) the audit runs at once; otherwise the person sends the link.
The report is three messages (readiness with the score and to-do, search, content); its buttons
lead to the questions about what VK does not show and to the name suggestions.

The questions are asked one by one for exactly the items the audit could not see, at the input
step ``answer``: its «Да/Нет/Не знаю» buttons answer it (their position is the question's number,
so an old message's button cannot answer a later question), and so does a typed answer.
Answers are written to the ``readiness`` checklist, so the
«Подготовить сообщество» to-do agrees with the audit. The report's and the questions' own buttons
sit on the message before the last, because the engine gives the last message of a step the
step's buttons (here only «Назад» and «Меню»).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advisor.audit.readiness import Status, merge_status
from advisor.audit.render import report_parts, todo_lines
from advisor.audit.result import AuditResult
from advisor.audit.rules import checklist_items, load_rules
from advisor.audit.score import FORMATS_TODO, compute_score, formats_todo, is_mandatory, todo_list
from advisor.audit.search import analyse_search, display_city, split_phrases
from advisor.config import Settings
from advisor.dialog.engine import Action, ActionContext
from advisor.dialog.types import Button, Outgoing
from advisor.morph import words
from advisor.texts import t
from advisor.texts import words as word_list

if TYPE_CHECKING:
    from advisor.audit.service import Auditor

log = logging.getLogger(__name__)

DATA_KEY = "audit"
CHECKLIST = "readiness"
DESCRIPTION_KEPT = 2000  # the name suggestions read the description; longer ones are cut
ANSWERS = ("yes", "no", "unsure")
# The portrait is made in the «audience» questionnaire; half its questions answered is a portrait.
PORTRAIT_ITEM, PORTRAIT_QUESTIONNAIRE = "audience_portrait", "audience"
# A question's button carries its number too («no3»), so an old message's button cannot answer
# a later question.
_ANSWER_VALUE = re.compile(r"^(yes|no|unsure)(\d{1,3})$")
# Outcomes the commands report; the scenario file says where each leads.
NO_AUDIT, NEED_CITY, OFF = "no_audit", "need_city", "off"
MAX_CITY_CHARS = 60


def _d(key: str, **params: object) -> str:
    return t(f"audit.dialog.{key}", **params)


def parse_answer(text: str) -> str | None:
    lowered = " ".join(text.lower().strip(" .!").split())
    return next((value for value in ANSWERS if lowered in word_list(f"dialog.words.{value}")), None)


class AuditActions:
    def __init__(self, auditor: Auditor | None) -> None:
        self.auditor = auditor

    def actions(self) -> dict[str, Action]:
        return {
            "audit_start": self.start,
            "audit_run": self.run,
            "audit_ask": self.ask,
            "audit_answer": self.answer,
            "audit_niche": self.niche,
            "audit_city": self.city,
        }

    # --- state ---------------------------------------------------------------------------------

    @staticmethod
    def state(ctx: ActionContext) -> dict[str, Any]:
        return ctx.state.features.get(DATA_KEY) or {}

    @staticmethod
    def button(ctx: ActionContext, label: str, step_id: str) -> Button:
        return ctx.goto_button(label, step_id)

    @staticmethod
    async def answers(ctx: ActionContext) -> dict[str, str]:
        """The owner's readiness answers: stored ones and this turn's. A portrait the owner
        made in «Найти целевую аудиторию» counts as done unless they said otherwise."""
        conv = ctx.conversation
        answers = await ctx.store.checklist_answers(conv.user_pk, CHECKLIST)
        answers.update(
            {
                item: value
                for (cid, item), value in conv.checklist_writes.items()
                if cid == CHECKLIST
            }
        )
        if PORTRAIT_ITEM not in answers:
            questionnaire = ctx.knowledge.questionnaire(PORTRAIT_QUESTIONNAIRE)
            given = await ctx.store.questionnaire_answers(conv.user_pk, questionnaire.id)
            if 2 * len(given) >= len(questionnaire.questions):
                answers[PORTRAIT_ITEM] = "yes"
        return answers

    # --- the audit -----------------------------------------------------------------------------

    async def start(self, ctx: ActionContext) -> list[Outgoing]:
        """Entering the scenario: audit the remembered group, or ask for the link."""
        if self.auditor is None:
            ctx.outcome = OFF
            return [Outgoing(text=_d("not_configured"))]
        link = ctx.conversation.community_link
        if not link:
            return [Outgoing(text=_d("link_prompt"))]
        return await self.report(ctx, link, [Outgoing(text=_d("remembered", link=link))])

    async def run(self, ctx: ActionContext) -> list[Outgoing]:
        """A link typed at the «link» step."""
        if self.auditor is None:
            ctx.outcome = OFF
            return [Outgoing(text=_d("not_configured"))]
        return await self.report(ctx, ctx.text, [])

    async def report(self, ctx: ActionContext, link: str, notes: list[Outgoing]) -> list[Outgoing]:
        assert self.auditor is not None
        conv = ctx.conversation
        previous = self.state(ctx)
        result = await self.auditor.audit(
            link,
            community_type=conv.community_type,
            goal=conv.goal,
            phrases=previous.get("phrases") or (),
            city=previous.get("city"),
            answers=await self.answers(ctx),
            progress=ctx.progress,
        )
        if result.error is not None:
            return [*notes, Outgoing(text=result.error.message)]
        assert result.group is not None
        conv.community_link = result.group.link
        self.remember(ctx, result, previous)
        parts = [Outgoing(text=text) for text in report_parts(result, ctx.knowledge)]
        rows = []
        unknown = [item for item in result.items if item.status == "unknown"]
        if unknown:
            rows.append([self.button(ctx, _d("button_ask"), "ask")])
        rows.append([self.button(ctx, _d("button_names"), "niche")])
        parts[-1] = parts[-1].model_copy(update={"buttons": rows})
        return [*notes, *parts, Outgoing(text=_d("other_link"))]

    def remember(
        self, ctx: ActionContext, result: AuditResult, previous: Mapping[str, Any]
    ) -> None:
        """What the later steps need, without another VK request."""
        assert result.group is not None
        group = result.group
        ctx.state.features[DATA_KEY] = {
            "name": group.name,
            "screen": group.screen_name,
            "description": result.description[:DESCRIPTION_KEPT],
            "vk_city": group.city,
            "activity": group.activity,
            # What VK showed, before the owner's answers: those are merged again at the end.
            "statuses": {
                item.id: "unknown" if item.source == "owner" else item.status
                for item in result.items
            },
            "ask": [item.id for item in result.items if item.status == "unknown"],
            "pos": 0,
            "before": result.score,
            "one_format": _one_format(result),
            "phrases": list(previous.get("phrases") or []),
            "city": previous.get("city"),
        }
        if group.city and "city" not in ctx.state.owner:
            ctx.state.owner["city"] = group.city

    # --- the questions -------------------------------------------------------------------------

    def question(self, ctx: ActionContext, state: Mapping[str, Any]) -> list[Outgoing]:
        """The current question with its answer buttons, then the hint (the step's last line)."""
        ask: list[str] = state["ask"]
        position: int = state["pos"]
        items = ctx.knowledge.checklist(CHECKLIST).items
        question = next(i.question for i in items if i.id == ask[position])
        text = _d("ask_item", number=position + 1, total=len(ask), question=question)
        row = [
            ctx.answer_button(_d(f"button_{value}"), f"{value}{position}", step="answer")
            for value in ANSWERS
        ]
        return [Outgoing(text=text, buttons=[row]), Outgoing(text=_d("ask_hint"))]

    async def ask(self, ctx: ActionContext) -> list[Outgoing]:
        """«Ответить на вопросы»: the items the audit could not see, from the first."""
        state = self.state(ctx)
        if not state:
            ctx.outcome = NO_AUDIT
            return [Outgoing(text=_d("no_audit"))]
        if not state.get("ask"):
            ctx.outcome = NO_AUDIT
            return [Outgoing(text=_d("ask_nothing")), Outgoing(text=_d("other_link"))]
        state["pos"] = 0
        intro = Outgoing(text=_d("ask_intro", count=len(state["ask"])))
        return [intro, *self.question(ctx, state)]

    async def answer(self, ctx: ActionContext) -> list[Outgoing]:
        """A pressed «Да/Нет/Не знаю» (a relay step) or a typed answer (the «answer» step)."""
        state = self.state(ctx)
        ask = state.get("ask") or []
        position = state.get("pos", 0)
        if not state or not isinstance(position, int) or position >= len(ask):
            # Typed after the questions ended: nothing is left to answer.
            ctx.outcome = NO_AUDIT
            return [Outgoing(text=_d("ask_nothing")), Outgoing(text=_d("other_link"))]
        value = parse_answer(ctx.text)
        if ctx.answer is not None:
            pressed = _ANSWER_VALUE.match(ctx.answer)
            if pressed is None or int(pressed.group(2)) != position:
                return [Outgoing(text=t("dialog.stale_button")), *self.question(ctx, state)]
            value = pressed.group(1)
        if value is None:
            return [Outgoing(text=_d("ask_not_understood")), *self.question(ctx, state)]
        ctx.conversation.checklist_writes[(CHECKLIST, ask[position])] = value
        state["pos"] = position + 1
        if state["pos"] < len(ask):
            return self.question(ctx, state)
        ctx.outcome = NO_AUDIT  # the questions are over: a link is what comes next
        summary = await self.summary(ctx, state)
        summary = summary.model_copy(
            update={"buttons": [[self.button(ctx, _d("button_names"), "niche")]]}
        )
        return [Outgoing(text=_d("ask_done")), summary, Outgoing(text=_d("other_link"))]

    async def summary(self, ctx: ActionContext, state: Mapping[str, Any]) -> Outgoing:
        """The score and the to-do again, with the owner's answers filling VK's gaps."""
        rules = load_rules()
        knowledge = ctx.knowledge
        community_type = ctx.conversation.community_type
        items = checklist_items(knowledge.checklist(CHECKLIST), community_type)
        answers = await self.answers(ctx)
        seen: dict[str, Status] = state.get("statuses") or {}
        statuses: dict[str, Status] = {
            item.id: merge_status(seen.get(item.id, "unknown"), answers.get(item.id))
            for item in items
        }
        all_types = [kind.id for kind in knowledge.community_types]
        score = compute_score(
            items, statuses, rules, community_type=community_type, all_types=all_types
        )
        kind = state.get("one_format")
        todo = todo_list(
            items,
            statuses,
            rules,
            community_type=community_type,
            all_types=all_types,
            extra=formats_todo(kind if isinstance(kind, str) else None),
        )
        lines = [
            _d("summary_title", name=state.get("name", "")),
            t("audit.report.score", score=score.value),
        ]
        before = state.get("before")
        if isinstance(before, int) and before != score.value:
            lines.append(_d("score_before", before=before))
        if score.blocked:
            titles = ", ".join(
                i.title
                for i in items
                if statuses[i.id] == "missing" and is_mandatory(i, community_type, all_types)
            )
            cap = rules.score.mandatory_missing_cap
            lines.append(t("audit.report.capped", cap=cap, titles=titles))
        questions = {item.id: item.question for item in items}
        return Outgoing(text="\n".join(lines) + "\n\n" + todo_lines(todo, questions))

    # --- the name ------------------------------------------------------------------------------

    async def niche(self, ctx: ActionContext) -> list[Outgoing]:
        """How clients search for the owner: phrases for the name and the description."""
        state = self.state(ctx)
        if not state:
            ctx.outcome = NO_AUDIT
            return [Outgoing(text=_d("no_audit"))]
        phrases = split_phrases(ctx.text)
        if not phrases:
            return [Outgoing(text=_d("niche_empty"))]
        state["phrases"] = phrases
        if not (state.get("city") or state.get("vk_city")):
            ctx.outcome = NEED_CITY
            return [Outgoing(text=_d("city_prompt"))]
        return self.names(ctx, state)

    async def city(self, ctx: ActionContext) -> list[Outgoing]:
        state = self.state(ctx)
        if not state:
            ctx.outcome = NO_AUDIT
            return [Outgoing(text=_d("no_audit"))]
        city = " ".join(ctx.text.split())[:MAX_CITY_CHARS].strip(" .,!")
        if not words(city):
            return [Outgoing(text=_d("city_empty"))]
        state["city"] = display_city(city)
        return self.names(ctx, state)

    def names(self, ctx: ActionContext, state: Mapping[str, Any]) -> list[Outgoing]:
        from advisor.audit.readiness import name_evidence

        # Remembered for the dialog's examples in the owner's words (names with the city).
        city = state.get("city") or state.get("vk_city")
        ctx.state.owner.update(phrases=list(state.get("phrases") or []))
        if city:
            ctx.state.owner["city"] = city

        rules = load_rules().search
        found = analyse_search(
            state.get("name", ""),
            state.get("description", ""),
            city=state.get("city") or state.get("vk_city"),
            owner_phrases=state.get("phrases") or [],
            activity=state.get("activity", ""),
            rules=rules,
        )
        lines = []
        if found.suggested_names:
            lines.append(_d("names_title", name=state.get("name", "")))
            lines.extend(_d("names_item", name=name) for name in found.suggested_names)
        else:
            lines.append(_d("names_none"))
        lines.append(_d("names_check", evidence=name_evidence(found)))
        phrase = {True: "yes", False: "no", None: "unknown"}[found.description_has_phrase]
        city = "yes" if found.description_has_city else "no"
        lines.append(
            _d(
                "description_check",
                phrase=t(f"audit.report.description_phrase_{phrase}"),
                city=t(f"audit.report.description_city_{city}"),
            )
        )
        lines.append(_d("names_tip"))
        return [Outgoing(text="\n".join(lines)), Outgoing(text=_d("names_more"))]


def audit_actions(settings: Settings, auditor: Auditor | None = None) -> dict[str, Action]:
    """The audit's actions for the engine. Without an ``auditor`` (built by ``Advisor.open`` when
    a VK token is set) the scenario says how to go on."""
    return AuditActions(auditor).actions()


def _one_format(result: AuditResult) -> str | None:
    """The feed's one format when the report gave «Разнообразьте форматы» (for the summary)."""
    if result.content is None or not any(e.id == FORMATS_TODO for e in result.todo):
        return None
    return result.content.formats[0].format if result.content.formats else None
