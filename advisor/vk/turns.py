"""Several publics' requests taking turns for one client (a service token's one limiter)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from advisor.vk.api import RequestTally, VkClient
from advisor.vk.sampling import MIN_BLOCKS, PAGE_SIZE


class Caller(Protocol):
    """What the service-token steps need of a client: one method call."""

    async def call(
        self, method: str, params: Mapping[str, Any], tally: RequestTally | None = None
    ) -> Any: ...


class Turns:
    """Several publics' requests by the publics' priority: at most ``window`` at a time are
    handed to the client (and wait in its one limiter); the others wait here, the cheaper
    public's first (``InTurn.sized``), then the earlier listed. The limiter stays as busy as
    before, but a public's next round does not queue behind every request of the others: the
    first verdict is ready about as soon as it would be alone, and the others follow."""

    def __init__(self, window: int) -> None:
        self.window = max(1, window)
        self.busy = 0
        self.waiting: list[tuple[tuple[int, int], int, asyncio.Future[None]]] = []
        self.order = itertools.count()

    async def run(self, priority: tuple[int, int], call: Callable[[], Awaitable[Any]]) -> Any:
        if self.busy < self.window and not self.waiting:
            self.busy += 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self.waiting, (priority, next(self.order), turn))
            try:
                await turn  # the releasing call hands its place over
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()
                raise
        try:
            return await call()
        finally:
            self._release()

    def _release(self) -> None:
        while self.waiting:
            _, _, turn = heapq.heappop(self.waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self.busy -= 1


class InTurn:
    """A client whose calls wait for their turn among several publics' (``Turns``)."""

    def __init__(self, client: VkClient, turns: Turns, index: int) -> None:
        self.client = client
        self.turns = turns
        self.index = index
        self.priority = (0, index)

    def sized(self, members_count: int) -> None:
        """Once the member count is known: a list read whole in a few pages goes before a
        sample (about ``MIN_BLOCKS`` calls, whatever the size)."""
        self.priority = (min(members_count, MIN_BLOCKS * PAGE_SIZE), self.index)

    async def call(
        self, method: str, params: Mapping[str, Any], tally: RequestTally | None = None
    ) -> Any:
        return await self.turns.run(self.priority, lambda: self.client.call(method, params, tally))
