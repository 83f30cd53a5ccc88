"""Routes a free-text message to the scenario whose keywords it mentions."""

from __future__ import annotations

from collections.abc import Iterable

from advisor.dialog.scenario_models import Scenario
from advisor.morph import lemma, lemmas

# Long texts are not questions about a section; looking at their start is enough and bounded.
_SCAN_CHARS = 400


class KeywordRouter:
    def __init__(self, scenarios: Iterable[Scenario], *, links: bool = False) -> None:
        """Routes by ``keywords``; with ``links``, by the ``link_words`` of scenarios that take
        a message with a link."""
        self._by_lemma: dict[str, list[str]] = {}
        for scenario in scenarios:
            words = scenario.link_words if links else scenario.keywords
            for keyword in words:
                self._by_lemma.setdefault(lemma(keyword), []).append(scenario.id)

    def route(self, text: str) -> str | None:
        """The scenario most keywords point to, or None when nothing matches."""
        scores: dict[str, int] = {}
        for word in lemmas(text[:_SCAN_CHARS]):
            for scenario_id in self._by_lemma.get(word, ()):
                scores[scenario_id] = scores.get(scenario_id, 0) + 1
        if not scores:
            return None
        return max(scores, key=lambda scenario_id: scores[scenario_id])
