"""«Is this public worth buying?»: links in, one result per link out, cached per public.

``PublicChecker.check`` parses each input, collects the public's data (``collect``), computes the
issue's metrics (``metrics``, ``sampling``), and asks ``advisor.verdicts.judge_public`` for the
verdict. A link that cannot be analysed gives a result with ``error`` instead; nothing raises.
``PublicChecker.chat_answer`` is the same check rendered as chat messages (the dialog's
``PublicCheckPort``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from advisor.config import Settings
from advisor.dialog.types import Outgoing, ProgressBoard
from advisor.formulas import engagement_norm_percent
from advisor.knowledge.models import Norms
from advisor.numbers import format_number as fmt_number
from advisor.texts import t
from advisor.verdicts import PublicMetrics, Reason, judge_public
from advisor.vk.api import CheckErrorCode, VkClient, VkUnavailable
from advisor.vk.collect import CollectError, CollectOptions, PublicData, collect_publics
from advisor.vk.links import LinkError, PublicRef, parse_link
from advisor.vk.metrics import post_er_percent, post_reach_percent, wall_metrics
from advisor.vk.sampling import InactiveEstimate

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str], Awaitable[None]]
ItemCallback = Callable[[str, str], Awaitable[None]]
"""Hears a line about one public (its ``ref.key``, the line): a sampled public's first estimate."""
ResultCallback = Callable[["PublicResult"], Awaitable[None]]
"""Hears each fetched public's result as soon as it is ready (cached ones are not repeated)."""
VerdictLabel = Literal["buy", "caution", "avoid"]
CACHE_FORMAT = 2  # bump when PublicResult changes shape: old cache entries are then ignored


# --- the result ------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupOut(_Model):
    id: int
    screen_name: str
    name: str
    members_count: int


class MetricsOut(_Model):
    posts_analyzed: int
    er_percent: float | None
    reach_percent: float | None
    ad_posts_analyzed: int
    ad_reach_percent: float | None
    inactive_percent: float | None
    inactive_ci95: tuple[float, float] | None
    members_sampled: int | None
    sample_blocks: int | None = None
    """The ``groups.getMembers`` calls that read members for the share (None: not known)."""
    ci_halfwidth: float | None = None
    """Half the width of ``inactive_ci95`` in points (0 when the list was read whole)."""


class ErrorOut(_Model):
    code: CheckErrorCode
    message: str


class PostPoint(_Model):
    """One analysed post, for the chart."""

    id: int
    date: int
    er_percent: float | None
    reach_percent: float | None
    is_ad: bool


class ChartData(_Model):
    posts: list[PostPoint]
    er_norm_percent: float
    reach_min_percent: float
    reach_max_percent: float


class PublicResult(_Model):
    """The answer for one input. Either ``error`` is set, or the group, metrics and verdict are."""

    input: str
    group: GroupOut | None = None
    metrics: MetricsOut | None = None
    verdict: VerdictLabel | None = None
    summary: str = ""
    reasons: list[Reason] = []
    vk_requests: int = 0
    fetched_at: datetime | None = None
    from_cache: bool = False
    members_hidden: bool = False
    chart: ChartData | None = None
    error: ErrorOut | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json_dict(self) -> dict[str, Any]:
        """Exactly the issue's JSON object for this input."""
        if self.error is not None:
            return {"input": self.input, "error": self.error.model_dump()}
        assert self.group is not None and self.metrics is not None and self.fetched_at
        metrics = {name: _round(value) for name, value in self.metrics.model_dump().items()}
        return {
            "input": self.input,
            "group": self.group.model_dump(),
            "metrics": metrics,
            "verdict": self.verdict,
            "reasons": [{"rule": r.rule, "text": r.text} for r in self.reasons],
            "vk_requests": self.vk_requests,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds"),
        }


def error_result(input_text: str, code: CheckErrorCode, message: str) -> PublicResult:
    return PublicResult(input=input_text, error=ErrorOut(code=code, message=message))


def admin_message(result: PublicResult | None = None) -> str:
    """What only the admin can tell (unsubscribe dynamics, hide rate, audience statistics) as a
    message the user can send, and the reminder that the ad must be marked.

    Without a result (several publics) the message names no public, so it fits every admin.
    """
    if result is not None and result.group is not None:
        where = t("check.report.admin_where_named", name=result.group.name)
    else:
        where = t("check.report.admin_where_generic")
    return "\n\n".join(
        [
            t("check.report.admin_title"),
            t("check.report.admin_message", where=where),
            t("check.report.marking"),
        ]
    )


