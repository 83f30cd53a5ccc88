"""Checks the free text of contest rules against the guide: forbidden, required and good conditions.

All words live in the rules data (``advisor/knowledge/ru/contest.yaml``); this module only reads the
text into dictionary forms (pymorphy3), works out which words are negated, and finds the data's
patterns. ``check_contest`` is pure: the same text and rules give the same report.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from advisor.knowledge.contest_models import (
    REF,
    ContestRules,
    Grammar,
    Pattern,
    Slot,
    normalize_word,
)
from advisor.morph import analyzer, counted
from advisor.texts import t

# Negation and quotes never reach further than this many words from the matched words: keeps the
# work per match bounded when a long text has no punctuation at all.
_MAX_REACH = 12
# A negated «Запрещено:» reaches over the list after the colon, up to this many words.
_MAX_LIST_REACH = 80
# A «quoted name» is short; a quote left open further away is not a name.
_MAX_NAME_CHARS = 80


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    title: str
    quote: str
    advice: str
    start: int  # quote == text[start:end]
    end: int


class ContestReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    violations: list[Violation] = []
    recommendations: list[str] = []
    allowed: list[str] = []  # ids of the allowed conditions found
    allowed_titles: list[str] = []
    missing: list[str] = []  # ids of the required conditions not found
    suggested: list[str] = []  # ids of the recommendations made because their practice is absent
    cautions: list[str] = []  # ids of allowed conditions found that come with a caution
    section: str = ""
    empty: bool = False
    truncated: bool = False
    checked_chars: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "violations": [
                {"rule": v.rule, "quote": v.quote, "advice": v.advice} for v in self.violations
            ],
            "recommendations": list(self.recommendations),
        }


# --- Reading the text ---------------------------------------------------------------------------


class _Parse(NamedTuple):
    lemma: str
    pos: str | None
    number: str | None
    case: str | None


@dataclass(frozen=True, slots=True)
class _Word:
    parses: tuple[_Parse, ...]
    pos: str | None  # part of speech of the likeliest reading


@dataclass(slots=True)
class _Token:
    surface: str  # normalised (lowercase, ё as е)
    start: int
    end: int
    sentence: int
    clause: int
    parses: tuple[_Parse, ...]
    pos: str | None
    keys: frozenset[str]  # lemmas and the word itself: what patterns look up


@dataclass(slots=True)
class _Sentence:
    first: int  # token indices [first, last)
    last: int
    bullet: bool = False  # begins a line with a list marker
    line_start: bool = False
    ends_with_colon: bool = False


@dataclass(slots=True)
class _Text:
    source: str
    tokens: list[_Token] = field(default_factory=list)
    sentences: list[_Sentence] = field(default_factory=list)
    clause_end: dict[int, str] = field(default_factory=dict)  # clause id -> boundary kind


_CASE_ALIASES = {"gen1": "gent", "gen2": "gent", "acc2": "accs", "loc1": "loct", "loc2": "loct"}

_SCANNER = re.compile(
    r"""
    (?P<ref>\[(?:club|public|event|id)\d+\|[^\]\n]{0,80}\]
        |(?:https?://|www\.)[\w./?=&%#:~+-]*[\w/]
        |(?:vk\.(?:com|ru)|t\.me)/[\w./?=&%#~+-]*[\w/]
        |(?<![\w@])@[\w.]*\w
        |(?:club|public)\d+\b)
    |(?P<bullet>(?:(?<=\n)|(?<![\s\S]))[ \t]*\d{1,2}[.)](?=[ \t])
        |(?<=\s)\d{1,2}[.)](?=[ \t]+[A-ZА-ЯЁ]))
    |(?P<keycap>\d\ufe0f?\u20e3)
    |(?P<word>[^\W\d_]+)
    |(?P<num>\d+)
    |(?P<newline>\n)
    |(?P<stop>[.!?;…]+)
    |(?P<space>[ \t\r\f\v\u00a0\u200b]+)
    |(?P<other>.)
    """,
    re.VERBOSE,
)
_SOFT_BOUNDARIES = frozenset("-–—(")
_OPEN_QUOTES = {"«": "»", "“": "”", "„": "“"}


@lru_cache(maxsize=100_000)
def _analyse(word: str) -> _Word:
    parses = analyzer().parse(word)
    seen: dict[_Parse, None] = {}
    for p in parses:
        # pymorphy's grammemes compare strictly; plain strings are simpler to hold and match.
        pos, number, case = (_plain(g) for g in (p.tag.POS, p.tag.number, p.tag.case))
        case = _CASE_ALIASES.get(case or "", case)
        seen[_Parse(normalize_word(p.normal_form), pos, number, case)] = None
    return _Word(tuple(seen), _plain(parses[0].tag.POS) if parses else None)


def _plain(grammeme: object) -> str | None:
    return None if grammeme is None else str(grammeme)


def _read(source: str, grammar: Grammar) -> _Text:
    text = _Text(source)
    sentence_first = 0
    clause = 0
    sentence = 0
    at_line_start = True
    line_marker = False  # a list marker was seen between the line start and the first word
    straight_quote_open = False

    def new_clause(kind: str) -> None:
        nonlocal clause
        if text.tokens and text.tokens[-1].clause == clause:
            text.clause_end[clause] = kind
            clause += 1

    def new_sentence() -> None:
        nonlocal sentence, sentence_first
        new_clause("stop")
        if len(text.tokens) > sentence_first:
            current = text.sentences[-1]
            current.last = len(text.tokens)
            current.ends_with_colon = text.clause_end.get(text.tokens[-1].clause) == "colon"
            sentence += 1
        sentence_first = len(text.tokens)

    def add(
        surface: str,
        start: int,
        end: int,
        parses: tuple[_Parse, ...],
        pos: str | None,
        keys: frozenset[str],
    ) -> None:
        nonlocal at_line_start, line_marker
        if len(text.tokens) == sentence_first:
            text.sentences.append(
                _Sentence(
                    sentence_first,
                    sentence_first + 1,
                    bullet=at_line_start and line_marker,
                    line_start=at_line_start,
                )
            )
        text.tokens.append(_Token(surface, start, end, sentence, clause, parses, pos, keys))
        at_line_start = False
        line_marker = False

    for m in _SCANNER.finditer(source):
        kind = m.lastgroup
        value = m.group()
        if kind == "word" or kind == "num":
            surface = normalize_word(value)
            if kind == "word":
                word = _analyse(surface)
                keys = frozenset({surface, *(p.lemma for p in word.parses)})
                add(surface, m.start(), m.end(), word.parses, word.pos, keys)
            else:
                add(surface, m.start(), m.end(), (), "NUMB", frozenset({surface}))
        elif kind == "ref":
            add(value, m.start(), m.end(), (), None, frozenset({REF}))
        elif kind == "newline":
            new_sentence()
            at_line_start, line_marker, straight_quote_open = True, False, False
        elif kind == "stop":
            new_sentence()
        elif kind in ("bullet", "keycap"):
            new_clause("other")
            line_marker = line_marker or at_line_start
        elif kind == "other":
            if value == "-" and _joins_words(source, m.start()):
                continue
            closing = _OPEN_QUOTES.get(value)
            if closing and source.find(closing, m.end(), m.end() + _MAX_NAME_CHARS) != -1:
                # An opening quote marks a name («Цветы»): counts like a link to a group.
                new_clause("other")
                add(value, m.start(), m.end(), (), None, frozenset({REF}))
                continue
            if value == '"':
                straight_quote_open = not straight_quote_open
                if straight_quote_open:
                    new_clause("other")
                    add(value, m.start(), m.end(), (), None, frozenset({REF}))
                    continue
            boundary = "colon" if value == ":" else "soft" if value in _SOFT_BOUNDARIES else "other"
            if value == ",":
                boundary = "comma"
            new_clause(boundary)
            if at_line_start and not value.isspace():
                line_marker = True
    new_sentence()
    _govern(text, grammar)
    return text


def _joins_words(source: str, index: int) -> bool:
    before = source[index - 1] if index > 0 else ""
    after = source[index + 1] if index + 1 < len(source) else ""
    return before.isalnum() and after.isalpha()


# Words between a preposition and its noun: «на ВСЕ НАШИ группы», «в ТРИ паблика».
_GOVERNED_POS = frozenset({"ADJF", "PRTF", "NUMR", "NPRO"})


def _govern(text: _Text, grammar: Grammar) -> None:
    """After a preposition keeps only the readings in the cases it governs («на группы» is plural).

    The rule reaches over adjectives and numerals to the first noun.
    """
    tokens = text.tokens
    for i, tok in enumerate(tokens):
        cases = grammar.prepositions.get(tok.surface)
        if not cases:
            continue
        for j in range(i + 1, min(i + 5, len(tokens))):
            nxt = tokens[j]
            if nxt.clause != tok.clause:
                break
            if nxt.pos == "NUMB":
                continue  # «на 3 группы»: digits carry no case, the noun follows
            kept = tuple(p for p in nxt.parses if p.case in cases)
            if kept:
                nxt.parses = kept
            if any(p.pos == "NOUN" for p in nxt.parses) or not any(
                p.pos in _GOVERNED_POS for p in nxt.parses
            ):
                break


# --- Negation -----------------------------------------------------------------------------------


def _negation(text: _Text, grammar: Grammar) -> list[bool]:
    """Which words are negated: «не нужно отмечать друзей», «отмечать друзей нельзя».

    Stacking negators flip (so «без подписки ... не засчитывается» is a demand again); «ни» only
    reinforces. A negated line ending with a colon negates the list lines under it.
    """
    tokens = text.tokens
    flips = [0] * len(tokens)
    reinforced = [False] * len(tokens)
    carry = False  # a negated «Нельзя:» line: its list items are negated
    for sentence in text.sentences:
        first, last = sentence.first, sentence.last
        if sentence.line_start and not sentence.bullet:
            carry = False
        if carry and sentence.bullet:
            for i in range(first, last):
                flips[i] += 1
        for i in range(first, last):
            tok = tokens[i]
            reinforcing = bool(tok.keys & grammar.reinforcing_negators)
            if not (tok.keys & grammar.negators or reinforcing):
                continue
            nxt = tokens[i + 1] if i + 1 < last else None
            if nxt is not None and nxt.keys & grammar.cancellers:
                continue
            forward_end, to_list = _forward_scope(text, i, last, grammar)
            scope = list(range(i + 1, forward_end))
            if tok.keys & grammar.prohibitives or (nxt is not None and nxt.keys & grammar.modals):
                scope += range(_backward_start(text, i, first, grammar), i)
            for j in scope:
                if reinforcing:
                    reinforced[j] = True
                else:
                    flips[j] += 1
            if to_list and not reinforcing:
                carry = True
    return [f % 2 == 1 or r for f, r in zip(flips, reinforced, strict=True)]


def _forward_scope(text: _Text, i: int, last: int, grammar: Grammar) -> tuple[int, bool]:
    """End (exclusive) of a negation's reach forward; and whether it reaches a list below."""
    tokens = text.tokens
    clause = tokens[i].clause
    if text.clause_end.get(clause) == "colon":
        # «Запрещено: отмечать друзей, подписываться на спонсоров» negates the whole list.
        end = min(last, i + 1 + _MAX_LIST_REACH)
        return end, end == last and text.sentences[tokens[i].sentence].ends_with_colon
    j = i + 1
    while j < last and j - i <= _MAX_REACH and tokens[j].clause == clause:
        if (
            tokens[j].surface in grammar.conjunctions
            and j + 1 < last
            and tokens[j + 1].pos == "VERB"
        ):
            break  # «репост не нужен и отметь друзей»: a new command starts
        j += 1
    return j, False


