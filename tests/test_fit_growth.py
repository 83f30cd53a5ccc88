"""Snapshots between checks (issue 15): every fetched public is kept with its members and
metrics; a later check (by anyone: another checker, the CLI, the chat) reports the members'
growth per day since then and flags growth that reach does not follow. The fake VK API serves
the public; the checker's clock is a controlled one (no sleeping)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.app import Advisor
from advisor.storage.db import create_engine
from advisor.storage.migrate import upgrade
from advisor.storage.snapshots import DbSnapshots
from advisor.storage.tables import public_snapshots
from advisor.texts import t
from advisor.vk.check import MemoryCache, PublicChecker, PublicResult
from advisor.vk.gateway import VkGateway
from advisor.vk.growth import GROWTH_RULE, Snapshot, growth
from advisor.vk.render import report_text
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.test_public_check import NORMS, cli_env, public, run_cli, settings_for, wall

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(database_url)
    await upgrade(created)
    yield created
    await created.dispose()


async def check(fake_vk: FakeVK, engine: AsyncEngine, clock: Clock, link: str) -> PublicResult:
    """One check by a fresh checker (its own cache): another person, another process."""
    settings = settings_for(fake_vk)
    async with VkGateway(settings) as gateway:
        checker = PublicChecker(
            settings,
            NORMS,
            gateway.reader,
            MemoryCache(),
            snapshots=DbSnapshots(engine),
            clock=clock,
        )
        (result,) = await checker.check([link])
    assert result.ok, result.error
    return result


def snapshot(members: int, reach: float | None, at: datetime) -> Snapshot:
    return Snapshot(
        group_id=1, members_count=members, metrics={"reach_percent": reach}, fetched_at=at
    )


def test_growth_per_day_and_the_padding_sign() -> None:
    then = snapshot(1000, 10.0, START)  # 100 views a post
    later = START + timedelta(days=4)
    padded = growth(then, 1600, {"reach_percent": 6.5}, later)  # 104 views: reach stays behind
    assert padded is not None
    assert padded.members_per_day == pytest.approx(150.0)
    assert padded.members_growth_percent == pytest.approx(60.0)
    assert padded.views_growth_percent == pytest.approx(4.0)
    assert padded.padding
    followed = growth(then, 1600, {"reach_percent": 10.0}, later)  # 160 views: it follows
    assert followed is not None and not followed.padding
    small = growth(then, 1050, {"reach_percent": 9.5}, later)  # +5%: under the bot's threshold
    assert small is not None and not small.padding
    unknown = growth(then, 1600, {"reach_percent": None}, later)
    assert unknown is not None and unknown.views_growth_percent is None and not unknown.padding
    shrinking = growth(then, 900, {"reach_percent": 10.0}, later)
    assert shrinking is not None and shrinking.members_per_day == pytest.approx(-25.0)
    assert growth(then, 1600, {}, START + timedelta(minutes=59)) is None, "too soon to tell"


async def test_a_later_check_by_anyone_reports_growth_and_padding(
    fake_vk: FakeVK, engine: AsyncEngine
) -> None:
    spec = public(fake_vk, members_count=800)
    clock = Clock(START)
    first = await check(fake_vk, engine, clock, spec.screen_name)
    assert first.growth is None
    assert first.to_json_dict()["growth"] is None
    assert GROWTH_RULE not in {r.rule for r in first.reasons}
    # Two days later the public has 400 more members, but its posts gather the same views.
    clock.now = START + timedelta(days=2)
    fake_vk.update_public(spec.id, members_count=1200)
    requests = fake_vk.count(inner=False)
    second = await check(fake_vk, engine, clock, spec.screen_name)
    assert fake_vk.count(inner=False) - requests == second.vk_requests, "no VK request for growth"
    assert second.growth is not None
    data = second.to_json_dict()["growth"]
    assert data["since"] == "2026-11-20T09:00:00+00:00"
    assert data["members_per_day"] == 200.0
    assert data["members_before"] == 800 and data["members_now"] == 1200
    assert data["members_growth_percent"] == 50.0
    assert abs(data["views_growth_percent"]) < 1.0
    assert data["padding"] is True
    reason = next(r for r in second.reasons if r.rule == GROWTH_RULE)
    assert reason.severity == "info", "the bot's own threshold never lowers a verdict"
    assert "оценка бота" in reason.text and "20.11.2026 12:00" in reason.text
    assert {"rule": GROWTH_RULE, "text": reason.text} in second.to_json_dict()["reasons"]
    text = report_text(second)
    assert "+400 подписчиков, +200 в день" in text and "20.11.2026 12:00, МСК" in text
    async with engine.connect() as connection:
        stored = await connection.execute(select(func.count()).select_from(public_snapshots))
        assert stored.scalar() == 2


async def test_growth_that_reach_follows_is_no_padding(
    fake_vk: FakeVK, engine: AsyncEngine
) -> None:
    spec = public(fake_vk, members_count=800)
    clock = Clock(START)
    await check(fake_vk, engine, clock, spec.screen_name)
    clock.now = START + timedelta(days=3)
    fake_vk.update_public(
        spec.id, members_count=1200, posts=wall(fake_vk.now, views=180, ad_views=168)
    )
    second = await check(fake_vk, engine, clock, spec.screen_name)
    assert second.growth is not None and not second.growth.padding
    assert second.growth.members_per_day == pytest.approx(400 / 3)
    assert second.growth.views_growth_percent == pytest.approx(50.0)
    assert GROWTH_RULE not in {r.rule for r in second.reasons}


async def test_a_snapshot_store_that_fails_does_not_stop_the_check(
    fake_vk: FakeVK, tmp_path: Path
) -> None:
    spec = public(fake_vk)
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'never_migrated.db'}")
    try:
        result = await check(fake_vk, broken, Clock(START), spec.screen_name)
    finally:
        await broken.dispose()
    assert result.growth is None and result.verdict == "buy"


async def test_the_cli_and_the_chat_store_and_read_snapshots(
    fake_vk: FakeVK, tmp_path: Path
) -> None:
    spec = public(fake_vk, members_count=800)
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token, DATABASE_URL=url)
    code, out, err = await run_cli(spec.screen_name, "--json", env=env)
    assert code == 0, err
    assert json.loads(out)[0]["growth"] is None
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            rows = (await connection.execute(select(public_snapshots))).all()
            assert [(r.group_id, r.members_count) for r in rows] == [(spec.id, 800)]
            # As if that check had been two days ago (the processes run on the real clock).
            two_days = datetime.now(UTC) - timedelta(days=2)
            await connection.execute(public_snapshots.update().values(fetched_at=two_days))
    finally:
        await engine.dispose()
    fake_vk.update_public(spec.id, members_count=1200)
    advisor = await Advisor.open(settings_for(fake_vk, database_url=url))
    try:
        user = ChatUser(advisor, "505", channel="telegram")
        await user.say(f"vk.com/{spec.screen_name}")
        assert "+400 подписчиков" in user.text
        assert "признак накрутки" in user.text
        assert t("check.report.fetched", time="").split("{")[0][:10] in user.text
    finally:
        await advisor.close()


async def test_migration_0004_down_and_up_keeps_people_and_their_conversations(
    engine: AsyncEngine,
) -> None:
    from advisor.storage.migrate import downgrade
    from advisor.storage.store import ConversationStore
    from advisor.storage.tables import conversations

    store = ConversationStore(engine)
    person = await store.load("telegram", "7")
    person.goal, person.target_city, person.target_age_min = "local_subscribers", "Тверь", 25
    person.step = "somewhere"
    await store.save(person)
    await store.close()
    assert (await ConversationStore(engine).load("telegram", "7")).target_city == "Тверь"
    await downgrade(engine, "0003_vk_longpoll")
    async with engine.connect() as connection:
        kept = await connection.execute(select(conversations.c.step))
        assert kept.scalars().all() == ["somewhere"]
    await upgrade(engine)
    again = await ConversationStore(engine).load("telegram", "7")
    assert (again.goal, again.step, again.target_city) == ("local_subscribers", "somewhere", None)
