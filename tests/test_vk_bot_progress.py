"""The real `promo-advisor vk` process checking publics with a service token (issue 16):
a sampled public's status is ONE message — its stages, then its final figure, replaced with
``messages.edit`` (with a first estimate between when the service token samples it) — and
among several publics each report is posted as soon as its public is in, the ranking last.
The VK bot has its community token, which samples big publics in one round trip of executes;
when it cannot, the service token's adaptive sample shows its first estimate. Order of events
in the fake, never time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from advisor.texts import t
from tests.chat_helpers import verdict_key
from tests.fakes.vk_api import FakeVK, SentMessage, VKRequest
from tests.fakes.vk_data import make_public
from tests.vk_bot_driver import BotProcess, VkUser

pytestmark = pytest.mark.asyncio(loop_scope="module")

RATE = 5.0  # VK's rate for a service token: the limiter is the bottleneck, as in production
LATE_PAGE = 5.0  # seconds: a page VK answers late (a margin no loaded machine eats)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK(service_rate=RATE) as fake:
        yield fake
    assert fake.problems == []


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(vk: FakeVK, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    env: dict[str, str | None] = {
        "VK_USER_TOKEN": None,
        "VK_SERVICE_TOKEN": vk.service_token,
        "VK_SERVICE_RATE_PER_SECOND": str(RATE),
        "VK_REQUEST_TIMEOUT": "5",
    }
    process = BotProcess(vk, tmp_path_factory.mktemp("vkprogress"), env)
    await process.start()
    yield process
    try:
        assert await process.stop() == 0, process.log_text()[-3000:]
    finally:
        await process.kill()


def member_reads(vk: FakeVK, group_id: int) -> list[int]:
    """Indexes in ``vk.requests`` of the calls reading a public's members."""
    return [
        i
        for i, r in enumerate(vk.requests)
        if r.method == "groups.getMembers" and r.params.get("group_id") == str(group_id)
    ]


def sends(vk: FakeVK, peer_id: int) -> list[tuple[int, VKRequest]]:
    """messages.send calls to the person (inside execute or alone), with their indexes."""
    return [
        (i, r)
        for i, r in enumerate(vk.requests)
        if r.method == "messages.send"
        and r.params.get("peer_id") == str(peer_id)
        and r.error is None
    ]


async def until_sent(user: VkUser, text: str, within: float = 60) -> SentMessage:
    """Waits for a message starting with ``text`` (the answer ends with it)."""
    deadline = time.monotonic() + within
    while True:
        assert user.bot is not None
        user.bot.assert_running()
        for message in user.messages():
            if message.message.startswith(text):
                return message
        assert time.monotonic() < deadline, [m.message[:60] for m in user.messages()]
        await asyncio.sleep(0.05)


async def test_the_community_token_samples_in_one_round_trip_the_status_goes_to_its_final(
    vk: FakeVK, bot: BotProcess
) -> None:
    public = vk.add_public(
        make_public("huge", id=7_100_021, screen_name="big_bagels", inactive_layout="bursts")
    )
    name = public.spec.name
    user = VkUser(vk, 2003, bot=bot)
    since = len(vk.requests)
    vk.user_message(user.peer_id, "Стоит ли брать рекламу в vk.com/big_bagels ?")
    await until_sent(user, t("check.report.admin_title"))
    # The sample: the community token's executes (that they go out together is counted in
    # tests/test_public_check_group.py, where the fake holds them until all are in).
    samples = [
        r
        for r in vk.requests[since:]
        if r.method == "execute" and not r.inner and "groups.getMembers" in r.params["code"]
    ]
    assert len(samples) == 18 and {r.token_type for r in samples} == {"group"}
    reads = member_reads(vk, public.id)
    assert reads and all(vk.requests[i].inner for i in reads)
    assert vk.refused("group") == 0
    # ONE status message, edited from its stages to the final figure; no first estimate.
    status = user.messages()[0]
    edits = vk.edits_of(user.peer_id)
    assert edits and all(e.message_id == status.message_id for e in edits)
    shown = [edits[0].before] + [e.after for e in edits]
    assert not any("предварительно" in line for line in shown)
    assert status.message.startswith(f"«{name}»: неактивных ~") and "итог" in status.message


