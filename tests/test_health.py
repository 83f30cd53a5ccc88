"""/healthz and /metrics over real HTTP."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog.types import Incoming
from bot.health import health_app
from tests.services import RedisServer, free_port


def settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", **extra)


async def test_healthy_and_metrics_count_turns(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings(tmp_path))
    try:
        await advisor.handle(Incoming(channel="telegram", user_id="1", text="/start"))
        async with TestClient(TestServer(health_app(advisor))) as client:
            health = await client.get("/healthz")
            assert health.status == 200
            assert await health.json() == {"status": "ok", "database": True}
            metrics = await client.get("/metrics")
            body = await metrics.text()
            assert 'promo_advisor_updates_total{channel="telegram"} 1.0' in body
            assert "promo_advisor_turn_seconds_bucket" in body
    finally:
        await advisor.close()


async def test_redis_down_is_reported(tmp_path: Path, redis_service: RedisServer) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    advisor = await Advisor.open(settings(tmp_path, redis_url=dead))
    try:
        async with TestClient(TestServer(health_app(advisor))) as client:
            health = await client.get("/healthz")
            assert health.status == 503
            assert await health.json() == {"status": "degraded", "database": True, "redis": False}
        # The bot still answers, per process.
        replies = await advisor.handle(Incoming(channel="vk", user_id="7", text="меню"))
        assert "Выберите раздел" in replies[0].text
    finally:
        await advisor.close()
    advisor = await Advisor.open(settings(tmp_path, redis_url=redis_service.url))
    try:
        async with TestClient(TestServer(health_app(advisor))) as client:
            assert (await client.get("/healthz")).status == 200
    finally:
        await advisor.close()


async def test_health_and_metrics_listen_on_this_host_only_by_default(tmp_path: Path) -> None:
    from bot.health import start_health_server

    port = free_port()
    advisor = await Advisor.open(settings(tmp_path, health_port=port))
    try:
        runner = await start_health_server(advisor)
        assert runner is not None
        try:
            # /metrics is not exposed beyond the host unless HEALTH_HOST says so.
            assert [address[:2] for address in runner.addresses] == [("127.0.0.1", port)]
        finally:
            await runner.cleanup()
    finally:
        await advisor.close()
    assert Settings().vk_callback_host == "0.0.0.0"  # VK posts from its own servers
