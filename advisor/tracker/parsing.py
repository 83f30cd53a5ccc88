"""Placement fields as people type them, and the one-line form.

* Numbers go through ``advisor.numbers.parse_number`` («1 500», «1,5 тыс», «2 млн», «150 ₽»).
* A period is one date (the start) or two: «01.03.2025», «1.03–5.03», «2025-03-01 — 2025-03-05»,
  «с 1 по 5 марта», «1 марта 2025», «сегодня». A missing year makes the latest such date no more
  than ``PLANNED_DAYS_AHEAD`` days ahead (people mostly record placements that already ran, or
  one planned soon: on 20 December «05.01» is next January, on 25 November «01.03» is the last
  March); an end without a year follows its start (and the next year if it would be earlier:
  «28.12–03.01»).
* The one-line form: parts separated by «;», a tab (a row pasted from a spreadsheet), «|» or a
  line break. Either every part is positional in the order of ``INPUT_FIELDS``, or the parts are
  named: «просмотры: 5 000; переходы: 120» or, as in updates, «просмотры 5 000; переходы 120»
  (the colon is optional in both). «-» (or an empty part) means "not known".

Every refusal is a ``Problem`` with a Russian message; nothing here raises anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, overload

from advisor.morph import counted
from advisor.numbers import NumberFormatError, parse_number
from advisor.texts import t
from advisor.tracker.models import (
    COUNT_FIELDS,
    EXTRA_FIELDS,
    INPUT_FIELDS,
    MAX_COUNT,
    MAX_DAYS_AHEAD,
    MAX_MONEY,
    MAX_TEXT,
    METHODS,
    MIN_YEAR,
    Draft,
    InputProblem,
    Method,
    PostRef,
    Problem,
)
from advisor.vk.links import LinkError, parse_link

# Values that mean "not known" in an optional field.
_EMPTY = {"", "-", "—", "–", "нет данных", "неизвестно", "не знаю", "?", "пропустить", "н/д"}
_FREE_MONEY = {"бесплатно", "бесплатная", "бесплатный", "даром", "free"}
_PART_SPLIT = re.compile(r"[;\t|\n]")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")

_MONTH_FORMS = (
    "январь января янв",
    "февраль февраля фев февр",
    "март марта мар",
    "апрель апреля апр",
    "май мая",
    "июнь июня июн",
    "июль июля июл",
    "август августа авг",
    "сентябрь сентября сен сент",
    "октябрь октября окт",
    "ноябрь ноября ноя нояб",
    "декабрь декабря дек",
)
_MONTHS = {form: number for number, forms in enumerate(_MONTH_FORMS, 1) for form in forms.split()}
# How far ahead a date written without a year may be taken to lie.
PLANNED_DAYS_AHEAD = 60
_RELATIVE = {"сегодня": 0, "вчера": 1, "позавчера": 2}
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_YEAR_WORD = re.compile(r"(\d{4})\s*(?:г\.?|года|год)(?=[\s\-–—.]|$)")
_RANGE_SPLIT = re.compile(r"\s*(?:[-–—]|\.\.\.?|…)\s*|\s+(?:по|до)\s+")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?$")
_WORDY = re.compile(r"^(\d{1,2})\s+([а-я]{3,9})\.?(?:\s+(\d{4}))?$")
_DAY = re.compile(r"^(\d{1,2})$")


def normalize(text: str) -> str:
    """Lower case, «ё» as «е», single spaces: how words are compared."""
    return _SPACES.sub(" ", text.replace("ё", "е").replace("Ё", "Е").lower()).strip()


def is_empty(text: str) -> bool:
    return normalize(text).strip(" .") in _EMPTY


def _words(key: str) -> list[str]:
    return [normalize(word) for word in t(key).split(",") if word.strip()]


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    """Every way to name a field («просмотры», «показы», ...) → the field."""
    labels: dict[str, str] = {}
    for name in (*INPUT_FIELDS, *EXTRA_FIELDS):
        for word in _words(f"tracker.labels.{name}"):
            labels[word] = name
    return labels


@lru_cache(maxsize=1)
def _labels_longest_first() -> list[tuple[str, str]]:
    return sorted(_labels().items(), key=lambda pair: -len(pair[0]))


@lru_cache(maxsize=1)
def _method_words() -> list[tuple[str, Method]]:
    pairs = [
        (word, method) for method in METHODS for word in _words(f"tracker.method_words.{method}")
    ]
    # Longer phrases first, so «сторонняя биржа» wins over «биржа».
    return sorted(pairs, key=lambda pair: -len(pair[0]))


_CONFIRM_PUNCTUATION = re.compile(r"[^\w\s+\-]")


@lru_cache(maxsize=1)
def _confirm_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for answer in ("yes", "no"):
        for word in t(f"tracker.confirm_words.{answer}").split(","):
            words[normalize(word)] = answer
    return words


def confirmation(text: str) -> str | None:
    """«да», «Да!», «да, удалить» → "yes"; «нет», «не надо», «оставить» → "no"; else ``None``."""
    cleaned = normalize(_CONFIRM_PUNCTUATION.sub(" ", text))
    return _confirm_words().get(cleaned) or _confirm_words().get(normalize(text))


# --- single fields -----------------------------------------------------------------------------


def parse_count(text: str, name: str) -> int:
    """A whole non-negative number of views, clicks, ... («1 500», «1,5 тыс»)."""
    try:
        value = parse_number(text)
    except NumberFormatError:
        raise InputProblem(Problem(name, "not_number", {"text": _shown(text)})) from None
    if value < 0:
        raise InputProblem(Problem(name, "negative"))
    if value > MAX_COUNT:
        raise InputProblem(Problem(name, "too_large", {"max": _big(MAX_COUNT)}))
    if value != int(value):
        raise InputProblem(Problem(name, "not_whole", {"text": _shown(text)}))
    return int(value)


def parse_money(text: str, name: str = "budget") -> float:
    """Roubles, rounded to kopecks; «бесплатно» is 0."""
    if normalize(text).strip(" .!") in _FREE_MONEY:
        return 0.0
    try:
        value = parse_number(text)
    except NumberFormatError:
        raise InputProblem(Problem(name, "not_number", {"text": _shown(text)})) from None
    if value < 0:
        raise InputProblem(Problem(name, "negative"))
    if value > MAX_MONEY:
        raise InputProblem(Problem(name, "too_large", {"max": _big(MAX_MONEY)}))
    return round(value, 2)


def parse_text(text: str, name: str) -> str:
    """The public's or the creative's name: one line, up to ``MAX_TEXT`` characters."""
    value = _SPACES.sub(" ", text).strip()
    if not value:
        raise InputProblem(Problem(name, "required"))
    if len(value) > MAX_TEXT:
        raise InputProblem(
            Problem(
                name,
                "too_long",
                {
                    "max": counted(MAX_TEXT, t("dialog.char_word"), "gent"),
                    "length": counted(len(value), t("dialog.char_word")),
                },
            )
        )
    return value


def parse_method(text: str) -> Method:
    """«напрямую у админа», «биржа ВК», «3», «VK Реклама», «бесплатно» → the method."""
    lowered = normalize(text).strip(" .!«»\"'")
    if lowered.isdigit() and 1 <= int(lowered) <= len(METHODS):
        return METHODS[int(lowered) - 1]
    for method in METHODS:
        if lowered == normalize(t(f"tracker.methods.{method}")):
            return method
    for word, method in _method_words():
        if word in lowered:
            return method
    if "бирж" in lowered:
        raise InputProblem(Problem("method", "ambiguous_method"))
    raise InputProblem(Problem("method", "unknown_method", {"text": _shown(text)}))


def parse_post(text: str) -> PostRef:
    """A link to a post on a community's wall: vk.com/wall-1_2, vk.com/club1?w=wall-1_2, ..."""
    try:
        ref = parse_link(text.strip())
    except LinkError:
        ref = None
    if ref is None or ref.group_id is None or ref.post_id is None:
        raise InputProblem(Problem("link", "not_post_link", {"text": _shown(text)}))
    return PostRef(owner_id=-ref.group_id, post_id=ref.post_id)


