"""«Is this public worth buying?»: links in, one result per link out, cached per public.

``PublicChecker.check`` parses each input, collects the public's data (``collect``), computes the
issue's metrics (``metrics``, ``sampling``), and asks ``advisor.verdicts.judge_public`` for the
verdict. A link that cannot be analysed gives a result with ``error`` instead; nothing raises.
``PublicChecker.chat_check`` is the same check with its chat messages (the dialog's
``PublicCheckPort``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from advisor.config import Settings
from advisor.dialog.types import DetailButton, Image, Outgoing, ProgressBoard
from advisor.formulas import engagement_norm_is_estimate, engagement_norm_percent
from advisor.knowledge.models import Norms
from advisor.morph import counted
from advisor.numbers import format_number as fmt_number
from advisor.texts import t
from advisor.verdicts import (
    FitFigures,
    PublicMetrics,
    Reason,
    judge_public,
    price_reasons,
    public_verdict,
)
from advisor.vk import money
from advisor.vk.api import CheckErrorCode, RequestTally, VkClient, VkUnavailable
from advisor.vk.audience import ShareEstimate, portrait
from advisor.vk.collect import (
    CollectError,
    CollectOptions,
    MembershipAsk,
    PublicData,
    ask_membership,
    collect_publics,
    pair_subsample,
)
from advisor.vk.fit import AdLoadOut, AudienceOut, OverlapOut, OwnerTarget, PriceOut
from advisor.vk.growth import (
    MIN_GAP,
    GrowthOut,
    Snapshot,
    SnapshotStore,
    growth,
    growth_reason,
    moscow_time,
)
from advisor.vk.links import LinkError, PublicRef, parse_link
from advisor.vk.metrics import WallPost, post_er_percent, post_reach_percent, wall_metrics
from advisor.vk.overlap import (
    PAIR_MAX_ASKS,
    overlap_share,
    pair_questions,
    reverse_share,
)
from advisor.vk.sampling import TARGET_HALFWIDTH, InactiveEstimate

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str], Awaitable[None]]
ItemCallback = Callable[[str, str], Awaitable[None]]
"""Hears a line about one public (its ``ref.key``, the line): a sampled public's first estimate."""
ResultCallback = Callable[["PublicResult"], Awaitable[None]]
"""Hears each fetched public's result as soon as it is ready (cached ones are not repeated)."""
VerdictLabel = Literal["buy", "caution", "avoid"]
CACHE_FORMAT = 4  # bump when PublicResult changes shape: old cache entries are then ignored


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
    # True between the guide's anchors (≤1 000 → 15%, >100 000 → 3%): the bot's interpolation.
    er_norm_estimate: bool = False
    reach_min_percent: float
    reach_max_percent: float


