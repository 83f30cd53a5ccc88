"""The dialog engine: walks a person through the scenarios, one turn at a time.

A turn loads the conversation, applies one user action (a typed text or a pressed button), renders
the reply and saves the new state in one transaction, so a restart resumes at the same step.

Two verbs move through a scenario, and they never mix:

* **entering** a step runs its command once (a message step's ``action``: a VK request, a
  deletion, an export) and keeps what it produced in the state;
* **showing** a step renders it from the scenario and that kept result, with no side effect:
  resume after a restart, an old message's button, VK paging and «Назад» only show.

A side trip — a link or a command sent while a question waits — ends by showing that question
again («Продолжим: …»); a side trip into another scenario remembers where it began, and
«Продолжить» (or the end of that scenario) returns there. Button payloads are built and parsed by
``advisor.dialog.payloads`` alone; the state's fields by ``advisor.dialog.state``.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NoReturn, Protocol

from advisor.answers import (
    Intent,
    NoMatch,
    Profile,
    answer_question,
    classify_intent,
    intent_reply,
    match_choice,
    parse_number_phrase,
)
from advisor.dialog import payloads
from advisor.dialog.answer_view import answer_messages
from advisor.dialog.examples import adapt, owner_from
from advisor.dialog.fields import GENERIC_PARSERS, FieldParser, FieldRefused, Refused
from advisor.dialog.owner_facts import read_owner_facts
from advisor.dialog.payloads import Answer, Control, Goto, Open, Payload, Start, Tool
from advisor.dialog.render import lower_title, profile_titles, render_topic
from advisor.dialog.routing import KeywordRouter
from advisor.dialog.scenario_models import (
    ButtonSpec,
    ChecklistStep,
    ChoiceStep,
    FieldStep,
    FormField,
    FormStep,
    InputStep,
    MessageStep,
    QuestionnaireStep,
    Scenario,
    Step,
)
from advisor.dialog.state import DialogState, Position, Return, ShownMessage
from advisor.dialog.types import Button, Incoming, Outgoing, ProgressCallback
from advisor.knowledge.models import ChecklistItem, Knowledge
from advisor.morph import analyzer, counted
from advisor.morph import words as morph_words
from advisor.numbers import NumberFormatError, parse_number
from advisor.storage.delivery import Envelope, TurnOutcome
from advisor.storage.store import ConcurrentUpdateError, Conversation, ConversationStore, dumps
from advisor.texts import t, words

log = logging.getLogger(__name__)

ANSWER_LIMIT = 500
PROFILE_SCENARIO = "profile"
# The profile's steps a fact told in passing leads to: the first answer still missing, or the
# goal's follow-up (the city once, then the advice for the type and goal).
_PROFILE_TYPE, _PROFILE_GOAL, _PROFILE_ROUTE = "type", "goal", "target"
OWNER_PROFILE_ACTION = "owner_profile"
_OWNER_FIELDS = ("community_type", "goal", "target_city")
CHECKLIST_ANSWERS = {"y": "yes", "n": "no", "u": "unsure"}
SKIP = "skip"
SHOWN_STEPS_KEPT = 3  # results kept for «Назад»: the current step's and the two before
# Features whose data outlives a scenario (the public check's last links and the target's
# «asked once» marks): leaving a scenario or ending a side trip keeps them as they are now.
LASTING_FEATURES = ("fit",)

_COMMAND_SCENARIOS = {
    "/check": "check",
    "/contest": "contest",
    "/track": "tracker",
    "/audit": "audit",
}
_NUMBER_PHRASE = re.compile(r"[0-9а-яёk ,.–~≈%-]+")
_RANGE_OR_PERCENT = re.compile(r"\d[\d ,.]*(\s*[-–]\s*\d[\d ,.]*)?\s*%?|\d[\d ,.]*k")
_CYRILLIC = re.compile(r"[а-яё]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


class LinkFinder(Protocol):
    def __call__(self, text: str) -> list[str]: ...


@dataclass
class ActionContext:
    """What a command may read and change during one turn."""

    engine: DialogEngine
    conversation: Conversation
    state: DialogState
    progress: ProgressCallback | None
    text: str = ""
    values: dict[str, float | None] = field(default_factory=dict)
    answer: str | None = None  # a pressed answer button's value
    outcome: str = "ok"  # what the command reports; the scenario file says where it leads

    @property
    def knowledge(self) -> Knowledge:
        return self.engine.knowledge

    @property
    def store(self) -> ConversationStore:
        return self.engine.store

    @property
    def draft(self) -> dict[str, Any]:
        """The values the current scenario's field steps collected."""
        return self.state.draft

    def feature(self, name: str) -> dict[str, Any]:
        return self.state.feature(name)

    @property
    def handoff(self) -> dict[str, Any]:
        """What this tool hands to the next one (kept when the person moves to another
        scenario): set by the public check and the results calculator, read by the tracker."""
        return self.state.handoff

    def profile_keys(self) -> list[str]:
        return [k for k in (self.conversation.community_type, self.conversation.goal) if k]

    def in_owner_words(self, text: str) -> str:
        """The guide's example names, city and address in ``text`` made the owner's own."""
        return adapt(text, owner_from(self.conversation, self.state.owner))

    def refuse(self, message: str) -> NoReturn:
        """Stay on the step: the answer does not fit, ``message`` says why."""
        raise Refused(message)

    def answer_button(self, label: str, value: str, *, step: str | None = None) -> Button:
        """A button that answers the current step, or ``step`` of this scenario (its input
        command gets ``answer``)."""
        return _answer_button(self.conversation, self.state, label, value, step=step)

    def tool_button(self, label: str, tool: str, value: str) -> Button:
        """A button that runs ``tool`` (a command the engine was given as a tool) with ``value``
        at whatever step the person is then."""
        return Button(label=label, payload=payloads.encode(Tool(tool, value)))

    def goto_button(self, label: str, step_id: str) -> Button:
        return Button(
            label=label,
            payload=payloads.encode(Goto(self.conversation.scenario or "", step_id)),
        )


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


def _position(conversation: Conversation, state: DialogState) -> Position | None:
    if conversation.scenario and conversation.step:
        return Position(scenario=conversation.scenario, step=conversation.step, index=state.index)
    return None


