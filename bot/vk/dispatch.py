"""Runs each person's actions one after another, different people side by side.

A person's second press must not overtake the first, while one person's slow public check must
not hold up everybody else; a bound on concurrent turns keeps the database pool from being
swamped by a burst. ``drain`` waits for the work in hand (graceful stop).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class PerKeySerial(Generic[T]):
    def __init__(self, handler: Callable[[T], Awaitable[None]], concurrency: int = 64) -> None:
        self._handler = handler
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[Hashable, deque[tuple[T, Callable[[], None] | None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values()) + len(self._tasks)

    def submit(self, key: Hashable, item: T, done: Callable[[], None] | None = None) -> None:
        """Queue ``item`` behind the key's earlier items; ``done`` is called once it is handled."""
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((item, done))
            return
        self._queues[key] = deque([(item, done)])
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                item, done = queue.popleft()
                try:
                    async with self._slots:
                        await self._handler(item)
                except Exception:
                    log.exception("handler failed for %r", key)
                finally:
                    if done is not None:
                        done()
        finally:
            # No await between the emptiness check and this line: nothing can slip in between.
            del self._queues[key]

    async def drain(self, seconds: float) -> bool:
        """Waits for every queued item; False if some were still running at the timeout."""
        if not self._tasks:
            return True
        _, still = await asyncio.wait(set(self._tasks), timeout=seconds)
        if still:
            log.warning("stopping with %d conversations still in progress", len(still))
        return not still