def parse_period(text: str, today: date) -> tuple[date, date | None]:
    """The start and, when given, the end of a placement (see the module docstring)."""
    cleaned = normalize(text).rstrip(".")
    cleaned = _ISO.sub(lambda m: f"{m.group(3)}.{m.group(2)}.{m.group(1)}", cleaned)
    cleaned = _YEAR_WORD.sub(r"\1", cleaned)
    cleaned = re.sub(r"^(?:с|c|от)\s+", "", cleaned)
    parts = [part.strip() for part in _RANGE_SPLIT.split(cleaned)]
    if not cleaned or len(parts) > 2 or not all(parts):
        raise InputProblem(Problem("period", "bad_date", {"text": _shown(text)}))
    pieces = [_date_piece(part, today, text) for part in parts]
    if len(pieces) == 1:
        start = _resolve(pieces[0], None, today, text)
        return start, None
    first, second = pieces
    if isinstance(first, tuple) and first[1] is None:
        # «1–5 марта»: the start borrows the end's month and year.
        if not isinstance(second, tuple) or second[1] is None:
            raise InputProblem(Problem("period", "bad_date", {"text": _shown(text)}))
        first = (first[0], second[1], second[2])
    start = _resolve(first, None, today, text)
    end = _resolve(second, start, today, text)
    if end < start:
        raise InputProblem(
            Problem(
                "period",
                "end_before_start",
                {"start": start.strftime("%d.%m.%Y"), "end": end.strftime("%d.%m.%Y")},
            )
        )
    return start, end


