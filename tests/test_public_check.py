"""The public check end to end against the fake VK API: data, verdicts, errors, limits, CLI."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import pty
import random
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from advisor.config import Settings
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Norms
from advisor.texts import t
from advisor.vk.api import VkClient, check_error_code
from advisor.vk.check import MemoryCache, PublicChecker, PublicResult, rank_results
from advisor.vk.gateway import VkGateway
from advisor.vk.links import PublicRef
from advisor.vk.render import chat_messages, comparison_text, report_text
from advisor.vk.sampling import Block
from advisor.vk.scripts import (
    USER_EXECUTES,
    members_script,
    one_public_plan,
    pack,
    publics_script,
)
from tests.fakes.vk_api import FakeVK, VKRequest
from tests.fakes.vk_data import DAY, PostSpec, PublicSpec, make_public
from tests.fakes.vk_script import parse
from tests.launcher import run_to_end

REPO = Path(__file__).resolve().parents[1]
NORMS: Norms = load_knowledge().norms
TokenKind = str

JSON_KEYS = {
    "input",
    "group",
    "metrics",
    "verdict",
    "reasons",
    "vk_requests",
    "fetched_at",
    # issue 15: the fit to the owner's customers and money
    "audience",
    "ad_load",
    "er_views_percent",
    "overlap",
    "price",
    "pairwise_overlap",
    "growth",
}
METRIC_KEYS = {
    "posts_analyzed",
    "er_percent",
    "reach_percent",
    "ad_posts_analyzed",
    "ad_reach_percent",
    "inactive_percent",
    "inactive_ci95",
    "members_sampled",
    "sample_blocks",
    "ci_halfwidth",
}


# --- helpers -----------------------------------------------------------------------------------


def settings_for(vk: FakeVK, kind: TokenKind = "user", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "vk_api_url": vk.base_url,
        "vk_user_token": vk.user_token if kind == "user" else None,
        "vk_service_token": vk.service_token if kind == "service" else None,
        "vk_service_rate_per_second": vk.service_rate,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def checker_for(
    vk: FakeVK, kind: TokenKind = "user", cache: MemoryCache | None = None, **overrides: Any
) -> AsyncIterator[PublicChecker]:
    settings = settings_for(vk, kind, **overrides)
    async with VkGateway(settings) as gateway:
        yield PublicChecker(settings, NORMS, gateway.reader, cache, rng=random.Random(5))


async def check_one(
    vk: FakeVK, link: str, kind: TokenKind = "user", **overrides: Any
) -> PublicResult:
    async with checker_for(vk, kind, **overrides) as checker:
        return (await checker.check([link]))[0]


def wall(
    now: int,
    *,
    count: int = 36,
    likes: int = 120,
    reposts: int = 10,
    comments: int = 10,
    views: int | None = 120,
    ads: int = 6,
    ad_views: int = 112,
) -> tuple[PostSpec, ...]:
    """A wall: a pinned post, a fresh one (2 h old), then ``count`` daily posts, the first
    ``ads`` of which (the most recent ones) are marked as ads."""
    posts = [
        PostSpec(id=1000, date=now - 3 * DAY, likes=9999, views=99999, is_pinned=True),
        PostSpec(id=999, date=now - 7200, likes=9999, views=99999),
    ]
    for index in range(count):
        is_ad = index < ads
        posts.append(
            PostSpec(
                id=900 - index,
                date=now - int((1.5 + index) * DAY),
                likes=likes + index % 3,
                reposts=reposts,
                comments=comments,
                views=ad_views if is_ad else views,
                marked_as_ads=is_ad,
            )
        )
    return tuple(posts)


def public(vk: FakeVK, public_id: int = 310_001, **fields: Any) -> PublicSpec:
    values: dict[str, Any] = {
        "id": public_id,
        "screen_name": f"coffee_{public_id}",
        "name": "Кофейня «Зерно»",
        "members_count": 800,
        "inactive_fraction": 0.1,
        "posts": wall(vk.now),
    }
    values.update(fields)
    spec = PublicSpec(**values)
    vk.add_public(spec)
    return spec


def expected_wall(spec: PublicSpec, now: int, limit: int = 30) -> dict[str, Any]:
    """The issue's definitions, computed here straight from the fake's posts."""
    eligible = sorted(
        (p for p in spec.posts if not p.is_pinned and p.date <= now - DAY and p.from_id is None),
        key=lambda p: p.date,
        reverse=True,
    )
    posts = eligible[:limit]
    members = spec.members_count
    activities = [p.likes + p.reposts + p.comments for p in posts]
    viewed = [p.views for p in posts if p.views is not None]
    ads = [p for p in eligible if p.marked_as_ads][:7]
    ad_views = [p.views for p in ads if p.views is not None]
    return {
        "posts_analyzed": len(posts),
        "er_percent": sum(activities) / len(posts) / members * 100 if posts else None,
        "reach_percent": sum(viewed) / len(viewed) / members * 100 if viewed else None,
        "ad_posts_analyzed": len(ads),
        "ad_reach_percent": (
            sum(ad_views) / len(ad_views) / members * 100 if len(ads) >= 5 and ad_views else None
        ),
    }


def true_inactive_percent(vk: FakeVK, public_id: int) -> float:
    community = vk.public(public_id)
    total = community.spec.members_count
    return sum(community.is_inactive(i) for i in range(total)) / total * 100


def round_trips(vk: FakeVK) -> int:
    """HTTP requests (the name predates one check sending several executes at once)."""
    return vk.count(inner=False)


def member_reads(vk: FakeVK) -> list[VKRequest]:
    """groups.getMembers calls that read members (not the count=0 ones)."""
    return [
        r for r in vk.requests if r.method == "groups.getMembers" and r.params.get("count") != "0"
    ]


def rate_errors(vk: FakeVK) -> list[Any]:
    return [r for r in vk.requests if r.error == 6]


@asynccontextmanager
async def own_fake(**kwargs: Any) -> AsyncIterator[FakeVK]:
    """A FakeVK with its own latency or rate; checked like the fixture's."""
    async with FakeVK(**kwargs) as vk:
        yield vk
    assert vk.problems == []


