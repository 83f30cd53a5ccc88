"""Models of the contest rules data (``contest:`` in ``advisor/knowledge/<lang>/contest.yaml``).

The checker (``advisor.contest``) knows no Russian words: every condition is a set of patterns over
dictionary forms (lemmas), and the grammar words that steer negation and quoting are data too.

A pattern is a few slots that must all be found within ``window`` words of one sentence. A slot
lists lemmas; an entry may be ``$name`` (a set from ``lexicon``), ``word*`` (any lemma or word
starting with ``word``, for slang the dictionary does not know), ``#ref`` (a VK link, an @mention
or a «quoted name») or digits. A slot may also demand a grammatical number or case of its word.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Case = Literal["nomn", "gent", "datv", "accs", "ablt", "loct", "voct"]
Number = Literal["any", "sing", "plur"]

REF = "#ref"
_LEMMA = re.compile(r"^(#ref|[0-9]+|[a-zа-я]+|[a-zа-я]{3,}\*)$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_SET_DEPTH = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normalize_word(word: str) -> str:
    """Lowercase with ё read as е: the form both data and text are compared in."""
    return word.lower().replace("ё", "е")


def _check_lemmas(values: frozenset[str]) -> frozenset[str]:
    bad = sorted(v for v in values if not _LEMMA.match(v))
    if bad:
        raise ValueError(f"not lemmas (a-я, a-z, digits, 'word*', '#ref'): {bad}")
    return values


class Slot(_Frozen):
    lemmas: frozenset[str] = Field(min_length=1, description="exact lemmas, 'word*' prefixes")
    number: Number = Field(default="any", description="grammatical number the word must have")
    cases: frozenset[Case] = Field(default=frozenset(), description="allowed cases; empty = any")
    min_count: int = Field(default=1, ge=1, le=10, description="how many such words are needed")

    @field_validator("lemmas", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split("|")
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(normalize_word(str(v)).strip() for v in value)
        return value

    @field_validator("lemmas")
    @classmethod
    def _valid(cls, value: frozenset[str]) -> frozenset[str]:
        return _check_lemmas(value)

    @property
    def exact(self) -> frozenset[str]:
        return frozenset(v for v in self.lemmas if not v.endswith("*"))

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(sorted(v[:-1] for v in self.lemmas if v.endswith("*")))


class Pattern(_Frozen):
    slots: tuple[Slot, ...] = Field(min_length=1, max_length=5)
    window: int = Field(default=8, ge=1, le=40, description="max span of the slots, in words")
    unless: frozenset[str] = Field(
        default=frozenset(), description="lemmas that cancel the match when in the same phrase"
    )
    ignore_negation: bool = Field(
        default=False, description="the condition itself is worded with a negation"
    )
    ordered: bool = Field(default=False, description="the slots must come in the given order")

    @field_validator("slots", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # A bare string slot is shorthand for {lemmas: "..."}: keeps the YAML readable.
        if isinstance(value, list | tuple):
            return [{"lemmas": v} if isinstance(v, str | list) else v for v in value]
        return value

    @field_validator("unless", mode="before")
    @classmethod
    def _normalize_unless(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split("|")
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(normalize_word(str(v)).strip() for v in value)
        return value

    @field_validator("unless")
    @classmethod
    def _valid_unless(cls, value: frozenset[str]) -> frozenset[str]:
        return _check_lemmas(value)


class _Condition(_Frozen):
    id: str
    title: str = Field(min_length=2, description="short Russian name of the condition")
    section: str = Field(min_length=3, description="the guide heading this item comes from")
    patterns: tuple[Pattern, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"{value!r} is not a lowercase identifier (a-z, 0-9, _)")
        return value


class ForbiddenCondition(_Condition):
    """A condition VK forbids in contests; found in the text, it is a violation."""

    advice: str = Field(min_length=10, description="what to do instead, with the guide's reason")


class AllowedCondition(_Condition):
    """A condition the guide allows; reported as recognised."""

    note: str = Field(default="", description="a caution shown when the condition is found")
    suppressed_by: tuple[str, ...] = Field(
        default=(), description="forbidden ids that, found in the same sentence, override this"
    )


class RequiredCondition(_Condition):
    """A condition the rules must contain; missing, it is reported."""

    advice: str = Field(min_length=10, description="shown when the condition is missing")
    satisfied_by: tuple[str, ...] = Field(
        default=(), description="allowed condition ids that also satisfy it"
    )


class Recommendation(_Condition):
    """Good practice; suggested when none of its patterns is found in the text."""

    advice: str = Field(min_length=10)


class Grammar(_Frozen):
    """Function words that steer negation scope, quoting and case government."""

    negators: frozenset[str] = Field(
        min_length=1, description="negate the words after them up to the end of the phrase"
    )
    reinforcing_negators: frozenset[str] = Field(
        default=frozenset(), description="'ни': negate without cancelling another negation"
    )
    prohibitives: frozenset[str] = Field(
        default=frozenset(), description="'нельзя', 'запрещено': also negate the phrase before"
    )
    modals: frozenset[str] = Field(
        default=frozenset(), description="after 'не' they negate the phrase before: 'не нужно'"
    )
    cancellers: frozenset[str] = Field(
        default=frozenset(), description="right after 'не' they undo it: 'не забудь'"
    )
    conjunctions: frozenset[str] = Field(
        min_length=1, description="split a phrase into separate conditions"
    )
    prepositions: dict[str, frozenset[Case]] = Field(
        default={}, description="cases each preposition governs; disambiguates the next noun"
    )

    @field_validator(
        "negators",
        "reinforcing_negators",
        "prohibitives",
        "modals",
        "cancellers",
        "conjunctions",
        mode="before",
    )
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(normalize_word(str(v)).strip() for v in value)
        return value

    @field_validator("negators", "reinforcing_negators", "prohibitives", "modals", "cancellers")
    @classmethod
    def _valid(cls, value: frozenset[str]) -> frozenset[str]:
        return _check_lemmas(value)


def _expand(entries: Any, lexicon: dict[str, Any], depth: int = 0) -> Any:
    """Replaces ``$name`` entries by the lexicon set, recursively."""
    if isinstance(entries, str):
        entries = entries.split("|")
    if not isinstance(entries, list | tuple):
        return entries
    out: list[Any] = []
    for entry in entries:
        if isinstance(entry, str) and entry.strip().startswith("$"):
            name = entry.strip()[1:]
            if name not in lexicon:
                raise ValueError(f"unknown lexicon set ${name}")
            if depth >= _MAX_SET_DEPTH:
                raise ValueError(f"lexicon set ${name} nests too deep (a cycle?)")
            out.extend(_expand(lexicon[name], lexicon, depth + 1))
        else:
            out.append(entry)
    return out


def _expand_patterns(patterns: Any, lexicon: dict[str, Any]) -> Any:
    if not isinstance(patterns, list):
        return patterns
    expanded = []
    for pattern in patterns:
        if not isinstance(pattern, dict):
            expanded.append(pattern)
            continue
        pattern = dict(pattern)
        if isinstance(pattern.get("slots"), list):
            slots = []
            for slot in pattern["slots"]:
                if isinstance(slot, str | list):
                    slot = {"lemmas": slot}
                if isinstance(slot, dict) and "lemmas" in slot:
                    slot = {**slot, "lemmas": _expand(slot["lemmas"], lexicon)}
                slots.append(slot)
            pattern["slots"] = slots
        if "unless" in pattern:
            pattern["unless"] = _expand(pattern["unless"], lexicon)
        expanded.append(pattern)
    return expanded


class ContestRules(_Frozen):
    section: str = Field(min_length=3, description="the guide section on contests")
    max_chars: int = Field(gt=0, description="longer texts are checked up to this many characters")
    max_quotes_per_rule: int = Field(default=3, ge=1, le=20)
    quote_max_chars: int = Field(default=160, ge=20)
    lexicon: dict[str, tuple[str, ...]] = Field(
        default={}, description="named lemma sets, referred to as $name in patterns"
    )
    grammar: Grammar
    forbidden: tuple[ForbiddenCondition, ...] = Field(min_length=1)
    required: tuple[RequiredCondition, ...] = ()
    allowed: tuple[AllowedCondition, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _resolve_lexicon(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        lexicon = data.get("lexicon") or {}
        if not isinstance(lexicon, dict):
            return data
        data = dict(data)
        for group in ("forbidden", "required", "allowed", "recommendations"):
            items = data.get(group)
            if not isinstance(items, list):
                continue
            data[group] = [
                {**item, "patterns": _expand_patterns(item.get("patterns"), lexicon)}
                if isinstance(item, dict)
                else item
                for item in items
            ]
        return data

    @model_validator(mode="after")
    def _references(self) -> ContestRules:
        ids: set[str] = set()
        for item in self.all_conditions():
            if item.id in ids:
                raise ValueError(f"duplicate condition id {item.id!r}")
            ids.add(item.id)
        forbidden = {f.id for f in self.forbidden}
        allowed = {a.id for a in self.allowed}
        for a in self.allowed:
            bad = set(a.suppressed_by) - forbidden
            if bad:
                raise ValueError(
                    f"allowed {a.id}: suppressed_by {sorted(bad)} are not forbidden ids"
                )
        for r in self.required:
            bad = set(r.satisfied_by) - allowed
            if bad:
                raise ValueError(f"required {r.id}: satisfied_by {sorted(bad)} are not allowed ids")
        return self

    def all_conditions(self) -> tuple[_Condition, ...]:
        return (*self.forbidden, *self.required, *self.allowed, *self.recommendations)

    def sections(self) -> set[str]:
        """Every guide heading the rules cite."""
        return {self.section} | {c.section for c in self.all_conditions()}
