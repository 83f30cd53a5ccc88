"""Typed messages per CPU-second through advisor.answers, and the answered shares of the corpora.

A typed question must not slow the dialog engine below its target (bench/engine.py: 2,000 turns/s
on one core, i.e. 0.5 ms a turn), so answering one should take a small part of that. Replays the
owner-question corpus (tests/data/owner_questions.yaml) and the intent and free-form corpora,
after the indexes are built (their build time is printed separately), and prints the figures
with PASS/FAIL.

    python bench/answers.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.answers import (
    Answered,
    ChoiceKind,
    TwoTopics,
    answer_question,
    answerer,
    choice_matcher,
    classify_intent,
    intent_classifier,
    match_choice,
    parse_number_phrase,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# A question may cost at most a quarter of an engine turn at the engine's target rate
# (2,000 turns/s: 0.5 ms a turn), so typed questions keep the engine within its target.
TARGET_QUESTIONS_PER_SECOND = 8_000
TARGET_SHARE = 0.9
T = TypeVar("T")


def rate(function: Callable[[T], object], items: list[T], rounds: int) -> float:
    """Calls per CPU-second of this process: on a shared machine wall time mostly measures the
    neighbours (bench/engine.py reports turns per CPU-second for the same reason)."""
    for item in items:  # warm the per-word caches, as a running bot has them
        function(item)
    started = time.process_time()
    for _ in range(rounds):
        for item in items:
            function(item)
    return rounds * len(items) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    answerer()
    intent_classifier()
    choice_matcher()
    print(f"indexes built in {time.perf_counter() - started:.2f} s")

    corpus = yaml.safe_load((DATA / "owner_questions.yaml").read_text(encoding="utf-8"))
    questions = [item["q"] for item in corpus["questions"]]
    answered = 0
    for item in corpus["questions"]:
        result = answer_question(item["q"])
        texts = (
            [result.answer.text]
            if isinstance(result, Answered)
            else [result.first.text, result.second.text]
            if isinstance(result, TwoTopics)
            else []
        )
        answered += any(item["expect"].lower() in text.lower() for text in texts)
    share = answered / len(questions)

    free = yaml.safe_load((DATA / "free_answers.yaml").read_text(encoding="utf-8"))
    choice_texts: list[tuple[str, ChoiceKind]] = [
        (item["text"], item["kind"]) for item in free["choices"]
    ]
    number_texts = [item["text"] for item in free["numbers"]]

    per_second = rate(answer_question, questions, args.rounds)
    intents = rate(classify_intent, questions, args.rounds)
    choices = rate(lambda pair: match_choice(*pair), choice_texts, args.rounds)
    numbers = rate(parse_number_phrase, number_texts, args.rounds)

    verdict = "PASS" if per_second >= TARGET_QUESTIONS_PER_SECOND else "FAIL"
    print(
        f"questions: {per_second:,.0f} per CPU-second ({1e3 / per_second:.3f} ms each), "
        f"target ≥ {TARGET_QUESTIONS_PER_SECOND:,}: {verdict}"
    )
    print(f"per CPU-second: intents {intents:,.0f}; choices {choices:,.0f}; numbers {numbers:,.0f}")
    verdict = "PASS" if share >= TARGET_SHARE else "FAIL"
    print(
        f"owner questions answered: {answered}/{len(questions)} = {share:.1%}, "
        f"target ≥ {TARGET_SHARE:.0%}: {verdict}"
    )


if __name__ == "__main__":
    main()
