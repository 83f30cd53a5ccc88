"""The Callback API side of the fake VK API: events are POSTed to the bot's servers.

``FakeVK.serve_callback(urls, secret=...)`` switches the fake from Bots Long Poll to this: every
event the fake produces (``user_message``, ``message_event``, ``push_event``) is posted with the
community's secret to one of ``urls`` (several bot replicas behind a balancer), and VK's rules
for the answer apply: anything but HTTP 200 with the body ``ok`` (an error, a refused or dropped
connection, a timeout) is a failed delivery, retried after a pause.

Deliveries are modelled on Telegram's documented webhook behaviour, the closest public
description of such a push: one person's events one at a time and in order, the next only after
the previous was answered; different people at once, up to ``concurrency``. A ``duplicates``
share of the events is posted to two servers at the same moment (a retry racing the original).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout


@dataclass
class CallbackPost:
    """One POST of an event to a callback server."""

    event_id: str
    url: str
    status: int  # 0: no answer (connection refused or reset, timeout)
    body: str
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body == "ok"


def event_peer(event: dict[str, Any]) -> object:
    """Whose event this is (deliveries are ordered per person); unknown shapes stand alone."""
    obj = event.get("object")
    if isinstance(obj, dict):
        message = obj.get("message")
        peer = message.get("peer_id") if isinstance(message, dict) else obj.get("peer_id")
        if isinstance(peer, int):
            return peer
    return ("event", repr(event.get("event_id")))


class CallbackDelivery:
    def __init__(
        self,
        urls: list[str],
        *,
        secret: str | None,
        duplicates: float = 0.0,
        seed: int = 0,
        concurrency: int = 100,
        timeout: float = 60.0,
        retry_seconds: float = 0.5,
    ) -> None:
        self.urls = list(urls)
        self.secret = secret
        self.duplicates = duplicates
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.pending: list[dict[str, Any]] = []
        self.posts: list[CallbackPost] = []
        self.delivered: list[str] = []  # event ids answered "ok", in order
        self._rng = random.Random(seed)
        self._wake = asyncio.Event()
        self._busy: set[object] = set()
        self._in_delivery: set[int] = set()  # id() of the events being posted
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._closing = False
        self.on_change: Callable[[], None] | None = None

    def push(self, event: dict[str, Any]) -> None:
        self.pending.append(event)
        self._wake.set()
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(self._run())

    def redeliver(self, event: dict[str, Any]) -> None:
        """Post an event again, as VK does when it doubts an earlier delivery."""
        self.push(dict(event))

    @property
    def idle(self) -> bool:
        return not self.pending

    async def wait_idle(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.pending)} events still undelivered")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    def _startable(self) -> list[tuple[object, dict[str, Any]]]:
        seen: set[object] = set()
        ready = []
        for event in self.pending:
            peer = event_peer(event)
            if peer in seen:
                continue
            seen.add(peer)
            if peer not in self._busy and id(event) not in self._in_delivery:
                ready.append((peer, event))
        return ready

    async def _run(self) -> None:
        async with ClientSession(timeout=ClientTimeout(total=self.timeout)) as http:
            try:
                while not self._closing:
                    self._wake.clear()
                    room = self.concurrency - len(self._tasks)
                    for peer, event in self._startable()[: max(room, 0)]:
                        self._busy.add(peer)
                        task = asyncio.create_task(self._deliver(http, peer, event))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 1.0)
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self, http: ClientSession, peer: object, event: dict[str, Any]) -> None:
        self._in_delivery.add(id(event))
        try:
            if await self._post_event(http, event):
                with contextlib.suppress(ValueError):
                    self.pending.remove(event)
                self.delivered.append(str(event.get("event_id")))
            else:
                await asyncio.sleep(self.retry_seconds)
        finally:
            self._in_delivery.discard(id(event))
            self._busy.discard(peer)
            self._wake.set()
            if self.on_change is not None:
                self.on_change()

    def _targets(self) -> list[str]:
        first = self._rng.choice(self.urls)
        others = [url for url in self.urls if url != first]
        if others and self._rng.random() < self.duplicates:
            return [first, self._rng.choice(others)]
        return [first]

    async def _post_once(self, http: ClientSession, url: str, body: str) -> tuple[int, str]:
        try:
            async with http.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                return response.status, await response.text()
        except Exception:  # any failure means "deliver again later"
            return 0, ""

    async def _post_event(self, http: ClientSession, event: dict[str, Any]) -> bool:
        body = dict(event)
        if self.secret is not None:
            body["secret"] = self.secret
        data = json.dumps(body, ensure_ascii=False)
        targets = self._targets()
        answers = await asyncio.gather(*(self._post_once(http, url, data) for url in targets))
        now = time.monotonic()
        posts = [
            CallbackPost(str(event.get("event_id")), url, status, text, now)
            for url, (status, text) in zip(targets, answers, strict=True)
        ]
        self.posts.extend(posts)
        return any(post.ok for post in posts)


__all__ = ["CallbackDelivery", "CallbackPost", "event_peer"]
