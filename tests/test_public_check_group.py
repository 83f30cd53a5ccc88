"""The public check with a service token and the community's token: a big public's sample in
one round trip of the community token's executes, through the fake VK API (issue 16)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random

import pytest
from pydantic import SecretStr

from advisor.config import Settings
from advisor.vk.api import VkClient
from advisor.vk.check import PublicChecker, PublicResult
from advisor.vk.fit import OwnerTarget
from advisor.vk.gateway import VkGateway
from advisor.vk.sampling import (
    GROUP_BLOCKS_PER_EXECUTE,
    GROUP_MAX_EXECUTES,
    plan_systematic,
)
from tests.fakes.vk_api import FakeVK, VKRequest
from tests.fakes.vk_data import PublicSpec
from tests.test_public_check import (
    NORMS,
    cli_env,
    own_fake,
    public,
    run_cli,
    true_inactive_percent,
)


def both_tokens(vk: FakeVK, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "vk_api_url": vk.base_url,
        "vk_user_token": None,
        "vk_service_token": vk.service_token,
        "vk_group_token": vk.group_token,
        "vk_service_rate_per_second": vk.service_rate,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def check(
    vk: FakeVK, link: str, target: OwnerTarget | None = None, **overrides: object
) -> PublicResult:
    settings = both_tokens(vk, **overrides)
    async with VkGateway(settings) as gateway:
        checker = PublicChecker(
            settings, NORMS, gateway.reader, rng=random.Random(7), sampler=gateway.sampler
        )
        return (await checker.check([link], target=target))[0]


def executes(vk: FakeVK) -> list[VKRequest]:
    return [r for r in vk.requests if r.method == "execute" and not r.inner]


def inner_reads(vk: FakeVK) -> list[VKRequest]:
    return [r for r in vk.requests if r.method == "groups.getMembers" and r.inner]


def service_reads(vk: FakeVK) -> list[VKRequest]:
    return [r for r in vk.requests if r.method == "groups.getMembers" and not r.inner]


# --- the design (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("members", [25_000, 150_000, 400_000, 1_000_000, 30_000_000])
def test_the_systematic_plan_spreads_small_blocks_at_one_spacing(members: int) -> None:
    plan = plan_systematic(members, 10_000, random.Random(members))
    blocks = plan.blocks
    assert len(blocks) % GROUP_BLOCKS_PER_EXECUTE == 0
    assert len(blocks) <= GROUP_BLOCKS_PER_EXECUTE * GROUP_MAX_EXECUTES
    assert plan.size <= 10_000 and not plan.whole
    assert len({b.count for b in blocks}) == 1
    # One random start: the gaps between blocks differ by at most one member (rounding).
    gaps = [b.offset - a.offset for a, b in itertools.pairwise(blocks)]
    assert max(gaps) - min(gaps) <= 1
    assert max(gaps) <= max(1_000, members // (GROUP_BLOCKS_PER_EXECUTE * GROUP_MAX_EXECUTES) + 1)
    assert blocks[0].offset < members / len(blocks)
    assert blocks[-1].offset + blocks[-1].count <= members


def test_the_sampler_is_the_community_client_only_beside_a_service_token() -> None:
    url = "http://127.0.0.1:1/method"
    service = Settings(vk_api_url=url, vk_service_token="s" * 64, vk_group_token="g" * 80)
    user = Settings(
        vk_api_url=url, vk_user_token="u" * 80, vk_service_token="s" * 64, vk_group_token="g" * 80
    )
    alone = Settings(vk_api_url=url, vk_service_token="s" * 64, vk_group_token=None)
    gateway = VkGateway(service)
    assert gateway.sampler is gateway.community is not None
    assert gateway.sampler.kind == "group"
    assert VkGateway(user).sampler is None
    assert VkGateway(alone).sampler is None


# --- through the fake VK API -------------------------------------------------------------------


async def test_a_bursts_list_is_sampled_in_one_round_trip_of_executes() -> None:
    async with own_fake(latency=0.01) as vk:
        spec = public(
            vk,
            public_id=330_001,
            members_count=300_000,
            inactive_fraction=0.2345,
            inactive_layout="bursts",
            burst_share=0.5,
        )
        truth = true_inactive_percent(vk, spec.id)
        # The fake holds the executes until all twelve are in it: a client sending one after
        # another's answer would be seen (each held until the fake gives up waiting).
        vk.gather({"execute"}, count=12, within=5.0)
        result = await check(vk, f"club{spec.id}")
        assert result.ok and result.metrics is not None
        sent = executes(vk)
        assert len(sent) == 12 and {r.token_type for r in sent} == {"group"}
        assert max(r.time for r in sent) < min(r.answered or 0.0 for r in sent)
        # The service token reads the community and its wall, and no member.
        assert service_reads(vk) == []
        by_service = [r for r in vk.requests if r.token_type == "service"]
        assert sorted(r.method for r in by_service) == ["groups.getById", "wall.get", "wall.get"]
        assert vk.count("wall.get") == 2 and vk.count(inner=False) == 15
        reads = inner_reads(vk)
        assert len(reads) == 300 and all(r.token_type == "group" for r in reads)
        m = result.metrics
        assert m.inactive_percent is not None and m.inactive_ci95 is not None
        assert m.inactive_ci95[0] <= truth <= m.inactive_ci95[1]
        assert abs(m.inactive_percent - truth) <= 2.0
        assert m.sample_blocks == 300
        assert m.members_sampled == sum(int(r.params["count"]) for r in reads) <= 10_000
        assert m.ci_halfwidth == pytest.approx((m.inactive_ci95[1] - m.inactive_ci95[0]) / 2)
        assert result.vk_requests == 15 == vk.count(inner=False)
        # The portrait comes from the same members (sex, bdate and city in MEMBER_FIELDS).
        assert result.audience is not None
        assert vk.refused("group") == vk.refused("service") == 0


@pytest.mark.parametrize("code", [5, 15, 28, 10])
async def test_a_community_token_failure_falls_back_to_the_service_sample(
    code: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(
            vk,
            public_id=330_101,
            members_count=150_000,
            inactive_fraction=0.2345,
            inactive_layout="tail",
        )
        truth = true_inactive_percent(vk, spec.id)
        vk.fail_next("execute", code, times=1 if code != 10 else 6)
        with caplog.at_level(logging.INFO):
            result = await check(
                vk, f"club{spec.id}", vk_service_rate_per_second=100.0, vk_max_retries=0
            )
        assert result.ok and result.metrics is not None
        m = result.metrics
        assert m.inactive_percent is not None and abs(m.inactive_percent - truth) <= 2.0
        reads = service_reads(vk)
        assert len(reads) == m.sample_blocks and len(reads) >= 16
        # Every HTTP request counts, the community token's executes included.
        assert result.vk_requests == vk.count(inner=False) == 3 + 6 + len(reads)
        logged = caplog.text
        assert "samples it instead" in logged and f"club{spec.id}" in logged
        assert vk.group_token not in logged and vk.service_token not in logged


async def test_hidden_members_stop_the_community_sample() -> None:
    async with own_fake() as vk:
        spec = public(vk, public_id=330_201, members_count=1_000_000, members_hidden=True)
        result = await check(vk, spec.screen_name)
        assert result.ok and result.metrics is not None and result.members_hidden
        assert result.metrics.inactive_percent is None and result.metrics.sample_blocks is None
        # Each execute stops at its first refused call; the service token reads no member.
        sent = executes(vk)
        assert len(sent) == GROUP_MAX_EXECUTES
        refused = inner_reads(vk)
        assert len(refused) == len(sent) and {r.error for r in refused} == {15}
        assert service_reads(vk) == []
        assert result.vk_requests == vk.count(inner=False) == 3 + len(sent)


async def test_the_portrait_and_the_overlap_come_from_the_community_sample() -> None:
    async with own_fake(service_rate=100.0) as vk:
        vk.add_public(
            PublicSpec(id=330_501, screen_name="salon_tver", name="Салон", members_count=300)
        )
        spec = public(
            vk,
            public_id=330_502,
            members_count=150_000,
            female_share=0.7,
            city_mix=((72, "Тверь", 0.6), (1, "Москва", 0.1)),
        )
        target = OwnerTarget(my_group="salon_tver", city="Тверь")
        result = await check(vk, f"club{spec.id}", target, vk_service_rate_per_second=100.0)
        assert result.ok and result.audience is not None and result.overlap is not None
        assert result.audience.female_percent == pytest.approx(70, abs=3)
        assert result.overlap.group == "salon_tver"
        asked = [r for r in vk.requests if r.method == "groups.isMember"]
        # 2 500 of the sampled members, 500 a call, with the service token.
        assert len(asked) == 5 and {r.token_type for r in asked} == {"service"}
        assert len(executes(vk)) == 6 and service_reads(vk) == []
        assert result.vk_requests == vk.count(inner=False) == 3 + 6 + 5


async def test_a_small_public_is_read_whole_by_the_service_token() -> None:
    async with own_fake() as vk:
        spec = public(vk, public_id=330_301, members_count=3_000)
        result = await check(vk, spec.screen_name)
        assert result.ok and result.metrics is not None
        assert vk.count("execute") == 0 and len(service_reads(vk)) == 3
        assert result.metrics.members_sampled == 3_000


async def test_cli_json_with_both_tokens_uses_the_community_sample() -> None:
    async with own_fake() as vk:
        spec = public(
            vk,
            public_id=330_401,
            members_count=150_000,
            inactive_fraction=0.2345,
            inactive_layout="bursts",
        )
        env = cli_env(vk, VK_SERVICE_TOKEN=vk.service_token, VK_GROUP_TOKEN=vk.group_token)
        code, out, err = await run_cli(f"club{spec.id}", "--json", env=env)
        assert code == 0, err
        (item,) = json.loads(out)
        metrics = item["metrics"]
        sent = executes(vk)
        assert len(sent) == 6 and {r.token_type for r in sent} == {"group"}
        assert metrics["sample_blocks"] == len(inner_reads(vk)) == 150
        assert metrics["members_sampled"] == sum(int(r.params["count"]) for r in inner_reads(vk))
        low, high = metrics["inactive_ci95"]
        assert metrics["ci_halfwidth"] == pytest.approx((high - low) / 2, abs=0.01)  # rounded
        assert item["vk_requests"] == vk.count(inner=False) == 3 + 6
        assert vk.group_token not in out + err and vk.service_token not in out + err


async def test_the_bots_requests_go_before_queued_samples() -> None:
    # The check's executes on the community token give way: they leave the limiter's last two
    # slots free and never queue in it, so a request of the VK bot's made while 32 of them
    # wait goes out at once, not behind them, and VK refuses nothing.
    async with own_fake() as vk:
        settings = both_tokens(vk)
        client = VkClient(settings, SecretStr(vk.group_token), "group")
        try:
            samples = [
                asyncio.ensure_future(client.execute("return 1;", background=True))
                for _ in range(50)
            ]
            for _ in range(20):  # every sample reaches the limiter: 18 go out, 32 wait
                await asyncio.sleep(0)
            reply = await client.call("groups.getById", {"group_id": vk.group_id})
            assert reply
            await asyncio.gather(*samples)
        finally:
            await client.close()
        order = [r.method for r in vk.requests if not r.inner]
        assert len(order) == 51 and order.count("execute") == 50
        assert order.index("groups.getById") == 18
        assert vk.refused("group") == 0


async def test_a_wide_service_sample_tells_the_operator_about_the_community_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with own_fake(service_rate=100.0) as vk:
        spec = public(
            vk,
            public_id=330_601,
            members_count=150_000,
            inactive_fraction=0.2345,
            inactive_layout="bursts",
            burst_share=0.5,
        )
        with caplog.at_level(logging.INFO, logger="advisor.vk.check"):
            alone = await check(
                vk, f"club{spec.id}", vk_group_token=None, vk_service_rate_per_second=100.0
            )
        assert alone.metrics is not None and alone.metrics.ci_halfwidth is not None
        assert alone.metrics.ci_halfwidth > 2.0
        hint = [r.getMessage() for r in caplog.records if "VK_GROUP_TOKEN" in r.getMessage()]
        assert len(hint) == 1 and str(spec.id) in hint[0]
        assert vk.service_token not in caplog.text
        caplog.clear()
        # With the community token beside it the sample is fine, and nothing is suggested.
        with caplog.at_level(logging.INFO, logger="advisor.vk.check"):
            both = await check(vk, f"club{spec.id}", vk_service_rate_per_second=100.0)
        assert both.metrics is not None and both.metrics.sample_blocks == 150
        assert "VK_GROUP_TOKEN" not in caplog.text
