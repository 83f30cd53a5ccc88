"""Prices people type beside public links: «vk.com/xyz за 3000», «просят 2 500 ₽»,
«vk.com/a 3000р, vk.com/b 5 тыс». Pure functions: text in, one price (or None) per link out.

A number is a price when it carries a currency or a thousand («₽», «руб», «р», «тыс», «к») or
follows a money word («за», «просят», «цена», «стоит»), and is not a count of something else
(«за 3 дня», «2 поста»). The bounds are the bot's own sanity limits, not the guide's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.dialog.fields import Refused
from advisor.numbers import format_number
from advisor.texts import t

MIN_PRICE_RUB = 10.0
MAX_PRICE_RUB = 10_000_000.0

_MINUS = ("-", "−", "–")
_NUMBER = r"[-−–]?\s*\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|[-−–]?\s*\d+(?:[.,]\d+)?"
_UNIT = (
    r"(?:тыс(?:яч[иа]?)?\.?|т\.?\s*р\.?|к|k|млн)?\s*(?:₽|руб(?:лей|ля|ль)?\.?|р\.?(?![а-яё])|rub)?"
)
_PRICE = re.compile(rf"(?P<number>{_NUMBER})\s*(?P<unit>{_UNIT})", re.I)
_CUE = re.compile(
    r"(?:\bза|\bпрос(?:ят|ит|ил|или)|\bцена|\bстоит|\bстоимость|\bпрайс|\bхотят|\bберут|\bбер[её]т)"
    r"[\s:—-]*$",
    re.I,
)
_NOT_MONEY = re.compile(
    r"^\s*(?:дн|день|дня|недел|мес|час|мин|пост|раз|шт|лет|год|%|подп|участ|чел|просм)", re.I
)


class PriceRefused(Refused):
    """A price was typed but cannot be used (negative, zero, absurd); ``message`` says why."""


def _value(raw: str, unit: str) -> float:
    """The number a match holds, with its sign and thousand multiplier."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", raw)
    negative = cleaned[:1] in _MINUS
    value = float(cleaned.lstrip("".join(_MINUS)).replace(",", "."))
    lowered = unit.lower()
    if re.match(r"тыс|т\.?\s*р|к|k", lowered):
        value *= 1_000
    elif lowered.startswith("млн"):
        value *= 1_000_000
    return -value if negative else value


def _is_minus(raw: str, before: str) -> bool:
    """A dash before the number is a minus unless it joins a range («2000-3000»)."""
    stripped = before.rstrip()
    return raw.lstrip()[:1] in _MINUS and (not stripped or not stripped[-1].isdigit())


def _money_in(segment: str, *, cue_needed: bool = True) -> float | None:
    """The first price-like number in a piece of text (a link already cut out)."""
    for match in _PRICE.finditer(segment):
        raw, unit = match.group("number"), match.group("unit").strip()
        before, after = segment[: match.start()], segment[match.end() :]
        if not unit and (_NOT_MONEY.match(after) or (cue_needed and not _CUE.search(before))):
            continue
        value = _value(raw, unit)
        if value < 0 and not _is_minus(raw, before):
            value = -value
        return value
    return None


def check_price(value: float) -> float:
    """The price if it is usable, else ``PriceRefused`` with the Russian reason."""
    if value < 0:
        raise PriceRefused(t("target.price_negative"))
    if value == 0:
        raise PriceRefused(t("target.price_zero"))
    if value < MIN_PRICE_RUB:
        raise PriceRefused(t("target.price_too_small", min=format_number(MIN_PRICE_RUB, 0)))
    if value > MAX_PRICE_RUB:
        raise PriceRefused(t("target.price_too_big", max=format_number(MAX_PRICE_RUB, 0)))
    return value


@dataclass(frozen=True)
class LinkPrices:
    prices: list[float | None]
    """Parallel to the links: the price typed for each, None where none was."""
    problems: list[str]
    """Russian reasons for prices that were typed but refused (their public goes unpriced)."""


def prices_for_links(text: str, links: list[str]) -> LinkPrices:
    """Each link's price: the first price after it and before the next link; with one link,
    anywhere in the message («просят 2 500 ₽ за vk.com/xyz»)."""
    lowered = text
    spans: list[tuple[int, int]] = []
    cursor = 0
    for link in links:
        start = lowered.find(link, cursor)
        if start < 0:
            start = lowered.lower().find(link.lower(), cursor)
        if start < 0:
            spans.append((cursor, cursor))
            continue
        spans.append((start, start + len(link)))
        cursor = start + len(link)
    prices: list[float | None] = []
    problems: list[str] = []
    for index, (_, end) in enumerate(spans):
        if len(links) == 1:
            segments = [text[spans[0][1] :], text[: spans[0][0]]]
        else:
            stop = spans[index + 1][0] if index + 1 < len(spans) else len(text)
            segments = [text[end:stop]]
        found = next((f for f in map(_money_in, segments) if f is not None), None)
        if found is None:
            prices.append(None)
            continue
        try:
            prices.append(check_price(found))
        except PriceRefused as refused:
            prices.append(None)
            if refused.message not in problems:
                problems.append(refused.message)
    return LinkPrices(prices, problems)


def parse_prices(text: str, count: int) -> list[float]:
    """Prices typed on their own («3000», «2 500 ₽», «3000 и 5 тыс»): ``count`` of them, in
    order; one price for several publics is refused (each admin names their own)."""
    found: list[float] = []
    for match in _PRICE.finditer(text):
        if _NOT_MONEY.match(text[match.end() :]):
            continue
        value = _value(match.group("number"), match.group("unit").strip())
        if value < 0 and not _is_minus(match.group("number"), text[: match.start()]):
            value = -value
        found.append(value)
    if not found:
        raise PriceRefused(t("target.price_unreadable"))
    if len(found) != count:
        raise PriceRefused(t("target.price_count", count=count))
    return [check_price(value) for value in found]