class PairOverlapOut(_Model):
    """The share of this public's members who are also in another checked public (asked of
    its sampled members, or from the other's answer and the member counts)."""

    group: str
    """The other public's screen_name."""
    percent: float
    ci95: tuple[float, float]


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
    growth: GrowthOut | None = None
    """Members' growth since this public's previous snapshot (another check, by anyone)."""
    error: ErrorOut | None = None
    # The fit to the owner's customers and money (issue 15; advisor.vk.fit is the contract).
    audience: AudienceOut | None = None
    ad_load: AdLoadOut | None = None
    er_views_percent: float | None = None
    overlap: OverlapOut | None = None
    price: PriceOut | None = None
    pairwise_overlap: list[PairOverlapOut] = []
    """Several publics checked together: this one's members also in each other one."""
    expected_views: int | None = None
    """What ``price`` divides by (kept so that a price can be applied to a cached result)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json_dict(self) -> dict[str, Any]:
        """Exactly the issue's JSON object for this input.

        Issue 15 adds ``audience``, ``ad_load``, ``er_views_percent``, ``overlap`` and ``price``
        (the contract of ``advisor.vk.fit``; a figure that cannot be computed is null), and
        ``pairwise_overlap``: when several publics are checked together, for each other one
        ``{"group": its screen_name, "percent": share of this public's members also in it,
        "ci95": [lo, hi]}`` (empty for a public checked alone or served from the cache). Of a
        pair, the smaller public's sampled members are asked about the bigger one; the bigger
        one's share is the same common members over its member count.
        """
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
            "audience": (
                _rounded(self.audience.model_dump(exclude=set(AudienceOut.CHAT_ONLY)))
                if self.audience
                else None
            ),
            "ad_load": _rounded(self.ad_load.model_dump()) if self.ad_load else None,
            "er_views_percent": _round(self.er_views_percent),
            "overlap": _rounded(self.overlap.model_dump()) if self.overlap else None,
            "price": _rounded(self.price.model_dump()) if self.price else None,
            "pairwise_overlap": [_rounded(pair.model_dump()) for pair in self.pairwise_overlap],
            "growth": self.growth.to_json_dict() if self.growth is not None else None,
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


def target_reach(result: PublicResult) -> float:
    """Target share × reach: the owner's target audience one post may reach (mean views ×
    target share; the whole audience when no target was given)."""
    if result.metrics is None or result.group is None:
        return 0.0
    reach = result.metrics.reach_percent or 0.0
    views = reach / 100 * result.group.members_count
    share = 100.0
    if result.audience is not None and result.audience.target_percent is not None:
        share = result.audience.target_percent
    elif result.audience is not None and _target_asked(result):
        share = 0.0  # asked for, unknown: nothing to count on
    return views * share / 100


def _target_asked(result: PublicResult) -> bool:
    return any(r.rule in ("target_fit", "city_fit") for r in result.reasons)


def _rank_key(result: PublicResult) -> tuple[float, ...]:
    if result.error is not None or result.verdict is None:
        return (9.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    severities = [r.severity for r in result.reasons]
    er = result.metrics.er_percent if result.metrics else None
    norm = result.chart.er_norm_percent if result.chart else None
    er_ratio = er / norm if er is not None and norm else 0.0
    cost = result.price.target_cpm_rub if result.price else None
    if cost is None and result.price is not None and not _target_asked(result):
        cost = result.price.cpm_rub  # no target given: the whole audience is the target
    return (
        float(_VERDICT_ORDER[result.verdict]),
        0.0 if cost is not None else 1.0,
        cost if cost is not None else -target_reach(result),
        float(severities.count("critical")),
        float(severities.count("warning")),
        -er_ratio,
    )


def rank_results(results: Sequence[PublicResult]) -> list[PublicResult]:
    """Best first: by verdict; within it, by the cost of reaching 1,000 of the owner's target
    audience when a price is known (those first), else by target share × reach; then fewer
    critical and warning reasons, then ER against its norm.

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


def _cache_key(target: str, posts: int, fit: str = "") -> str:
    """``fit``: what the owner's target changes in the result (``_fit_key``); a price does not
    enter: it is applied to the result after the cache (``with_price``)."""
    return f"public-check:v{CACHE_FORMAT}:{target}:posts={posts}:fit={fit}"


def _fit_key(target: OwnerTarget | None) -> str:
    """The owner's target (city, goal, sex, ages, own community) as it enters the cache key."""
    if target is None:
        return ""
    return target.model_dump_json(exclude_defaults=True)


def _my_group(target: OwnerTarget | None) -> PublicRef | None:
    """The owner's community as a link; None when not given or not a community link."""
    if target is None or not target.my_group:
        return None
    try:
        return parse_link(target.my_group)
    except LinkError:
        log.info("public check: my_group %r is not a community link", target.my_group[:100])
        return None


def _group_name(ref: PublicRef) -> str:
    return ref.screen_name if ref.screen_name is not None else f"club{ref.group_id}"


def _valid_price(price: float | None) -> float | None:
    """A price the figures can use: positive and finite; anything else counts as not known."""
    if price is None:
        return None
    if not (isinstance(price, int | float) and math.isfinite(price) and price > 0):
        log.warning("public check: price %r ignored (not a positive number)", price)
        return None
    return float(price)


