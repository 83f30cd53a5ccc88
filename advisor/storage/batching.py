"""Group commit: what arrives while one batch is being written goes into the next one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """``await submit(item)`` resolves with ``write``'s result for that item.

    ``write`` gets every item queued since the last batch began and returns one result per item,
    in order; if it raises, every item of that batch gets the exception. A burst therefore costs
    one write transaction, and nobody waits for more than the batch before theirs.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._write = write
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await self._write([item for item, _ in batch])
                if len(results) != len(batch):
                    # A bug, but one that must not leave anybody waiting forever.
                    raise RuntimeError(f"{len(results)} results for {len(batch)} items")
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def close(self) -> None:
        """Wait for what is queued to be written."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