# --- the VKScript ----------------------------------------------------------------------------


def test_scripts_are_readable_vkscript() -> None:
    one = publics_script([PublicRef(screen_name="coffee")], 10_000)
    several = publics_script([PublicRef(group_id=42), PublicRef(screen_name="tea")], 10_000)
    more = members_script([(42, Block(10, 100)), (43, Block(500_000, 100))])
    for code in (one, several, more):
        parse(code)  # the fake's interpreter compiles it
    assert 'var publics = [["coffee", "coffee", 1]];' in one
    assert '[[42, "club42", 0], ["tea", "tea", 1]]' in several
    assert "API.groups.getMembers" in one and "<= 20000" in one
    assert "[[42, 10, 100], [43, 500000, 100]]" in more


def test_publics_are_packed_within_25_calls() -> None:
    names = [PublicRef(screen_name=f"public_{i}") for i in range(10)]
    batches = pack(names)
    assert [len(b) for b in batches] == [6, 4]  # 4 calls each: resolve, getById, 2 wall pages
    assert [r for b in batches for r in b] == names
    assert [len(b) for b in pack([PublicRef(group_id=i) for i in range(1, 10)])] == [8, 1]


# --- one public, user token: everything in one execute ---------------------------------------


async def test_user_token_one_round_trip_and_exact_metrics(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    result = await check_one(fake_vk, f"https://vk.com/{spec.screen_name}")
    assert result.ok, result.error
    # The executes of one check (at most 3, the user token's rate) are all counted; that they
    # leave together is test_user_token_million_members_in_one_round_trip's (with latency).
    assert fake_vk.count("execute") == round_trips(fake_vk) == USER_EXECUTES == 3
    assert result.vk_requests == 3
    # No request went around execute: the methods ran inside it.
    assert fake_vk.count("groups.getById", inner=True) == 1
    assert fake_vk.count("wall.get", inner=True) == 2
    # Each execute reads the member count; 800 members are one page.
    assert fake_vk.count("groups.getMembers", inner=True) == 3 + 1
    assert len(member_reads(fake_vk)) == 1

    expected = expected_wall(spec, int(time.time()))
    m = result.metrics
    assert m is not None
    assert m.posts_analyzed == expected["posts_analyzed"] == 30
    assert m.er_percent == pytest.approx(expected["er_percent"], abs=0.01)
    assert m.reach_percent == pytest.approx(expected["reach_percent"], abs=0.01)
    assert m.ad_posts_analyzed == 6
    assert m.ad_reach_percent == pytest.approx(expected["ad_reach_percent"], abs=0.01)
    # A small public is read whole: the share is exact and the interval collapses.
    truth = true_inactive_percent(fake_vk, spec.id)
    assert m.inactive_percent == pytest.approx(truth, abs=0.01)
    assert m.inactive_ci95 == (pytest.approx(truth, abs=0.01), pytest.approx(truth, abs=0.01))
    assert m.members_sampled == 800
    assert (m.sample_blocks, m.ci_halfwidth) == (1, 0)
    assert result.group is not None
    assert (result.group.id, result.group.screen_name) == (spec.id, spec.screen_name)
    assert result.group.members_count == 800


@pytest.mark.parametrize(
    "link",
    [
        "club{id}",
        "public{id}",
        "https://m.vk.com/{name}/",
        "@{name}",
        "{name}",
        "https://vk.com/wall-{id}_900",
        "https://vk.com/feed?w=wall-{id}_900",
        "стоит ли брать рекламу в vk.ru/{name}?",
    ],
)
async def test_every_link_form_reaches_the_public(fake_vk: FakeVK, link: str) -> None:
    spec = public(fake_vk)
    result = await check_one(fake_vk, link.format(id=spec.id, name=spec.screen_name))
    assert result.ok, result.error
    assert result.group is not None and result.group.id == spec.id
    assert round_trips(fake_vk) == USER_EXECUTES


async def test_mid_size_public_is_read_whole_in_the_same_call(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, members_count=4_500, inactive_fraction=0.17, inactive_layout="tail")
    result = await check_one(fake_vk, spec.screen_name)
    assert round_trips(fake_vk) == USER_EXECUTES
    assert len(member_reads(fake_vk)) == 5
    assert result.metrics is not None
    assert result.metrics.members_sampled == 4_500
    assert result.metrics.inactive_percent == pytest.approx(
        true_inactive_percent(fake_vk, spec.id), abs=0.01
    )


# --- verdicts ------------------------------------------------------------------------------


async def test_verdict_buy(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)  # ER 17.5% ≥ 15%, reach 15%, ads' reach 14%, 10% inactive
    result = await check_one(fake_vk, spec.screen_name)
    assert result.verdict == "buy", [r.text for r in result.reasons]
    rules = {r.rule for r in result.reasons}
    assert {"engagement_ok", "inactive_normal", "reach_ok"} <= rules
    assert all(r.text for r in result.reasons)


async def test_verdict_caution_on_low_reach(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, posts=wall(fake_vk.now, views=40, ad_views=40))
    result = await check_one(fake_vk, spec.screen_name)
    assert result.verdict == "caution"
    assert "reach_low" in {r.rule for r in result.reasons}


async def test_verdict_caution_on_padding_and_few_ads(fake_vk: FakeVK) -> None:
    spec = public(
        fake_vk,
        members_count=5_000,
        posts=wall(fake_vk.now, likes=100, reposts=0, comments=0, views=600, ads=2),
    )
    result = await check_one(fake_vk, spec.screen_name)
    rules = {r.rule for r in result.reasons}
    assert result.verdict == "caution"
    assert {"engagement_low", "padding_suspected", "ad_posts_few"} <= rules
    assert result.metrics is not None
    assert result.metrics.ad_posts_analyzed == 2 and result.metrics.ad_reach_percent is None


async def test_verdict_avoid_on_inactive_members(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, inactive_fraction=0.4)
    result = await check_one(fake_vk, spec.screen_name)
    assert result.verdict == "avoid"
    assert "inactive_pointless" in {r.rule for r in result.reasons}


async def test_padded_public_is_avoided_on_a_sample(fake_vk: FakeVK) -> None:
    fake_vk.add_public(make_public("padded"))  # 50 000 members, 55% inactive at the tail
    result = await check_one(fake_vk, "club220001")
    assert result.verdict == "avoid"
    m = result.metrics
    assert m is not None and m.members_sampled is not None and m.inactive_ci95 is not None
    assert m.members_sampled <= 10_000
    assert abs(m.inactive_percent - 55.0) <= 2.0  # type: ignore[operator]
    assert m.inactive_ci95[0] <= 55.0 <= m.inactive_ci95[1]


async def test_no_posts_means_no_numbers(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, posts=(PostSpec(id=1, date=fake_vk.now - 3600, likes=5, views=50),))
    result = await check_one(fake_vk, spec.screen_name)
    m = result.metrics
    assert m is not None
    assert (m.posts_analyzed, m.er_percent, m.reach_percent) == (0, None, None)
    assert result.verdict == "caution"
    assert "engagement_unknown" in {r.rule for r in result.reasons}


async def test_hidden_members_give_no_inactive_share(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, members_hidden=True)
    result = await check_one(fake_vk, spec.screen_name)
    assert result.ok
    # Each execute stops at its refused member count: no block is asked for.
    refused = [r for r in fake_vk.requests if r.method == "groups.getMembers"]
    assert len(refused) == USER_EXECUTES and all(r.error == 15 for r in refused)
    m = result.metrics
    assert m is not None
    assert (m.inactive_percent, m.inactive_ci95, m.members_sampled) == (None, None, None)
    assert "inactive_unknown" in {r.rule for r in result.reasons}
    assert "список участников скрыт" in report_text(result)


async def test_a_share_next_to_its_norm_reads_the_same_in_figures_and_reasons(
    fake_vk: FakeVK,
) -> None:
    # 1,999 of 10,000 inactive: 19.99%, just under the guide's 20%. One decimal would print
    # «20%» in the figures above a reason saying «19,99% — это нормально (до 20%)».
    spec = public(fake_vk, members_count=10_000, inactive_fraction=0.1999, inactive_layout="tail")
    result = await check_one(fake_vk, spec.screen_name)
    m = result.metrics
    assert m is not None and m.inactive_percent == pytest.approx(19.99)
    assert m.members_sampled == 10_000
    report = report_text(result)
    assert "Неактивных подписчиков: 19,99% (проверен каждый" in report
    assert "Неактивных подписчиков 19,99% — это нормально (до 20%)" in report
    assert "неактивных 19,99%" in comparison_text([result, result]).lower()


# --- sampling a big public -------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["tail", "head"])
async def test_user_token_million_members_in_one_round_trip(layout: str) -> None:
    async with own_fake(latency=0.2) as vk:
        spec = public(
            vk,
            public_id=320_001,
            members_count=1_000_000,
            inactive_fraction=0.2345,
            inactive_layout=layout,
        )
        result = await check_one(vk, f"club{spec.id}")
        m = result.metrics
        assert m is not None and m.members_sampled is not None and m.inactive_ci95 is not None
        assert m.members_sampled <= 10_000
        assert abs(m.inactive_percent - 23.45) <= 2.0  # type: ignore[operator]
        assert m.inactive_ci95[0] <= 23.45 <= m.inactive_ci95[1]
        reads = member_reads(vk)
        offsets = [int(r.params["offset"]) for r in reads]
        # Spread over the whole list, the tail included, not just the first pages.
        assert min(offsets) < 1_000_000 / 60 and max(offsets) > 1_000_000 * 59 / 60
        plan = one_public_plan(PublicRef(group_id=spec.id), 10_000, random.Random(0))
        assert len(reads) == m.sample_blocks == plan.strata == 21 + 24 + 24
        # The offsets were computed inside VKScript from the count each execute read first.
        assert vk.count("groups.getMembers", inner=True) == len(reads) + USER_EXECUTES
        # Every execute left before any answer came back: one round trip, three requests.
        assert vk.rounds() == 1
        assert round_trips(vk) == result.vk_requests == USER_EXECUTES


def test_script_offsets_are_the_sampling_arithmetic() -> None:
    from advisor.vk.sampling import stratum_offset

    plan = one_public_plan(PublicRef(screen_name="coffee"), 10_000, random.Random(3))
    assert len(plan.scripts) == USER_EXECUTES
    assert plan.strata == 20 + 24 + 24 and plan.size == 10_000 // 68
    assert plan.whole_limit == 20_000  # the first execute's 20 pages
    for code in plan.scripts:
        parse(code)
    assert stratum_offset(1_000_000, 68, 0, 0.0, 147) == 0
    assert stratum_offset(1_000_000, 68, 67, 0.999999, 147) < 1_000_000 - 147
    assert stratum_offset(1_000_000, 68, 33, 0.5, 147) == 485_294 + (500_000 - 485_294 - 147) // 2


class _NearZero(random.Random):
    """Stratum positions so small that Python writes them as 4e-06."""

    def random(self) -> float:
        return 4e-06


async def test_user_token_sample_with_tiny_positions() -> None:
    # VKScript reads digits and a point, not 4e-06: such a position once broke its execute
    # and the whole sample with it (no inactive share at all).
    async with own_fake() as vk:
        spec = public(vk, public_id=320_011, members_count=1_000_000, inactive_layout="tail")
        settings = settings_for(vk)
        async with VkGateway(settings) as gateway:
            checker = PublicChecker(settings, NORMS, gateway.reader, rng=_NearZero())
            (result,) = await checker.check([f"club{spec.id}"])
        m = result.metrics
        assert m is not None and m.inactive_percent is not None
        assert m.sample_blocks == len(member_reads(vk)) == 69
        assert result.vk_requests == USER_EXECUTES


@pytest.mark.parametrize("layout", ["tail", "head", "uniform"])
@pytest.mark.parametrize("members", [150_000, 1_000_000])
async def test_service_token_adaptive_sample_in_25_requests(layout: str, members: int) -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(
            vk,
            public_id=320_101,
            members_count=members,
            inactive_fraction=0.2345,
            inactive_layout=layout,
        )
        result = await check_one(vk, f"club{spec.id}", "service", vk_service_rate_per_second=100.0)
        m = result.metrics
        assert m is not None and m.inactive_percent is not None and m.inactive_ci95 is not None
        truth = true_inactive_percent(vk, spec.id)
        assert abs(m.inactive_percent - truth) <= 2.0
        assert m.inactive_ci95[0] <= truth <= m.inactive_ci95[1]
        # Counted exactly: groups.getById, two wall pages and the sample's blocks.
        reads = member_reads(vk)
        assert round_trips(vk) == result.vk_requests == 3 + len(reads) <= 25
        assert m.sample_blocks == len(reads) >= 16
        assert m.members_sampled == sum(int(r.params["count"]) for r in reads)
        assert m.ci_halfwidth == pytest.approx((m.inactive_ci95[1] - m.inactive_ci95[0]) / 2)
        assert m.ci_halfwidth <= 2.0 or m.inactive_ci95[1] <= 20 or m.inactive_ci95[0] > 20
        offsets = sorted(int(r.params["offset"]) for r in reads)
        assert offsets[0] < members / 16 and offsets[-1] >= members * 15 / 16 - 1


async def test_service_token_hidden_members_stop_at_the_first_refusal() -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(vk, members_count=1_000_000, members_hidden=True)
        result = await check_one(vk, spec.screen_name, "service", vk_service_rate_per_second=100.0)
        assert result.ok and result.metrics is not None
        assert result.metrics.inactive_percent is None and result.metrics.sample_blocks is None
        refused = [r for r in vk.requests if r.method == "groups.getMembers"]
        assert len(refused) == 1 and refused[0].error == 15
        assert result.vk_requests == round_trips(vk) == 1 + 2 + 1


async def test_service_token_rate_refusals_are_counted() -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(vk, members_count=200_000, inactive_layout="tail")
        vk.fail_next("groups.getMembers", 6, times=2)
        result = await check_one(vk, spec.screen_name, "service", vk_service_rate_per_second=100.0)
        assert result.ok and result.metrics is not None
        assert len(rate_errors(vk)) == 2
        assert result.vk_requests == round_trips(vk) == 3 + result.metrics.sample_blocks + 2  # type: ignore[operator]


# --- service token: concurrent calls under the limit -----------------------------------------


async def test_service_token_calls_run_concurrently() -> None:
    # Counted, not timed: the fake holds the wall pages and the member page until all three are
    # in it at once, which happens only if the client sends them together.
    async with own_fake(service_rate=20.0) as vk:
        spec = public(vk, members_count=400)
        vk.gather({"wall.get", "groups.getMembers"}, count=3)
        result = await check_one(vk, spec.screen_name, "service")
        assert result.ok and result.verdict is not None
        assert vk.count("execute") == 0
        calls = round_trips(vk)
        assert calls == 1 + 2 + 1 == result.vk_requests
        # groups.getById first, then the wall pages and the member page at once.
        assert vk.requests[0].method == "groups.getById"
        assert vk.peak_in_flight == 3
        assert rate_errors(vk) == []


async def test_the_fake_sees_calls_made_one_after_another() -> None:
    # The count above can fail: calls awaited one by one never meet in the fake.
    async with own_fake() as vk:
        public(vk)
        vk.gather({"groups.getById"}, count=2, within=0.2)
        client = VkClient(settings_for(vk, "service"), SecretStr(vk.service_token), "service")
        try:
            for _ in range(2):
                await client.call("groups.getById", {"group_id": "310001"})
        finally:
            await client.close()
        assert vk.count("groups.getById") == 2 and vk.peak_in_flight == 1


async def test_service_token_respects_the_rate_limit_across_publics() -> None:
    rate = 4.0
    async with own_fake(service_rate=rate) as vk:
        links = [public(vk, public_id=330_001 + i).screen_name for i in range(3)]
        async with checker_for(vk, "service") as checker:
            results = await checker.check(links)
        assert all(r.ok for r in results)
        # The fake refuses anything faster than 4 a second (test below), so no refusal and no
        # retry means the limiter waited instead of being refused.
        assert rate_errors(vk) == []
        # Each public: groups.getById, two wall pages, one member page; then the pairwise
        # overlap: one groups.isMember call per pair.
        assert round_trips(vk) == 3 * (1 + 2 + 1) + 3
        assert vk.count("groups.isMember") == 3


async def test_three_publics_interleave_and_the_first_verdict_comes_first() -> None:
    # The limiter is the bottleneck here, as with VK's 5 requests a second.
    async with own_fake(latency=0.05, service_rate=10.0) as vk:
        specs = [
            public(
                vk,
                public_id=340_001 + i,
                members_count=members,
                inactive_fraction=0.2345,
                inactive_layout="tail",
            )
            for i, members in enumerate([150_000, 1_000_000, 3_000])
        ]
        seen: list[tuple[str, int]] = []
        lines: list[str] = []

        async def on_result(result: PublicResult) -> None:
            seen.append((result.input, len(vk.requests)))

        async def record(text: str) -> None:
            lines.append(text)

        async with checker_for(vk, "service", vk_service_rate_per_second=10.0) as checker:
            results = await checker.check(
                [s.screen_name for s in specs], progress=record, on_result=on_result
            )
        assert all(r.ok for r in results) and rate_errors(vk) == []
        total = len(vk.requests)
        assert sum(r.vk_requests for r in results) == total
        # Each verdict is out as soon as its public is in, while the others still had requests
        # to make. A cheap public's requests go first (3 000 members: four pages), then of
        # the two big ones (25 requests each) the first listed.
        assert [key for key, _ in seen] == [f"@{specs[i].screen_name}" for i in (2, 0, 1)]
        assert seen[0][1] < total / 2 and seen[1][1] < total
        # The publics' requests interleave under the one limiter rather than one after another.
        owners = [
            r.params.get("group_id") or r.params.get("owner_id", "").lstrip("-")
            for r in vk.requests
        ]
        ids = [o for o in owners if o and o.isdigit()]
        switches = sum(a != b for a, b in itertools.pairwise(ids))
        assert switches > 6
        # The status line names each verdict as it comes, then the count of all.
        ready = [line for line in lines if "готово" in line and "из 3" in line]
        assert len(ready) == 3 and lines[-1] == t("check.progress.done", done=3, total=3)


async def test_turns_hand_requests_over_in_the_publics_order() -> None:
    from advisor.vk.turns import Turns

    turns = Turns(window=1)
    order: list[int] = []
    release = asyncio.Event()

    def call(priority: int) -> Any:
        async def run() -> int:
            order.append(priority)
            if priority == 9:
                await release.wait()
            return priority

        return turns.run((priority, 0), run)

    first = asyncio.create_task(call(9))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(call(p)) for p in (2, 0, 1)]
    cancelled = asyncio.create_task(call(0))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    assert await asyncio.gather(first, *waiting) == [9, 2, 0, 1]
    assert order == [9, 0, 1, 2]  # the earlier public first, whatever the arrival
    assert turns.busy == 0 and turns.waiting == []