# --- ranking ---------------------------------------------------------------------------------

_VERDICT_ORDER: dict[str, int] = {"buy": 0, "caution": 1, "avoid": 2}


def _rank_key(result: PublicResult) -> tuple[float, ...]:
    if result.error is not None or result.verdict is None:
        return (9.0, 0.0, 0.0, 0.0)
    severities = [r.severity for r in result.reasons]
    er = result.metrics.er_percent if result.metrics else None
    norm = result.chart.er_norm_percent if result.chart else None
    er_ratio = er / norm if er is not None and norm else 0.0
    return (
        float(_VERDICT_ORDER[result.verdict]),
        float(severities.count("critical")),
        float(severities.count("warning")),
        -er_ratio,
    )


def rank_results(results: Sequence[PublicResult]) -> list[PublicResult]:
    """Best first: verdict, then fewer critical and warning reasons, then ER against its norm.

    Results with an error go last, in input order.
    """
    return sorted(results, key=_rank_key)


# --- the cache -------------------------------------------------------------------------------


class CheckCache(Protocol):
    """Where results wait between checks. Values are JSON strings, so Redis fits as is."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: float) -> None: ...


class MemoryCache:
    """An in-process TTL cache; a Redis-backed CheckCache replaces it for several replicas."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._items[key]
            return None
        return value

    async def set(self, key: str, value: str, ttl_seconds: float) -> None:
        now = self._clock()
        if ttl_seconds <= 0:
            return
        self._items = {k: v for k, v in self._items.items() if v[0] > now}
        self._items[key] = (now + ttl_seconds, value)


def _cache_key(target: str, posts: int) -> str:
    return f"public-check:v{CACHE_FORMAT}:{target}:posts={posts}"


# --- the checker -----------------------------------------------------------------------------


