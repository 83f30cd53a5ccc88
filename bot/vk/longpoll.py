"""Bots Long Poll: groups.getLongPollServer, then ``a_check`` requests in a loop.

VK's rules (dev.vk.com, «Bots Long Poll API»): ``failed: 1`` — the history is outdated, carry on
with the ``ts`` VK returns; ``2`` — the key expired, get a new key and keep the ``ts``; ``3`` —
the information is lost, get a new key and ``ts``. A dropped connection or an unreadable answer
is retried with exponential backoff, keeping key and ts so that no event is skipped.

Each batch is stored in the inbox (``store``) before the next request moves past its ``ts``; if
it cannot be stored, the same ``ts`` is asked again. The ``ts`` up to which every event has been
handled is kept in the database too, so a restarted process (or a recreated container) asks VK
for what arrived while it was down; a redelivered event is recognised by its ``event_id``
(``Advisor.first_delivery``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from advisor.vk.api import VkClient, VkUnavailable

log = logging.getLogger(__name__)

DEFAULT_WAIT = 25
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
SAVE_EVERY = 1.0

UpdatesSink = Callable[[list[dict[str, Any]], Callable[[], None]], None]
"""Receives a batch of updates and a callback to call once per update when it is handled."""
UpdatesStore = Callable[[list[dict[str, Any]]], Awaitable[None]]
"""Stores a batch durably (the inbox) before the next request moves past its ``ts``."""


def backoff_delay(failures: int) -> float:
    """Exponential, capped, with jitter so that many bots do not reconnect in step."""
    base = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(max(failures - 1, 0), 10))
    return base * random.uniform(0.8, 1.2)


class Backoff:
    """The failures in a row of one loop and the wait after each, growing until a success."""

    def __init__(self) -> None:
        self.failures = 0

    async def wait(self, problem: str, *args: object) -> None:
        """Log ``problem``, a %-format of ``args`` and then of the wait in seconds, and wait."""
        self.failures += 1
        delay = backoff_delay(self.failures)
        log.warning(problem, *args, delay)
        await asyncio.sleep(delay)

    def succeeded(self) -> None:
        self.failures = 0


@dataclass
class Server:
    server: str
    key: str
    ts: str

    @classmethod
    def from_response(cls, response: Any) -> Server:
        if not isinstance(response, dict) or not all(
            k in response for k in ("server", "key", "ts")
        ):
            raise ValueError("groups.getLongPollServer returned no server, key or ts")
        return cls(str(response["server"]), str(response["key"]), str(response["ts"]))


class TsStore(Protocol):
    """Where the position is kept (advisor.storage.longpoll_positions: the database)."""

    async def load(self) -> str | None: ...

    async def save(self, ts: str) -> None: ...


class HandledTs:
    """The newest ts whose events, and every earlier one, have all been handled."""

    def __init__(self, store: TsStore | None) -> None:
        self.store = store
        self.committed: str | None = None
        self._batches: deque[list[Any]] = deque()
        self._dirty = False

    async def load(self) -> str | None:
        if self.store is None:
            return None
        try:
            return await self.store.load()
        except Exception as exc:  # VK's fresh ts then; redeliveries are recognised by event_id
            log.warning("VK long poll: cannot read the saved position: %s", exc)
            return None

    def batch(self, ts: str, count: int) -> Callable[[], None]:
        entry: list[Any] = [ts, count]
        self._batches.append(entry)

        def done() -> None:
            entry[1] -= 1
            self._advance()

        self._advance()
        return done

    def _advance(self) -> None:
        while self._batches and self._batches[0][1] <= 0:
            self.committed = self._batches.popleft()[0]
            self._dirty = True

    def take(self) -> str | None:
        """The ts to write, if it changed since the last call."""
        if self.store is None or not self._dirty:
            return None
        self._dirty = False
        return self.committed

    async def write(self, ts: str | None) -> None:
        if self.store is None or ts is None:
            return
        try:
            await self.store.save(ts)
        except Exception as exc:  # the database is down: written again with the next change
            self._dirty = True
            log.warning("VK long poll: cannot save the position: %s", exc)

    async def save(self) -> None:
        await self.write(self.take())


def _resume_ts(saved: str | None, fresh: str) -> str:
    """The saved ts when it is an earlier point of the same event stream, else VK's fresh one."""
    if saved is None:
        return fresh
    if saved.isdigit() and fresh.isdigit() and int(saved) > int(fresh):
        return fresh  # the counter restarted: the saved point belongs to another stream
    return saved


