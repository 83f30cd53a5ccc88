"""aiogram's event isolation on our pruned per-key locks.

aiogram's ``SimpleEventIsolation`` keeps a lock for every chat it has ever seen (its own TODO says
so); a bot with a million people would hold a million locks. This one forgets a chat's lock as
soon as no update of that chat is being handled or waiting.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey

from advisor.keyed_locks import KeyedLocks


class ChatIsolation(BaseEventIsolation):
    """One chat's updates one after another, in arrival order; different chats concurrently."""

    def __init__(self) -> None:
        self.locks: KeyedLocks[StorageKey] = KeyedLocks()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self.locks.hold(key):
            yield

    async def close(self) -> None:
        return None
