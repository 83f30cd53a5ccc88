"""The real `promo-advisor vk` process in Callback API mode: VK posts events to its server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from advisor.texts import t
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public
from tests.vk_bot_driver import BotProcess, VkUser

CONFIRMATION = "a1b2c3d4"
SECRET = "callback-secret-8c1f"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CallbackPoster:
    """Posts events to the bot as VK's Callback API does."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/vk/callback"
        self.session = aiohttp.ClientSession()

    async def post(self, body: Any, *, secret: str | None = SECRET) -> tuple[int, str, float]:
        if isinstance(body, dict) and secret is not None:
            body = {**body, "secret": secret}
        started = time.monotonic()
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
        async with self.session.post(self.url, **kwargs) as response:
            text = await response.text()
        return response.status, text, time.monotonic() - started

    async def wait_ready(self, bot: BotProcess, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while True:
            bot.assert_running()
            try:
                status, _, _ = await self.post({"type": "message_typing_state", "group_id": 0})
                if status:
                    return
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < deadline, "the callback server never came up"
            await asyncio.sleep(0.05)


@pytest.fixture
async def callback_bot(
    fake_vk: FakeVK, tmp_path: Path
) -> AsyncIterator[tuple[BotProcess, CallbackPoster]]:
    port = _free_port()
    bot = BotProcess(
        fake_vk,
        tmp_path,
        {
            "VK_CALLBACK_PORT": str(port),
            "VK_CALLBACK_CONFIRMATION": CONFIRMATION,
            "VK_CALLBACK_SECRET": SECRET,
            "VK_GROUP_ID": None,  # read from the token's community (groups.getById)
        },
    )
    await bot.start(wait_for_poll=False)
    poster = CallbackPoster(port)
    try:
        await poster.wait_ready(bot)
        yield bot, poster
        assert await bot.stop() == 0, bot.log_text()[-3000:]
    finally:
        await poster.session.close()
        await bot.kill()


async def test_callback_api_confirms_refuses_and_handles_retries_once(
    fake_vk: FakeVK, callback_bot: tuple[BotProcess, CallbackPoster]
) -> None:
    vk = fake_vk
    bot, poster = callback_bot
    user = VkUser(vk, 2001, bot=bot)

    status, text, _ = await poster.post({"type": "confirmation", "group_id": vk.group_id})
    assert (status, text) == (200, CONFIRMATION)

    event = vk.user_message(user.peer_id, "меню")
    for secret in ("wrong-secret", ""):
        status, text, _ = await poster.post(event, secret=secret)
        assert status == 403 and text != "ok"
    status, _, _ = await poster.post({**event, "group_id": vk.group_id + 1})
    assert status == 403
    assert (await poster.post(b"not json", secret=None))[0] == 400
    await asyncio.sleep(0.5)
    assert user.messages() == [], "a refused request was handled"
    # Logged once, not once per request: a flood of forged posts cannot flood the log.
    assert bot.log_text().count("wrong secret") == 1

    # "ok" comes once the answer is sent (messages.send is slow here), so the person's next
    # event, posted after it, cannot overtake this one on another replica.
    vk.delay_next("messages.send", 1.5)
    status, text, _ = await poster.post(event)
    assert (status, text) == (200, "ok")
    assert user.messages(), "ok came before the answer was sent"
    await user.reply()
    assert "Выберите раздел" in user.text
    replies = len(user.messages())

    # VK retries an event it doubts was received: the same event_id is handled once.
    for _ in range(2):
        assert (await poster.post(event))[:2] == (200, "ok")
    deadline = time.monotonic() + 10
    while bot.log_text().count("was delivered again") < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(user.messages()) == replies

    # A callback button pressed: message_event posted, answered, and the dialog moves on.
    press = vk.message_event(user.peer_id, {"p": "s:prepare"})
    assert (await poster.post(press))[:2] == (200, "ok")
    await user.reply()
    assert [a.peer_id for a in vk.event_answers] == [user.peer_id]
    assert "К какому типу относится ваше сообщество" in user.text

    # SIGKILL in the middle of a turn, before it committed (the public check waits on VK):
    # the event was stored before anything else, so the restarted process answers it, once,
    # although VK never posts it again (as after an "ok" sent at ANSWER_WITHIN).
    public = vk.add_public(make_public("healthy", screen_name="cb_coffee"))
    checking = VkUser(vk, 2002, bot=bot)
    executes = vk.count("execute")
    vk.delay_next("execute", 2.5)  # under VK_REQUEST_TIMEOUT: not retried by the bot
    posting = asyncio.create_task(
        poster.post(vk.user_message(checking.peer_id, "vk.com/cb_coffee"))
    )
    deadline = time.monotonic() + 30  # a hang guard
    while vk.count("execute") == executes:
        assert time.monotonic() < deadline, bot.log_text()[-3000:]
        await asyncio.sleep(0.02)
    await bot.kill()
    with pytest.raises(aiohttp.ClientError):
        await posting  # no "ok": the turn was cut off
    await bot.start(wait_for_poll=False)
    await poster.wait_ready(bot)
    admin = t("check.report.admin_title")
    deadline = time.monotonic() + 90  # a hang guard: a check after a restart
    while not any(admin in m.message for m in checking.messages()):
        assert time.monotonic() < deadline, bot.log_text()[-3000:]
        await asyncio.sleep(0.05)
    assert "handling 1 updates stored before a stop" in bot.log_text()
    shown = [m.message for m in checking.messages()]
    assert len(shown) == len(set(shown)), shown  # nothing twice
    assert any(public.spec.name in m.message and m.attachment for m in checking.messages())

    log = bot.log_text()
    for secret in (SECRET, CONFIRMATION, vk.group_token, vk.user_token):
        assert secret not in log
