"""Refused unauthenticated requests, logged at most once per interval.

Anyone who finds a webhook or callback URL can post to it as fast as they like; one warning per
request would flood the log (and the disk) with lines that say the same thing. ``RefusalLog``
writes the first refusal of each kind at once, then at most one line per ``interval`` seconds
saying how many more were refused meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_INTERVAL = 60.0


@dataclass
class _Kind:
    last_logged: float
    suppressed: int = 0


class RefusalLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._kinds: dict[str, _Kind] = {}

    def refused(self, kind: str, message: str, *args: object) -> bool:
        """Record one refusal of ``kind``; logs it (a warning) unless one was logged within the
        interval. Returns whether a line was written."""
        now = self.clock()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen.last_logged < self.interval:
            seen.suppressed += 1
            return False
        suppressed = seen.suppressed if seen is not None else 0
        self._kinds[kind] = _Kind(last_logged=now)
        if suppressed:
            self.logger.warning(
                message + " (and %d more such requests in the last %.0f s)",
                *args,
                suppressed,
                now - seen.last_logged if seen is not None else 0.0,
            )
        else:
            self.logger.warning(message, *args)
        return True
