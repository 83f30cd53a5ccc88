"""Models of the contest rules data (``contest:`` in ``advisor/knowledge/<lang>/contest.yaml``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContestRules(BaseModel):
    # Placeholder shape until the contest checker defines its rules model.
    model_config = ConfigDict(extra="allow", frozen=True)

    section: str
