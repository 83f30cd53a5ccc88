"""Scenario graphs as data: each scenario is a set of steps the dialog engine walks through."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Button payloads carry scenario and step ids; these bounds keep every payload under 48 bytes.
MAX_SCENARIO_ID = 12
MAX_STEP_ID = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ButtonSpec(_Strict):
    label: str = Field(min_length=1, max_length=40)
    goto: str | None = Field(default=None, description="a step of the same scenario")
    scenario: str | None = Field(default=None, description="a scenario to start")
    at: str | None = Field(
        default=None, description="with scenario: open it at this step instead of its start"
    )

    @model_validator(mode="after")
    def _one_target(self) -> ButtonSpec:
        if (self.goto is None) == (self.scenario is None):
            raise ValueError("a button needs exactly one of goto / scenario")
        if self.at is not None and self.scenario is None:
            raise ValueError("«at» goes with «scenario»")
        return self


class _Step(_Strict):
    id: str = Field(min_length=1, max_length=MAX_STEP_ID, pattern=r"^[a-z0-9_]+$")
    text: str = ""
    topics: list[str] = Field(default=[], description="topic ids shown after the text")
    buttons: list[ButtonSpec] = []


class _TakesWords(_Step):
    """A step that names, in ``accepts``, the text keys of word lists it takes as its answer
    ahead of the chat's intents: on «Удалить строку?» the typed «не надо» means «нет», not
    «leave the form»."""

    accepts: list[str] = Field(default=[], description="text keys of comma-separated word lists")


class _Routed(_Step):
    """A step whose command reports an outcome: ``next`` is where "ok" leads, ``then`` where the
    others do (an outcome not listed stays). With ``announce`` (true, or a list of outcomes)
    the step moved to is entered
    after the command's reply (its command runs, its question is shown); otherwise the
    conversation only moves there and the reply carries that step's buttons."""

    next: str | None = None
    then: dict[str, str] = Field(default={}, description="outcome → step («on» is a YAML bool)")
    announce: bool | list[str] = False

    def announces(self, outcome: str) -> bool:
        return self.announce if isinstance(self.announce, bool) else outcome in self.announce

    def target(self, outcome: str) -> str | None:
        if outcome in self.then:
            return self.then[outcome]
        return self.next if outcome == "ok" else None


class MessageStep(_Routed):
    """Shows text, topics and, when ``action`` is set, what the action computes on entry."""

    kind: Literal["message"]
    action: str | None = None
    then_resume: bool = Field(
        default=False,
        description="when this scenario was a detour (the profile), go on to the one asked for",
    )
    closes_draft: bool = Field(
        default=False,
        description="its command used the field steps' draft (saved it): empty the draft, and "
        "«Назад» no longer returns to those questions",
    )


class ChoiceStep(_Step):
    """Asks the community type or the goal; options come from the knowledge base."""

    kind: Literal["choice"]
    sets: Literal["community_type", "goal"]
    next: str | None = None


class ChecklistStep(_Step):
    """Asks each applicable checklist item as yes / no / not sure."""

    kind: Literal["checklist"]
    checklist: str
    next: str


class QuestionnaireStep(_Step):
    """Asks each question of a questionnaire and keeps the free-text answers."""

    kind: Literal["questionnaire"]
    questionnaire: str
    next: str


class FormField(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    prompt: str
    kind: Literal["count", "money", "percent"]
    max: float | None = None
    optional: bool = False


class FormStep(_Step):
    """Collects numbers one by one, then runs an action on them."""

    kind: Literal["form"]
    fields: list[FormField] = Field(min_length=1)
    action: str
    next: str | None = Field(default=None, description="where to go after the action")


class InputStep(_Routed, _TakesWords):
    """Waits for one free-text message (or one of the action's answer buttons) and hands it
    to an action."""

    kind: Literal["input"]
    action: str


class FieldChoice(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]+$", max_length=16)
    label: str = Field(min_length=1, max_length=40)


class FieldStep(_TakesWords):
    """Asks one value and keeps it in the scenario's draft under ``store``.

    ``parser`` names a registered parser (``advisor/dialog/fields.py`` and the features'),
    which turns the typed text into draft entries or refuses it with a Russian reason.
    ``choices`` become buttons whose value is stored as is. Where to go next is ``next``, or
    ``next_by_value`` for the stored value; ``skip_when_known`` passes over a field the draft
    already holds (e.g. filled from VK); ``optional`` adds «Пропустить»; ``after`` names a command
    run once when the answer is accepted. A field's ``next`` may be a message step whose
    command uses the draft (saving it).
    """

    kind: Literal["field"]
    parser: str
    store: str = Field(pattern=r"^[a-z0-9_]+$")
    choices: list[FieldChoice] = []
    numeric: bool = Field(default=False, description="the answer is a number (console hint)")
    echo: str = Field(default="", description="said when a choice is taken: {label} is its label")
    next: str
    next_by_value: dict[str, str] = {}
    skip_when_known: bool = False
    optional: bool = False
    after: str | None = None
    starts_draft: bool = Field(default=False, description="entering it empties the draft")


Step = Annotated[
    MessageStep | ChoiceStep | ChecklistStep | QuestionnaireStep | FormStep | InputStep | FieldStep,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    id: str = Field(min_length=1, max_length=MAX_SCENARIO_ID, pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=2, max_length=40)
    section: str = Field(min_length=3)
    summary: str
    start: str
    steps: list[Step] = Field(min_length=1)
    needs_profile: bool = True
    in_menu: bool = True
    keywords: list[str] = Field(
        default=[], description="lemmas that route a free-text message to this scenario"
    )
    link_step: str | None = Field(
        default=None, description="the input step that takes a message with a VK link"
    )
    link_words: list[str] = Field(
        default=[],
        description="lemmas that, beside a VK link, send the message to link_step "
        "instead of the public check (e.g. «мой» in «проверь мою группу vk.com/…»)",
    )

    @model_validator(mode="after")
    def _graph(self) -> Scenario:
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"scenario {self.id}: duplicate step ids")
        known = set(ids)
        if self.start not in known:
            raise ValueError(f"scenario {self.id}: start step {self.start!r} does not exist")
        if self.link_step is not None and not isinstance(
            next((s for s in self.steps if s.id == self.link_step), None), InputStep
        ):
            raise ValueError(f"scenario {self.id}: link_step must name an input step")
        for step in self.steps:
            targets = [b.goto for b in step.buttons if b.goto]
            following = getattr(step, "next", None)
            if following:
                targets.append(following)
            if isinstance(step, _Routed):
                targets.extend(step.then.values())
            if isinstance(step, FieldStep):
                targets.extend(step.next_by_value.values())
            for target in targets:
                if target not in known:
                    raise ValueError(f"scenario {self.id} step {step.id}: unknown step {target!r}")
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
