"""Joins concurrent messages.send / sendMessageEventAnswer calls into one ``execute``.

A community token may make 20 requests a second; one ``execute`` carries up to 25 method calls
and counts as one request (dev.vk.com, «execute»). Calls queue up while the workers wait for the
rate limiter, so batches grow only under load: a lone call still goes out as itself, at once.

``call_group`` keeps a reply's messages together in one batch: VK runs the calls of a script in
order, so the pieces arrive in order without a round trip each.

Inside ``execute`` a failed call yields ``false`` and an entry of ``execute_errors``, in call
order; VK errors 6/9/10 there are retried as single calls, others reach the caller as
``VkApiError``. A script VK will not run (errors 12/13) falls back to single calls: resending
is safe because messages.send carries a random_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from advisor.observability import Metrics
from advisor.vk.api import RETRYABLE_VK_CODES, ExecuteResult, VkApiError, VkClient

log = logging.getLogger(__name__)

MAX_CALLS = 25
# VK publishes no limit on the code's length; long messages are kept to a few per batch.
MAX_CODE_CHARS = 60_000
BATCHED_METHODS = frozenset({"messages.send", "messages.sendMessageEventAnswer"})
SCRIPT_ERRORS = frozenset({12, 13})
DEFAULT_WORKERS = 4

MethodCall = tuple[str, Mapping[str, Any]]


class MethodCaller(Protocol):
    async def call(self, method: str, params: Mapping[str, Any]) -> Any: ...

    async def call_group(self, calls: Sequence[MethodCall]) -> list[Any]:
        """Each call's response, or the exception it failed with, in order."""
        ...


def script_literal(value: Any) -> str:
    """A VKScript literal: numbers as they are, anything else as a JSON string."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def script_call(method: str, params: Mapping[str, Any]) -> str:
    fields = ",".join(f"{json.dumps(key)}:{script_literal(v)}" for key, v in params.items())
    return f"API.{method}({{{fields}}})"


@dataclass
class _Call:
    method: str
    params: dict[str, Any]
    script: str
    future: asyncio.Future[Any]


def batch_script(units: Sequence[Sequence[_Call]]) -> str:
    """A script running the calls in order; within a unit, a call whose predecessor failed is
    not made and reports null, so a reply's later pieces never overtake an earlier one."""
    lines = ["var r=[];var v=0;var ok=1;"]
    for unit in units:
        lines.append("ok=1;")
        for call in unit:
            lines.append(
                f"if(ok){{v={call.script};r.push(v);if(!v){{ok=0;}}}}else{{r.push(null);}}"
            )
    lines.append("return r;")
    return "".join(lines)


