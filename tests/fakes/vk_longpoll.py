"""Bots Long Poll state of the fake VK API: the event queue, keys, and forced failures."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any


class LongPoll:
    """Events are numbered from 1; `ts` is the number of the next event to deliver."""

    MAX_WAIT = 90.0

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.events: list[dict[str, Any]] = []
        self.key = secrets.token_hex(20)
        self.pending_failure: int | None = None
        self.polls = 0  # a_check requests answered
        self.waiting = 0  # a_check requests waiting right now
        self._waiters: set[asyncio.Future[None]] = set()
        self._closed = False

    @property
    def next_ts(self) -> int:
        return len(self.events) + 1

    def server_info(self) -> dict[str, str]:
        """What groups.getLongPollServer answers: a key, the server URL, the current ts."""
        return {"key": self.key, "server": self.server_url, "ts": str(self.next_ts)}

    def push(self, event: dict[str, Any]) -> int:
        self.events.append(event)
        self._wake()
        return len(self.events)

    def fail(self, code: int) -> None:
        """Make the next (or the waiting) poll answer {"failed": code}."""
        if code not in (1, 2, 3):
            raise ValueError("Bots Long Poll failures are 1, 2 or 3")
        self.pending_failure = code
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _take_failure(self) -> dict[str, Any] | None:
        code, self.pending_failure = self.pending_failure, None
        if code is None:
            return None
        if code == 1:
            return {"failed": 1, "ts": str(self.next_ts)}
        # 2: the key expired; 3: the key and the history are gone. Either way a new key.
        self.key = secrets.token_hex(20)
        return {"failed": code}

    async def poll(self, key: str | None, ts: str | None, wait: float) -> dict[str, Any]:
        """One a_check request."""
        self.polls += 1
        failure = self._take_failure()
        if failure is not None:
            return failure
        if key != self.key:
            return {"failed": 2}
        try:
            start = int(ts or "")
        except ValueError:
            return {"failed": 1, "ts": str(self.next_ts)}
        if start < 1 or start > self.next_ts:
            return {"failed": 1, "ts": str(self.next_ts)}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), self.MAX_WAIT)
        while start >= self.next_ts and not self._closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            self.waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, remaining)
            finally:
                self.waiting -= 1
                self._waiters.discard(waiter)
            failure = self._take_failure()
            if failure is not None:
                return failure
        updates = self.events[start - 1 :]
        return {"ts": str(self.next_ts), "updates": updates}


__all__ = ["LongPoll"]