DatePiece = date | tuple[int, int | None, int | None]


def _date_piece(part: str, today: date, source: str) -> DatePiece:
    if part in _RELATIVE:
        return today - timedelta(days=_RELATIVE[part])
    if match := _DMY.match(part):
        year = match.group(3)
        return (int(match.group(1)), int(match.group(2)), _year(year) if year else None)
    if match := _WORDY.match(part):
        month = _MONTHS.get(match.group(2))
        if month is None:
            raise InputProblem(Problem("period", "bad_date", {"text": _shown(source)}))
        year = match.group(3)
        return (int(match.group(1)), month, int(year) if year else None)
    if match := _DAY.match(part):
        return (int(match.group(1)), None, None)
    raise InputProblem(Problem("period", "bad_date", {"text": _shown(source)}))


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _resolve(piece: DatePiece, start: date | None, today: date, source: str) -> date:
    if isinstance(piece, date):
        value = piece
    else:
        day, month, year = piece
        if month is None:
            raise InputProblem(Problem("period", "bad_date", {"text": _shown(source)}))
        if year is not None:
            value = _make_date(year, month, day, source)
        elif start is not None:
            value = _make_date(start.year, month, day, source)
            if value < start:
                value = _make_date(start.year + 1, month, day, source)
        else:
            candidates = [
                _make_date(today.year + shift, month, day, source, strict=False)
                for shift in (-1, 0, 1)
            ]
            horizon = today + timedelta(days=PLANNED_DAYS_AHEAD)
            real = [c for c in candidates if c is not None and c <= horizon]
            if not real:
                raise InputProblem(
                    Problem("period", "no_such_date", {"text": f"{day:02d}.{month:02d}"})
                )
            value = max(real)
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if value.year < MIN_YEAR or value > latest:
        raise InputProblem(
            Problem(
                "period",
                "date_out_of_range",
                {
                    "date": value.strftime("%d.%m.%Y"),
                    "min_year": str(MIN_YEAR),
                    "latest": latest.strftime("%d.%m.%Y"),
                },
            )
        )
    return value


@overload
def _make_date(
    year: int, month: int, day: int, source: str, *, strict: Literal[True] = True
) -> date: ...


@overload
def _make_date(
    year: int, month: int, day: int, source: str, *, strict: Literal[False]
) -> date | None: ...


def _make_date(year: int, month: int, day: int, source: str, *, strict: bool = True) -> date | None:
    """The date, or (``strict=False`` only) ``None`` if there is no such day; strict raises."""
    try:
        return date(year, month, day)
    except ValueError:
        if not strict:
            return None
        if not 1 <= year <= 9999:
            raise InputProblem(Problem("period", "bad_date", {"text": _shown(source)})) from None
        raise InputProblem(
            Problem("period", "no_such_date", {"text": f"{day:02d}.{month:02d}.{year}"})
        ) from None


# --- a field by name ---------------------------------------------------------------------------


