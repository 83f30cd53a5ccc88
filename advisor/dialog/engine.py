"""The dialog engine: walks a person through the scenarios, one turn at a time.

A turn loads the conversation, applies one user action (a typed text or a pressed button), renders
the reply and saves the new state in one transaction, so a restart resumes at the same step.
Payloads of the buttons it emits are short strings:
``m`` menu, ``b`` back, ``h`` help, ``r`` resume (show the current step),
``s:<scenario>`` start, ``g:<scenario>:<step>`` go to a step,
``a:<scenario>:<step>:<index>:<value>`` answer the step at that position. A payload that no
longer matches the conversation (an old message's button) is refused politely instead of being
applied to the wrong step.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from advisor.dialog.render import profile_titles, render_topic
from advisor.dialog.routing import KeywordRouter
from advisor.dialog.scenario_models import (
    ChecklistStep,
    ChoiceStep,
    FormField,
    FormStep,
    InputStep,
    MessageStep,
    QuestionnaireStep,
    Scenario,
    Step,
)
from advisor.dialog.types import Button, Incoming, Outgoing, ProgressCallback
from advisor.keyed_locks import KeyedLocks
from advisor.knowledge.models import ChecklistItem, Knowledge
from advisor.numbers import NumberFormatError, parse_number
from advisor.storage.store import ConcurrentUpdateError, Conversation, ConversationStore, dumps
from advisor.texts import t

log = logging.getLogger(__name__)

HISTORY_LIMIT = 12
ANSWER_LIMIT = 500
PROFILE_SCENARIO = "profile"
CHECKLIST_ANSWERS = {"y": "yes", "n": "no", "u": "unsure"}

_GREETINGS = {"/start", "start", "начать", "старт", "привет", "здравствуйте", "добрый день", "hi"}
_MENU_WORDS = {"/menu", "меню", "menu", "главное меню", "в меню"}
_BACK_WORDS = {"назад", "/back", "back", "вернуться"}
_HELP_WORDS = {"/help", "помощь", "help", "справка", "что ты умеешь", "что ты умеешь?"}
_YES = {"да", "есть", "yes", "ага", "угу", "конечно", "сделано", "готово", "+"}
_NO = {"нет", "no", "неа", "не сделано", "-"}
_UNSURE = {"не знаю", "незнаю", "не уверен", "не уверена", "хз", "?"}
_COMMAND_SCENARIOS = {
    "/check": "check",
    "/contest": "contest",
    "/track": "tracker",
    "/audit": "audit",
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


class LinkFinder(Protocol):
    def __call__(self, text: str) -> list[str]: ...


@dataclass
class ActionContext:
    """What an action may read and change during one turn."""

    engine: DialogEngine
    conversation: Conversation
    progress: ProgressCallback | None
    text: str = ""
    values: dict[str, float | None] = field(default_factory=dict)

    @property
    def knowledge(self) -> Knowledge:
        return self.engine.knowledge

    @property
    def store(self) -> ConversationStore:
        return self.engine.store

    def profile_keys(self) -> list[str]:
        return [k for k in (self.conversation.community_type, self.conversation.goal) if k]

    def move_to(self, step_id: str, *, remember: bool = True) -> None:
        """Put the conversation on a step of its scenario; «back» returns here if ``remember``."""
        if remember:
            push_history(self.conversation)
        self.conversation.step = step_id
        self.conversation.data["i"] = 0


def push_history(conversation: Conversation) -> None:
    """Remember the current position for «back» (the newest HISTORY_LIMIT positions)."""
    if conversation.scenario and conversation.step:
        history = conversation.data.setdefault("h", [])
        index = conversation.data.get("i", 0)
        history.append(f"{conversation.scenario}/{conversation.step}/{index}")
        del history[:-HISTORY_LIMIT]


Action = Callable[[ActionContext], Awaitable[list[Outgoing]]]


def clean_text(text: str) -> str:
    """Drop control and invisible characters people paste by accident; normalise the form."""
    return _CONTROL_CHARS.sub("", unicodedata.normalize("NFC", text)).strip()


def _command_word(text: str) -> tuple[str, str]:
    """Split «/check@MyBot vk.com/x» into («/check», «vk.com/x»)."""
    head, _, rest = text.partition(" ")
    if head.startswith("/"):
        head = head.split("@", 1)[0]
    return head.lower(), rest.strip()


class DialogEngine:
    def __init__(
        self,
        knowledge: Knowledge,
        store: ConversationStore,
        actions: Mapping[str, Action],
        *,
        find_links: LinkFinder,
        link_action: str = "public_check",
        max_chars: int = 4000,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.actions = dict(actions)
        self.find_links = find_links
        self.link_action = link_action
        self.max_chars = max_chars
        self.router = KeywordRouter(knowledge.scenarios)
        self.link_router = KeywordRouter(knowledge.scenarios, links=True)
        self._scenarios = {s.id: s for s in knowledge.scenarios}
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
        self._check_actions()

    def _check_actions(self) -> None:
        needed = {self.link_action}
        for scenario in self.knowledge.scenarios:
            for step in scenario.steps:
                name = getattr(step, "action", None)
                if name:
                    needed.add(name)
        missing = needed - set(self.actions)
        if missing:
            raise RuntimeError(f"scenarios use actions that are not registered: {sorted(missing)}")

    # --- the turn ------------------------------------------------------------------------------

    async def handle(
        self, incoming: Incoming, progress: ProgressCallback | None = None
    ) -> list[Outgoing]:
        key = (incoming.channel, incoming.user_id)
        async with self._locks.hold(key):
            for attempt in range(3):
                conversation = await self.store.load(incoming.channel, incoming.user_id)
                before = _snapshot(conversation, dumps(conversation.data))
                replies = await Turn(self, conversation, progress).run(incoming)
                data_json = dumps(conversation.data)
                if _snapshot(conversation, data_json) == before:
                    return replies
                event = (incoming.channel, incoming.event_id) if incoming.event_id else None
                try:
                    await self.store.save(conversation, data_json, event=event)
                except ConcurrentUpdateError:
                    log.warning("conversation %s changed concurrently, retry %d", key, attempt)
                    continue
                return replies
            raise ConcurrentUpdateError(str(key))

    # --- helpers used by turns and actions -----------------------------------------------------

    def scenario(self, scenario_id: str) -> Scenario | None:
        return self._scenarios.get(scenario_id)

    def menu_buttons(self) -> list[list[Button]]:
        rows = [
            [Button(label=s.title, payload=f"s:{s.id}")]
            for s in self.knowledge.scenarios
            if s.in_menu
        ]
        rows.append([Button(label=t("dialog.menu_profile"), payload=f"s:{PROFILE_SCENARIO}")])
        return rows


def _snapshot(conversation: Conversation, data_json: str) -> tuple[Any, ...]:
    return (
        conversation.scenario,
        conversation.step,
        data_json,
        conversation.community_type,
        conversation.goal,
        conversation.community_link,
        bool(conversation.checklist_writes or conversation.questionnaire_writes),
        bool(conversation.checklist_resets),
    )


NAV_ROW = "nav"


class Turn:
    """One user action applied to one conversation."""

    def __init__(
        self, engine: DialogEngine, conversation: Conversation, progress: ProgressCallback | None
    ) -> None:
        self.engine = engine
        self.knowledge = engine.knowledge
        self.conv = conversation
        self.progress = progress
        self.out: list[Outgoing] = []

    # --- entry points --------------------------------------------------------------------------

    async def run(self, incoming: Incoming) -> list[Outgoing]:
        if incoming.payload is not None:
            await self.on_payload(incoming.payload.strip()[:128])
        else:
            text = clean_text(incoming.text or "")
            if len(text) > self.engine.max_chars:
                self.say(
                    t("dialog.too_long", length=len(text), limit=self.engine.max_chars),
                    self.nav_buttons(),
                )
            elif not text:
                self.say(t("dialog.empty"), self.nav_buttons())
            else:
                await self.on_text(text)
        return self.out

    async def on_payload(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        parts = rest.split(":") if rest else []
        if payload == "m":
            self.show_menu()
        elif payload == "r":
            await self.resume()
        elif payload == "b":
            await self.go_back()
        elif payload == "h":
            self.show_help()
        elif kind == "s" and len(parts) == 1 and self.engine.scenario(parts[0]):
            await self.start_scenario(parts[0])
        elif (
            kind == "g"
            and len(parts) == 2
            and self.at_scenario(parts[0])
            and self.has_step(parts[1])
        ):
            await self.goto(parts[1])
        elif (
            kind == "a"
            and len(parts) == 4
            and self.at_step(parts[0], parts[1])
            and parts[2] == str(self.index)
        ):
            await self.answer(parts[3], typed=False)
        else:
            log.info("stale or unknown payload %r from %s", payload, self.conv.user_pk)
            self.say(t("dialog.stale_button"))
            await self.render_current()

    async def on_text(self, text: str) -> None:
        lowered = text.lower().rstrip("!.")
        command, _ = _command_word(lowered)
        if lowered in _GREETINGS or command == "/start":
            self.say(t("dialog.greeting"))
            self.show_menu(title=False)
            return
        if lowered in _MENU_WORDS or command == "/menu":
            self.show_menu()
            return
        if lowered in _BACK_WORDS:
            await self.go_back()
            return
        if lowered in _HELP_WORDS or command == "/help":
            self.show_help()
            return
        if command in _COMMAND_SCENARIOS and self.engine.scenario(_COMMAND_SCENARIOS[command]):
            scenario = self.engine.scenario(_COMMAND_SCENARIOS[command])
            assert scenario is not None
            argument = _command_word(text)[1]
            if argument and scenario.link_step:
                await self.enter_link_step(scenario, argument)
            else:
                await self.start_scenario(scenario.id)
            return
        step = self.current_step()
        if isinstance(step, InputStep):
            await self.run_action(step.action, text=text)
            return
        if isinstance(step, QuestionnaireStep):
            await self.answer_question(step, text)
            return
        if self.engine.find_links(text):
            routed = self.engine.link_router.route(text)
            scenario = self.engine.scenario(routed) if routed else None
            if scenario is not None and scenario.link_step:
                await self.enter_link_step(scenario, text)
            else:
                await self.run_action(self.engine.link_action, text=text)
            return
        if step is not None and await self.answer(text, typed=True):
            return
        scenario_id = self.engine.router.route(text)
        if scenario_id is not None:
            scenario = self.engine.scenario(scenario_id)
            assert scenario is not None
            self.say(
                t("dialog.suggest_scenario", title=scenario.title),
                [
                    [Button(label=scenario.title, payload=f"s:{scenario.id}")],
                    [Button(label=t("dialog.menu"), payload="m")],
                ],
            )
            return
        if step is None:
            self.say(t("dialog.not_understood_menu"), self.engine.menu_buttons())
            return
        await self.render_current()

    # --- output --------------------------------------------------------------------------------

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        self.out.append(Outgoing(text=text, buttons=buttons or []))

    def extend(self, messages: list[Outgoing]) -> None:
        self.out.extend(messages)

    def nav_buttons(self) -> list[list[Button]]:
        row = []
        if self.conv.scenario:
            row.append(Button(label=t("dialog.back"), payload="b"))
        row.append(Button(label=t("dialog.menu"), payload="m"))
        return [row]

    def show_menu(self, title: bool = True) -> None:
        self.leave_scenario()
        lines = [t("dialog.menu_title")] if title else []
        type_title, goal_title = profile_titles(
            self.knowledge, self.conv.community_type, self.conv.goal
        )
        if type_title and goal_title:
            lines.append(t("dialog.profile_line", community_type=type_title, goal=goal_title))
        if not title and not lines:
            lines.append(t("dialog.menu_title"))
        self.say("\n".join(lines) if lines else t("dialog.menu_title"), self.engine.menu_buttons())

    async def resume(self) -> None:
        """Where the person stopped: the current step again, or the greeting for a newcomer."""
        if self.current_step() is None:
            self.say(t("dialog.greeting"))
            self.show_menu(title=False)
        else:
            await self.render_current()

    def show_help(self) -> None:
        self.say(t("dialog.help"), self.nav_buttons())

    # --- position ------------------------------------------------------------------------------

    def current_scenario(self) -> Scenario | None:
        return self.engine.scenario(self.conv.scenario) if self.conv.scenario else None

    def current_step(self) -> Step | None:
        scenario = self.current_scenario()
        if scenario is None or self.conv.step is None:
            return None
        try:
            return scenario.step(self.conv.step)
        except KeyError:
            # The scenario data changed under a stored conversation: fall back to its start.
            self.conv.step = scenario.start
            self.conv.data["i"] = 0
            return scenario.step(scenario.start)

    def at_scenario(self, scenario_id: str) -> bool:
        return self.conv.scenario == scenario_id

    def has_step(self, step_id: str) -> bool:
        """Whether the current scenario has this step (a forged button may name any)."""
        scenario = self.current_scenario()
        if scenario is None:
            return False
        try:
            scenario.step(step_id)
        except KeyError:
            return False
        return True

    def at_step(self, scenario_id: str, step_id: str) -> bool:
        return self.conv.scenario == scenario_id and self.conv.step == step_id

    @property
    def index(self) -> int:
        value = self.conv.data.get("i", 0)
        return value if isinstance(value, int) and value >= 0 else 0

    def set_position(self, scenario: str | None, step: str | None, index: int = 0) -> None:
        self.conv.scenario = scenario
        self.conv.step = step
        self.conv.data["i"] = index

    def push_history(self) -> None:
        push_history(self.conv)

    def leave_scenario(self) -> None:
        self.conv.scenario = None
        self.conv.step = None
        self.conv.data = {}

    async def go_back(self) -> None:
        history = self.conv.data.get("h") or []
        while history:
            scenario_id, step_id, index = [*history.pop().split("/"), "0"][:3]
            scenario = self.engine.scenario(scenario_id)
            if scenario is None or step_id not in {s.id for s in scenario.steps}:
                continue
            self.set_position(scenario_id, step_id, int(index) if index.isdigit() else 0)
            self.conv.data["h"] = history
            await self.render_current()
            return
        self.show_menu()

    async def start_scenario(self, scenario_id: str) -> None:
        scenario = self.engine.scenario(scenario_id)
        assert scenario is not None
        needs_profile = scenario.needs_profile and not (self.conv.community_type and self.conv.goal)
        self.leave_scenario()
        if needs_profile and scenario_id != PROFILE_SCENARIO:
            self.conv.data["n"] = scenario_id
            self.say(t("dialog.profile_intro"))
            scenario = self.engine.scenario(PROFILE_SCENARIO)
            assert scenario is not None
        self.set_position(scenario.id, scenario.start)
        await self.render_current()

    async def goto(self, step_id: str | None) -> None:
        scenario = self.current_scenario()
        if step_id is None or scenario is None:
            await self.finish_scenario()
            return
        self.push_history()
        self.set_position(scenario.id, step_id)
        self.conv.data.pop("f", None)
        await self.render_current()

    async def finish_scenario(self) -> None:
        pending = self.conv.data.get("n")
        if self.conv.scenario == PROFILE_SCENARIO and pending and self.engine.scenario(pending):
            await self.start_scenario(pending)
            return
        self.show_menu()

    # --- rendering the current step ------------------------------------------------------------

    async def render_current(self) -> None:
        step = self.current_step()
        if step is None:
            self.show_menu()
            return
        if isinstance(step, MessageStep):
            await self.render_message(step)
        elif isinstance(step, ChoiceStep):
            self.render_choice(step)
        elif isinstance(step, ChecklistStep):
            await self.render_checklist(step)
        elif isinstance(step, QuestionnaireStep):
            await self.render_questionnaire(step)
        elif isinstance(step, FormStep):
            self.render_form(step)
        else:
            self.say(step.text, self.step_buttons(step))

    def step_buttons(
        self, step: Step, extra: list[list[Button]] | None = None
    ) -> list[list[Button]]:
        scenario = self.conv.scenario
        rows = list(extra or [])
        for spec in step.buttons:
            payload = f"s:{spec.scenario}" if spec.scenario else f"g:{scenario}:{spec.goto}"
            rows.append([Button(label=spec.label, payload=payload)])
        return rows + self.nav_buttons()

    def answer_button(self, label: str, value: str) -> Button:
        # The position inside the step is part of the payload, so an old message's "yes" can
        # never answer a later question.
        return Button(
            label=label,
            payload=f"a:{self.conv.scenario}:{self.conv.step}:{self.index}:{value}",
        )

    def topic_texts(self, topic_ids: list[str]) -> list[str]:
        keys = [k for k in (self.conv.community_type, self.conv.goal) if k]
        return [
            render_topic(self.knowledge.topic(topic_id), keys, t("dialog.tailored_title"))
            for topic_id in topic_ids
        ]

    async def render_message(self, step: MessageStep) -> None:
        texts = [step.text] if step.text else []
        texts.extend(self.topic_texts(step.topics))
        produced: list[Outgoing] = []
        if step.action:
            produced = await self.engine.actions[step.action](
                ActionContext(self.engine, self.conv, self.progress)
            )
        pending = self.conv.data.get("n") if step.then_resume else None
        if pending and self.engine.scenario(pending):
            if texts:
                self.say("\n\n".join(texts))
            self.extend(produced)
            await self.start_scenario(pending)
        elif produced:
            if texts:
                self.say("\n\n".join(texts))
            self.extend(produced[:-1])
            last = produced[-1]
            self.out.append(last.model_copy(update={"buttons": self.step_buttons(step)}))
        else:
            self.say("\n\n".join(texts), self.step_buttons(step))

    def render_choice(self, step: ChoiceStep) -> None:
        options = (
            self.knowledge.community_types
            if step.sets == "community_type"
            else self.knowledge.goals
        )
        lines = [step.text]
        lines.extend(f"{n}. {o.title} — {o.description}" for n, o in enumerate(options, start=1))
        rows = [[self.answer_button(o.title, o.id)] for o in options]
        self.say("\n".join(lines), self.step_buttons(step, rows))

    def checklist_items(self, step: ChecklistStep) -> list[ChecklistItem]:
        checklist = self.knowledge.checklist(step.checklist)
        kind = self.conv.community_type
        return [i for i in checklist.items if not i.applies_to or (kind and kind in i.applies_to)]

    async def render_checklist(self, step: ChecklistStep) -> None:
        items = self.checklist_items(step)
        if self.index >= len(items):
            await self.goto(step.next)
            return
        item = items[self.index]
        lines = []
        if self.index == 0 and step.text:
            lines.append(step.text)
        lines.append(t("dialog.checklist_progress", number=self.index + 1, total=len(items)))
        lines.append(item.question)
        lines.extend(f"• {detail}" for detail in item.details)
        if self.conv.community_type in item.mandatory_for:
            lines.append(t("dialog.checklist_mandatory"))
        row = [
            self.answer_button(t("dialog.yes"), "y"),
            self.answer_button(t("dialog.no"), "n"),
            self.answer_button(t("dialog.unsure"), "u"),
        ]
        self.say("\n".join(lines), self.step_buttons(step, [row]))

    async def render_questionnaire(self, step: QuestionnaireStep) -> None:
        questionnaire = self.knowledge.questionnaire(step.questionnaire)
        if self.index >= len(questionnaire.questions):
            await self.goto(step.next)
            return
        question = questionnaire.questions[self.index]
        lines = []
        if self.index == 0:
            lines.append(step.text or questionnaire.intro)
        lines.append(
            t(
                "dialog.questionnaire_progress",
                number=self.index + 1,
                total=len(questionnaire.questions),
            )
        )
        lines.append(question.prompt)
        if question.hint:
            lines.append(question.hint)
        if question.example:
            lines.append(t("dialog.questionnaire_example", example=question.example))
        row = [self.answer_button(t("dialog.skip"), "skip")]
        self.say("\n".join(lines), self.step_buttons(step, [row]))

    def render_form(self, step: FormStep) -> None:
        index = min(self.index, len(step.fields) - 1)
        form_field = step.fields[index]
        lines = []
        if index == 0 and step.text:
            lines.append(step.text)
        if len(step.fields) > 1:
            lines.append(t("dialog.form_progress", number=index + 1, total=len(step.fields)))
        lines.append(form_field.prompt)
        extra = []
        if form_field.optional:
            lines.append(t("dialog.form_optional"))
            extra.append([self.answer_button(t("dialog.skip"), "skip")])
        self.say("\n".join(lines), self.step_buttons(step, extra))

    # --- answers -------------------------------------------------------------------------------

    async def answer(self, value: str, *, typed: bool) -> bool:
        """Apply an answer to the current step; False when a typed text means nothing here."""
        step = self.current_step()
        if step is None:
            return False
        if typed:
            spec = _match_label(value, step.buttons)
            if spec is not None:
                if spec.scenario:
                    await self.start_scenario(spec.scenario)
                else:
                    await self.goto(spec.goto)
                return True
        if isinstance(step, ChoiceStep):
            return await self.answer_choice(step, value, typed)
        if isinstance(step, ChecklistStep):
            return await self.answer_checklist(step, value, typed)
        if isinstance(step, QuestionnaireStep) and value == "skip" and not typed:
            await self.answer_question(step, None)
            return True
        if isinstance(step, FormStep):
            return await self.answer_form(step, value, typed)
        if not typed:
            self.say(t("dialog.stale_button"))
            await self.render_current()
            return True
        if isinstance(step, MessageStep) and step.buttons:
            self.say(t("dialog.not_understood", hint=t("dialog.not_understood_hint_buttons")))
            await self.render_current()
            return True
        return False

    async def answer_choice(self, step: ChoiceStep, value: str, typed: bool) -> bool:
        options = (
            self.knowledge.community_types
            if step.sets == "community_type"
            else self.knowledge.goals
        )
        chosen = None
        if typed:
            lowered = value.lower().strip(" .")
            if lowered.isdigit() and 1 <= int(lowered) <= len(options):
                chosen = options[int(lowered) - 1]
            else:
                chosen = next((o for o in options if o.title.lower() == lowered), None)
        else:
            chosen = next((o for o in options if o.id == value), None)
        if chosen is None:
            self.say(t("dialog.not_understood", hint=t("dialog.not_understood_hint_choice")))
            self.render_choice(step)
            return True
        setattr(self.conv, step.sets, chosen.id)
        self.say(t("dialog.choice_saved", title=chosen.title))
        await self.goto(step.next)
        return True

    async def answer_checklist(self, step: ChecklistStep, value: str, typed: bool) -> bool:
        if typed:
            lowered = value.lower().strip(" .!")
            code = (
                "y"
                if lowered in _YES
                else "n"
                if lowered in _NO
                else "u"
                if lowered in _UNSURE
                else None
            )
        else:
            code = value if value in CHECKLIST_ANSWERS else None
        items = self.checklist_items(step)
        if code is None or self.index >= len(items):
            self.say(t("dialog.not_understood", hint=t("dialog.not_understood_hint_yes_no")))
            await self.render_checklist(step)
            return True
        item = items[self.index]
        self.conv.checklist_writes[(step.checklist, item.id)] = CHECKLIST_ANSWERS[code]
        self.push_history()
        self.conv.data["i"] = self.index + 1
        await self.render_checklist(step)
        return True

    async def answer_question(self, step: QuestionnaireStep, text: str | None) -> None:
        questionnaire = self.knowledge.questionnaire(step.questionnaire)
        if self.index >= len(questionnaire.questions):
            await self.goto(step.next)
            return
        if text is not None and len(text) > ANSWER_LIMIT:
            self.say(t("dialog.answer_too_long", length=len(text), limit=ANSWER_LIMIT))
            return
        question = questionnaire.questions[self.index]
        if text is not None:
            self.conv.questionnaire_writes[(questionnaire.id, question.id)] = text
        self.push_history()
        self.conv.data["i"] = self.index + 1
        await self.render_questionnaire(step)

    async def answer_form(self, step: FormStep, value: str, typed: bool) -> bool:
        index = min(self.index, len(step.fields) - 1)
        form_field = step.fields[index]
        number: float | None
        if not typed and value == "skip" and form_field.optional:
            number = None
        elif not typed:
            return False
        else:
            error = None
            try:
                number = parse_number(value)
                error = _field_error(form_field, number)
            except NumberFormatError:
                number, error = None, t("dialog.number_invalid")
            if error:
                self.say(error)
                self.render_form(step)
                return True
        values = self.conv.data.setdefault("f", {})
        values[form_field.id] = number
        if index + 1 < len(step.fields):
            self.push_history()
            self.conv.data["i"] = index + 1
            self.render_form(step)
            return True
        collected = {f.id: values.get(f.id) for f in step.fields}
        self.conv.data.pop("f", None)
        produced = await self.engine.actions[step.action](
            ActionContext(self.engine, self.conv, self.progress, values=collected)
        )
        self.extend(produced)
        if step.next:
            await self.goto(step.next)
        else:
            self.set_position(self.conv.scenario, step.id, 0)
            self.out[-1] = self.out[-1].model_copy(update={"buttons": self.step_buttons(step)})
        return True

    async def enter_link_step(self, scenario: Scenario, text: str) -> None:
        """Open the scenario at the step that takes a link, and hand it this message."""
        step = scenario.step(scenario.link_step or "")
        assert isinstance(step, InputStep)
        self.leave_scenario()
        self.set_position(scenario.id, step.id)
        await self.run_action(step.action, text=text)

    async def run_action(self, name: str, *, text: str) -> None:
        produced = await self.engine.actions[name](
            ActionContext(self.engine, self.conv, self.progress, text=text)
        )
        self.extend(produced)
        step = self.current_step()
        if self.out and not self.out[-1].buttons:
            buttons = self.step_buttons(step) if step is not None else self.nav_buttons()
            self.out[-1] = self.out[-1].model_copy(update={"buttons": buttons})


def _match_label(text: str, buttons: list) -> Any:
    lowered = text.lower().strip(" .!")
    return next((b for b in buttons if b.label.lower() == lowered), None)


def _field_error(form_field: FormField, number: float) -> str | None:
    if number < 0:
        return t("dialog.number_negative")
    if form_field.kind == "percent" and number > 100:
        return t("dialog.percent_too_big")
    if form_field.kind == "count" and number != int(number):
        return t("dialog.number_not_whole")
    if form_field.max is not None and number > form_field.max:
        return t("dialog.number_too_big", max=int(form_field.max))
    return None