async def test_the_fake_refuses_a_burst_over_the_limit() -> None:
    # The fake's limit is real: the same calls fired at once without our client are refused.
    async with own_fake(service_rate=3.0) as vk:
        public(vk)
        import aiohttp

        async with aiohttp.ClientSession() as session:

            async def call() -> dict[str, Any]:
                data = {"access_token": vk.service_token, "v": "5.199", "group_id": "310001"}
                async with session.post(f"{vk.base_url}/groups.getById", data=data) as response:
                    return await response.json()

            answers = await asyncio.gather(*(call() for _ in range(8)))
        assert sum("error" in a for a in answers) >= 4


async def test_service_token_resolves_screen_names_of_people_and_apps(fake_vk: FakeVK) -> None:
    fake_vk.add_user(5_000_001, "ivan_petrov")
    fake_vk.add_app(7_000_001, "coolgame")
    public(fake_vk)
    async with checker_for(fake_vk, "service") as checker:
        results = await checker.check(["ivan_petrov", "coolgame", "no_such_public_x"])
    assert [r.error.code for r in results if r.error] == [
        "not_a_community",
        "not_a_community",
        "not_found",
    ]
    assert "человека" in results[0].error.message  # type: ignore[union-attr]
    assert "приложение" in results[1].error.message  # type: ignore[union-attr]