def _backward_start(text: _Text, i: int, first: int, grammar: Grammar) -> int:
    """Start of a negation's reach backward: «отмечать друзей — не нужно»."""
    tokens = text.tokens
    j = i
    while j > first and i - j < _MAX_REACH:
        prev = tokens[j - 1]
        if prev.clause != tokens[j].clause and text.clause_end.get(prev.clause) != "soft":
            break
        if prev.surface in grammar.conjunctions and not (
            tokens[j].pos == "INFN" and _infinitive_before(text, j - 1, first, grammar)
        ):
            break  # «отметь друзей и репост не нужен»; but «отмечать и подписываться не нужно»
        j -= 1
    return j


def _infinitive_before(text: _Text, conj: int, first: int, grammar: Grammar) -> bool:
    """Whether the part before a conjunction has an infinitive, as in «отмечать X и ...»."""
    tokens = text.tokens
    for k in range(conj - 1, max(first, conj - _MAX_REACH) - 1, -1):
        if tokens[k].clause != tokens[conj].clause or tokens[k].surface in grammar.conjunctions:
            return False
        if tokens[k].pos == "INFN":
            return True
    return False


# --- Matching -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    text: _Text
    rules: ContestRules
    negated: list[bool]
    index: dict[str, list[int]]

    def candidates(self, slot: Slot) -> list[int]:
        positions: set[int] = set()
        for lemma in slot.exact:
            positions.update(self.index.get(lemma, ()))
        for prefix in slot.prefixes:
            for key, where in self.index.items():
                if key.startswith(prefix):
                    positions.update(where)
        if slot.number != "any" or slot.cases:
            positions = {p for p in positions if _fits(self.text.tokens[p], slot)}
        return sorted(positions)


