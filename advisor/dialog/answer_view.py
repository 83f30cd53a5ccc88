"""A typed question's answer as messages: the guide's fact with its section, and a button into
the scenario where the topic is worked through (``advisor.answers`` finds the answer)."""

from __future__ import annotations

from advisor.answers import Answer, Answered, TwoTopics, button_label
from advisor.dialog import payloads
from advisor.dialog.types import Button, Outgoing
from advisor.texts import t


def _button(answer: Answer) -> list[Button]:
    if not answer.scenario_id:
        return []
    target: payloads.Payload = (
        payloads.Open(answer.scenario_id, answer.step_id)
        if answer.step_id
        else payloads.Start(answer.scenario_id)
    )
    return [Button(label=button_label(answer), payload=payloads.encode(target))]


def _text(answer: Answer) -> str:
    lines = [answer.text]
    if answer.tailored:
        lines.append(f"{t('dialog.tailored_title')} {answer.tailored}")
    lines.append(t("dialog.section_ref", section=answer.section))
    return "\n".join(lines)


def answer_messages(result: Answered | TwoTopics) -> list[Outgoing]:
    if isinstance(result, Answered):
        row = _button(result.answer)
        return [Outgoing(text=_text(result.answer), buttons=[row] if row else [])]
    rows = [row for row in (_button(result.first), _button(result.second)) if row]
    text = "\n\n".join([result.intro, _text(result.first), _text(result.second)])
    return [Outgoing(text=text, buttons=rows)]
