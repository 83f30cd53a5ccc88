"""Answers to what owners type: questions, chat intents, free-form answers to choices and numbers.

Framework-free; every function is pure apart from the indexes each builds once per language on
first use (``answerer()``, ``intent_classifier()``, ``choice_matcher()``; call them at start-up to
pay the ~1 s build before the first message).

* ``answer_question(text, profile)`` → ``Answered`` | ``TwoTopics`` | ``NoMatch``;
  ``button_label(answer)`` labels the button into the answer's section
* ``classify_intent(text)`` → ``"help" | "cancel" | "back" | "restart" | "greeting" | "thanks" |
  "english" | "emoji"`` or ``None``; ``intent_reply(intent)`` is its short Russian reply
* ``match_choice(text, "community_type" | "goal")`` → ``ChoiceMatch`` or ``None``
* ``parse_number_phrase(text)`` → ``ParsedNumber`` or ``None``; ``find_numbers(text)``
"""

from advisor.answers.choices import ChoiceKind, ChoiceMatch, choice_matcher, match_choice
from advisor.answers.intents import Intent, classify_intent, intent_classifier, intent_reply
from advisor.answers.numbers import NumberMention, ParsedNumber, find_numbers, parse_number_phrase
from advisor.answers.questions import (
    Answer,
    Answered,
    NoMatch,
    Profile,
    QuestionResult,
    TwoTopics,
    answer_question,
    answerer,
    button_label,
)

__all__ = [
    "Answer",
    "Answered",
    "ChoiceKind",
    "ChoiceMatch",
    "Intent",
    "NoMatch",
    "NumberMention",
    "ParsedNumber",
    "Profile",
    "QuestionResult",
    "TwoTopics",
    "answer_question",
    "answerer",
    "button_label",
    "choice_matcher",
    "classify_intent",
    "find_numbers",
    "intent_classifier",
    "intent_reply",
    "match_choice",
    "parse_number_phrase",
]
