"""Numbers inside free text, the way owners type them: digits or words, with approximations.

«около 400», «120 человек», «полторы тысячи», «2,5 тыс», «40к», «сорок тысяч», «три с половиной
тысячи», «15 процентов», «от 300 до 400». ``find_numbers`` lists every number in a text;
``parse_number_phrase`` reads the answer to a numeric question (one number, or a range).
Strict forms («1 500», «1,5 тыс») are left to ``advisor.numbers.parse_number``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from advisor.morph import lemma

# Number words by dictionary form (pymorphy3 turns «двухсот» into «двести», «сорока» into «сорок»).
_UNITS: dict[str, float] = {
    "ноль": 0, "один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7,
    "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12,
    "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16,
    "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30,
    "сорок": 40, "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80,
    "девяносто": 90, "сто": 100, "двести": 200, "триста": 300, "четыреста": 400,
    "пятьсот": 500, "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
    "полтора": 1.5, "полторы": 1.5, "сотня": 100, "десяток": 10, "пара": 2,
}  # fmt: skip
# Words that only approximate a count: «пару тысяч», «десяток», «сотня».
_VAGUE = {"пара", "десяток", "сотня"}
_MULTIPLIERS: dict[str, float] = {
    "тысяча": 1_000, "тыс": 1_000, "тыщ": 1_000, "тыща": 1_000, "косарь": 1_000,
    "миллион": 1_000_000, "млн": 1_000_000, "лям": 1_000_000, "миллиард": 1e9, "млрд": 1e9,
    "полтысяча": 500, "полтысячи": 500, "полмиллиона": 500_000,
}  # fmt: skip
_SINGULAR_SCALES = {"тысяча", "тыща", "миллион", "миллиард", "тыс", "млн", "млрд"}
_HALF_WORDS = ("половина",)  # «три с половиной тысячи»
_APPROX = {
    "около", "примерно", "приблизительно", "порядка", "почти", "где-то", "гдето", "вроде",
    "наверное", "наверно", "плюс-минус", "больше", "меньше", "более", "менее", "свыше",
    "лишний", "немного", "чуть", "под", "максимум", "минимум",
}  # fmt: skip
_PERCENT_WORDS = {"процент", "проц", "%"}
_RANGE_JOINERS = {"-", "–", "—", "до", "или"}

_DIGITS = r"\d+(?:[.,]\d+)?"
# Cheap pre-check: a digit or the stem of a number word (false alarms only cost the full parse).
_MAYBE_NUMBER = re.compile(
    r"\d|\b(?:ноль|нул|одн|один|два|две|двух|двест|тр[иеёо]|четыр|пят|шест|сем|восем|девя|"
    r"десят|сорок|сто\b|ста\b|сот[нен]|тыс|тыщ|милл|млн|млрд|лям|косар|пол|пар)"
)
_TOKEN = re.compile(rf"{_DIGITS}|[a-zа-яё]+(?:-[a-zа-яё]+)?|[%~≈–—−-]")
# «40к», «1.5k», «2тыс» — a multiplier glued to digits (a lone «к» is a preposition).
_GLUED_K = re.compile(rf"({_DIGITS})\s?[кk](?![a-zа-яё])")
# «1 500 000»: digit groups of three after single spaces belong to the number.
_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")


@dataclass(frozen=True)
class NumberMention:
    """One number found in a text."""

    value: float
    percent: bool = False
    approximate: bool = False
    start: int = 0  # index of its first token
    end: int = 0  # index after its last token


@dataclass(frozen=True)
class ParsedNumber:
    """The answer to a numeric question."""

    value: float
    percent: bool = False
    approximate: bool = False


@lru_cache(maxsize=20_000)
def _word(token: str) -> str:
    if token in _MULTIPLIERS or token in _UNITS or token in _APPROX:
        return token
    if token.startswith("тыс"):
        return "тыс"
    return lemma(token)


def _tokens(text: str) -> list[str]:
    raw = text.lower().replace("ё", "е")
    raw = _GROUPS.sub("", raw)
    raw = _GLUED_K.sub(r"\1 тыс ", raw)
    return _TOKEN.findall(raw)


def is_number_word(word: str) -> bool:
    """True for a number word in dictionary form («сорок», «тысяча», «полтора»)."""
    return word in _UNITS or word in _MULTIPLIERS or word in _HALF_WORDS


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in order; an expression spans digits, number words and scales."""
    if not _MAYBE_NUMBER.search(text[:500].lower()):
        return []
    tokens = _tokens(text[:500])
    words = [_word(token) if not token[0].isdigit() else token for token in tokens]
    mentions: list[NumberMention] = []
    i = 0
    while i < len(words):
        word = words[i]
        if not (word[0].isdigit() or is_number_word(word)):
            i += 1
            continue
        start = i
        # «тысяч пять», «тыщи три»: the scale first is a spoken approximation.
        # «тысяча двести» is 1 200: only a plural scale («тысяч», «тыщи») starts one.
        if (
            word in _MULTIPLIERS
            and tokens[i] not in _SINGULAR_SCALES
            and i + 1 < len(words)
            and words[i + 1] in _UNITS
        ):
            value = _UNITS[words[i + 1]] * _MULTIPLIERS[word]
            i += 2
            percent = i < len(words) and words[i] in _PERCENT_WORDS
            mentions.append(NumberMention(value, percent, True, start, i))
            continue
        total = 0.0
        current = 0.0
        seen_digits = False
        vague = False
        while i < len(words):
            word = words[i]
            if word[0].isdigit():
                if seen_digits and current:
                    break  # two numbers in a row: «2023 400»
                current += float(word.replace(",", "."))
                seen_digits = True
            elif word in _UNITS:
                value = _UNITS[word]
                if current and value >= current and word not in ("полтора", "полторы"):
                    break  # «пять шесть» are two numbers
                vague = vague or word in _VAGUE
                current = current * value if word in _VAGUE and current else current + value
            elif word in _MULTIPLIERS:
                # «тысяча», «полтысячи» alone count once: «две тысячи» twice.
                total += (current or 1.0) * _MULTIPLIERS[word]
                current = 0.0
            elif word == "с" and i + 1 < len(words) and words[i + 1] in _HALF_WORDS:
                current += 0.5
                i += 2
                continue
            else:
                break
            i += 1
        value = total + current
        if _negative_before(words, start):
            value = -value
        approximate = vague or _approximate_before(words, start)
        percent = i < len(words) and words[i] in _PERCENT_WORDS
        if i + 1 < len(words) and words[i] == "с" and words[i + 1] == "лишний":
            approximate = True
        mentions.append(NumberMention(value, percent, approximate, start, i))
    return mentions


def _negative_before(words: list[str], start: int) -> bool:
    """«минус 5», or a minus sign opening the text («-5»; in «300-400» it joins a range)."""
    if start == 0:
        return False
    sign = words[start - 1]
    return sign == "минус" or (sign in ("-", "−") and start == 1)


def _approximate_before(words: list[str], start: int) -> bool:
    before = words[max(0, start - 2) : start]
    return any(word in _APPROX or word in ("~", "≈") for word in before)


def parse_number_phrase(text: str) -> ParsedNumber | None:
    """The one number an answer states, or ``None`` when it states none or several.

    A range («300-400», «от 300 до 400») gives its middle, marked approximate.
    """
    mentions = find_numbers(text)
    if len(mentions) == 1:
        only = mentions[0]
        return ParsedNumber(only.value, only.percent, only.approximate)
    if len(mentions) == 2:
        low, high = mentions
        tokens = [_word(token) if not token[0].isdigit() else token for token in _tokens(text)]
        between = tokens[low.end : high.start]
        if any(word in _RANGE_JOINERS for word in between) and 0 <= low.value < high.value:
            return ParsedNumber(
                (low.value + high.value) / 2, low.percent or high.percent, approximate=True
            )
    return None
