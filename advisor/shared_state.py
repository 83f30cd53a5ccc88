"""Short-lived state that replicas must share: seen update ids, per-conversation locks, the
public-check cache, per-user flood counters and the pace of calls made with one API token.

``LocalState`` keeps it in this process (and seen ids in the database, so they survive a restart);
``RedisState`` keeps it in Redis for several replicas. There a seen id is first *claimed* by the
replica handling it and marked done when the turn ends (``finished``); a replica given the same id
meanwhile waits for that outcome. Claims and conversation locks are leases the holder renews while
it works, so those of a replica that died (SIGKILL, lost host) lapse within LEASE_SECONDS and the
platform's redelivery is handled by another replica instead of being taken for a repeat.
``ResilientState`` uses Redis while it answers and falls back to the local state with a warning
when it does not, so a Redis outage degrades the bot to per-process behaviour instead of stopping
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, RedisError

from advisor.keyed_locks import KeyedLocks
from advisor.storage.store import ConversationStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 10
RENEW_EVERY_SECONDS = 3.0
# Renewals stop after this: no turn takes so long, and a stuck one must not hold a key forever.
MAX_HOLD_SECONDS = 600.0
CLAIM_POLL_SECONDS = 0.1
LOCK_WAIT_SECONDS = 60
SEEN_TTL_SECONDS = 7 * 24 * 3600
RETRY_REDIS_AFTER_SECONDS = 5.0
DONE = "done"


class SharedState(Protocol):
    async def first_time(self, channel: str, event_id: str) -> bool:
        """True the first time an update or event id is seen, False for a redelivery."""

    async def finished(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        """The turn of an id ``first_time`` gave is over: handled (its repeats are skipped), or
        not (given up, e.g. on shutdown: a redelivery is handled afresh)."""

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialises the handling of one conversation."""

    async def hit(self, key: str, window_seconds: float) -> int:
        """Counts a message in the current window; returns the count so far."""

    async def pace(self, key: str, interval: float) -> float:
        """Reserves the next moment to make a call, at least ``interval`` after the previous
        reservation of ``key`` by anyone; the seconds to wait for it (0 when unshared)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: float) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def _text(value: bytes | str | None) -> str | None:
    """Redis answers text (decode_responses); its client's types allow bytes too."""
    return value.decode() if isinstance(value, bytes) else value


