"""Every button payload the dialog emits, built and parsed in this one module.

A payload is what a front-end hands back when a button is pressed. It must fit Telegram's
64-byte ``callback_data`` and VK's payload, and an old message's button must still parse (a
stored message outlives a release), so the wire format is short and stable:

``m`` menu, ``r`` resume (show the current step again), ``w`` resume after a restart (with
«С возвращением»), ``b`` back, ``h`` help,
``p`` continue where a side trip began, ``s:<scenario>`` start a scenario,
``o:<scenario>:<step>`` open a scenario at a step (an answer's «Подробнее»),
``g:<scenario>:<step>`` go to a step, ``a:<scenario>:<step>:<index>:<value>`` answer the step at
that position (the position makes an old message's «да» unable to answer a later question),
``t:<tool>:<value>`` show what a tool kept, wherever the person is (a checked public's report).

No other module writes a payload string: they build one of the types below and call ``encode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

_Simple = Literal["m", "r", "w", "b", "h", "p"]


@dataclass(frozen=True)
class Control:
    """A payload without arguments: the menu, resume, back, help, continue."""

    code: _Simple


MENU: Final = Control("m")
RESUME: Final = Control("r")
WELCOME_BACK: Final = Control("w")
BACK: Final = Control("b")
HELP: Final = Control("h")
CONTINUE: Final = Control("p")


@dataclass(frozen=True)
class Start:
    scenario: str


@dataclass(frozen=True)
class Open:
    scenario: str
    step: str


@dataclass(frozen=True)
class Goto:
    scenario: str
    step: str


@dataclass(frozen=True)
class Answer:
    scenario: str
    step: str
    index: int
    value: str


@dataclass(frozen=True)
class Tool:
    """A button of a command's answer that works at any step: the engine runs the tool (one of
    the commands it was given as tools) with ``value`` and leaves the position as it is."""

    name: str
    value: str


Payload = Control | Start | Open | Goto | Answer | Tool

_CONTROLS: Final[dict[str, Control]] = {
    c.code: c for c in (MENU, RESUME, WELCOME_BACK, BACK, HELP, CONTINUE)
}
MAX_RAW = 128  # longer input is not ours: a forged or corrupted payload


def encode(payload: Payload) -> str:
    match payload:
        case Control(code):
            return code
        case Start(scenario):
            return f"s:{scenario}"
        case Open(scenario, step):
            return f"o:{scenario}:{step}"
        case Goto(scenario, step):
            return f"g:{scenario}:{step}"
        case Answer(scenario, step, index, value):
            return f"a:{scenario}:{step}:{index}:{value}"
        case Tool(name, value):
            return f"t:{name}:{value}"
    raise TypeError(f"not a payload: {payload!r}")


def decode(raw: str) -> Payload | None:
    """The payload a front-end handed back, or None when it is not one of ours."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_RAW:
        return None
    control = _CONTROLS.get(raw)
    if control is not None:
        return control
    kind, _, rest = raw.partition(":")
    parts = rest.split(":") if rest else []
    if not all(parts):
        return None
    if kind == "s" and len(parts) == 1:
        return Start(parts[0])
    if kind == "o" and len(parts) == 2:
        return Open(parts[0], parts[1])
    if kind == "g" and len(parts) == 2:
        return Goto(parts[0], parts[1])
    if kind == "t" and len(parts) == 2:
        return Tool(parts[0], parts[1])
    if kind == "a" and len(parts) == 4 and parts[2].isdigit():
        return Answer(parts[0], parts[1], int(parts[2]), parts[3])
    return None