class LongPoll:
    def __init__(
        self,
        client: VkClient,
        http: aiohttp.ClientSession,
        group_id: int,
        state: HandledTs,
        wait: int = DEFAULT_WAIT,
        store: UpdatesStore | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.http = http
        self.group_id = group_id
        self.state = state
        self.wait = wait

    async def get_server(self) -> Server:
        response = await self.client.call("groups.getLongPollServer", {"group_id": self.group_id})
        return Server.from_response(response)

    async def _check(self, server: Server) -> dict[str, Any]:
        params = {"act": "a_check", "key": server.key, "ts": server.ts, "wait": str(self.wait)}
        timeout = aiohttp.ClientTimeout(total=self.wait + 10)
        async with self.http.get(server.server, params=params, timeout=timeout) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise ValueError("the long poll answer is not an object")
        return body

    async def _refresh(self, keep_ts: str | None) -> Server:
        """A new key (and ts unless ``keep_ts``); VK being down is waited out, not fatal."""
        backoff = Backoff()
        while True:
            try:
                server = await self.get_server()
            except (ValueError, VkUnavailable) as exc:
                await backoff.wait("VK long poll: no server (%s); again in %.1f s", exc)
                continue
            if keep_ts is not None:
                server.ts = keep_ts
            return server

    async def run(self, sink: UpdatesSink) -> None:
        """Polls until cancelled. A VkApiError from groups.getLongPollServer (a bad token,
        long poll switched off in the community) propagates: the operator must act."""
        first = await self._refresh(keep_ts=None)
        saved = await self.state.load()
        first.ts = _resume_ts(saved, first.ts)
        if first.ts != saved:
            # Kept at once: a process killed before its first batch asks from here next time,
            # not from a later "now" that would skip what arrived in between.
            await self.state.write(first.ts)
        server = first
        log.info("VK long poll started for community %d", self.group_id)
        saver = asyncio.create_task(self._save_periodically())
        backoff = Backoff()
        try:
            while True:
                try:
                    body = await self._check(server)
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    # The request URL carries the key: only the kind of failure is logged.
                    await backoff.wait(
                        "VK long poll: connection problem (%s); reconnecting in %.1f s",
                        type(exc).__name__,
                    )
                    continue
                failed = body.get("failed")
                if failed is not None:
                    server = await self._on_failed(server, failed, body)
                    continue
                updates, ts = body.get("updates"), body.get("ts")
                if not isinstance(updates, list) or ts is None:
                    await backoff.wait(
                        "VK long poll: an answer without updates or ts; new server in %.1f s"
                    )
                    server = await self._refresh(keep_ts=server.ts)
                    continue
                events = [u for u in updates if isinstance(u, dict)]
                if self.store is not None and events:
                    try:
                        await self.store(events)
                    except Exception as exc:  # asked again with the same ts: nothing skipped
                        await backoff.wait(
                            "VK long poll: events not stored (%s); asking again in %.1f s",
                            type(exc).__name__,
                        )
                        continue
                backoff.succeeded()
                sink(events, self.state.batch(str(ts), len(events)))
                server.ts = str(ts)
        finally:
            saver.cancel()
            await self.state.save()

    async def _on_failed(self, server: Server, failed: Any, body: dict[str, Any]) -> Server:
        if failed == 1 and body.get("ts") is not None:
            log.info("VK long poll: history outdated, continuing from the new ts")
            server.ts = str(body["ts"])
            return server
        if failed == 2:
            log.info("VK long poll: key expired, getting a new key")
            return await self._refresh(keep_ts=server.ts)
        if failed == 3:
            log.info("VK long poll: information lost, getting a new key and ts")
            return await self._refresh(keep_ts=None)
        log.error("VK long poll: unknown failure %r, getting a new server", failed)
        await asyncio.sleep(backoff_delay(1))
        return await self._refresh(keep_ts=None)

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            await self.state.save()
