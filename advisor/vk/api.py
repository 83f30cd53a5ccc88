"""VK API client for the public check: vkbottle's ``API`` with our base URL, retries and limits.

* vkbottle builds every request URL as ``API.API_URL + method`` (``vkbottle/api/api.py``), with
  ``API_URL`` a class attribute; the client sets it on its instance from ``settings.vk_api_url``,
  so tests and benches point it at a local server.
* VK errors 6 (too many requests), 9 (flood control), 10 (internal error), timeouts, connection
  errors and unreadable answers are retried with exponential backoff (tenacity).
* Error 5 (and 27/28: a token of the wrong kind) means the service is misconfigured: the operator's
  log gets a line naming the setting, never the token.
* Error 125 (invalid group id) means the community is not found; error 7 (permission denied) on
  ``wall.get`` means the wall is closed to us (``closed``), not that VK is unavailable.
* Requests go through an aiolimiter limiter for the token's kind: VK allows 3 requests a second
  with a user token, 20 with a community token, and ``settings.vk_service_rate_per_second`` with
  a service token. VK counts per token, so replicas sharing a token share its rate: with a
  ``pacer`` (``SharedState.pace``, Redis across replicas) calls are also spaced across processes.
  Background requests (the check's samples on the VK bot's community token) give way to the
  others: they never queue in the limiter and leave its last two slots free, so a reply goes
  out at once (or at the next free slot), never behind a queue of samples.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiolimiter import AsyncLimiter
from pydantic import SecretStr
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from vkbottle import API
from vkbottle.api.request_rescheduler import ABCRequestRescheduler
from vkbottle.exception_factory import VKAPIError
from vkbottle.http import AiohttpClient
from vkbottle.modules import logger as _vkbottle_logger  # noqa: F401  (installs its handler)

from advisor.config import Settings

# vkbottle gives its logger its own stderr handler on import, which would bypass the secret
# filter of the root handler: its records go through the root handler only.
logging.getLogger("vkbottle").handlers.clear()

log = logging.getLogger(__name__)

TokenKind = Literal["user", "group", "service"]
CheckErrorCode = Literal[
    "invalid_link",
    "not_a_community",
    "not_found",
    "closed",
    "blocked",
    "vk_unavailable",
    "misconfigured",
]

USER_RATE_PER_SECOND = 3.0
GROUP_RATE_PER_SECOND = 20.0
RATE_MARGIN = 1.1  # seconds per "second" of VK's limit
BACKGROUND_RESERVE = 2  # slots of a token's bucket that background requests leave free

RETRYABLE_VK_CODES = frozenset({6, 9, 10})
MISCONFIGURED_VK_CODES = frozenset({5, 27, 28})
CLOSED_VK_CODES = frozenset({15, 30, 203})
BLOCKED_VK_CODES = frozenset({18})
NOT_FOUND_VK_CODES = frozenset({100, 113, 125})
# "Permission to perform this action is denied" from wall.get: this wall is not open to the token.
WALL_DENIED_VK_CODES = frozenset({7})

_TOKEN_SETTING: dict[TokenKind, str] = {
    "user": "VK_USER_TOKEN",
    "group": "VK_GROUP_TOKEN",
    "service": "VK_SERVICE_TOKEN",
}


def check_error_code(vk_code: int, method: str = "") -> CheckErrorCode:
    """The issue's error code for a VK error of ``method`` that ends the check of a public."""
    if vk_code in MISCONFIGURED_VK_CODES:
        return "misconfigured"
    if vk_code in CLOSED_VK_CODES:
        return "closed"
    if method == "wall.get" and vk_code in WALL_DENIED_VK_CODES:
        return "closed"
    if vk_code in BLOCKED_VK_CODES:
        return "blocked"
    if vk_code in NOT_FOUND_VK_CODES:
        return "not_found"
    return "vk_unavailable"


class VkApiError(Exception):
    """VK answered a method with an error that retrying will not fix."""

    def __init__(self, method: str, vk_code: int, message: str = "") -> None:
        self.method = method
        self.vk_code = vk_code
        self.check_code: CheckErrorCode = check_error_code(vk_code, method)
        # VK's own message may echo request parameters; it is kept short and never has the token
        # because the token travels in the query string, which VK does not echo.
        super().__init__(f"VK error {vk_code} in {method}: {message[:200]}")


class VkUnavailable(Exception):
    """VK did not answer usefully after every retry (timeouts, 6/9/10, broken answers)."""

    def __init__(self, method: str, cause: str) -> None:
        self.method = method
        self.cause = cause
        super().__init__(f"VK unavailable for {method}: {cause}")


class _Transient(Exception):
    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(cause)


class _RaiseRescheduler(ABCRequestRescheduler):
    """vkbottle's default rescheduler retries an unreadable answer forever; we retry ourselves."""

    async def reschedule(
        self, ctx_api: Any, method: str, data: dict[str, Any], recent_response: Any
    ) -> dict[str, Any]:
        raise _Transient("unreadable answer")


@dataclass
class RequestTally:
    """Round trips made for one piece of work (retries included)."""

    count: int = 0


@dataclass(frozen=True)
class ExecuteResult:
    response: Any
    errors: list[Mapping[str, Any]] = field(default_factory=list)
    """``execute_errors``: the failed API calls inside the script, in VK's order."""


Pacer = Callable[[str, float], Awaitable[float]]
"""(key, interval) -> seconds to wait: ``SharedState.pace``."""