def parse_field(name: str, text: str, today: date) -> Draft:
    """The draft entries one typed value gives: ``period`` gives start and end, ``link`` a post.

    An empty value («-») of an optional field gives ``None`` entries: "not known".
    """
    if is_empty(text):
        if name in ("public", "method", "period"):
            raise InputProblem(Problem(name, "required"))
        key = "post" if name == "link" else name
        return {key: None}
    if name == "link":
        post = parse_post(text)
        return {"post": [post.owner_id, post.post_id]}
    if name in ("public", "creative"):
        return {name: parse_text(text, name)}
    if name == "method":
        return {"method": parse_method(text)}
    if name == "budget":
        return {"budget": parse_money(text)}
    if name == "period":
        start, end = parse_period(text, today)
        return {"start": start.isoformat(), "end": end.isoformat() if end else None}
    if name in COUNT_FIELDS:
        return {name: parse_count(text, name)}
    raise ValueError(f"unknown field {name!r}")


# --- several fields at once --------------------------------------------------------------------


@dataclass
class ParsedLine:
    """The draft entries a line gave and the problems found; ``named`` tells the form used."""

    draft: Draft = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    named: bool = False


def _split(text: str) -> list[str]:
    parts = [part.strip() for part in _PART_SPLIT.split(text)]
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _named_part(part: str, *, colon_required: bool) -> tuple[str, str] | None:
    """(field, value) when the part starts with a field's name; ``None`` otherwise."""
    single = _SPACES.sub(" ", part).strip()
    # Same length as ``single``: lower() and «ё»→«е» keep every Cyrillic and Latin letter's length.
    lowered = single.lower().replace("ё", "е")
    for label, name in _labels_longest_first():
        if not lowered.startswith(label):
            continue
        rest = single[len(label) :]
        # The name must end at a separator, not inside a word («паблики» is not «паблик»).
        if rest and rest[0] not in ": =":
            continue
        rest = rest.strip()
        if rest[:1] in (":", "="):
            rest = rest[1:].strip()
        elif colon_required:
            continue
        return name, rest
    return None


def _apply(result: ParsedLine, name: str, value: str, today: date) -> None:
    if name in result.fields:
        result.problems.append(Problem(name, "duplicate"))
        return
    result.fields.append(name)
    try:
        result.draft.update(parse_field(name, value, today))
    except InputProblem as exc:
        result.problems.append(exc.problem)


def parse_line(text: str, today: date) -> ParsedLine:
    """A whole placement pasted as one line, positional or with named parts."""
    result = ParsedLine()
    parts = _split(text)
    if not parts:
        result.problems.append(Problem("line", "empty_line"))
        return result
    # One syntax for adding and updating: «просмотры: 5 000» and «просмотры 5 000» both name
    # a field. A line is named when a part has a colon, or when every part starts with a name.
    named = [_named_part(part, colon_required=False) for part in parts]
    with_colon = any(_named_part(part, colon_required=True) for part in parts)
    if with_colon or all(pair is not None for part, pair in zip(parts, named, strict=True) if part):
        result.named = True
        for part, pair in zip(parts, named, strict=True):
            if not part:
                continue
            if pair is None:
                result.problems.append(Problem("line", "unnamed_part", {"text": _shown(part)}))
            else:
                _apply(result, pair[0], pair[1], today)
        return result
    if len(parts) > len(INPUT_FIELDS):
        result.problems.append(
            Problem(
                "line", "too_many_parts", {"count": str(len(parts)), "max": str(len(INPUT_FIELDS))}
            )
        )
        return result
    for name, part in zip(INPUT_FIELDS, parts, strict=False):
        _apply(result, name, part, today)
    return result


def parse_changes(text: str, today: date) -> ParsedLine:
    """Named changes to a stored row: «просмотры 5 000; скрытия: 300». Colons are optional."""
    result = ParsedLine(named=True)
    parts = [part for part in _split(text) if part]
    if not parts:
        result.problems.append(Problem("line", "empty_line"))
        return result
    for part in parts:
        pair = _named_part(part, colon_required=False)
        if pair is None:
            result.problems.append(Problem("line", "unnamed_part", {"text": _shown(part)}))
        elif not pair[1]:
            result.problems.append(Problem(pair[0], "no_value"))
        else:
            _apply(result, pair[0], pair[1], today)
    return result


# --- helpers -----------------------------------------------------------------------------------


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "…"


def _big(value: int) -> str:
    return f"{value:,}".replace(",", " ")
