"""One VK gateway: the public check, the audit and the tracker's post figures share one client,
and so one rate limiter, per token (issue 12). Requests are counted in the fake VK API, never
timed here."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from advisor.app import Advisor
from advisor.config import Settings
from advisor.tracker.models import PostRef
from advisor.vk.gateway import VkGateway
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import DAY, PostSpec, make_public
from tests.services import RedisServer

SERVICE_RATE = 10.0  # the service token's requests a second, in the fake and the settings
USER_RATE = 3.0  # VK's (and the fake's) for a user token
PER_FEATURE = 3  # concurrent calls of each feature
POST_ID = 45


def settings_for(tmp_path: Path, vk: FakeVK, kind: str, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_api_url=vk.base_url,
        vk_user_token=SecretStr(vk.user_token) if kind == "user" else None,
        vk_service_token=SecretStr(vk.service_token) if kind == "service" else None,
        vk_group_token=SecretStr(vk.group_token),
        vk_service_rate_per_second=SERVICE_RATE,
        vk_max_retries=0,  # a refused call fails its feature instead of hiding in a retry
        **extra,
    )


def serve_publics(vk: FakeVK) -> list[int]:
    """Small publics (cheap answers, so the fake's schema checks hardly hold the loop), one per
    call, so that the public check's cache and shared fetches cannot merge any calls."""
    ids = [330_001 + n for n in range(3 * PER_FEATURE)]
    for public_id in ids:
        post = PostSpec(id=POST_ID, date=vk.now - DAY, likes=30, views=900, text="Реклама")
        vk.add_public(
            make_public("small", id=public_id, screen_name=f"shop_{public_id}", posts=(post,))
        )
    return ids


@pytest.mark.parametrize(
    ("kind", "shared"),
    [("service", "process"), ("service", "redis"), ("user", "redis")],
)
async def test_check_audit_and_tracker_share_one_limiter_per_token(
    tmp_path: Path, kind: str, shared: str, request: pytest.FixtureRequest
) -> None:
    redis_url = None
    if shared == "redis":
        redis: RedisServer = request.getfixturevalue("redis_service")
        await redis.flush()
        redis_url = redis.url
    rate = SERVICE_RATE if kind == "service" else USER_RATE
    async with FakeVK(service_rate=SERVICE_RATE) as vk:
        ids = serve_publics(vk)
        checks, audits, posts = (ids[n * PER_FEATURE : (n + 1) * PER_FEATURE] for n in range(3))
        advisor = await Advisor.open(settings_for(tmp_path, vk, kind, redis_url=redis_url))
        try:
            features = advisor.features
            assert features.public_check is not None
            assert features.auditor is not None
            assert features.post_figures is not None
            results = await asyncio.gather(
                *(features.public_check.check([f"vk.com/shop_{n}"]) for n in checks),
                *(features.auditor.audit(f"vk.com/shop_{n}") for n in audits),
                *(
                    features.post_figures.fetch([PostRef(owner_id=-n, post_id=POST_ID)])
                    for n in posts
                ),
            )
        finally:
            await advisor.close()
    checked = [result[0] for result in results[:PER_FEATURE]]
    audited = results[PER_FEATURE : 2 * PER_FEATURE]
    figures = results[2 * PER_FEATURE :]
    assert [r.error for r in checked] == [None] * PER_FEATURE
    assert [r.error for r in audited] == [None] * PER_FEATURE
    assert [sorted(f) for f in figures] == [[f"-{n}_{POST_ID}"] for n in posts]
    calls = [r for r in vk.requests if not r.inner]
    assert {r.token_type for r in calls} == {kind}
    # VK's limit per token (the fake's bucket: `rate` at once, then `rate` a second) refused
    # nothing: before the gateway, the audit and the tracker each burst on their own limiter.
    assert vk.refused(kind) == 0
    if shared == "redis":
        # Paced through Redis, calls are spaced evenly, 1/rate s apart: never more than `rate`
        # in any second. The window is a little shorter than a second because the fake stamps
        # a call when its loop gets to it: calls k and k + rate, due exactly 1 s apart, can be
        # stamped a few ms closer (it failed so once on a loaded machine); a burst still counts
        # all its calls.
        assert vk.busiest_window(kind, 0.9) <= rate
    assert vk.problems == []


async def test_one_client_per_token_closed_with_the_gateway(fake_vk: FakeVK) -> None:
    settings = Settings(
        vk_api_url=fake_vk.base_url,
        vk_user_token=SecretStr(fake_vk.user_token),
        vk_service_token=SecretStr(fake_vk.service_token),
        vk_group_token=SecretStr(fake_vk.group_token),
    )
    async with VkGateway(settings) as gateway:
        reader, community = gateway.reader, gateway.community
        assert reader is not None and community is not None
        assert gateway.reader is reader and gateway.community is community
        assert reader.kind == "user"  # a user token may call execute: it wins over a service one
        assert community.kind == "group"
        assert gateway.client(SecretStr(fake_vk.user_token), "user") is reader
        await reader.call("groups.getById", {"group_id": fake_vk.group_id})
        await community.call("groups.getById", {})
    with pytest.raises(RuntimeError):
        _ = gateway.reader
    assert [r.token_type for r in fake_vk.requests] == ["user", "group"]


@pytest.mark.parametrize(
    ("user", "service", "kind"),
    [("u", "s", "user"), ("", "s", "service"), (None, "s", "service"), ("", "", None)],
)
async def test_the_reader_token_is_chosen_in_one_place(
    user: str | None, service: str | None, kind: str | None
) -> None:
    settings = Settings(
        vk_user_token=None if user is None else SecretStr(user),
        vk_service_token=None if service is None else SecretStr(service),
    )
    token = settings.vk_check_token
    expected = {"user": user, "service": service, None: None}[kind]
    assert (token.get_secret_value() if token else None) == expected
    async with VkGateway(settings) as gateway:
        reader = gateway.reader
        assert (reader.kind if reader else None) == kind