def rate_for(kind: TokenKind, settings: Settings) -> float:
    if kind == "user":
        return USER_RATE_PER_SECOND
    if kind == "group":
        return GROUP_RATE_PER_SECOND
    return settings.vk_service_rate_per_second


class VkClient:
    """One token's client. Use as an async context manager, or call ``close()``."""

    def __init__(
        self, settings: Settings, token: SecretStr, kind: TokenKind, pacer: Pacer | None = None
    ) -> None:
        self.kind: TokenKind = kind
        self.requests = 0
        self._max_attempts = settings.vk_max_retries + 1
        rate = rate_for(kind, settings)
        self._pacer = pacer
        self._interval = RATE_MARGIN / rate
        # Names the token in the shared state without storing it there.
        digest = hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]
        self._pace_key = f"vk:{kind}:{digest}"
        # A leaky bucket: up to ``rate`` requests at once, then ``rate`` a second, as VK allows,
        # stretched by a margin: a request delayed on its way must not arrive too close to the next.
        self._limiter = AsyncLimiter(rate, RATE_MARGIN)
        self._waiting = 0  # requests queued in the limiter (background ones never are)
        timeout = aiohttp.ClientTimeout(total=settings.vk_request_timeout)
        self._http = AiohttpClient(timeout=timeout)
        self._api = API(
            token=token.get_secret_value(),
            http_client=self._http,
            request_rescheduler=_RaiseRescheduler(),
        )
        # vkbottle joins API_URL and the method name without a separator.
        self._api.API_URL = settings.vk_api_url.rstrip("/") + "/"
        self._api.API_VERSION = settings.vk_api_version

    async def __aenter__(self) -> VkClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.close()

    async def _admit(self, background: bool) -> None:
        """Wait for the limiter. A ``background`` request (the public check's sample on the VK
        bot's community token) never queues in it: it goes only while the limiter has room
        beyond ``BACKGROUND_RESERVE`` and no other request waits, so the bot's replies never
        wait behind a queue of samples."""
        if not background:
            self._waiting += 1
            try:
                await self._limiter.acquire()
            finally:
                self._waiting -= 1
            return
        # No event fires when the bucket leaks room back: look again each slot's time.
        # The last BACKGROUND_RESERVE slots of the bucket are kept for the others: a reply
        # never comes right after a full burst, where a little network jitter is all it takes
        # for VK to count one request too many in its second.
        room = 1 + min(BACKGROUND_RESERVE, self._limiter.max_rate - 1)
        while self._waiting or not self._limiter.has_capacity(room):  # noqa: ASYNC110
            await asyncio.sleep(self._interval)
        await self._limiter.acquire()  # room checked just now: no wait, nothing in between

    async def _attempt(
        self,
        method: str,
        params: dict[str, Any],
        tally: RequestTally | None,
        background: bool = False,
    ) -> Any:
        if self._pacer is not None:
            wait = await self._pacer(self._pace_key, self._interval)
            if wait > 0:
                await asyncio.sleep(wait)
        await self._admit(background)
        self.requests += 1
        if tally is not None:
            tally.count += 1
        try:
            return await self._api.request(method, dict(params))
        except VKAPIError as exc:
            code = int(getattr(exc, "code", 0) or 0)
            if code in RETRYABLE_VK_CODES:
                raise _Transient(f"VK error {code}") from None
            raise VkApiError(method, code, str(getattr(exc, "error_msg", ""))) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            # aiohttp's messages can contain the request URL, and with it the token.
            raise _Transient(type(exc).__name__) from None

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome else None
        # _attempt(method, params, tally): log the method name, never the params (message texts).
        method = state.args[0] if state.args else "?"
        log.info(
            "VK %s: retry %d after %s",
            method,
            state.attempt_number,
            getattr(cause, "cause", type(cause).__name__),
        )

    async def raw(
        self,
        method: str,
        params: Mapping[str, Any],
        tally: RequestTally | None = None,
        *,
        background: bool = False,
    ) -> dict[str, Any]:
        """The whole answer of one method (``{"response": ..., ...}``), retried as described.
        ``background``: give way to the other requests on the token (``_admit``)."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=0.2, max=4.0) + wait_random(0, 0.1),
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            answer: Any = await retrying(self._attempt, method, dict(params), tally, background)
        except _Transient as exc:
            log.warning(
                "VK %s unavailable after %d attempts: %s", method, self._max_attempts, exc.cause
            )
            raise VkUnavailable(method, exc.cause) from None
        except VkApiError as exc:
            if exc.check_code == "misconfigured":
                log.error(
                    "VK rejected the %s token (error %d in %s): check %s",
                    self.kind,
                    exc.vk_code,
                    method,
                    _TOKEN_SETTING[self.kind],
                )
            raise
        if not isinstance(answer, dict):
            raise VkUnavailable(method, "no answer")
        return answer

    async def call(
        self, method: str, params: Mapping[str, Any], tally: RequestTally | None = None
    ) -> Any:
        """The ``response`` of one method."""
        return (await self.raw(method, params, tally)).get("response")

    async def execute(
        self, code: str, tally: RequestTally | None = None, *, background: bool = False
    ) -> ExecuteResult:
        """Run a VKScript program (user and community tokens only): one round trip."""
        answer = await self.raw("execute", {"code": code}, tally, background=background)
        errors = answer.get("execute_errors") or []
        return ExecuteResult(answer.get("response"), [e for e in errors if isinstance(e, dict)])