def _answer_button(
    conversation: Conversation,
    state: DialogState,
    label: str,
    value: str,
    *,
    step: str | None = None,
) -> Button:
    # The position inside the step is part of the payload, so an old message's "yes" can
    # never answer a later question. Another step's button answers its first position.
    index = 0 if step else state.index
    answer = Answer(conversation.scenario or "", step or conversation.step or "", index, value)
    return Button(label=label, payload=payloads.encode(answer))


def nav_button(label_key: str, payload: Payload) -> Button:
    return Button(label=t(label_key), payload=payloads.encode(payload))


def menu_row() -> list[list[Button]]:
    """The one button every dead end offers: the menu."""
    return [[nav_button("dialog.menu", payloads.MENU)]]


class DialogEngine:
    def __init__(
        self,
        knowledge: Knowledge,
        store: ConversationStore,
        actions: Mapping[str, Action],
        *,
        find_links: LinkFinder,
        parsers: Mapping[str, FieldParser] | None = None,
        link_action: str = "public_check",
        tools: frozenset[str] = frozenset(),
        max_chars: int = 4000,
        welcome_back_after: float = 6 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.knowledge = knowledge
        self.store = store
        self.actions = dict(actions)
        self.parsers: dict[str, FieldParser] = {**GENERIC_PARSERS, **(parsers or {})}
        self.find_links = find_links
        self.link_action = link_action
        self.tools = tools
        self.max_chars = max_chars
        self.welcome_back_after = welcome_back_after
        self.clock = clock
        self.router = KeywordRouter(knowledge.scenarios)
        self.link_router = KeywordRouter(knowledge.scenarios, links=True)
        self._scenarios = {s.id: s for s in knowledge.scenarios}
        self._check_scenarios()

    def _check_scenarios(self) -> None:
        needed = {self.link_action, *self.tools}
        parsers: set[str] = set()
        for scenario in self.knowledge.scenarios:
            for step in scenario.steps:
                for name in (getattr(step, "action", None), getattr(step, "after", None)):
                    if name:
                        needed.add(name)
                if isinstance(step, FieldStep):
                    parsers.add(step.parser)
                if isinstance(step, InputStep | FieldStep):
                    for key in step.accepts:
                        words(key)  # a missing word list fails here, at start, not mid-chat
        profile = self.scenario(PROFILE_SCENARIO)
        if profile is not None:
            needed.add(OWNER_PROFILE_ACTION)
            for step_id in (_PROFILE_TYPE, _PROFILE_GOAL, _PROFILE_ROUTE):
                profile.step(step_id)  # a renamed step fails here, at start, not mid-chat
        missing = needed - set(self.actions)
        if missing:
            raise RuntimeError(f"scenarios use actions that are not registered: {sorted(missing)}")
        unknown = parsers - set(self.parsers)
        if unknown:
            raise RuntimeError(f"scenarios use parsers that are not registered: {sorted(unknown)}")

    # --- the turn ------------------------------------------------------------------------------

    async def handle(
        self,
        incoming: Incoming,
        progress: ProgressCallback | None = None,
        envelope: Envelope | None = None,
    ) -> list[Outgoing]:
        """The replies to one action. With an ``envelope`` they are committed to the outbox in
        the transaction of the conversation's state (also when the state did not change)."""
        # One person's turns are serialised by the caller (Advisor.handle holds the person's
        # lock); the version check on save is the safety net, and a lost race is replayed.
        key = (incoming.channel, incoming.user_id)
        for attempt in range(3):
            conversation = await self.store.load(incoming.channel, incoming.user_id)
            before = _snapshot(conversation, dumps(conversation.data))
            replies = await Turn(self, conversation, progress).run(incoming)
            data_json = dumps(conversation.data)
            outcome = TurnOutcome(envelope, replies) if envelope is not None else None
            if _snapshot(conversation, data_json) == before:
                if outcome is not None:
                    await self.store.record(outcome)
                return replies
            event = (incoming.channel, incoming.event_id) if incoming.event_id else None
            try:
                await self.store.save(conversation, data_json, event=event, outcome=outcome)
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
            [Button(label=s.title, payload=payloads.encode(Start(s.id)))]
            for s in self.knowledge.scenarios
            if s.in_menu
        ]
        rows.append(
            [
                Button(
                    label=t("dialog.menu_profile"),
                    payload=payloads.encode(Start(PROFILE_SCENARIO)),
                )
            ]
        )
        return rows


def _snapshot(conversation: Conversation, data_json: str) -> tuple[Any, ...]:
    return (
        conversation.scenario,
        conversation.step,
        data_json,
        conversation.profile(),
        bool(conversation.checklist_writes or conversation.questionnaire_writes),
        bool(conversation.checklist_resets),
    )


_QUESTION_STEPS = (ChecklistStep, QuestionnaireStep, FormStep, FieldStep, ChoiceStep)
# Steps that take any text: there a lone «спасибо» or an English word may be the answer.
_FREE_TEXT_STEPS = (InputStep, QuestionnaireStep, FieldStep)
_CONTROL_INTENTS = ("help", "cancel", "back", "restart", "profile")
_PUNCTUATION = re.compile(r"[^\w\s+\-]")
_NUMERIC_PARSERS = ("number", "count", "money", "percent")
FIRST_SCENARIO = "prepare"  # «с чего начать?»: preparing the community comes first