# --- errors ----------------------------------------------------------------------------------


async def test_user_token_tells_people_and_apps_in_the_same_call(fake_vk: FakeVK) -> None:
    fake_vk.add_user(5_000_001, "ivan_petrov")
    fake_vk.add_app(7_000_001, "coolgame")
    async with checker_for(fake_vk) as checker:
        person, app = await checker.check(["vk.com/ivan_petrov", "@coolgame"])
    assert person.error is not None and person.error.code == "not_a_community"
    assert app.error is not None and app.error.code == "not_a_community"
    assert round_trips(fake_vk) == 1  # one execute for both, nothing more


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("https://t.me/coffee", "invalid_link"),
        ("привет", "invalid_link"),
        ("https://vk.com/feed", "invalid_link"),
        ("https://vk.com/id1", "not_a_community"),
        ("vk.com/app51234", "not_a_community"),
    ],
)
async def test_bad_links_cost_no_request(fake_vk: FakeVK, text: str, code: str) -> None:
    result = await check_one(fake_vk, text)
    assert result.error is not None and result.error.code == code
    assert result.error.message
    assert round_trips(fake_vk) == 0


@pytest.mark.parametrize("kind", ["user", "service"])
@pytest.mark.parametrize(
    ("public_kind", "code"),
    [("closed", "closed"), ("deleted", "not_found")],
)
async def test_closed_and_deleted_publics(
    fake_vk: FakeVK, kind: TokenKind, public_kind: str, code: str
) -> None:
    spec = make_public(public_kind)  # type: ignore[arg-type]
    fake_vk.add_public(spec)
    result = await check_one(fake_vk, f"vk.com/{spec.screen_name}", kind)
    assert result.error is not None and result.error.code == code
    assert result.group is None and result.metrics is None


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_blocked_public(fake_vk: FakeVK, kind: TokenKind) -> None:
    spec = public(fake_vk, deactivated="banned")
    result = await check_one(fake_vk, f"club{spec.id}", kind)
    assert result.error is not None and result.error.code == "blocked"
    assert "заблокировано" in result.error.message