def _fits(tok: _Token, slot: Slot) -> bool:
    readings = [
        p
        for p in tok.parses
        if p.lemma in slot.exact or any(p.lemma.startswith(x) for x in slot.prefixes)
    ]
    if not readings:
        return False
    return any(
        (slot.number == "any" or p.number == slot.number)
        and (not slot.cases or p.case in slot.cases)
        for p in readings
    )


def _build_index(tokens: Sequence[_Token]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for i, tok in enumerate(tokens):
        for key in tok.keys:
            index[key].append(i)
    return dict(index)


class _Match(NamedTuple):
    positions: tuple[int, ...]  # the matched words, sorted
    phrase: tuple[int, int]  # token range [lo, hi] of the phrase around them


def _find(pattern: Pattern, ctx: _Context) -> Iterator[_Match]:
    """Matches of ``pattern``, at most one per sentence, in text order."""
    per_slot = [ctx.candidates(slot) for slot in pattern.slots]
    if any(len(c) < s.min_count for c, s in zip(per_slot, pattern.slots, strict=True)):
        return
    tokens = ctx.text.tokens
    by_sentence: list[dict[int, list[int]]] = []
    for positions in per_slot:
        grouped: dict[int, list[int]] = defaultdict(list)
        for p in positions:
            grouped[tokens[p].sentence].append(p)
        by_sentence.append(grouped)
    shared = set(by_sentence[0]).intersection(*by_sentence[1:])
    for sentence in sorted(shared):
        lists = [grouped[sentence] for grouped in by_sentence]
        match = _best_in_sentence(pattern, lists, ctx)
        if match is not None:
            yield match


def _best_in_sentence(pattern: Pattern, lists: list[list[int]], ctx: _Context) -> _Match | None:
    """The tightest acceptable match in a sentence (the earliest of equally tight ones)."""
    counts = [s.min_count for s in pattern.slots]
    assign = _assign_ordered if pattern.ordered else _assign
    ends = sorted({p for positions in lists for p in positions})
    tried: set[tuple[int, ...]] = set()
    best: _Match | None = None
    best_cost = 0
    for end in ends:
        chosen = assign(lists, counts, end - pattern.window + 1, end)
        if chosen is None or chosen in tried:
            continue
        tried.add(chosen)
        cost = _cost(ctx, chosen)
        if best is not None and cost >= best_cost:
            continue
        if not pattern.ignore_negation and any(ctx.negated[p] for p in chosen):
            continue
        phrase = _phrase(ctx, chosen[0], chosen[-1])
        if pattern.unless and any(
            ctx.text.tokens[k].keys & pattern.unless for k in range(phrase[0], phrase[1] + 1)
        ):
            continue
        best, best_cost = _Match(chosen, phrase), cost
    return best


def _cost(ctx: _Context, chosen: tuple[int, ...]) -> int:
    """How loosely the words hang together: their span, plus conjunctions and commas between."""
    tokens = ctx.text.tokens
    conj = ctx.rules.grammar.conjunctions
    inner = range(chosen[0] + 1, chosen[-1])
    splits = sum(1 for k in inner if tokens[k].surface in conj and k not in chosen)
    clauses = tokens[chosen[-1]].clause - tokens[chosen[0]].clause
    return chosen[-1] - chosen[0] + 2 * splits + clauses


def _assign(lists: list[list[int]], counts: list[int], lo: int, hi: int) -> tuple[int, ...] | None:
    """Distinct words for every slot within [lo, hi], the latest ones: the tightest span."""
    order = sorted(range(len(lists)), key=lambda k: len(lists[k]))
    used: set[int] = set()
    for k in order:
        positions = lists[k]
        right = bisect.bisect_right(positions, hi)
        left = bisect.bisect_left(positions, lo)
        need = counts[k]
        for p in reversed(positions[left:right]):
            if need == 0:
                break
            if p not in used:
                used.add(p)
                need -= 1
        if need:
            return None
    return tuple(sorted(used))


def _assign_ordered(
    lists: list[list[int]], counts: list[int], lo: int, hi: int
) -> tuple[int, ...] | None:
    """Like ``_assign``, but each slot's words come before the next slot's."""
    chosen: list[int] = []
    limit = hi + 1
    for k in range(len(lists) - 1, -1, -1):
        positions = lists[k]
        right = bisect.bisect_left(positions, limit)
        left = bisect.bisect_left(positions, lo)
        picked = positions[left:right][-counts[k] :] if right - left >= counts[k] else []
        if not picked:
            return None
        chosen.extend(picked)
        limit = picked[0]
    return tuple(sorted(chosen))


def _phrase(ctx: _Context, first: int, last: int) -> tuple[int, int]:
    """The phrase around the matched words: their clauses, cut at conjunctions («... и сделай»)."""
    tokens = ctx.text.tokens
    conj = ctx.rules.grammar.conjunctions
    lo = first
    while (
        lo > 0
        and first - lo < _MAX_REACH
        and tokens[lo - 1].clause == tokens[first].clause
        and tokens[lo - 1].surface not in conj
    ):
        lo -= 1
    hi = last
    while (
        hi + 1 < len(tokens)
        and hi - last < _MAX_REACH
        and tokens[hi + 1].clause == tokens[last].clause
        and tokens[hi + 1].surface not in conj
    ):
        hi += 1
    return lo, hi


def _quote(ctx: _Context, match: _Match) -> tuple[str, int, int]:
    tokens = ctx.text.tokens
    limit = ctx.rules.quote_max_chars
    source = ctx.text.source
    for lo, hi in (match.phrase, (match.positions[0], match.positions[-1])):
        start, end = tokens[lo].start, tokens[hi].end
        for opening, closing in _OPEN_QUOTES.items():
            # «Шары» keeps its closing quote when the phrase holds the opening one.
            if source[end : end + 1] == closing and opening in source[start:end]:
                end += 1
        if end - start <= limit:
            return source[start:end], start, end
    start = tokens[match.positions[0]].start
    end = start + limit
    return ctx.text.source[start:end], start, end


def _found(patterns: Iterable[Pattern], ctx: _Context) -> list[_Match]:
    """Matches of any of the patterns, one per sentence (the earliest), in text order."""
    best: dict[int, _Match] = {}
    tokens = ctx.text.tokens
    for pattern in patterns:
        for match in _find(pattern, ctx):
            sentence = tokens[match.positions[0]].sentence
            if sentence not in best or match.positions[0] < best[sentence].positions[0]:
                best[sentence] = match
    return [best[s] for s in sorted(best)]


# --- The check ----------------------------------------------------------------------------------


def check_contest(text: str, rules: ContestRules) -> ContestReport:
    """Reads contest rules in Russian; reports what the guide forbids, lacks or advises."""
    truncated = len(text) > rules.max_chars
    source = text[: rules.max_chars]
    if not any(ch.isalnum() for ch in source):
        return ContestReport(section=rules.section, empty=True, checked_chars=len(source))
    read = _read(source, rules.grammar)
    ctx = _Context(read, rules, _negation(read, rules.grammar), _build_index(read.tokens))

    violations: list[Violation] = []
    violated_sentences: dict[str, set[int]] = {}
    for rule in rules.forbidden:
        matches = _found(rule.patterns, ctx)
        violated_sentences[rule.id] = {read.tokens[m.positions[0]].sentence for m in matches}
        for match in matches[: rules.max_quotes_per_rule]:
            quote, start, end = _quote(ctx, match)
            violations.append(
                Violation(
                    rule=rule.id,
                    title=rule.title,
                    quote=quote,
                    advice=rule.advice,
                    start=start,
                    end=end,
                )
            )
    violations.sort(key=lambda v: (v.start, v.rule))

    allowed_ids: list[str] = []
    allowed_titles: list[str] = []
    cautions: list[str] = []
    notes: list[str] = []
    for condition in rules.allowed:
        blocked = set().union(*(violated_sentences.get(f, set()) for f in condition.suppressed_by))
        matches = [
            m
            for m in _found(condition.patterns, ctx)
            if read.tokens[m.positions[0]].sentence not in blocked
        ]
        if matches:
            allowed_ids.append(condition.id)
            allowed_titles.append(condition.title)
            if condition.note:
                cautions.append(condition.id)
                notes.append(condition.note)

    missing: list[str] = []
    recommendations: list[str] = []
    for required in rules.required:
        if set(required.satisfied_by) & set(allowed_ids) or _found(required.patterns, ctx):
            continue
        missing.append(required.id)
        recommendations.append(required.advice)
    recommendations.extend(notes)
    suggested: list[str] = []
    for recommendation in rules.recommendations:
        if not _found(recommendation.patterns, ctx):
            suggested.append(recommendation.id)
            recommendations.append(recommendation.advice)

    return ContestReport(
        violations=violations,
        recommendations=recommendations,
        allowed=allowed_ids,
        allowed_titles=allowed_titles,
        missing=missing,
        suggested=suggested,
        cautions=cautions,
        section=rules.section,
        truncated=truncated,
        checked_chars=len(source),
    )


def render_contest_report(report: ContestReport) -> str:
    """The chat answer in Russian: plain text, short, with the guide's reasons."""
    if report.empty:
        return t("contest.empty")
    parts: list[str] = []
    if report.violations:
        lines = [t("contest.violations_header", count=len(report.violations))]
        for n, v in enumerate(report.violations, start=1):
            lines.append(t("contest.violation", n=n, quote=v.quote, title=v.title, advice=v.advice))
        parts.append("\n".join(lines))
    else:
        parts.append(t("contest.no_violations"))
    if report.allowed_titles:
        parts.append(t("contest.allowed", items=", ".join(report.allowed_titles)))
    if report.recommendations:
        lines = [t("contest.recommendations_header")]
        lines += [t("contest.recommendation", text=r) for r in report.recommendations]
        parts.append("\n".join(lines))
    if report.truncated:
        chars = counted(report.checked_chars, t("dialog.char_word"), "accs")
        parts.append(t("contest.truncated", chars=chars))
    parts.append(t("contest.source", section=report.section))
    return "\n\n".join(parts)
