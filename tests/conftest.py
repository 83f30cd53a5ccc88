"""Shared fixtures of the test suite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiogram import Bot

from advisor.config import Settings
from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from bot.telegram.session import create_bot
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK
from tests.services import PostgresServer, RedisServer, postgres_server, redis_server


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    """A started fake VK API; the test fails if any answer broke the VK schema."""
    async with FakeVK() as vk:
        yield vk
    assert vk.schema_violations == [], "fake VK answers violate the VK schema"
    assert vk.unimplemented_calls == [], "methods the fake VK API does not implement yet"
    assert vk.internal_errors == [], "the fake VK API crashed"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A started fake Telegram Bot API."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def telegram_client(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """An aiogram Bot talking to the fake Bot API."""
    created = create_bot(Settings(telegram_bot_token=tg.token, telegram_api_url=tg.base_url))
    yield created
    await created.session.close()


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real Redis server for the session; tests use distinct key prefixes or flush it."""
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster for the session; each test gets its own database."""
    with postgres_server() as server:
        yield server


@pytest.fixture
async def redis_url(redis_service: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    await redis_service.flush()
    return redis_service.url


@pytest.fixture
def postgres_url(postgres_service: PostgresServer) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_service.create_database(name)
    return postgres_service.url(name)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: the embedded SQLite default and a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url