@pytest.mark.parametrize("kind", ["user", "service"])
@pytest.mark.parametrize(
    ("vk_code", "code"),
    [
        (15, "closed"),
        (18, "blocked"),
        (30, "closed"),
        (100, "not_found"),
        (113, "not_found"),
        (203, "closed"),
    ],
)
async def test_vk_errors_become_error_codes(
    fake_vk: FakeVK, kind: TokenKind, vk_code: int, code: str
) -> None:
    spec = public(fake_vk)
    fake_vk.fail_next("groups.getById", vk_code)
    result = await check_one(fake_vk, spec.screen_name, kind)
    assert result.error is not None, result
    assert result.error.code == code
    assert spec.screen_name in result.error.message or code == "not_found"
    assert result.to_json_dict() == {
        "input": spec.screen_name,
        "error": {"code": code, "message": result.error.message},
    }


def test_vk_error_codes_by_method() -> None:
    assert check_error_code(125) == "not_found"
    assert check_error_code(125, "groups.getMembers") == "not_found"
    assert check_error_code(7, "wall.get") == "closed"
    assert check_error_code(15, "wall.get") == "closed"
    assert check_error_code(7, "groups.getById") == "vk_unavailable"


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_wall_permission_denied_is_a_closed_wall(fake_vk: FakeVK, kind: TokenKind) -> None:
    """Error 7 on wall.get: VK does not show the wall, which is no outage of VK."""
    spec = public(fake_vk)
    fake_vk.fail_next("wall.get", 7, times=2)  # both pages
    result = await check_one(fake_vk, spec.screen_name, kind)
    assert result.error is not None, result
    assert result.error.code == "closed"
    assert result.error.message == t("check.errors.wall", what=f"vk.com/{spec.screen_name}")
    assert "не отвечает" not in result.error.message
    assert any(r.method == "wall.get" and r.error == 7 for r in fake_vk.requests)