def _round(value: Any, digits: int = 2) -> Any:
    """Percentages to hundredths for JSON (counts and nulls stay as they are)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, tuple | list):
        return [_round(item, digits) for item in value]
    return value


class PublicChecker:
    """Checks publics with ``client``, the VK gateway's reader (``VkGateway.reader``): the client
    and its rate limiter belong to the gateway, which closes them. None: no token is set."""

    def __init__(
        self,
        settings: Settings,
        norms: Norms,
        client: VkClient | None,
        cache: CheckCache | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.norms = norms
        self.cache: CheckCache = cache if cache is not None else MemoryCache()
        self._rng = rng or random.Random()
        self._client = client
        # Publics being fetched right now, so concurrent checks of one public share the work.
        self._inflight: dict[str, asyncio.Future[PublicResult]] = {}

    @property
    def configured(self) -> bool:
        return self._client is not None

    # -- public API ---------------------------------------------------------------------------

    async def check(
        self,
        inputs: list[str],
        posts: int | None = None,
        progress: ProgressCallback | None = None,
        on_result: ResultCallback | None = None,
        on_item: ItemCallback | None = None,
    ) -> list[PublicResult]:
        """One result per input, in input order. The publics are collected together.

        ``on_result`` hears each fetched public's result as soon as it is ready, so a chat can
        show the first verdict while the others are still being checked. ``on_item`` hears the
        lines about one public (a sampled public's first estimate) that would otherwise go to
        ``progress``."""
        limit = posts if posts is not None else self.settings.check_posts
        if not 1 <= limit <= 100:
            raise ValueError("posts must be between 1 and 100")
        say = _SafeProgress(progress)
        many = len(inputs) > 1
        if many:
            await say(t("check.progress.start_many", count=len(inputs)))
        answers: list[PublicResult | None] = [None] * len(inputs)
        wanted: dict[int, PublicRef] = {}
        for index, text in enumerate(inputs):
            try:
                wanted[index] = parse_link(text)
            except LinkError as exc:
                log.info("public check: %s for input %r", exc.problem, text[:100])
                answers[index] = error_result(text, exc.code, exc.message)
        if wanted and self._client is None:
            log.error("public check: no VK token configured (VK_USER_TOKEN or VK_SERVICE_TOKEN)")
            for index in wanted:
                answers[index] = error_result(
                    inputs[index], "misconfigured", t("check.errors.misconfigured")
                )
            wanted = {}
        for index, ref in list(wanted.items()):
            cached = await self._cached(ref, limit)
            if cached is not None:
                update = {"input": inputs[index], "vk_requests": 0, "from_cache": True}
                answers[index] = cached.model_copy(update=update)
                del wanted[index]
        fetched = await self._fetch_shared(
            list(wanted.values()), limit, say, many, on_result, on_item
        )
        for index, ref in wanted.items():
            answers[index] = fetched[ref.key].model_copy(update={"input": inputs[index]})
        if many:
            await say(t("check.progress.done", done=len(inputs), total=len(inputs)))
        return [answer for answer in answers if answer is not None]

    async def chat_answer(
        self, links: list[str], progress: ProgressCallback | None = None
    ) -> list[Outgoing]:
        """The check as chat messages (reports, comparison, charts): the dialog's port.

        With a front-end's ``ProgressBoard``, a sampled public's first estimate is its own
        status message, replaced by the final figure when the public is in; among several
        publics each report is posted as soon as it is ready, and the reply is the ranking."""
        from advisor.vk.render import chat_messages, closing_messages, report_message

        if not isinstance(progress, ProgressBoard):
            results = await self.check(links, progress=progress)
            # Drawing charts takes a moment of CPU: keep the event loop serving other users.
            return await asyncio.to_thread(chat_messages, results)
        board = progress
        many = len(links) > 1
        estimated: set[str] = set()
        posted: set[int] = set()  # the groups whose report is out

        async def item(key: str, line: str) -> None:
            estimated.add(key)
            await board.item(key, line)

        async def ready(result: PublicResult) -> None:
            if result.input in estimated:
                await board.item(result.input, final_line(result))
            if many and result.ok and result.group is not None:
                await board.post([await asyncio.to_thread(report_message, result)])
                posted.add(result.group.id)

        results = await self.check(links, progress=board, on_result=ready, on_item=item)
        if not many:
            return await asyncio.to_thread(chat_messages, results)
        # Cached publics were not heard of on the way: their reports come before the ranking.
        rest = [
            await asyncio.to_thread(report_message, r)
            for r in results
            if r.ok and r.group is not None and r.group.id not in posted
        ]
        return rest + closing_messages(results)

    # -- collection ---------------------------------------------------------------------------

    async def _fetch_shared(
        self,
        refs: list[PublicRef],
        limit: int,
        say: _SafeProgress,
        many: bool,
        on_result: ResultCallback | None = None,
        on_item: ItemCallback | None = None,
    ) -> dict[str, PublicResult]:
        """Results by ``ref.key``; a public another check is already fetching is awaited."""
        keys = {_cache_key(ref.key, limit): ref for ref in refs}
        mine = {key: ref for key, ref in keys.items() if key not in self._inflight}
        loop = asyncio.get_running_loop()
        futures = {key: loop.create_future() for key in mine}
        self._inflight.update(futures)
        try:
            if mine:
                results = await self._fetch(
                    list(mine.values()), limit, say, many, on_result, on_item
                )
                for key, ref in mine.items():
                    futures[key].set_result(results[ref.key])
        except BaseException as exc:
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
            raise
        finally:
            for key in futures:
                self._inflight.pop(key, None)
        out: dict[str, PublicResult] = {}
        for key, ref in keys.items():
            pending: asyncio.Future[Any] | None = futures.get(key) or self._inflight.get(key)
            if pending is None:  # finished between our look and now: it is in the cache
                cached = await self._cached(ref, limit)
                out[ref.key] = cached or (await self._fetch([ref], limit, say, many))[ref.key]
            else:
                out[ref.key] = await asyncio.shield(pending)
        return out

    async def _cached(self, ref: PublicRef, limit: int) -> PublicResult | None:
        try:
            raw = await self.cache.get(_cache_key(ref.key, limit))
            return PublicResult.model_validate_json(raw) if raw else None
        except Exception:  # a broken cache must not break the check
            log.warning("public check: cache read failed for %s", ref.key, exc_info=True)
            return None

    async def _store(self, result: PublicResult, ref: PublicRef, limit: int) -> None:
        assert result.group is not None
        value = result.model_dump_json()
        ttl = self.settings.check_cache_seconds
        keys = {ref.key, f"id{result.group.id}", f"@{result.group.screen_name}"}
        try:
            for target in keys:
                await self.cache.set(_cache_key(target, limit), value, ttl)
        except Exception:
            log.warning("public check: cache write failed for %s", ref.key, exc_info=True)

    async def _fetch(
        self,
        refs: list[PublicRef],
        limit: int,
        say: _SafeProgress,
        many: bool,
        on_result: ResultCallback | None = None,
        on_item: ItemCallback | None = None,
    ) -> dict[str, PublicResult]:
        assert self._client is not None
        first = refs[0].display if refs else ""

        async def tell(ref: PublicRef, line: str) -> None:
            """A line about one public: its own status (``on_item``) when there is one."""
            if on_item is None:
                await say(line)
                return
            try:
                await on_item(ref.key, line)
            except Exception:
                log.warning("public check: item callback failed", exc_info=True)

        async def stage(name: str) -> None:
            if many:
                await say(t(f"check.progress.{name}_many"))
            elif refs:
                # One public: its stages are its own status, which its estimate then replaces.
                await tell(refs[0], t(f"check.progress.{name}", what=first))

        async def preliminary(ref: PublicRef, estimate: InactiveEstimate) -> None:
            await tell(ref, preliminary_line(ref, estimate))

        inactive = self.norms.inactive
        options = CollectOptions(
            member_budget=self.settings.check_member_sample,
            inactive_after_days=inactive.inactive_after_days,
            rng=self._rng,
            thresholds=(inactive.normal_max_percent, inactive.pointless_from_percent),
            preliminary=preliminary,
        )
        started = time.perf_counter()
        results: dict[str, PublicResult] = {}

        async def ready(index: int, outcome: PublicData | Exception) -> None:
            # Each public is judged as soon as it is in: the first verdict need not wait for
            # the others (they follow; the ranking comes last, from all of them).
            ref = refs[index]
            elapsed = time.perf_counter() - started
            result = await self._result(ref, outcome, limit, elapsed)
            results[ref.key] = result
            if many:
                await say(ready_line(ref, result, len(results), len(refs)))
            if on_result is not None:
                try:
                    await on_result(result)
                except Exception:
                    log.warning("public check: result callback failed", exc_info=True)

        try:
            await collect_publics(self._client, refs, options, stage, ready)
        except Exception:
            log.exception("public check: unexpected failure for %s", [r.key for r in refs])
            return {
                ref.key: error_result(
                    ref.key, "vk_unavailable", t("check.errors.internal", what=ref.display)
                )
                for ref in refs
            }
        return results

    async def _result(
        self, ref: PublicRef, outcome: PublicData | Exception, limit: int, elapsed: float
    ) -> PublicResult:
        what = ref.display
        if isinstance(outcome, CollectError):
            log.info("public check: %s → %s (%s)", ref.key, outcome.code, outcome.detail)
            message = _error_message(outcome.code, outcome.problem, what)
            return error_result(ref.key, outcome.code, message)
        if isinstance(outcome, VkUnavailable):
            log.warning("public check: VK unavailable for %s (%s)", ref.key, outcome.cause)
            message = _error_message("vk_unavailable", None, what)
            return error_result(ref.key, "vk_unavailable", message)
        if isinstance(outcome, Exception):
            log.error("public check: unexpected %s for %s", type(outcome).__name__, ref.key)
            return error_result(ref.key, "vk_unavailable", t("check.errors.internal", what=what))
        try:
            result = self._evaluate(ref, outcome, limit)
        except Exception:
            log.exception("public check: evaluating %s failed", ref.key)
            return error_result(ref.key, "vk_unavailable", t("check.errors.internal", what=what))
        log.info(
            "public check: %s → %s in %.2fs, %d VK requests",
            ref.key,
            result.verdict,
            elapsed,
            outcome.requests,
        )
        await self._store(result, ref, limit)
        return result

    def _evaluate(self, ref: PublicRef, data: PublicData, limit: int) -> PublicResult:
        group = data.group
        members = group.members_count
        wall = wall_metrics(
            data.posts,
            owner_id=group.owner_id,
            members=members,
            fetched_at=data.fetched_at,
            limit=limit,
            ad_norm=self.norms.ad_posts,
        )
        estimate = data.inactive
        metrics = MetricsOut(
            posts_analyzed=wall.posts_analyzed,
            er_percent=wall.er_percent,
            reach_percent=wall.reach_percent,
            ad_posts_analyzed=wall.ad_posts_analyzed,
            ad_reach_percent=wall.ad_reach_percent,
            inactive_percent=estimate.percent if estimate else None,
            inactive_ci95=estimate.ci95 if estimate else None,
            members_sampled=estimate.sampled if estimate else None,
            sample_blocks=data.sample_blocks if estimate else None,
            ci_halfwidth=(estimate.ci95[1] - estimate.ci95[0]) / 2 if estimate else None,
        )
        verdict = judge_public(
            PublicMetrics(
                members_count=members,
                posts_analyzed=wall.posts_analyzed,
                er_percent=wall.er_percent,
                reach_percent=wall.reach_percent,
                ad_posts_analyzed=wall.ad_posts_analyzed,
                ad_reach_percent=wall.ad_reach_percent,
                inactive_percent=estimate.percent if estimate else None,
                inactive_ci95=estimate.ci95 if estimate else None,
                members_sampled=estimate.sampled if estimate else None,
            ),
            self.norms,
        )
        ad_ids = {p.id for p in wall.ad_posts}
        chart = ChartData(
            posts=[
                PostPoint(
                    id=p.id,
                    date=p.date,
                    er_percent=post_er_percent(p, members),
                    reach_percent=post_reach_percent(p, members),
                    is_ad=p.marked_as_ads or p.id in ad_ids,
                )
                for p in wall.posts
            ],
            er_norm_percent=engagement_norm_percent(members, self.norms.engagement),
            reach_min_percent=self.norms.reach.min_percent,
            reach_max_percent=self.norms.reach.max_percent,
        )
        label = verdict.verdict
        assert label in ("buy", "caution", "avoid")
        return PublicResult(
            input=ref.key,
            group=GroupOut(
                id=group.id,
                screen_name=group.screen_name,
                name=group.name,
                members_count=members,
            ),
            metrics=metrics,
            verdict=label,
            summary=verdict.summary,
            reasons=verdict.reasons,
            vk_requests=data.requests,
            fetched_at=datetime.fromtimestamp(data.fetched_at, UTC),
            members_hidden=data.members_hidden,
            chart=chart,
        )


def ready_line(ref: PublicRef, result: PublicResult, done: int, total: int) -> str:
    """A public's verdict in the status line while the others are still being checked."""
    if result.verdict is None or result.group is None:
        return t("check.progress.ready_error", what=ref.display, done=done, total=total)
    return t(
        "check.progress.ready",
        name=result.group.name,
        verdict=t(f"check.report.verdict.{result.verdict}"),
        done=done,
        total=total,
    )


def preliminary_line(ref: PublicRef, estimate: InactiveEstimate) -> str:
    """«предварительно: неактивных ~18% ± 4»: the first blocks' estimate, the bot's own."""
    low, high = estimate.ci95
    return t(
        "check.progress.preliminary",
        what=ref.display,
        value=fmt_number(estimate.percent, 0),
        margin=fmt_number(max(1.0, (high - low) / 2), 0),
    )


def final_line(result: PublicResult) -> str:
    """What replaces a public's status once it is in: a sampled public's final figure (the
    bot's own estimate), or that it is done or could not be checked; the report follows."""
    group, m = result.group, result.metrics
    what = f"«{group.name}»" if group is not None else result.input
    if result.error is not None or group is None or m is None:
        return t("check.progress.final_error", what=what)
    if m.inactive_percent is None or m.inactive_ci95 is None:
        return t("check.progress.final_unknown", what=what)
    if m.members_sampled is None or m.members_sampled >= group.members_count:
        return t("check.progress.final_done", what=what)  # read whole: the report says it
    low, high = m.inactive_ci95
    return t(
        "check.progress.final",
        what=what,
        value=fmt_number(m.inactive_percent, 0),
        margin=fmt_number(max(1.0, (high - low) / 2), 0),
    )


def _error_message(code: CheckErrorCode, problem: str | None, what: str) -> str:
    if code == "not_a_community":
        return t(f"links.{problem if problem in ('person', 'app') else 'person'}")
    if problem in ("deleted", "wall"):
        return t(f"check.errors.{problem}", what=what)
    return t(f"check.errors.{code}", what=what)


class _SafeProgress:
    """Progress lines are a courtesy: a failing callback is logged and never stops the check."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = ""

    async def __call__(self, text: str) -> None:
        if self._callback is None or text == self._last:
            return
        self._last = text
        try:
            await self._callback(text)
        except Exception:
            log.warning("public check: progress callback failed", exc_info=True)