class Turn:
    """One user action applied to one conversation."""

    def __init__(
        self, engine: DialogEngine, conversation: Conversation, progress: ProgressCallback | None
    ) -> None:
        self.engine = engine
        self.knowledge = engine.knowledge
        self.conv = conversation
        self.state = DialogState.load(conversation.data)
        self.progress = progress
        self.out: list[Outgoing] = []
        now = int(engine.clock())
        seen = self.state.seen_at
        # Someone back after a long pause has forgotten where they were: the step they return
        # to is introduced once.
        self.away = seen is not None and now - seen >= engine.welcome_back_after
        self.welcomed = False
        # Refreshed coarsely, so that a turn which changes nothing else (a menu, a bad link)
        # writes nothing: «away» then means idle for at least 5/6 of the pause.
        if seen is None or now - seen >= engine.welcome_back_after / 6:
            self.state.seen_at = now
        # The profile's advice was shown in this turn: the next step's cards do not tailor again.
        self.profile_advised = False

    # --- entry points --------------------------------------------------------------------------

    async def run(self, incoming: Incoming) -> list[Outgoing]:
        if incoming.payload is not None:
            await self.on_payload(incoming.payload)
        else:
            text = clean_text(incoming.text or "")
            if len(text) > self.engine.max_chars:
                self.say(
                    t(
                        "dialog.too_long",
                        length=counted(len(text), t("dialog.char_word")),
                        limit=counted(self.engine.max_chars, t("dialog.char_word"), "gent"),
                    ),
                    self.nav_buttons(),
                )
            elif not text:
                self.say(t("dialog.empty"), self.nav_buttons())
            else:
                await self.on_text(text)
        self.conv.data = self.state.dump()
        return self.out

    async def on_payload(self, raw: str) -> None:
        payload = payloads.decode(raw)
        match payload:
            case Control("m"):
                self.show_menu()
            case Control("r"):
                self.resume()
            case Control("w"):
                self.resume(welcome=True)
            case Control("b"):
                self.go_back()
            case Control("h"):
                self.show_help()
            case Control("p"):
                await self.continue_return()
            case Start(scenario) if self.engine.scenario(scenario):
                await self.start_scenario(scenario)
            case Open(scenario, step) if self.scenario_has(scenario, step):
                await self.start_scenario(scenario, at=step)
            case Goto(scenario, step) if self.at_scenario(scenario) and self.has_step(step):
                await self.goto(step)
            case Answer(scenario, step, index, value) if (
                self.at_step(scenario, step) and index == self.state.index
            ):
                await self.answer(value, typed=False)
            case Tool(name, value) if name in self.engine.tools:
                await self.run_tool(name, value)
            case _:
                log.info("stale or unknown payload %r from %s", raw[:64], self.conv.user_pk)
                self.say(t("dialog.stale_button"))
                self.show_current()

    async def on_text(self, text: str) -> None:
        lowered = text.lower().rstrip("!.")
        command, argument = _command_word(text)
        if lowered in words("dialog.words.greeting") or command == "/start":
            if self.away and self.current_step() is not None:
                self.resume()  # back after a long pause: where they stopped, introduced
                return
            self.say(t("dialog.greeting"))
            self.show_menu(title=False)
            return
        if lowered in words("dialog.words.menu") or command == "/menu":
            self.show_menu()
            return
        if lowered in words("dialog.words.back"):
            self.go_back()
            return
        if lowered in words("dialog.words.help") or command == "/help":
            self.show_help()
            return
        scenario_id = _COMMAND_SCENARIOS.get(command)
        scenario = self.engine.scenario(scenario_id) if scenario_id else None
        if scenario is not None:
            self.begin_side_trip()
            if argument and scenario.link_step:
                await self.enter_link_step(scenario, argument)
            else:
                await self.start_scenario(scenario.id, keep_returns=True)
            return
        step = self.current_step()
        if step is not None and self.accepts(step, text):
            await self.answer(text, typed=True)  # «да», «1500», «Коммерческое»: the answer
            return
        # A chat intent is a whole short message; a long answer to a free-text step is not one.
        free_text = isinstance(step, _FREE_TEXT_STEPS)
        intent = classify_intent(text) if not free_text or len(text.split()) <= 4 else None
        if intent in _CONTROL_INTENTS or (intent and not free_text):
            await self.on_intent(intent)
            return
        if isinstance(step, InputStep):
            await self.run_action(step.action, text=text)
            return
        if isinstance(step, QuestionnaireStep):
            await self.answer_question(step, text)
            return
        if isinstance(step, FieldStep) and not _match_label(text, step.buttons):
            await self.answer_field(step, text, typed=True)
            return
        noted = self.note_owner_facts(text)
        if self.engine.find_links(text):
            await self.on_link(text)
            return
        if _is_request(text) and self.suggest_scenario(text):
            return  # «проверь мою группу», «проверить условия»: asks for a section, not a fact
        result = answer_question(text, Profile(self.conv.community_type, self.conv.goal))
        if not isinstance(result, NoMatch):
            self.on_question(answer_messages(result))
            return
        if self.suggest_scenario(text):
            return
        if noted:
            await self.follow_owner_facts(noted)
            return
        if step is not None and await self.answer(text, typed=True):
            return
        if step is None:
            self.say(result.text, self.engine.menu_buttons())
            return
        self.show_current()

    def note_owner_facts(self, text: str) -> set[str]:
        """Keep what the owner told about their business in passing («у меня кофейня в
        Твери») in the profile, and say what was kept; the profile fields changed. A question
        («а если у меня магазин?») fills what is missing but does not overwrite what the owner
        said before (``_supposing``)."""
        facts = read_owner_facts(text)
        if not facts:
            return set()
        asking = _supposing(text)
        told = {
            "community_type": facts.community_type,
            "goal": facts.goal,
            "target_city": facts.city,
        }
        kept: list[str] = []
        changed: set[str] = set()
        for name in _OWNER_FIELDS:
            value, old = told[name], getattr(self.conv, name)
            if value is None or value == old or (old and asking):
                continue
            setattr(self.conv, name, value)
            changed.add(name)
            fact = t(f"owner.fact.{name}", value=self.owner_value(name, value))
            if old:
                fact = t("owner.was", fact=fact, old=self.owner_value(name, old))
            kept.append(fact)
        if not kept:
            return changed
        log.info("owner facts from free text for %s: %s", self.conv.user_pk, sorted(changed))
        self.say(t("owner.noted", facts=", ".join(kept)))
        return changed

    def owner_value(self, name: str, value: str) -> str:
        knowledge = self.engine.knowledge
        if name == "community_type":
            return lower_title(knowledge.community_type(value).title)
        if name == "goal":
            return lower_title(knowledge.goal(value).title)
        return value

    async def follow_owner_facts(self, changed: set[str]) -> None:
        """After facts told in passing with nothing else to answer. A question waiting in a
        scenario is asked again. Otherwise the profile's first missing answer is asked; a new
        type or goal, both now known, brings the goal's follow-up (the city once) and the
        advice for them; a new city alone needs nothing more."""
        if self.waiting_question() is not None:
            self.continue_here()
            return
        if not self.conv.community_type:
            at: str | None = _PROFILE_TYPE
        elif not self.conv.goal:
            at = _PROFILE_GOAL
        elif changed & {"community_type", "goal"}:
            at = _PROFILE_ROUTE
        else:
            at = None
        if at is None:
            if self.current_step() is not None:
                self.add_step_buttons()  # the step's own buttons stay at hand
            else:
                self.out[-1] = self.out[-1].model_copy(
                    update={"buttons": self.engine.menu_buttons()}
                )
            return
        self.begin_side_trip()
        await self.start_scenario(PROFILE_SCENARIO, at=at, keep_returns=True)

    def suggest_scenario(self, text: str) -> bool:
        routed = self.engine.router.route(text)
        suggested = self.engine.scenario(routed) if routed else None
        if suggested is None:
            return False
        self.say(
            t("dialog.suggest_scenario", title=suggested.title),
            [
                [Button(label=suggested.title, payload=payloads.encode(Start(suggested.id)))],
                *self.nav_buttons(),
            ],
        )
        if self.waiting_question() is not None:
            self.continue_here()
        return True

    def on_question(self, messages: list[Outgoing]) -> None:
        """A typed question answered from the guide; then the waiting question, if any."""
        last = messages[-1]
        self.out.extend(messages[:-1])
        self.out.append(last.model_copy(update={"buttons": [*last.buttons, *self.nav_buttons()]}))
        if self.waiting_question() is not None:
            self.continue_here()

    async def on_intent(self, intent: Intent) -> None:
        """What every chat user tries: help, cancel, back, start over, hello, thanks, …"""
        if intent == "back":
            self.go_back()
            return
        if intent in ("cancel", "restart"):
            self.say(intent_reply(intent))
            self.show_menu(title=False)
            return
        if intent == "profile":
            self.on_question(await self.engine.actions[OWNER_PROFILE_ACTION](self.context()))
            return
        rows: list[list[Button]] = []
        if intent == "help":
            prepare = self.engine.scenario(FIRST_SCENARIO)
            if prepare is not None:
                rows.append(
                    [Button(label=prepare.title, payload=payloads.encode(Start(prepare.id)))]
                )
        if self.current_step() is None:
            menu = self.engine.menu_buttons() if intent in ("help", "greeting") else menu_row()
            offered = {b.payload for row in rows for b in row}
            menu = [kept for row in menu if (kept := [b for b in row if b.payload not in offered])]
            self.say(intent_reply(intent), [*rows, *menu])
            return
        self.say(intent_reply(intent), [*rows, *self.nav_buttons()])
        if self.waiting_question() is not None:
            self.continue_here()

    def accepts(self, step: Step, text: str) -> bool:
        """Whether a typed text is an answer to this step (not a question to the guide)."""
        if _match_label(text, step.buttons) is not None:
            return True
        lowered = text.lower().strip(" .!")
        if isinstance(step, ChecklistStep):
            return any(lowered in words(f"dialog.words.{k}") for k in ("yes", "no", "unsure"))
        if isinstance(step, ChoiceStep):
            return self.choose(step, text) is not None
        if isinstance(step, FormStep):
            return _typed_number(text) is not None
        if isinstance(step, InputStep | FieldStep) and step.accepts:
            said = " ".join(_PUNCTUATION.sub(" ", lowered).split())
            return any(said in words(key) or lowered in words(key) for key in step.accepts)
        return False

    async def on_link(self, text: str) -> None:
        """A VK link typed outside a step that takes one: the public check or a link scenario."""
        routed = self.engine.link_router.route(text)
        scenario = self.engine.scenario(routed) if routed else None
        if scenario is not None and scenario.link_step:
            self.begin_side_trip()
            await self.enter_link_step(scenario, text)
            return
        waiting = self.waiting_question()
        await self.run_action(self.engine.link_action, text=text, buttons=waiting is None)
        if waiting is not None:
            self.continue_here()

    # --- output --------------------------------------------------------------------------------

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        self.out.append(Outgoing(text=text, buttons=buttons or []))

    def nav_buttons(self) -> list[list[Button]]:
        row = []
        if self.state.returns:
            row.append(nav_button("dialog.continue", payloads.CONTINUE))
        if self.conv.scenario:
            row.append(nav_button("dialog.back", payloads.BACK))
        row.append(nav_button("dialog.menu", payloads.MENU))
        return [row]

    def show_menu(self, title: bool = True) -> None:
        self.leave_scenario()
        lines = [t("dialog.menu_title")] if title else []
        type_title, goal_title = profile_titles(
            self.knowledge, self.conv.community_type, self.conv.goal
        )
        if type_title and goal_title:
            lines.append(t("dialog.profile_line", community_type=type_title, goal=goal_title))
        if not lines:
            lines.append(t("dialog.menu_title"))
        self.say("\n".join(lines), self.engine.menu_buttons())

    def resume(self, *, welcome: bool = False) -> None:
        """Where the person stopped: the current step again, or the greeting for a newcomer."""
        scenario = self.current_scenario()
        if self.current_step() is None or scenario is None:
            self.say(t("dialog.greeting"))
            self.show_menu(title=False)
            return
        if welcome:
            self.welcome_back(scenario, always=True)
        self.show_current()

    def show_help(self) -> None:
        self.say(t("dialog.help"), self.nav_buttons())
        if self.waiting_question() is not None:
            self.continue_here()

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
            self.set_position(scenario.id, scenario.start)
            return scenario.step(scenario.start)

    def waiting_question(self) -> Step | None:
        """The current step when it waits for an answer (a side trip must not swallow it)."""
        step = self.current_step()
        return step if isinstance(step, _QUESTION_STEPS) else None

    def at_scenario(self, scenario_id: str) -> bool:
        return self.conv.scenario == scenario_id

    def has_step(self, step_id: str) -> bool:
        """Whether the current scenario has this step (a forged button may name any)."""
        return self.scenario_has(self.conv.scenario or "", step_id)

    def scenario_has(self, scenario_id: str, step_id: str) -> bool:
        scenario = self.engine.scenario(scenario_id)
        return scenario is not None and any(s.id == step_id for s in scenario.steps)

    def at_step(self, scenario_id: str, step_id: str) -> bool:
        return self.conv.scenario == scenario_id and self.conv.step == step_id

    @property
    def index(self) -> int:
        return self.state.index

    def set_position(self, scenario: str | None, step: str | None, index: int = 0) -> None:
        self.conv.scenario = scenario
        self.conv.step = step
        self.state.index = index

    def here(self) -> Position | None:
        return _position(self.conv, self.state)

    def remember(self) -> None:
        self.state.remember(self.here())

    def carry_over(self, fresh: DialogState) -> DialogState:
        """``fresh`` with what outlives a scenario: the tools' hand-off, the kept reports, the
        owner's words, the lasting features and the last turn's time."""
        old = self.state
        fresh.handoff, fresh.kept, fresh.owner = old.handoff, old.kept, old.owner
        fresh.features.update({k: v for k, v in old.features.items() if k in LASTING_FEATURES})
        fresh.seen_at = old.seen_at
        return fresh

    def leave_scenario(self, *, keep_returns: bool = False) -> None:
        returns = self.state.returns if keep_returns else []
        self.conv.scenario = None
        self.conv.step = None
        self.state = self.carry_over(DialogState(returns=returns))

    def go_back(self) -> None:
        """The previous position, shown again (its command is not run a second time)."""
        history = self.state.history
        while history:
            position = history.pop()
            scenario = self.engine.scenario(position.scenario)
            if scenario is None or not any(s.id == position.step for s in scenario.steps):
                continue
            self.set_position(position.scenario, position.step, position.index)
            self.show_current(brief=True)
            return
        self.show_menu()

    # --- side trips ----------------------------------------------------------------------------

    def begin_side_trip(self) -> None:
        """Remember the waiting question, with what was typed so far, before leaving it."""
        position = self.here()
        if position is None or self.waiting_question() is None:
            return
        saved = self.state.model_copy(update={"returns": []}).dump()
        self.state.push_return(Return(at=position, saved=saved))

    def continue_here(self) -> None:
        """After a side trip inside one turn: the waiting question again."""
        scenario = self.current_scenario()
        if self.away and not self.welcomed and scenario is not None:
            self.welcome_back(scenario)
        else:
            self.say(t("dialog.continue_intro"))
        self.show_current()

    def welcome_back(self, scenario: Scenario, *, always: bool = False) -> None:
        """«С возвращением! …» after a long pause (``always``: after a restart), once a turn."""
        if (self.away or always) and not self.welcomed:
            self.welcomed = True
            self.say(t("dialog.welcome_back", title=scenario.title))

    async def continue_return(self) -> None:
        """«Продолжить»: back to where the last side trip began."""
        if not self.state.returns:
            self.say(t("dialog.nothing_to_continue"))
            self.show_current() if self.current_step() else self.show_menu()
            return
        back = self.state.returns.pop()
        position = back.at
        scenario = self.engine.scenario(position.scenario)
        if scenario is None or not any(s.id == position.step for s in scenario.steps):
            self.show_menu()
            return
        returns = self.state.returns
        self.state = self.carry_over(DialogState.load(back.saved))
        self.state.returns = returns
        self.set_position(position.scenario, position.step, position.index)
        self.continue_here()

    # --- moving: entering steps ----------------------------------------------------------------

    async def start_scenario(
        self, scenario_id: str, *, keep_returns: bool = False, at: str | None = None
    ) -> None:
        scenario = self.engine.scenario(scenario_id)
        assert scenario is not None
        needs_profile = scenario.needs_profile and not (self.conv.community_type and self.conv.goal)
        self.leave_scenario(keep_returns=keep_returns)
        if needs_profile and scenario_id != PROFILE_SCENARIO:
            self.state.pending = scenario_id
            self.say(t("dialog.profile_intro"))
            profile = self.engine.scenario(PROFILE_SCENARIO)
            assert profile is not None
            await self.enter(profile.id, profile.start)
            return
        await self.enter(scenario.id, at or scenario.start)

    async def goto(self, step_id: str | None) -> None:
        """Leave the current step for another of the same scenario (None: the scenario ends)."""
        scenario = self.current_scenario()
        if step_id is None or scenario is None:
            await self.finish_scenario()
            return
        self.remember()
        self.state.form.clear()
        await self.enter(scenario.id, step_id)

    async def finish_scenario(self) -> None:
        pending = self.state.pending
        if self.conv.scenario == PROFILE_SCENARIO and pending and self.engine.scenario(pending):
            await self.start_scenario(pending, keep_returns=True)
        elif self.state.returns:
            await self.continue_return()
        else:
            self.show_menu()

    async def enter(self, scenario_id: str, step_id: str, index: int = 0) -> None:
        """Arrive at a step: run its command (once, here) and show it."""
        self.set_position(scenario_id, step_id, index)
        step = self.current_step()
        assert step is not None
        if isinstance(step, FieldStep):
            if step.starts_draft:
                self.state.draft.clear()
            if step.skip_when_known and self.state.draft.get(step.store) is not None:
                await self.enter(scenario_id, step.next)
                return
        if isinstance(step, ChecklistStep) and not self.checklist_items(step):
            await self.enter(scenario_id, step.next)
            return
        if isinstance(step, MessageStep):
            await self.enter_message(step)
            return
        self.show_current()

    async def enter_message(self, step: MessageStep) -> None:
        produced: list[Outgoing] = []
        outcome = "ok"
        if step.action:
            ctx = self.context()
            produced = await self.engine.actions[step.action](ctx)
            outcome = ctx.outcome
        if step.closes_draft:
            self.state.draft.clear()
            self.forget_fields()
        pending = self.state.pending if step.then_resume else None
        if pending and self.engine.scenario(pending):
            self.profile_advised = bool(produced)
            texts = self.static_texts(step)
            if texts:
                self.say("\n\n".join(texts))
            self.out.extend(produced)
            await self.start_scenario(pending, keep_returns=True)
            return
        target = step.target(outcome)
        if target is not None:
            # A relay: what its command said, then where the scenario file sends this outcome.
            self.out.extend(produced)
            await self.move_on(step, outcome, target)
            return
        self.keep_shown(produced)
        self.show_message(step, produced)

    async def move_on(self, step: MessageStep | InputStep, outcome: str, target: str) -> None:
        """After a command: to the step its outcome leads to, shown or only its buttons."""
        if isinstance(step, InputStep):
            self.remember()
        if step.announces(outcome):
            await self.enter(self.conv.scenario or "", target)
        else:
            self.set_position(self.conv.scenario, target)
            self.add_step_buttons()

    def keep_shown(self, produced: list[Outgoing]) -> None:
        """What a command produced on entry, for showing the step again without running it."""
        if not self.conv.step:
            return
        kept = [
            ShownMessage(
                text=m.text, buttons=[[(b.label, b.payload) for b in row] for row in m.buttons]
            )
            for m in produced
            if m.text
        ]
        shown = {k: v for k, v in self.state.shown.items() if k != self.conv.step}
        if kept:
            shown[self.conv.step] = kept
        self.state.shown = dict(list(shown.items())[-SHOWN_STEPS_KEPT:])

    # --- showing the current step: never a side effect -----------------------------------------

    def show_current(self, *, brief: bool = False) -> None:
        """The current step again; ``brief`` («Назад»): a guide topic read a moment ago is named,
        not printed again."""
        step = self.current_step()
        scenario = self.current_scenario()
        if step is not None and scenario is not None:
            self.welcome_back(scenario)
        if step is None:
            self.show_menu()
        elif isinstance(step, MessageStep):
            kept = self.state.shown.get(step.id, [])
            if brief and step.topics and not kept:
                titles = ", ".join(f"«{self.knowledge.topic(i).title}»" for i in step.topics)
                self.say(t("dialog.back_to_topics", titles=titles), self.step_buttons(step))
                return
            self.show_message(step, [_from_shown(m) for m in kept])
        elif isinstance(step, ChoiceStep):
            self.show_choice(step)
        elif isinstance(step, ChecklistStep):
            self.show_checklist(step)
        elif isinstance(step, QuestionnaireStep):
            self.show_questionnaire(step)
        elif isinstance(step, FormStep):
            self.show_form(step)
        elif isinstance(step, FieldStep):
            self.show_field(step)
        else:
            self.say(step.text or t("dialog.input_again"), self.step_buttons(step))

    def static_texts(self, step: Step) -> list[str]:
        texts = [step.text] if step.text else []
        texts.extend(self.topic_texts(step.topics))
        return texts

    def show_message(self, step: MessageStep, produced: list[Outgoing]) -> None:
        texts = self.static_texts(step)
        if not produced:
            self.say("\n\n".join(texts) or t("dialog.input_again"), self.step_buttons(step))
            return
        if texts:
            self.say("\n\n".join(texts))
        self.out.extend(produced[:-1])
        last = produced[-1]
        self.out.append(last.model_copy(update={"buttons": self.step_buttons(step, last.buttons)}))

    def step_buttons(
        self, step: Step, extra: list[list[Button]] | None = None
    ) -> list[list[Button]]:
        rows = list(extra or [])
        for spec in step.buttons:
            rows.append([self.spec_button(spec)])
        return rows + self.nav_buttons()

    def spec_button(self, spec: ButtonSpec) -> Button:
        target: Payload
        if spec.scenario and spec.at:
            target = Open(spec.scenario, spec.at)
        elif spec.scenario:
            target = Start(spec.scenario)
        else:
            target = Goto(self.conv.scenario or "", spec.goto or "")
        return Button(label=spec.label, payload=payloads.encode(target))

    def answer_button(self, label: str, value: str) -> Button:
        return _answer_button(self.conv, self.state, label, value)

    def topic_texts(self, topic_ids: list[str]) -> list[str]:
        """The step's topic cards as one screen: what one card said is not said by the next;
        right after the profile's advice, no «Для вашего сообщества» repeats it."""
        keys = [k for k in (self.conv.community_type, self.conv.goal) if k]
        said: list[str] = []
        owner = owner_from(self.conv, self.state.owner)
        return [
            adapt(
                render_topic(
                    self.knowledge.topic(topic_id),
                    [] if self.profile_advised else keys,
                    t("dialog.tailored_title"),
                    profile_set=len(keys) == 2,
                    said=said,
                ),
                owner,
            )
            for topic_id in topic_ids
        ]

    def show_choice(self, step: ChoiceStep) -> None:
        options = self.choice_options(step)
        lines = [step.text]
        lines.extend(f"{n}. {o.title} — {o.description}" for n, o in enumerate(options, start=1))
        rows = [[self.answer_button(o.title, o.id)] for o in options]
        self.say("\n".join(lines), self.step_buttons(step, rows))

    def choice_options(self, step: ChoiceStep) -> list[Any]:
        if step.sets == "community_type":
            return list(self.knowledge.community_types)
        return list(self.knowledge.goals)

    def checklist_items(self, step: ChecklistStep) -> list[ChecklistItem]:
        checklist = self.knowledge.checklist(step.checklist)
        kind = self.conv.community_type
        return [i for i in checklist.items if not i.applies_to or (kind and kind in i.applies_to)]

    def show_checklist(self, step: ChecklistStep) -> None:
        items = self.checklist_items(step)
        index = min(self.index, len(items) - 1)
        item = items[index]
        lines = []
        if index == 0 and step.text:
            lines.append(step.text)
        lines.append(t("dialog.checklist_progress", number=index + 1, total=len(items)))
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

    def show_questionnaire(self, step: QuestionnaireStep) -> None:
        questionnaire = self.knowledge.questionnaire(step.questionnaire)
        index = min(self.index, len(questionnaire.questions) - 1)
        question = questionnaire.questions[index]
        lines = []
        if index == 0:
            lines.append(step.text or questionnaire.intro)
        lines.append(
            t(
                "dialog.questionnaire_progress",
                number=index + 1,
                total=len(questionnaire.questions),
            )
        )
        lines.append(question.prompt)
        if question.hint:
            lines.append(question.hint)
        if question.example:
            lines.append(t("dialog.questionnaire_example", example=question.example))
        row = [self.answer_button(t("dialog.skip"), SKIP)]
        self.say("\n".join(lines), self.step_buttons(step, [row]))

    def show_form(self, step: FormStep) -> None:
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
            extra.append([self.answer_button(t("dialog.skip"), SKIP)])
        self.say("\n".join(lines), self.step_buttons(step, extra))
        self.out[-1] = self.out[-1].model_copy(update={"number_expected": True})

    def show_field(self, step: FieldStep, text: str | None = None) -> None:
        """The field's question, or (``text``) why its answer was refused, with its buttons."""
        rows = [[self.answer_button(c.label, c.value)] for c in step.choices]
        if step.optional:
            rows.append([self.answer_button(t("dialog.skip"), SKIP)])
        numeric = step.numeric or step.parser in _NUMERIC_PARSERS
        self.out.append(
            Outgoing(
                text=text or step.text,
                buttons=self.step_buttons(step, rows),
                number_expected=numeric,
            )
        )

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
                    await self.start_scenario(spec.scenario, at=spec.at)
                else:
                    await self.goto(spec.goto)
                return True
        if isinstance(step, ChoiceStep):
            return await self.answer_choice(step, value, typed)
        if isinstance(step, ChecklistStep):
            return await self.answer_checklist(step, value, typed)
        if isinstance(step, QuestionnaireStep) and value == SKIP and not typed:
            await self.answer_question(step, None)
            return True
        if isinstance(step, FormStep):
            return await self.answer_form(step, value, typed)
        if isinstance(step, FieldStep):
            await self.answer_field(step, value, typed=typed)
            return True
        if isinstance(step, InputStep):
            if typed:
                await self.run_action(step.action, text=value)
            else:
                await self.run_action(step.action, text="", answer=value)
            return True
        if not typed:
            self.say(t("dialog.stale_button"))
            self.show_current()
            return True
        if isinstance(step, MessageStep) and step.buttons:
            # The message asked nothing: a text the guide has no answer to gets that said, with
            # the step's buttons, not the whole message printed again.
            self.say(t("answers.no_match"), self.step_buttons(step))
            return True
        return False

    def choose(self, step: ChoiceStep, text: str) -> Any:
        """The option a typed text names: its number, its title, or in free words («у меня
        магазин» → commercial)."""
        options = self.choice_options(step)
        lowered = text.lower().strip(" .")
        if lowered.isdigit():
            return options[int(lowered) - 1] if 1 <= int(lowered) <= len(options) else None
        chosen = next((o for o in options if o.title.lower() == lowered), None)
        if chosen is None:
            match = match_choice(text, step.sets)
            chosen = next((o for o in options if match and o.id == match.option_id), None)
        return chosen

    async def answer_choice(self, step: ChoiceStep, value: str, typed: bool) -> bool:
        options = self.choice_options(step)
        if typed:
            chosen = self.choose(step, value)
        else:
            chosen = next((o for o in options if o.id == value), None)
        if chosen is None:
            self.say(t("dialog.not_understood", hint=t("dialog.not_understood_hint_choice")))
            self.show_choice(step)
            return True
        setattr(self.conv, step.sets, chosen.id)
        self.say(t("dialog.choice_saved", title=chosen.title))
        await self.goto(step.next)
        return True

    async def answer_checklist(self, step: ChecklistStep, value: str, typed: bool) -> bool:
        if typed:
            lowered = value.lower().strip(" .!")
            code = next(
                (
                    code
                    for code, key in (("y", "yes"), ("n", "no"), ("u", "unsure"))
                    if lowered in words(f"dialog.words.{key}")
                ),
                None,
            )
        else:
            code = value if value in CHECKLIST_ANSWERS else None
        items = self.checklist_items(step)
        if code is None or self.index >= len(items):
            self.say(t("dialog.not_understood", hint=t("dialog.not_understood_hint_yes_no")))
            self.show_checklist(step)
            return True
        item = items[self.index]
        self.conv.checklist_writes[(step.checklist, item.id)] = CHECKLIST_ANSWERS[code]
        self.remember()
        if self.index + 1 >= len(items):
            await self.enter(self.conv.scenario or "", step.next)
            return True
        self.state.index = self.index + 1
        self.show_checklist(step)
        return True

    async def answer_question(self, step: QuestionnaireStep, text: str | None) -> None:
        questionnaire = self.knowledge.questionnaire(step.questionnaire)
        if text is not None and len(text) > ANSWER_LIMIT:
            length = counted(len(text), t("dialog.char_word"))
            limit = counted(ANSWER_LIMIT, t("dialog.char_word"), "accs")
            self.say(t("dialog.answer_too_long", length=length, limit=limit))
            return
        index = min(self.index, len(questionnaire.questions) - 1)
        question = questionnaire.questions[index]
        if text is not None:
            self.conv.questionnaire_writes[(questionnaire.id, question.id)] = text
        self.remember()
        if index + 1 >= len(questionnaire.questions):
            await self.enter(self.conv.scenario or "", step.next)
            return
        self.state.index = index + 1
        self.show_questionnaire(step)

    async def answer_form(self, step: FormStep, value: str, typed: bool) -> bool:
        index = min(self.index, len(step.fields) - 1)
        form_field = step.fields[index]
        number: float | None
        if not typed and value == SKIP and form_field.optional:
            number = None
        elif not typed:
            return False
        else:
            number = _typed_number(value)
            error = (
                t("dialog.number_invalid") if number is None else _field_error(form_field, number)
            )
            if error:
                self.say(error)
                self.show_form(step)
                return True
        self.state.form[form_field.id] = number
        if index + 1 < len(step.fields):
            self.remember()
            self.state.index = index + 1
            self.show_form(step)
            return True
        collected = {f.id: self.state.form.get(f.id) for f in step.fields}
        self.state.form.clear()
        produced = await self.engine.actions[step.action](self.context(values=collected))
        if step.next:
            self.out.extend(produced)
            await self.goto(step.next)
            # The form is over: «Назад» from its result skips its questions.
            self.forget({step.id})
            return True
        self.forget({step.id})
        self.set_position(self.conv.scenario, step.id, 0)
        self.out.extend(produced[:-1])
        if produced:
            last = produced[-1]
            self.out.append(last.model_copy(update={"buttons": self.step_buttons(step)}))
        return True

    async def answer_field(self, step: FieldStep, value: str, *, typed: bool) -> None:
        choice = next((c for c in step.choices if c.value == value), None) if not typed else None
        if typed:
            lowered = value.lower().strip(" .!")
            choice = next((c for c in step.choices if c.label.lower() == lowered), None)
        if choice is not None:
            updates: dict[str, Any] = {step.store: choice.value}
            if step.echo:
                self.say(step.echo.format(label=choice.label))
        elif not typed and value == SKIP and step.optional:
            updates = {step.store: None}
        elif not typed:
            self.say(t("dialog.stale_button"))
            self.show_field(step)
            return
        else:
            try:
                parser = self.engine.parsers[step.parser]
                updates = parser(value, step.store, dict(self.state.draft))
            except FieldRefused as refused:
                log.info("field %s/%s refused an answer", self.conv.scenario, step.id)
                self.show_field(step, refused.message)
                return
        self.state.draft.update(updates)
        if step.after:
            try:
                self.out.extend(await self.engine.actions[step.after](self.context(text=value)))
            except FieldRefused as refused:
                self.show_field(step, refused.message)
                return
        stored = self.state.draft.get(step.store)
        following = step.next_by_value.get(str(stored), step.next)
        await self.goto(following)

    def forget(self, step_ids: set[str]) -> None:
        """«Назад» no longer returns to these steps of the current scenario (a finished form's
        questions, a saved draft's fields)."""
        self.state.history = [
            p
            for p in self.state.history
            if not (p.scenario == self.conv.scenario and p.step in step_ids)
        ]

    def forget_fields(self) -> None:
        scenario = self.current_scenario()
        if scenario is not None:
            self.forget({s.id for s in scenario.steps if isinstance(s, FieldStep)})

    # --- input steps and the link side trip ----------------------------------------------------

    def context(
        self,
        *,
        text: str = "",
        values: dict[str, float | None] | None = None,
        answer: str | None = None,
    ) -> ActionContext:
        return ActionContext(
            self.engine,
            self.conv,
            self.state,
            self.progress,
            text=text,
            values=values or {},
            answer=answer,
        )

    async def enter_link_step(self, scenario: Scenario, text: str) -> None:
        """Open the scenario at the step that takes a link, and hand it this message."""
        step = scenario.step(scenario.link_step or "")
        assert isinstance(step, InputStep)
        self.leave_scenario(keep_returns=True)
        self.set_position(scenario.id, step.id)
        await self.run_action(step.action, text=text)

    async def run_action(
        self, name: str, *, text: str, answer: str | None = None, buttons: bool = True
    ) -> None:
        step = self.current_step()
        ctx = self.context(text=text, answer=answer)
        try:
            produced = await self.engine.actions[name](ctx)
        except Refused as refused:
            self.say(refused.message)
            self.add_step_buttons()
            return
        self.out.extend(produced)
        target = step.target(ctx.outcome) if isinstance(step, InputStep) else None
        if target is not None and isinstance(step, InputStep):
            await self.move_on(step, ctx.outcome, target)
        elif buttons:
            self.add_step_buttons()

    async def run_tool(self, name: str, value: str) -> None:
        """A tool's button: its answer, then the person stays where they were (a waiting
        question is asked again)."""
        produced = await self.engine.actions[name](self.context(answer=value))
        waiting = self.waiting_question() is not None
        if produced and not waiting:
            step, last = self.current_step(), produced[-1]
            rows = (
                self.step_buttons(step, last.buttons)
                if step is not None
                else [*last.buttons, *self.nav_buttons()]
            )
            produced[-1] = last.model_copy(update={"buttons": rows})
        self.out.extend(produced)
        if waiting:
            self.continue_here()

    def add_step_buttons(self) -> None:
        """The current step's buttons under the last message, after the command's own (the
        public check's «Записать в учёт»)."""
        step = self.current_step()
        if self.out:
            own = self.out[-1].buttons
            rows = self.step_buttons(step, own) if step is not None else own + self.nav_buttons()
            self.out[-1] = self.out[-1].model_copy(update={"buttons": rows})


