"""Shared fixtures of the test suite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from advisor.config import Settings
from advisor.knowledge.guide import GUIDE_ENV, find_guide
from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_schema import SCHEMA_ENV, schema_dir
from tests.services import PostgresServer, RedisServer, postgres_server, redis_server

if TYPE_CHECKING:
    # aiogram takes seconds to import; the xdist controller loads this file too and runs no
    # test, so only the fixture that uses it imports it.
    from aiogram import Bot


def shared_folder_problem() -> str | None:
    """What of the shared folder (the guide, the VK API schema) is missing, and how to point
    at it; None when both are there."""
    missing = []
    schema = schema_dir()
    if not any(schema.glob("*/methods.json")):
        missing.append(f"the VK API schema (no */methods.json in {schema}; set {SCHEMA_ENV})")
    try:
        find_guide()
    except FileNotFoundError as exc:
        missing.append(f"the guide ({exc}; set {GUIDE_ENV})")
    if not missing:
        return None
    return (
        "The tests need the shared folder beside the repository (../shared): missing "
        + " and ".join(missing)
        + "."
    )


def pytest_configure(config: pytest.Config) -> None:
    # One clear line at once instead of hundreds of errors from the tests that read them.
    problem = shared_folder_problem()
    if problem is not None:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


# The files that take longest, longest first (per-file sums of `--durations` of a full run).
# The two workers take whole files in collection order (pyproject: --dist loadfile
# --no-loadscope-reorder), so these start first and the many short files fill in beside them;
# with xdist's own order (most tests first) the two-test kill files came last and kept one
# worker busy alone for minutes at the end.
LONGEST_FILES = (
    "test_delivery_kills_telegram.py",
    "test_delivery_kills_vk.py",
    "test_secrets_in_logs.py",
    "test_bad_input.py",
    "test_public_check.py",
    "test_replicas_faults.py",
    "test_replicas_telegram.py",
    "test_replicas_migrate.py",
    "test_public_fit.py",
    "test_console.py",
    "test_telegram_bot.py",
    "test_audit_cli.py",
    "test_replicas_vk.py",
    "test_dialog_engine.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole files, the longest first, then the rest with the most tests first; a file's own
    tests keep their order (its module fixtures rely on it)."""
    files: dict[Path, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.path, []).append(item)

    def rank(tests: list[pytest.Item]) -> tuple[int, int]:
        name = tests[0].path.name
        longest = LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)
        return longest, -len(tests)

    items[:] = [item for tests in sorted(files.values(), key=rank) for item in tests]


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
    from bot.telegram.session import create_bot

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