def _settle(
    future: asyncio.Future[Any], value: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return  # the caller gave up (cancelled); nobody reads the outcome
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def chunk_calls(scripts: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) ranges of consecutive calls that fit one execute."""
    ranges, start, size = [], 0, 0
    for index, script in enumerate(scripts):
        if index > start and (index - start >= MAX_CALLS or size + len(script) > MAX_CODE_CHARS):
            ranges.append((start, index))
            start, size = index, 0
        size += len(script)
    if start < len(scripts):
        ranges.append((start, len(scripts)))
    return ranges


class CallBatcher:
    """``call`` like VkClient's; the hot methods are batched, the rest go straight through."""

    def __init__(
        self, client: VkClient, metrics: Metrics | None = None, workers: int = DEFAULT_WORKERS
    ) -> None:
        self.client = client
        self.metrics = metrics
        self.batches = 0
        self._pending: deque[list[_Call]] = deque()  # units: calls that go in order
        self._ready = asyncio.Event()
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while self._pending:
            for call in self._pending.popleft():
                _settle(call.future, error=RuntimeError("the sender is closed"))

    def _timed(self, method: str) -> contextlib.AbstractContextManager[None]:
        if self.metrics is None:
            return contextlib.nullcontext()
        return self.metrics.api_call("vk", method)

    async def call(self, method: str, params: Mapping[str, Any]) -> Any:
        if method not in BATCHED_METHODS:
            with self._timed(method):
                return await self.client.call(method, params)
        [outcome] = await self.call_group([(method, params)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def call_group(self, calls: Sequence[MethodCall]) -> list[Any]:
        loop = asyncio.get_running_loop()
        unit = [
            _Call(method, dict(params), script_call(method, params), loop.create_future())
            for method, params in calls
        ]
        if any(call.method not in BATCHED_METHODS for call in unit):
            raise ValueError("only messages methods are batched")
        outcomes: list[Any] = []
        for start, end in chunk_calls([c.script for c in unit]):
            part = unit[start:end]
            self._pending.append(part)
            self._ready.set()
            outcomes += await asyncio.gather(*(c.future for c in part), return_exceptions=True)
            if any(isinstance(o, BaseException) for o in outcomes):
                failed = next(o for o in outcomes if isinstance(o, BaseException))
                outcomes += [failed] * (len(unit) - len(outcomes))
                break
        return outcomes

    def _take(self) -> list[list[_Call]]:
        units: list[list[_Call]] = []
        calls = size = 0
        while self._pending:
            unit = self._pending[0]
            unit_size = sum(len(c.script) for c in unit)
            if units and (calls + len(unit) > MAX_CALLS or size + unit_size > MAX_CODE_CHARS):
                break
            units.append(self._pending.popleft())
            calls += len(unit)
            size += unit_size
        if not self._pending:
            self._ready.clear()
        return units

    async def _work(self) -> None:
        while True:
            await self._ready.wait()
            units = self._take()
            if units:
                await self._run(units)

    async def _one_by_one(
        self, unit: Sequence[_Call], first_error: Exception | None = None
    ) -> None:
        """Single calls in order; after a failure the rest of the unit is not sent."""
        failure = first_error
        for call in unit:
            if failure is not None:
                _settle(call.future, error=failure)
                continue
            try:
                with self._timed(call.method):
                    value = await self.client.call(call.method, call.params)
                _settle(call.future, value)
            except Exception as exc:
                failure = exc
                _settle(call.future, error=exc)

    async def _run(self, units: list[list[_Call]]) -> None:
        if sum(map(len, units)) == 1:
            await self._one_by_one(units[0])
            return
        self.batches += 1
        try:
            with self._timed("execute"):
                result = await self.client.execute(batch_script(units))
        except VkApiError as exc:
            if exc.vk_code in SCRIPT_ERRORS:
                log.warning("VK execute refused a batch (%s); sending one by one", exc)
                await asyncio.gather(*(self._one_by_one(unit) for unit in units))
                return
            for unit in units:
                for call in unit:
                    _settle(call.future, error=VkApiError(call.method, exc.vk_code, str(exc)))
            return
        except Exception as exc:
            for unit in units:
                for call in unit:
                    _settle(call.future, error=exc)
            return
        await self._distribute(units, result)

    async def _distribute(self, units: list[list[_Call]], result: ExecuteResult) -> None:
        values = result.response
        count = sum(map(len, units))
        if not isinstance(values, list) or len(values) != count:
            log.warning("VK execute answered %.200r for %d calls; one by one", values, count)
            await asyncio.gather(*(self._one_by_one(unit) for unit in units))
            return
        errors: Iterator[Mapping[str, Any]] = iter(result.errors)
        outcomes = iter(values)
        unfinished = []
        for unit in units:
            for index, call in enumerate(unit):
                value = next(outcomes)
                if value is None:  # not attempted: an earlier call of its unit failed
                    continue
                if value is not False:
                    _settle(call.future, value)
                    continue
                error = next(errors, {})
                code = int(error.get("error_code") or 0)
                if code in RETRYABLE_VK_CODES or code == 0:
                    unfinished.append(self._one_by_one(unit[index:]))
                else:
                    message = str(error.get("error_msg", ""))
                    failure = VkApiError(call.method, code, message)
                    unfinished.append(self._one_by_one(unit[index:], failure))
        await asyncio.gather(*unfinished)
