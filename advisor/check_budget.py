"""A per-person budget of VK public checks per hour.

Every public check is paid for with calls on one shared VK token, whose rate VK limits per token:
a few accounts checking publics without end would leave nothing for everyone else. Each person
may check ``per_hour`` publics in an hour (a fixed window, counted through the shared state, so
replicas sharing Redis count together and a single process counts by itself). The console is the
local operator and is not counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from advisor.shared_state import SharedState

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600.0
UNCOUNTED_CHANNELS = frozenset({"console"})


@dataclass(frozen=True)
class CheckBudget:
    shared: SharedState
    per_hour: int  # 0: no budget
    window_seconds: float = WINDOW_SECONDS

    async def allow(self, channel: str, user_id: str, publics: int) -> int:
        """How many of the ``publics`` asked for this person may check now (counted as spent)."""
        if self.per_hour <= 0 or channel in UNCOUNTED_CHANNELS:
            return publics
        key = f"check-budget:{channel}:{user_id}"
        for allowed in range(publics):
            if await self.shared.hit(key, self.window_seconds) > self.per_hour:
                if allowed == 0:
                    log.info("public check budget spent: channel=%s user=%s", channel, user_id)
                return allowed
        return publics