async def test_a_sampled_public_has_one_status_message_edited_to_its_final_figure(
    vk: FakeVK, bot: BotProcess
) -> None:
    public = vk.add_public(
        make_public("huge", id=7_100_001, screen_name="big_bakery", inactive_layout="tail")
    )
    name = public.spec.name
    user = VkUser(vk, 2001, bot=bot)
    # The community token's sample fails (an internal error on its first member call): the
    # service token samples the public instead, round by round, with a first estimate.
    vk.fail_next("groups.getMembers", 10)
    vk.user_message(user.peer_id, "Стоит ли брать рекламу в vk.com/big_bakery ?")
    admin = await until_sent(user, t("check.report.admin_title"))

    messages = user.messages()
    status = messages[0]
    # ONE status message for the public: what it said first, each later line an edit of it.
    assert sends(vk, user.peer_id)[0][1].params["message"] == t(
        "check.progress.group", what="vk.com/big_bakery"
    )
    edits = vk.edits_of(user.peer_id)
    assert edits and all(e.message_id == status.message_id for e in edits)
    shown = [edits[0].before] + [e.after for e in edits]
    first = next(i for i, line in enumerate(shown) if "предварительно: неактивных ~" in line)
    assert "оценка бота" in shown[first]
    # The first estimate is replaced by the final figure (the report says the same number).
    assert shown[-1] == status.message
    assert status.message.startswith(f"«{name}»: неактивных ~") and "итог" in status.message
    assert first < len(shown) - 1
    # Then the report with its chart, its audience portrait, the offer to price it, then the
    # admin's message; nothing else was sent.
    report, portrait, offer = messages[1], messages[2], messages[3]
    assert offer.message == t("target.price_offer")
    assert report.attachment and report.attachment.startswith("photo") and name in report.message
    assert "Кто подписан (оценка бота" in portrait.message and portrait.attachment
    assert [m.message_id for m in messages] == [
        status.message_id,
        report.message_id,
        portrait.message_id,
        offer.message_id,
        admin.message_id,
    ]
    # The status reached its final line before the report went out.
    edited = [i for i, r in enumerate(vk.requests) if r.method == "messages.edit"]
    report_sent = next(i for i, r in sends(vk, user.peer_id) if name in r.params["message"])
    assert max(edited) < report_sent


async def test_several_publics_each_report_as_soon_as_ready_the_ranking_last(
    vk: FakeVK, bot: BotProcess
) -> None:
    small = vk.add_public(
        make_public("healthy", id=7_100_011, screen_name="tea_corner", name="Чайный угол")
    )
    big = vk.add_public(
        make_public(
            "huge", id=7_100_012, screen_name="big_tea", name="Большой чай", inactive_layout="head"
        )
    )
    mid = vk.add_public(
        make_public(
            "huge",
            id=7_100_013,
            screen_name="mid_tea",
            name="Средний чай",
            members_count=150_000,
            inactive_layout="tail",
        )
    )
    # The small public's last page comes LATE_PAGE late: the others' verdicts are ready long before
    # it, however loaded the machine, and must not wait for it.
    last_page = {"group_id": str(small.spec.id), "offset": "11000"}
    vk.delay_next("groups.getMembers", LATE_PAGE, where=last_page)
    user = VkUser(vk, 2002, bot=bot)
    vk.user_message(user.peer_id, "Какой выбрать: vk.com/tea_corner vk.com/big_tea vk.com/mid_tea")
    await until_sent(user, t("check.report.admin_title"))

    sent = sends(vk, user.peer_id)

    def verdict_at(spec_name: str) -> int:
        """Where the public's verdict line was first shown (sent or edited into its status)."""
        return next(
            i
            for i, r in enumerate(vk.requests)
            if r.method in ("messages.send", "messages.edit")
            and r.params.get("peer_id") == str(user.peer_id)
            and r.params.get("message", "").startswith(f"«{spec_name}» — ")
        )

    specs = (small.spec, big.spec, mid.spec)
    verdicts = {s.screen_name: verdict_at(s.name) for s in specs}
    # The big publics (sampled in one round trip of the community token's executes) had their
    # verdicts shown while the small one's last page was still on its way.
    assert vk.delays_left("groups.getMembers") == 0
    late = next(
        r
        for i in member_reads(vk, small.spec.id)
        if (r := vk.requests[i]).params.get("offset") == "11000"
    )
    assert late.answered is not None
    for spec in (big.spec, mid.spec):
        assert vk.requests[verdicts[spec.screen_name]].time < late.answered, spec.name
    assert verdicts[small.spec.screen_name] == max(verdicts.values())
    # The ranked summary comes after every verdict; the reports wait behind «Подробнее».
    ranking = next(i for i, r in sent if r.params["message"].startswith(t("check.compare.title")))
    assert max(verdicts.values()) < ranking
    # The ranked summary (committed with the turn, sent from the outbox) carries each verdict
    # shown early: a kill before the commit loses those lines only until the update is
    # handled again, and the summary then brings them all.
    summary = vk.requests[ranking].params["message"]
    for spec in (small.spec, big.spec, mid.spec):
        early = vk.requests[verdicts[spec.screen_name]].params["message"]
        verdict = t(f"check.compare.verdict.{verdict_key(early)}")
        assert f"«{spec.name}» (vk.com/{spec.screen_name}) — {verdict}:" in summary, summary
    assert not any("Почему:" in r.params["message"] for _, r in sent)
    # At most one status message per public (the sampled ones are read in one round trip of
    # the community token's executes: no first estimate to show), and the turn's status line.
    status_sends = [r.params["message"] for i, r in sent if i < ranking]
    for spec in (big.spec, mid.spec):
        own = [m for m in status_sends if m.startswith(f"vk.com/{spec.screen_name}:")]
        assert len(own) <= 1, status_sends
        assert not any("предварительно" in m for m in own), status_sends
    assert any(vk.requests[i].inner for i in member_reads(vk, big.id))
    assert len(status_sends) <= 4
    # Each public's verdict line is shown once (sent, or edited into a status it had).
    shown = [
        r.params.get("message", "")
        for r in vk.requests
        if r.method in ("messages.send", "messages.edit")
        and r.params.get("peer_id") == str(user.peer_id)
        and " — " in r.params.get("message", "")
        and r.params.get("message", "").startswith("«")
    ]
    for spec in specs:
        assert sum(line.startswith(f"«{spec.name}» — ") for line in shown) == 1, shown
