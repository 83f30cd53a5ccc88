"""The tracker's field parser for the step-by-step entry (``parser: placement`` in
``knowledge/ru/scenarios_tracker.yaml``): one placement field from a typed answer, with the
tracker's own Russian reasons, refused when it contradicts the fields typed before it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from advisor.dialog.fields import FieldParser, FieldRefused
from advisor.texts import t
from advisor.tracker.models import InputProblem, Problem, cross_problems
from advisor.tracker.parsing import confirmation, normalize, parse_field, parse_post

log = logging.getLogger(__name__)


def problems_text(problems: list[Problem]) -> str:
    """The Russian text for the person; the log gets which fields failed and why (no values)."""
    log.info("tracker input refused: %s", ", ".join(f"{p.field}:{p.code}" for p in problems))
    if len(problems) == 1:
        return problems[0].message
    return "\n".join([t("tracker.problems_title"), *(f"• {p.message}" for p in problems)])


def placement_parser(today: Callable[[], date]) -> FieldParser:
    def parse(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
        if store == "public" and draft.get("public"):
            # «Оставить это название или написать своё?» answered in words.
            keep = normalize(text).strip(" .!") in {"оставить", "оставь", "оставляй"}
            answer = "yes" if keep else confirmation(text)
            if answer == "yes":
                return {"public": draft["public"]}
            if answer == "no":
                raise FieldRefused(t("tracker.own_public_name"))
        if store == "method" and _is_post_link(text):
            # The method comes first now: a post link sent here is asked for on the next step.
            raise FieldRefused(t("tracker.method_first"))
        try:
            updates = parse_field(store, text, today())
        except InputProblem as exc:
            raise FieldRefused(problems_text([exc.problem])) from None
        merged = {k: v for k, v in {**draft, **updates}.items() if v is not None}
        problems = cross_problems(merged)
        if problems:
            raise FieldRefused(problems_text(problems))
        return updates

    return parse


def _is_post_link(text: str) -> bool:
    try:
        parse_post(text)
    except InputProblem:
        return False
    return True