def _from_shown(message: ShownMessage) -> Outgoing:
    return Outgoing(
        text=message.text,
        buttons=[[Button(label=label, payload=p) for label, p in row] for row in message.buttons],
    )


def _supposing(text: str) -> bool:
    """A question or a supposition («а если у меня магазин?», «если я продаю торты») rather
    than the owner telling what is."""
    tokens = [token.lower() for token in morph_words(text)]
    if "?" in text or any(w in words("dialog.words.supposing") for w in tokens):
        return True
    return bool(tokens) and tokens[0] in words("dialog.words.question")


def _is_request(text: str) -> bool:
    """A request to open a section («проверь мою группу», «проверить условия конкурса») rather
    than a question to the guide: it opens with an imperative or an infinitive and asks nothing."""
    tokens = morph_words(text)
    if not tokens or "?" in text or any(w in words("dialog.words.question") for w in tokens):
        return False
    return _opens_a_request(tokens[0])


@lru_cache(maxsize=4096)
def _opens_a_request(word: str) -> bool:
    tag = analyzer().parse(word)[0].tag
    return "impr" in tag or "INFN" in tag


def _typed_number(text: str) -> float | None:
    """A number as people type it: «1500», «1,5 тыс», «около 400», «полторы тысячи»."""
    try:
        return parse_number(text)
    except NumberFormatError:
        pass
    # Words, a range or a percent only as people write them: «--5», «<b>1</b>» or «1; DROP»
    # stay refused.
    lowered = text.lower().strip()
    if not _NUMBER_PHRASE.fullmatch(lowered) or not (
        _CYRILLIC.search(lowered) or _RANGE_OR_PERCENT.fullmatch(lowered)
    ):
        return None
    phrase = parse_number_phrase(text)
    return phrase.value if phrase is not None else None


def _match_label(text: str, buttons: list[ButtonSpec]) -> ButtonSpec | None:
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