class LocalState:
    """One process: locks and counters in memory, seen ids in the database."""

    def __init__(
        self,
        store: ConversationStore,
        cache_entries: int = 1000,
        *,
        claim_on_arrival: bool = False,
    ) -> None:
        self.store = store
        self._in_hand: set[tuple[str, str]] = set()
        # Replicas working per process while Redis is away share only the database: an id
        # claimed there on arrival is the one dedup across them left (a turn killed before its
        # commit is then not handled again: Redis's claims lapse instead, when it is there).
        self._claim_on_arrival = claim_on_arrival
        self._locks: KeyedLocks[str] = KeyedLocks()
        self._windows: dict[str, tuple[float, int]] = {}
        self._cache: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._cache_entries = cache_entries

    async def first_time(self, channel: str, event_id: str) -> bool:
        """Not in hand here and no turn committed for it. Nothing is written on arrival: the
        turn's own transaction marks it handled, so a turn cut short by a kill is not taken for
        a handled one when its update comes again (from the inbox or the platform)."""
        key = (channel, event_id)
        if key in self._in_hand:
            return False
        if self._claim_on_arrival:
            return await self.store.mark_processed(channel, event_id)
        self._in_hand.add(key)
        try:
            processed = await self.store.was_processed(channel, event_id)
        except BaseException:
            self._in_hand.discard(key)
            raise
        if processed:
            self._in_hand.discard(key)
        return not processed

    async def finished(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        self._in_hand.discard((channel, event_id))

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        async with self._locks.hold(key):
            yield

    async def hit(self, key: str, window_seconds: float) -> int:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        if len(self._windows) > 100_000:
            # Old windows are worthless; dropping them all at once keeps memory bounded.
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
        return count

    async def pace(self, key: str, interval: float) -> float:
        return 0.0  # one process: the API client's own limiter paces it

    async def get(self, key: str) -> str | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._cache[key]
            return None
        return value

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._cache[key] = (time.monotonic() + ttl_seconds, value)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


# Calls spaced exactly ``interval`` apart across every process (GCRA with no burst): each caller
# takes the next free moment; Redis's clock is the one clock all replicas share.
_PACE_SCRIPT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < t then slot = t end
local ttl = math.ceil((slot + interval - t) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', ttl)
return string.format('%.6f', slot - t)
"""


# A claim is renewed, or released, only by the replica holding it (its value names the holder).
_RENEW_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


async def _keep_renewing(renew: Callable[[], Awaitable[object]], what: str) -> None:
    started = time.monotonic()
    while time.monotonic() - started < MAX_HOLD_SECONDS:
        await asyncio.sleep(RENEW_EVERY_SECONDS)
        try:
            await renew()
        except (RedisError, LockError, OSError) as exc:
            log.debug("could not renew %s: %s", what, exc)


class RedisState:
    def __init__(self, url: str, prefix: str = "promo-advisor:") -> None:
        self.redis = Redis.from_url(
            url,
            socket_timeout=2.0,
            socket_connect_timeout=2.0,
            decode_responses=True,
            # A pooled connection that Redis closed (a restart) fails once; the second try on a
            # new one must not make a healthy Redis look down: a replica working per process
            # while the others share keeps its own seen ids, and an update could be doubled.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self.prefix = prefix
        self._pace = self.redis.register_script(_PACE_SCRIPT)
        self._renew_claim = self.redis.register_script(_RENEW_CLAIM)
        self._release_claim = self.redis.register_script(_RELEASE_CLAIM)
        self._claims: dict[str, tuple[str, asyncio.Task[None]]] = {}

    def _seen_key(self, channel: str, event_id: str) -> str:
        return f"{self.prefix}seen:{channel}:{event_id}"

    async def first_time(self, channel: str, event_id: str) -> bool:
        key = self._seen_key(channel, event_id)
        holder = f"busy:{uuid.uuid4().hex}"
        lease_ms = LEASE_SECONDS * 1000
        while True:
            if await self.redis.set(key, holder, nx=True, px=lease_ms):
                renewing = asyncio.create_task(
                    _keep_renewing(
                        lambda: self._renew_claim(keys=[key], args=[holder, lease_ms]), key
                    )
                )
                self._claims[key] = (holder, renewing)
                return True
            value = _text(await self.redis.get(key))
            if value is None:
                continue  # its holder's lease ran out this moment: claim it
            if not value.startswith("busy:"):
                return False  # handled already
            # Another replica has it in hand: its outcome decides (done, or lapsed if it died).
            await asyncio.sleep(CLAIM_POLL_SECONDS)

    async def finished(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        key = self._seen_key(channel, event_id)
        holder, renewing = self._claims.pop(key, (None, None))
        if renewing is not None:
            renewing.cancel()
        if handled:
            await self.redis.set(key, DONE, ex=SEEN_TTL_SECONDS)
        elif holder is not None:
            await self._release_claim(keys=[key], args=[holder])

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lock = self.redis.lock(
            f"{self.prefix}lock:{key}",
            timeout=LEASE_SECONDS,
            blocking_timeout=LOCK_WAIT_SECONDS,
        )
        if not await lock.acquire():
            raise LockError(f"could not lock {key} in {LOCK_WAIT_SECONDS} s")
        renewing = asyncio.create_task(_keep_renewing(lock.reacquire, f"the lock of {key}"))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(LockError, RedisError):
                await lock.release()

    async def hit(self, key: str, window_seconds: float) -> int:
        name = f"{self.prefix}flood:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, max(1, int(window_seconds)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def pace(self, key: str, interval: float) -> float:
        wait = await self._pace(keys=[f"{self.prefix}pace:{key}"], args=[interval])
        return max(0.0, float(wait))

    async def get(self, key: str) -> str | None:
        return _text(await self.redis.get(f"{self.prefix}cache:{key}"))

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        await self.redis.set(f"{self.prefix}cache:{key}", value, px=max(1, int(ttl_seconds * 1000)))

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        for _, renewing in self._claims.values():
            renewing.cancel()
        self._claims.clear()
        await self.redis.aclose()


class ResilientState:
    """Redis while it answers; the local state, with a warning, while it does not."""

    def __init__(self, primary: RedisState, fallback: LocalState) -> None:
        self.primary = primary
        self.fallback = fallback
        self._down_since: float | None = None

    def _use_primary(self) -> bool:
        if self._down_since is None:
            return True
        return time.monotonic() - self._down_since >= RETRY_REDIS_AFTER_SECONDS

    def _failed(self, exc: BaseException) -> None:
        if self._down_since is None:
            log.warning("Redis is unavailable (%s); working per process until it is back", exc)
        self._down_since = time.monotonic()

    def _recovered(self) -> None:
        if self._down_since is not None:
            log.warning("Redis is back; shared state restored")
            self._down_since = None

    async def first_time(self, channel: str, event_id: str) -> bool:
        if self._use_primary():
            try:
                result = await self.primary.first_time(channel, event_id)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
                if result and await self._committed(channel, event_id):
                    # A replica committed this turn and died before it could say so (or Redis
                    # was restarted since): it is done, whatever the claim says.
                    await self.finished(channel, event_id)
                    return False
                return result
        return await self.fallback.first_time(channel, event_id)

    async def _committed(self, channel: str, event_id: str) -> bool:
        try:
            return await self.fallback.store.was_processed(channel, event_id)
        except Exception as exc:  # the database is down: the turn itself will say so
            log.warning("could not look up update %s: %s", event_id, type(exc).__name__)
            return False

    async def finished(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        await self.fallback.finished(channel, event_id, handled=handled)
        try:
            await self.primary.finished(channel, event_id, handled=handled)
        except (RedisError, OSError) as exc:
            # Redis went away during the turn; the claim lapses on its own.
            self._failed(exc)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        # The local lock is always taken too: it orders this process's own work for the key
        # even while Redis is away.
        async with self.fallback.lock(key):
            if not self._use_primary():
                yield
                return
            try:
                manager = self.primary.lock(key)
                await manager.__aenter__()
            except (RedisError, OSError) as exc:
                self._failed(exc)
                yield
                return
            self._recovered()
            try:
                yield
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await manager.__aexit__(None, None, None)

    async def hit(self, key: str, window_seconds: float) -> int:
        if self._use_primary():
            try:
                result = await self.primary.hit(key, window_seconds)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
                return result
        return await self.fallback.hit(key, window_seconds)

    async def pace(self, key: str, interval: float) -> float:
        if self._use_primary():
            try:
                result = await self.primary.pace(key, interval)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
                return result
        return await self.fallback.pace(key, interval)

    async def get(self, key: str) -> str | None:
        if self._use_primary():
            try:
                result = await self.primary.get(key)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
                return result
        return await self.fallback.get(key)

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        if self._use_primary():
            try:
                await self.primary.set(key, value, ttl_seconds)
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                self._recovered()
                return
        await self.fallback.set(key, value, ttl_seconds)

    async def ping(self) -> bool:
        try:
            return await self.primary.ping()
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.primary.close()


def build_shared_state(redis_url: str | None, store: ConversationStore) -> SharedState:
    if not redis_url:
        return LocalState(store)
    return ResilientState(RedisState(redis_url), LocalState(store, claim_on_arrival=True))