def with_price(result: PublicResult, rub: float | None, norms: Norms) -> PublicResult:
    """``result`` with the price's figures and reason (and the verdict they may change)."""
    if rub is None or result.error is not None or result.verdict is None:
        return result
    target_percent = result.audience.target_percent if result.audience else None
    price = money.price(rub, result.expected_views, target_percent)
    fit = FitFigures(
        other_criteria=_target_asked(result),
        target_percent=target_percent,
        price_rub=rub,
        expected_views=result.expected_views,
        cpm_rub=price.cpm_rub if price else None,
        target_cpm_rub=price.target_cpm_rub if price else None,
    )
    reasons = [r for r in result.reasons if r.rule != "price"] + price_reasons(fit, norms)
    verdict = public_verdict(reasons)
    assert verdict.verdict in ("buy", "caution", "avoid")
    return result.model_copy(
        update={
            "price": price,
            "reasons": reasons,
            "verdict": verdict.verdict,
            "summary": verdict.summary,
        }
    )


# --- the checker -----------------------------------------------------------------------------


def _round(value: Any, digits: int = 2) -> Any:
    """Percentages to hundredths for JSON (counts and nulls stay as they are)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, tuple | list):
        return [_round(item, digits) for item in value]
    if isinstance(value, dict):
        return {key: _round(item, digits) for key, item in value.items()}
    return value


def _rounded(value: dict[str, Any]) -> dict[str, Any]:
    rounded: dict[str, Any] = _round(value)
    return rounded


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
        snapshots: SnapshotStore | None = None,
        clock: Callable[[], datetime] | None = None,
        sampler: VkClient | None = None,
    ) -> None:
        """``snapshots`` keeps each fetched public's members and metrics, so a later check
        reports growth; ``clock`` (UTC now) dates the snapshots (tests pass their own);
        ``sampler``: the community token's client (``VkGateway.sampler``), which reads big
        publics' samples in one round trip of executes when ``client`` is a service token's."""
        self.settings = settings
        self._snapshots = snapshots
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.norms = norms
        self.cache: CheckCache = cache if cache is not None else MemoryCache()
        self._rng = rng or random.Random()
        self._client = client
        self._sampler = sampler if client is not None and client.kind == "service" else None
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
        *,
        target: OwnerTarget | None = None,
        prices: Sequence[float | None] | None = None,
    ) -> list[PublicResult]:
        """One result per input, in input order. The publics are collected together.

        ``on_result`` hears each fetched public's result as soon as it is ready, so a chat can
        show the first verdict while the others are still being checked. ``on_item`` hears the
        lines about one public (a sampled public's first estimate) that would otherwise go to
        ``progress``. ``target``: the owner's customers (city and local goal, sex, ages, own
        community) for the fit figures; ``prices``: what each input's admin asks (parallel to
        ``inputs``; None: not known). Several publics fetched together also get their pairwise
        overlap."""
        limit = posts if posts is not None else self.settings.check_posts
        if not 1 <= limit <= 100:
            raise ValueError("posts must be between 1 and 100")
        if prices is not None and len(prices) != len(inputs):
            raise ValueError("prices must be parallel to inputs")
        if prices is not None:
            prices = [_valid_price(price) for price in prices]
        fit = _fit_key(target)
        say = _SafeProgress(progress)
        many = len(inputs) > 1
        if many:
            publics = counted(len(inputs), t("check.words.public"))
            await say(t("check.progress.start_many", publics=publics))
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
            cached = await self._cached(ref, limit, fit)
            if cached is not None:
                update = {"input": inputs[index], "vk_requests": 0, "from_cache": True}
                answers[index] = cached.model_copy(update=update)
                del wanted[index]
        fetched = await self._fetch_shared(
            list(wanted.values()), limit, say, many, on_result, on_item, target
        )
        for index, ref in wanted.items():
            answers[index] = fetched[ref.key].model_copy(update={"input": inputs[index]})
        if many:
            await say(t("check.progress.done", done=len(inputs), total=len(inputs)))
        results = [answer for answer in answers if answer is not None]
        if prices is not None:
            results = [
                with_price(result, price, self.norms)
                for result, price in zip(results, prices, strict=True)
            ]
        return results

    async def chat_check(
        self,
        links: list[str],
        progress: ProgressCallback | None = None,
        detail: DetailButton | None = None,
        *,
        target: OwnerTarget | None = None,
        prices: Sequence[float | None] | None = None,
    ) -> tuple[list[PublicResult], list[Outgoing]]:
        """The results and their chat messages (the dialog hands the results on: the tracker's
        «Записать в учёт», «Сравнить с …»). With ``detail``, several publics get a compact
        summary with a «Подробнее» button each.

        With a front-end's ``ProgressBoard``, a sampled public's first estimate is its own
        status message, replaced by the final figure when the public is in; among several
        publics with ``detail``, each public's verdict is shown in its status message as soon
        as it is ready. Those lines go straight to the chat; everything they say is in the
        returned messages too (the ranked summary has each public's verdict, or why it could
        not be checked), which the turn commits with its state (see ``ProgressBoard``)."""
        from advisor.vk.render import chat_messages

        many = len(links) > 1
        summary = many and detail is not None
        draw = functools.partial(chat_messages, prices=prices, target=target, detail=detail)
        on_item: ItemCallback | None = None
        on_result: ResultCallback | None = None
        if isinstance(progress, ProgressBoard):
            board = progress
            estimated: set[str] = set()

            async def item(key: str, line: str) -> None:
                estimated.add(key)
                await board.item(key, line)

            async def ready(result: PublicResult) -> None:
                if summary and result.ok:
                    # Its verdict at once, in its status message; the ranked summary follows.
                    await board.item(result.input, summary_line(result))
                elif summary or result.input in estimated:
                    await board.item(result.input, final_line(result))

            on_item, on_result = item, ready
        results = await self.check(
            links,
            progress=progress,
            on_result=on_result,
            on_item=on_item,
            target=target,
            prices=prices,
        )
        # Drawing charts takes a moment of CPU: keep the event loop serving other users.
        return results, await asyncio.to_thread(draw, results, charts=not summary)

    # -- collection ---------------------------------------------------------------------------

    async def _fetch_shared(
        self,
        refs: list[PublicRef],
        limit: int,
        say: _SafeProgress,
        many: bool,
        on_result: ResultCallback | None = None,
        on_item: ItemCallback | None = None,
        target: OwnerTarget | None = None,
    ) -> dict[str, PublicResult]:
        """Results by ``ref.key``; a public another check is already fetching is awaited."""
        fit = _fit_key(target)
        keys = {_cache_key(ref.key, limit, fit): ref for ref in refs}
        mine = {key: ref for key, ref in keys.items() if key not in self._inflight}
        loop = asyncio.get_running_loop()
        futures = {key: loop.create_future() for key in mine}
        self._inflight.update(futures)
        try:
            if mine:
                results = await self._fetch(
                    list(mine.values()), limit, say, many, on_result, on_item, target
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
                cached = await self._cached(ref, limit, fit)
                if cached is None:
                    fresh = await self._fetch([ref], limit, say, many, None, None, target)
                    cached = fresh[ref.key]
                out[ref.key] = cached
            else:
                out[ref.key] = await asyncio.shield(pending)
        return out

    async def kept_chart(self, group_id: str, target: OwnerTarget | None = None) -> Image | None:
        """The chart of a public checked a moment ago, drawn from the check cache (no VK
        request); None once the cache has forgotten it."""
        if not group_id.isdigit():
            return None
        ref = PublicRef(group_id=int(group_id))
        result = await self._cached(ref, self.settings.check_posts, _fit_key(target))
        if result is None or result.chart is None or not result.chart.posts:
            return None
        from advisor.vk.chart import posts_chart
        from advisor.vk.render import verdict_line

        png = await asyncio.to_thread(posts_chart, result)
        return Image(png=png, caption=verdict_line(result))

    async def _cached(self, ref: PublicRef, limit: int, fit: str = "") -> PublicResult | None:
        try:
            raw = await self.cache.get(_cache_key(ref.key, limit, fit))
            return PublicResult.model_validate_json(raw) if raw else None
        except Exception:  # a broken cache must not break the check
            log.warning("public check: cache read failed for %s", ref.key, exc_info=True)
            return None

    async def _store(self, result: PublicResult, ref: PublicRef, limit: int, fit: str = "") -> None:
        assert result.group is not None
        value = result.model_dump_json()
        ttl = self.settings.check_cache_seconds
        keys = {ref.key, f"id{result.group.id}", f"@{result.group.screen_name}"}
        try:
            for target in keys:
                await self.cache.set(_cache_key(target, limit, fit), value, ttl)
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
        target: OwnerTarget | None = None,
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
        mine = _my_group(target)
        options = CollectOptions(
            my_group=mine.api_id if mine is not None else None,
            pair_asks=PAIR_MAX_ASKS,
            member_budget=self.settings.check_member_sample,
            inactive_after_days=inactive.inactive_after_days,
            rng=self._rng,
            thresholds=(inactive.normal_max_percent, inactive.pointless_from_percent),
            preliminary=preliminary,
        )
        started = time.perf_counter()
        results: dict[str, PublicResult] = {}
        collected: dict[str, PublicData] = {}

        async def ready(index: int, outcome: PublicData | Exception) -> None:
            # Each public is judged as soon as it is in: the first verdict need not wait for
            # the others (they follow; the ranking comes last, from all of them).
            ref = refs[index]
            elapsed = time.perf_counter() - started
            result = await self._result(ref, outcome, limit, elapsed, target)
            if isinstance(outcome, PublicData) and result.ok:
                collected[ref.key] = outcome
            results[ref.key] = result
            if many and on_item is not None:
                # Each public's verdict is in its own status (``on_result``): this line counts.
                await say(t("check.progress.done", done=len(results), total=len(refs)))
            elif many:
                await say(ready_line(ref, result, len(results), len(refs)))
            if on_result is not None:
                try:
                    await on_result(result)
                except Exception:
                    log.warning("public check: result callback failed", exc_info=True)

        try:
            await collect_publics(self._client, refs, options, stage, ready, self._sampler)
        except Exception:
            log.exception("public check: unexpected failure for %s", [r.key for r in refs])
            return {
                ref.key: error_result(
                    ref.key, "vk_unavailable", t("check.errors.internal", what=ref.display)
                )
                for ref in refs
            }
        if len(collected) > 1:
            await self._pairwise(results, collected)
        return results

    async def _pairwise(
        self, results: dict[str, PublicResult], collected: dict[str, PublicData]
    ) -> None:
        """The fetched publics' pairwise overlap: for each pair, a spread subsample
        (``PAIR_SUBSAMPLE``) of the smaller one's sampled members asked about the other (one
        ``groups.isMember`` call a pair, at most ``PAIR_MAX_ASKS``); the other direction from
        the member counts. Sets ``pairwise_overlap`` and an ``overlap_pair`` reason."""
        assert self._client is not None
        keys = [key for key in collected if collected[key].member_blocks]

        def size(key: str) -> int:
            return collected[key].group.members_count

        pairs = pair_questions(keys, size, PAIR_MAX_ASKS)
        if not pairs:
            return
        # With a user token they were asked already, with the owner's community's questions.
        missing = [
            (a, b) for a, b in pairs if collected[b].group.id not in collected[a].pair_answers
        ]
        asks: list[MembershipAsk] = [
            (collected[b].group.id, pair_subsample(collected[a])) for a, b in missing
        ]
        tally = RequestTally()
        try:
            fresh = await ask_membership(self._client, asks, tally)
        except Exception:
            log.warning("public check: the pairwise overlap failed", exc_info=True)
            fresh = [None] * len(asks)
        asked = dict(zip(missing, fresh, strict=True))
        found: dict[str, list[PairOverlapOut]] = {}
        extra_reasons: dict[str, list[Reason]] = {}

        def add(key: str, other: str, share: ShareEstimate) -> None:
            group = collected[other].group
            found.setdefault(key, []).append(
                PairOverlapOut(group=group.screen_name, percent=share.percent, ci95=share.ci95)
            )
            high = self.norms.fit.pair_overlap_high_percent
            if share.percent >= high:
                extra_reasons.setdefault(key, []).append(
                    Reason(
                        rule="overlap_pair",
                        severity="info",
                        text=t(
                            "verdicts.rules.overlap_pair",
                            percent=fmt_number(share.percent, 0),
                            other=group.name,
                            high=fmt_number(high),
                        ),
                        numbers={"overlap_percent": share.percent, "high_percent": high},
                        section=self.norms.fit.section,
                    )
                )

        for a, b in pairs:
            answer = (
                asked[(a, b)]
                if (a, b) in asked
                else collected[a].pair_answers.get(collected[b].group.id)
            )
            if answer is None:
                continue
            data = collected[a]
            members_a = max(data.group.members_count, data.members_total)
            share = overlap_share(data.weighted_members(), answer, members_a, whole=False)
            if share is None:
                continue
            members_b = max(collected[b].group.members_count, collected[b].members_total)
            add(a, b, share)
            add(b, a, reverse_share(share, members_a, members_b))
        per_pair = self._client.kind != "user"
        for key in keys:
            if not any(key in pair for pair in pairs):
                continue
            mine = sum(1 for pair in missing if pair[0] == key)
            result = results[key]
            # In input order of the other publics.
            names = [collected[k].group.screen_name for k in keys]
            pairwise = sorted(found.get(key, []), key=lambda pair: names.index(pair.group))
            results[key] = result.model_copy(
                update={
                    "pairwise_overlap": pairwise,
                    "reasons": [*result.reasons, *extra_reasons.get(key, [])],
                    "vk_requests": result.vk_requests
                    + (mine if per_pair else tally.count if mine else 0),
                }
            )

    async def _result(
        self,
        ref: PublicRef,
        outcome: PublicData | Exception,
        limit: int,
        elapsed: float,
        target: OwnerTarget | None = None,
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
            result = self._evaluate(ref, outcome, limit, target)
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
        self._log_coarse_sample(ref.key, result)
        result = await self._with_growth(result)
        await self._store(result, ref, limit, _fit_key(target))
        return result

    def _log_coarse_sample(self, key: str, result: PublicResult) -> None:
        """Tell the operator how to narrow a wide interval the service token alone left: its
        one block a request cannot pin runs of bots down; the owner only sees the interval."""
        m = result.metrics
        if (
            self._client is None
            or self._client.kind != "service"
            or self._sampler is not None
            or m is None
            or m.ci_halfwidth is None
            or m.ci_halfwidth <= TARGET_HALFWIDTH
        ):
            return
        log.info(
            "public check: %s: the service token's sample puts the inactive share at ±%.1f "
            "points; set VK_GROUP_TOKEN too and big publics are sampled through the community "
            "token's execute (README: the community token in the public check)",
            key,
            m.ci_halfwidth,
        )

    async def _with_growth(self, result: PublicResult) -> PublicResult:
        """Keep this fetch as the public's snapshot; with an earlier one (at least
        ``MIN_GAP`` old), add the growth since then and, when reach does not follow, its
        reason. A failing store is logged and never stops the check."""
        group, metrics = result.group, result.metrics
        if self._snapshots is None or group is None or metrics is None:
            return result
        now = self._clock()
        figures = metrics.model_dump(mode="json")
        snapshot = Snapshot(
            group_id=group.id, members_count=group.members_count, metrics=figures, fetched_at=now
        )
        try:
            previous = await self._snapshots.previous(group.id, now - MIN_GAP)
            await self._snapshots.add(snapshot)
        except Exception:
            log.warning("public check: snapshot store failed for group %d", group.id, exc_info=True)
            return result
        found = growth(previous, group.members_count, figures, now) if previous else None
        if found is None:
            return result
        reasons = list(result.reasons)
        reason = growth_reason(found, moscow_time(found.since))
        if reason is not None:
            reasons.append(reason)
        return result.model_copy(update={"growth": found, "reasons": reasons})

    def _evaluate(
        self, ref: PublicRef, data: PublicData, limit: int, target: OwnerTarget | None = None
    ) -> PublicResult:
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
        fit_figures = self._fit(data, wall.posts, target)
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
            fit_figures.figures,
            target_sex=bool(target and target.sex),
            target_age=bool(target and (target.age_min is not None or target.age_max is not None)),
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
            er_norm_estimate=engagement_norm_is_estimate(members, self.norms.engagement),
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
            audience=fit_figures.audience,
            ad_load=fit_figures.ad_load,
            er_views_percent=money.er_views_percent(wall.posts),
            overlap=fit_figures.overlap,
            expected_views=fit_figures.figures.expected_views,
        )

    def _fit(self, data: PublicData, posts: Sequence[WallPost], target: OwnerTarget | None) -> _Fit:
        """The fit figures of the contract (no price: ``with_price`` adds it) and what the
        fit reasons need."""
        members = data.group.members_count
        shown = portrait(
            data.weighted_members(),
            fetched_at=data.fetched_at,
            inactive_after_days=self.norms.inactive.inactive_after_days,
            population=max(members, data.members_total),
            whole=data.members_whole,
            target=target,
        )
        audience = shown.audience
        load = money.ad_load(posts)
        overlap: OverlapOut | None = None
        mine = _my_group(target)
        if mine is not None and data.member_of is not None:
            share = overlap_share(
                data.weighted_members(),
                data.member_of,
                max(members, data.members_total),
                data.members_whole,
            )
            if share is not None:
                overlap = OverlapOut(
                    group=_group_name(mine), percent=share.percent, ci95=share.ci95
                )
        target = target or OwnerTarget()
        figures = FitFigures(
            local_goal=target.local_goal,
            city=target.city,
            city_percent=audience.city_percent,
            other_criteria=bool(
                target.sex
                or target.age_min is not None
                or target.age_max is not None
                or (target.city and not target.local_goal)
            ),
            target_percent=audience.target_percent,
            target_ci95=audience.target_ci95,
            members_known=bool(data.member_blocks),
            active_sampled=audience.active_sampled,
            sex_hidden_percent=shown.sex_hidden_percent,
            age_hidden_percent=shown.age_hidden_percent,
            city_hidden_percent=shown.city_hidden_percent,
            overlap_group=_group_name(mine) if mine is not None else None,
            overlap_percent=overlap.percent if overlap else None,
            ad_share_percent=load.ad_share_percent,
            ad_posts_per_day=load.ad_posts_per_day,
            posts_analyzed=len(posts),
            expected_views=money.expected_views(posts, self.norms.ad_posts.max_posts),
        )
        return _Fit(audience=audience, ad_load=load, overlap=overlap, figures=figures)


@dataclass(frozen=True)
class _Fit:
    audience: AudienceOut
    ad_load: AdLoadOut
    overlap: OverlapOut | None
    figures: FitFigures


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


def summary_line(result: PublicResult) -> str:
    """A public's verdict as soon as it is in, while the others are still being checked."""
    assert result.group is not None and result.verdict is not None
    verdict = t(f"check.compare.verdict.{result.verdict}")
    return t("check.progress.verdict", name=result.group.name, verdict=verdict)


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
