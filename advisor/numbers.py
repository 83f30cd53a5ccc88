"""Numbers as people type them in Russian: «1 500», «1,5 тыс», «2 млн», «15%», «1.5k»."""

from __future__ import annotations

import re

_MULTIPLIERS = {
    "тыс": 1_000,
    "тысяч": 1_000,
    "тысячи": 1_000,
    "тысяча": 1_000,
    "т": 1_000,
    "k": 1_000,
    "к": 1_000,
    "млн": 1_000_000,
    "миллион": 1_000_000,
    "миллиона": 1_000_000,
    "миллионов": 1_000_000,
    "m": 1_000_000,
    "м": 1_000_000,
}
_UNITS = ("₽", "руб", "рублей", "рубля", "рубль", "р", "%", "шт")
# Spaces inside a number: ordinary, no-break and narrow no-break ones.
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_NUMBER = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)(.*)$")


class NumberFormatError(ValueError):
    """The text is not a number a person would write."""


def parse_number(text: str) -> float:
    """Parse one number; grouping spaces, a decimal comma, multipliers and units are understood."""
    raw = _SPACES.sub(" ", text.strip().lower()).rstrip(".")
    if not raw or len(raw) > 40:
        raise NumberFormatError(text)
    # «1 500 000» is one number: join digit groups of three separated by single spaces.
    raw = re.sub(r"(?<=\d) (?=\d{3}(?:\D|$))", "", raw)
    match = _NUMBER.match(raw)
    if not match:
        raise NumberFormatError(text)
    value = float(match.group(1).replace(",", "."))
    rest = match.group(2).strip().rstrip(".")
    for unit in _UNITS:
        if rest.endswith(unit):
            rest = rest[: -len(unit)].strip().rstrip(".")
            break
    if rest:
        if rest not in _MULTIPLIERS:
            raise NumberFormatError(text)
        value *= _MULTIPLIERS[rest]
    return value


def format_number(value: float, digits: int = 1) -> str:
    """Russian notation: thousands split by spaces, a decimal comma, no trailing zeros."""
    text = f"{value:,.{digits}f}" if digits else f"{round(value):,}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",")