async def test_a_closed_wall_is_told_for_its_public_only(fake_vk: FakeVK) -> None:
    """One execute reads both publics: the wall errors are matched to the right one."""
    first, second = public(fake_vk, 310_001), public(fake_vk, 310_002)
    fake_vk.fail_next("wall.get", 7, times=2)  # the first public's two pages come first
    async with checker_for(fake_vk) as checker:
        closed, fine = await checker.check([first.screen_name, second.screen_name])
    assert fake_vk.count("execute") == 1
    assert closed.error is not None and closed.error.code == "closed"
    assert fine.ok and fine.metrics is not None and fine.metrics.posts_analyzed > 0


async def test_invalid_group_id_is_not_found(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.fail_next("groups.getMembers", 125)
    result = await check_one(fake_vk, spec.screen_name, "service")
    assert result.error is not None and result.error.code == "not_found"
    assert result.error.message == t("check.errors.not_found", what=f"vk.com/{spec.screen_name}")


@pytest.mark.parametrize("vk_code", [6, 9, 10])
async def test_transient_errors_are_retried(fake_vk: FakeVK, vk_code: int) -> None:
    spec = public(fake_vk)
    fake_vk.fail_next("execute", vk_code, times=2)
    result = await check_one(fake_vk, spec.screen_name)
    assert result.ok and result.verdict == "buy"
    # Three executes sent together, two of them answered with the error and sent again.
    assert fake_vk.count("execute") == USER_EXECUTES + 2
    assert result.vk_requests == USER_EXECUTES + 2


async def test_service_transient_errors_are_retried(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.fail_next("wall.get", 10)
    fake_vk.fail_next("groups.getMembers", 6)
    result = await check_one(fake_vk, spec.screen_name, "service")
    assert result.ok
    assert result.vk_requests == round_trips(fake_vk) == 1 + 2 + 1 + 2


async def test_vk_unavailable_after_retries(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.fail_next("execute", 10, times=3 * USER_EXECUTES)
    result = await check_one(fake_vk, spec.screen_name, vk_max_retries=2)
    assert result.error is not None and result.error.code == "vk_unavailable"
    assert fake_vk.count("execute") == 3 * USER_EXECUTES


async def test_timeouts_are_retried(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.delay_next("execute", 4.0)
    # The retry must fit in the timeout on a loaded CI machine too: the fake spends a few tenths
    # of a second validating its own answer against the VK schema.
    result = await check_one(fake_vk, spec.screen_name, vk_request_timeout=1.5)
    # Two calls and a result: the first (answering after 4 s) was given up, the retry answered.
    assert result.ok
    assert fake_vk.count("execute") == USER_EXECUTES + 1


async def test_timeouts_every_time_mean_vk_unavailable(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.delay_next("groups.getById", 3.0, times=2)
    result = await check_one(
        fake_vk, spec.screen_name, "service", vk_request_timeout=0.3, vk_max_retries=1
    )
    assert result.error is not None and result.error.code == "vk_unavailable"
    assert "попробуйте" in result.error.message.lower()


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_bad_token_is_misconfigured_and_never_logged(
    fake_vk: FakeVK, kind: TokenKind, caplog: pytest.LogCaptureFixture
) -> None:
    spec = public(fake_vk)
    bad = "vk1.a.not-a-real-token-" + "x" * 20
    token = {"vk_user_token": bad} if kind == "user" else {"vk_service_token": bad}
    caplog.set_level(logging.DEBUG)
    result = await check_one(fake_vk, spec.screen_name, kind, **token)
    assert result.error is not None and result.error.code == "misconfigured"
    assert result.error.message == t("check.errors.misconfigured")
    setting = "VK_USER_TOKEN" if kind == "user" else "VK_SERVICE_TOKEN"
    assert any(setting in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert bad not in caplog.text
    assert bad not in json.dumps(result.to_json_dict(), ensure_ascii=False)


async def test_no_token_is_misconfigured(fake_vk: FakeVK) -> None:
    public(fake_vk)
    settings = settings_for(fake_vk, "none")
    async with VkGateway(settings) as gateway:
        checker = PublicChecker(settings, NORMS, gateway.reader)
        assert not checker.configured
        result = (await checker.check(["club310001"]))[0]
    assert result.error is not None and result.error.code == "misconfigured"
    assert round_trips(fake_vk) == 0


# --- several publics, cache, progress ----------------------------------------------------


async def test_several_publics_in_input_order_and_ranked(fake_vk: FakeVK) -> None:
    good = public(fake_vk, public_id=310_001)
    weak = public(fake_vk, public_id=310_002, posts=wall(fake_vk.now, views=40, ad_views=40))
    bad = public(fake_vk, public_id=310_003, inactive_fraction=0.45)
    inputs = [f"club{bad.id}", "https://t.me/x", weak.screen_name, f"vk.com/{good.screen_name}"]
    progress: list[str] = []

    async def record(text: str) -> None:
        progress.append(text)

    async with checker_for(fake_vk) as checker:
        results = await checker.check(inputs, progress=record)
    assert [r.input for r in results] == inputs
    assert [r.verdict for r in results] == ["avoid", None, "caution", "buy"]
    # Three publics share one execute: 4 + 4 + 3 calls, plus their three member pages; the
    # pairwise overlap (3 groups.isMember calls, one a pair) needs their members: one more
    # execute.
    assert round_trips(fake_vk) == 2
    assert fake_vk.count("groups.isMember", inner=True) == 3
    assert [r.vk_requests for r in results] == [2, 0, 2, 2]
    assert {p.group for p in results[0].pairwise_overlap} == {weak.screen_name, good.screen_name}
    ranked = rank_results(results)
    assert [r.input for r in ranked] == [inputs[3], inputs[2], inputs[0], inputs[1]]
    text = comparison_text(results)
    assert text.index(good.screen_name) < text.index(weak.screen_name) < text.index(f"{bad.id}")
    assert progress[0] == t("check.progress.start_many", publics="4 паблика")
    assert progress[-1] == t("check.progress.done", done=4, total=4)


async def test_cache_serves_the_same_public_without_requests(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    clock = [1000.0]
    cache = MemoryCache(clock=lambda: clock[0])
    async with checker_for(fake_vk, cache=cache, check_cache_seconds=600) as checker:
        first = (await checker.check([spec.screen_name]))[0]
        again = (await checker.check([f"https://vk.com/club{spec.id}"]))[0]
        assert round_trips(fake_vk) == USER_EXECUTES
        assert again.from_cache and not first.from_cache
        assert again.vk_requests == 0 and first.vk_requests == USER_EXECUTES
        assert again.fetched_at == first.fetched_at
        assert again.input == f"https://vk.com/club{spec.id}"
        assert again.metrics == first.metrics and again.verdict == first.verdict
        assert "из кэша" in report_text(again)
        # Another number of posts is another answer.
        await checker.check([spec.screen_name], posts=10)
        assert round_trips(fake_vk) == 2 * USER_EXECUTES
        clock[0] += 601
        expired = (await checker.check([spec.screen_name]))[0]
        assert not expired.from_cache and round_trips(fake_vk) == 3 * USER_EXECUTES


async def test_same_public_twice_in_one_request_is_fetched_once(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    async with checker_for(fake_vk) as checker:
        results = await checker.check([spec.screen_name, f"@{spec.screen_name}"])
    assert round_trips(fake_vk) == USER_EXECUTES
    assert results[0].metrics == results[1].metrics


async def test_posts_limit(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    async with checker_for(fake_vk) as checker:
        result = (await checker.check([spec.screen_name], posts=10))[0]
        with pytest.raises(ValueError):
            await checker.check([spec.screen_name], posts=0)
    assert result.metrics is not None and result.metrics.posts_analyzed == 10
    expected = expected_wall(spec, int(time.time()), limit=10)
    assert result.metrics.er_percent == pytest.approx(expected["er_percent"], abs=0.01)


async def test_single_public_progress(fake_vk: FakeVK) -> None:
    fake_vk.add_public(make_public("padded"))
    lines: list[str] = []

    async def record(text: str) -> None:
        lines.append(text)

    async with checker_for(fake_vk) as checker:
        await checker.check(["club220001"], progress=record)
    # One round trip: nothing to report between asking and the answer.
    assert lines == [t("check.progress.group", what="vk.com/club220001")]


async def test_service_token_progress_shows_a_preliminary_estimate() -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(vk, members_count=1_000_000, inactive_fraction=0.2345, inactive_layout="tail")
        lines: list[str] = []

        async def record(text: str) -> None:
            lines.append(text)

        async with checker_for(vk, "service", vk_service_rate_per_second=100.0) as checker:
            result = (await checker.check([spec.screen_name], progress=record))[0]
    what = f"vk.com/{spec.screen_name}"
    stages = [t(f"check.progress.{stage}", what=what) for stage in ("group", "wall", "members")]
    assert lines[:3] == stages
    # After the first round of blocks, once: the bot's own rough figure, then the final answer.
    (preliminary,) = lines[3:]
    assert preliminary.startswith(f"{what}: предварительно: неактивных ~")
    assert "оценка бота" in preliminary
    assert result.metrics is not None and result.metrics.sample_blocks is not None
    assert result.metrics.sample_blocks > 16  # the sample grew after the preliminary figure


async def test_failing_progress_callback_does_not_break_the_check(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)

    async def broken(text: str) -> None:
        raise RuntimeError("chat is gone")

    async with checker_for(fake_vk) as checker:
        result = (await checker.check([spec.screen_name], progress=broken))[0]
    assert result.ok


# --- output ----------------------------------------------------------------------------------


async def test_json_shape_is_exactly_the_issue(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    result = await check_one(fake_vk, spec.screen_name)
    data = result.to_json_dict()
    assert set(data) == JSON_KEYS
    assert set(data["group"]) == {"id", "screen_name", "name", "members_count"}
    assert set(data["metrics"]) == METRIC_KEYS
    assert isinstance(data["metrics"]["inactive_ci95"], list)
    assert all(set(reason) == {"rule", "text"} for reason in data["reasons"])
    assert data["verdict"] in {"buy", "caution", "avoid"}
    assert data["fetched_at"].endswith("+00:00")
    json.dumps(data)


async def test_chat_messages_with_chart(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    async with checker_for(fake_vk) as checker:
        _, messages = await checker.chat_check([spec.screen_name])
    report, portrait, admin = messages
    assert report.image is not None
    assert report.image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert portrait.image is not None and t("portrait.title_none") not in portrait.text
    assert t("check.report.verdict.buy") in report.image.caption
    assert "Вовлеченность (ER)" in report.text and "МСК" in report.text
    assert "промаркирована" in admin.text and "отписок" in admin.text and "скрытий" in admin.text
    assert "«Кофейня «Зерно»»" in admin.text


async def test_chat_messages_for_several_end_with_the_ranking(fake_vk: FakeVK) -> None:
    public(fake_vk, public_id=310_001)
    public(fake_vk, public_id=310_002, inactive_fraction=0.45)
    async with checker_for(fake_vk) as checker:
        results = await checker.check(["club310002", "club310001", "vk.com/id1"])
    messages = chat_messages(results)
    # The reports in the order asked, each with its portrait (the person's link is a line of
    # the ranking), then the ranking, then the admin's message.
    assert [m.image is not None for m in messages] == [True, True, True, True, False, False]
    assert "coffee_310002" in messages[0].text and "coffee_310001" in messages[2].text
    assert messages[4].text.startswith(t("check.compare.title"))
    assert t("check.report.admin_where_generic") in messages[-1].text


async def test_a_person_checks_at_most_the_hourly_budget(fake_vk: FakeVK) -> None:
    from advisor.app import Advisor
    from tests.chat_helpers import ChatUser

    links = [public(fake_vk, public_id=310_001 + i).screen_name for i in range(4)]
    settings = settings_for(fake_vk, check_budget_per_hour=3, database_url="sqlite+aiosqlite://")
    advisor = await Advisor.open(settings)
    try:
        anna = ChatUser(advisor, "101", channel="telegram")
        await anna.say(f"стоит ли брать рекламу в vk.com/{links[0]} и vk.com/{links[1]}?")
        assert "— брать: ER" in anna.text  # two publics: the summary
        # One of the three is left: the first link is checked, the second is not.
        await anna.say(f"а vk.com/{links[2]} и vk.com/{links[3]}?")
        assert t("actions.check_budget_part", limit="3 пабликов", allowed=1) in anna.text
        assert links[2] in anna.text and links[3] not in anna.text
        before = len(fake_vk.requests)
        await anna.say(f"vk.com/{links[3]}")
        assert anna.text == t("actions.check_budget_spent", limit="3 паблика")
        assert len(fake_vk.requests) == before, "a check over the budget reached VK"
        # Another person is not held back by Anna's budget.
        boris = ChatUser(advisor, "202", channel="telegram")
        await boris.say(f"vk.com/{links[3]}")
        assert t("check.report.verdict.buy") in boris.text
    finally:
        await advisor.close()


async def test_console_shows_each_report_as_it_comes_and_the_ranking_last(
    tmp_path: Path,
) -> None:
    import io

    from advisor.app import Advisor
    from advisor.dialog.types import Incoming
    from bot.console import ConsoleChat

    async with own_fake(latency=0.02, service_rate=10.0) as vk:
        small = public(vk, public_id=350_001, name="Маленький", members_count=800)
        big = public(
            vk,
            public_id=350_002,
            name="Большой",
            members_count=1_000_000,
            inactive_layout="tail",
        )
        settings = settings_for(
            vk, "service", vk_service_rate_per_second=10.0, database_url="sqlite+aiosqlite://"
        )
        advisor = await Advisor.open(settings)
        try:
            out = io.StringIO()
            chat = ConsoleChat(advisor, "console:1", out, tmp_path)
            text = f"сравни vk.com/{small.screen_name} и vk.com/{big.screen_name}"
            await chat.turn(Incoming(channel="console", user_id="console:1", text=text))
        finally:
            await advisor.close()
    shown = out.getvalue()
    small_verdict = shown.index("«Маленький» — ")
    # The small public's verdict is out before the big one's first estimate is replaced by
    # its verdict, and before the status line that all are done; the ranked summary (with
    # the reports behind «Подробнее») comes after both verdicts.
    assert small_verdict < shown.index("«Большой» — ")
    assert small_verdict < shown.index(t("check.progress.done", done=2, total=2))
    assert shown.index("«Большой» — ") < shown.index(t("check.compare.title"))
    assert "vk.com/" + big.screen_name + ": предварительно: неактивных ~" in shown


# --- the command line ------------------------------------------------------------------------


def cli_env(vk: FakeVK | None, **tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VK_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(REPO)
    # The check keeps public snapshots in the database: an in-memory one, not the home folder's.
    env["DATABASE_URL"] = "sqlite+aiosqlite://"
    if vk is not None:
        env["VK_API_URL"] = vk.base_url
    env.update(tokens)
    return env


async def run_cli(
    *args: str, env: dict[str, str], stderr: int | None = asyncio.subprocess.PIPE
) -> tuple[int, str, str]:
    if stderr == asyncio.subprocess.PIPE:
        return await run_to_end(["check", *args], env=env, cwd=REPO)
    # Anything else (a terminal) needs a new interpreter with that stream.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        *args,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), (err or b"").decode()


async def test_cli_json_against_the_fake(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    fake_vk.add_public(make_public("deleted"))
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    inputs = [f"vk.com/{spec.screen_name}", "https://t.me/nope", "deleted_public_260001"]
    code, out, err = await run_cli(*inputs, "--json", "--posts", "12", env=env)
    assert code == 1, err  # one link could not be analysed
    data = json.loads(out)
    assert [item["input"] for item in data] == inputs
    assert set(data[0]) == JSON_KEYS
    assert data[0]["metrics"]["posts_analyzed"] == 12
    assert data[0]["vk_requests"] == 1
    assert data[1] == {"input": inputs[1], "error": data[1]["error"]}
    assert data[1]["error"]["code"] == "invalid_link"
    assert data[2]["error"]["code"] == "not_found"
    assert fake_vk.user_token not in out + err
    assert round_trips(fake_vk) == 1  # both publics in one execute


async def test_cli_text_with_service_token(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    env = cli_env(fake_vk, VK_SERVICE_TOKEN=fake_vk.service_token)
    code, out, err = await run_cli(f"club{spec.id}", env=env)
    assert code == 0, err
    assert t("check.report.verdict.buy") in out
    assert "Что спросить у администратора" in out
    assert err == ""  # stderr is not a terminal: no progress lines


async def test_cli_without_token_exits_2(fake_vk: FakeVK) -> None:
    code, out, err = await run_cli("vk.com/anything", "--json", env=cli_env(fake_vk))
    assert code == 2
    assert out == ""
    assert t("check.errors.no_token") in err
    assert round_trips(fake_vk) == 0


async def test_cli_bad_token_says_misconfigured(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    bad = "vk1.a.wrong-" + "y" * 30
    code, out, err = await run_cli(
        spec.screen_name, "--json", env=cli_env(fake_vk, VK_USER_TOKEN=bad)
    )
    assert code == 1
    assert json.loads(out)[0]["error"]["code"] == "misconfigured"
    assert "VK_USER_TOKEN" in err and bad not in err + out


async def test_cli_progress_on_a_terminal(fake_vk: FakeVK) -> None:
    spec = public(fake_vk)
    master, slave = pty.openpty()
    try:
        env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
        code, out, _ = await run_cli(spec.screen_name, "--json", env=env, stderr=slave)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        terminal = b"".join(chunks).decode(errors="replace")
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    assert code == 0
    assert json.loads(out)[0]["verdict"] == "buy"
    assert t("check.progress.group", what=f"vk.com/{spec.screen_name}") in terminal


async def test_cli_rejects_a_bad_posts_number(fake_vk: FakeVK) -> None:
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    code, _, err = await run_cli("club1", "--posts", "0", env=env)
    assert code == 2 and "от 1 до 100" in err
