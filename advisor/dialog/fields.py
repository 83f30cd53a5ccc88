"""Parsers of field steps: a typed answer becomes draft entries or a Russian reason to retype.

A scenario's field step names its parser (``parser: money``); features add their own (the
tracker's placement fields) beside these generic ones when the engine is built. A parser sees
the draft so far (read only), so it can refuse an answer that contradicts an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from advisor.numbers import NumberFormatError, parse_number
from advisor.texts import t

MAX_TEXT = 200


class Refused(ValueError):
    """The typed answer does not fit the step; ``message`` says why, in Russian. The person
    stays on the step."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


FieldRefused = Refused

FieldParser = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]
"""``parser(text, store, draft)`` → the draft entries the answer gives (often ``{store: v}``)."""


def _number(text: str) -> float:
    try:
        value = parse_number(text)
    except NumberFormatError:
        raise FieldRefused(t("dialog.number_invalid")) from None
    if value < 0:
        raise FieldRefused(t("dialog.number_negative"))
    return value


def parse_number_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    return {store: _number(text)}


def parse_count_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    value = _number(text)
    if value != int(value):
        raise FieldRefused(t("dialog.number_not_whole"))
    return {store: int(value)}


def parse_percent_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    value = _number(text.replace("%", ""))
    if value > 100:
        raise FieldRefused(t("dialog.percent_too_big"))
    return {store: value}


def parse_text_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    value = " ".join(text.split())
    if not value:
        raise FieldRefused(t("dialog.empty"))
    if len(value) > MAX_TEXT:
        raise FieldRefused(t("dialog.answer_too_long", length=len(value), limit=MAX_TEXT))
    return {store: value}


GENERIC_PARSERS: Mapping[str, FieldParser] = {
    "number": parse_number_field,
    "money": parse_number_field,
    "count": parse_count_field,
    "percent": parse_percent_field,
    "text": parse_text_field,
}
