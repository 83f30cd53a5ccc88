"""A shared PostgreSQL database is migrated once with `promo-advisor migrate`; a bot started on
an unmigrated one refuses with a message that says what to run (and no traceback)."""

from __future__ import annotations

from pathlib import Path

from advisor.storage.db import create_engine
from advisor.storage.migrate import current_revision, head_revision
from advisor.texts import t
from tests import telegram_driver, vk_bot_driver
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK
from tests.replicas import TelegramReplica, health, run_cli
from tests.services import free_port


async def revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def test_bots_refuse_an_unmigrated_database_and_say_what_to_run(
    tg: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    async with FakeVK() as vk:
        runs = {
            "telegram": telegram_driver.bot_env(tg, tmp_path, DATABASE_URL=postgres_url),
            "vk": vk_bot_driver.bot_env(vk, tmp_path, DATABASE_URL=postgres_url),
        }
        for command, env in runs.items():
            code, output = await run_cli(command, env=env)
            assert code == 2, (command, output)
            assert "promo-advisor migrate" in output, (command, output)
            assert t("console.schema_outdated", details="")[:20] in output
            assert "Traceback" not in output, (command, output)
        assert vk.problems == []
    # Nothing was created behind the operator's back.
    assert await revision(postgres_url) is None
    assert tg.calls_to("setWebhook") == [] and tg.calls_to("getUpdates") == []


async def test_migrate_then_the_bot_runs(
    tg: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    env = telegram_driver.bot_env(tg, tmp_path, DATABASE_URL=postgres_url)
    code, output = await run_cli("migrate", env=env)
    assert code == 0, output
    assert t("console.migrated", revision=head_revision()) in output
    assert await revision(postgres_url) == head_revision()
    code, output = await run_cli("migrate", env=env)  # a second replica's job: nothing to do
    assert code == 0 and t("console.up_to_date", revision=head_revision()) in output

    replica = TelegramReplica(tg, tmp_path / "replica", {"DATABASE_URL": postgres_url})
    await replica.start()
    try:
        assert await health(replica.health_port) == (200, {"status": "ok", "database": True})
        user = tg.user()
        tg.spread_webhooks([replica.url])
        await user.say("/start", seconds=30)
        assert "Здравствуйте" in user.text
    finally:
        assert await replica.stop() == 0, replica.log_text()


async def test_webhook_replicas_need_a_shared_secret(tg: FakeTelegram, tmp_path: Path) -> None:
    """Each replica registers the webhook; with a random secret each, all but the last would
    refuse Telegram's posts. A bot sharing Redis (a replica) without the secret refuses to run."""
    env = telegram_driver.bot_env(
        tg,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    code, output = await run_cli("telegram", env=env)
    assert code == 2, output
    assert "TELEGRAM_WEBHOOK_SECRET" in output and "Traceback" not in output
    assert tg.calls_to("setWebhook") == []


async def test_an_unreachable_database_is_named_without_its_password(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    password = "Unreachable-Pa55"
    url = f"postgresql+asyncpg://advisor:{password}@127.0.0.1:{free_port()}/advisor"
    env = telegram_driver.bot_env(tg, tmp_path, DATABASE_URL=url)
    for command in ("migrate", "telegram"):
        code, output = await run_cli(command, env=env)
        assert code == 1, (command, output)
        assert "DATABASE_URL" in output and "127.0.0.1" in output, output
        assert password not in output and "Traceback" not in output, output
