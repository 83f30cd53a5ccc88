"""The real `promo-advisor vk` process on Bots Long Poll, against the fake VK API.

One bot process serves the whole module (it starts in seconds: vkbottle's types are big); each
test is a different VK user, so conversations do not meet. The bot logs at DEBUG, and the last
test reads the whole log for tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import openpyxl
import pytest
import pytest_asyncio
from aiohttp import web

from tests.fakes.vk_api import FakeVK, make_public
from tests.vk_bot_driver import TEXT_ONLY_CLIENT, BotProcess, VkUser

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKLIST_DONE = "Что доделать"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake
    assert fake.schema_violations == [], "fake VK answers violate the VK schema"
    assert fake.unimplemented_calls == [], "methods the fake VK API does not implement yet"
    assert fake.internal_errors == [], "the fake VK API crashed"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(vk: FakeVK, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    env = {"LOG_LEVEL": "DEBUG", "HEALTH_PORT": str(_free_port())}
    # A new interpreter, as `python -m bot vk` starts (most tests start a fork: tests/launcher.py).
    process = BotProcess(vk, tmp_path_factory.mktemp("vkbot"), env, fresh=True)
    await process.start()
    yield process
    try:
        assert await process.stop() == 0, process.log_text()[-3000:]
    finally:
        await process.kill()


async def _checklist(user: VkUser) -> int:
    """Answers the readiness checklist by buttons until the to-do list; the number of answers."""
    await user.press_through_pages("Подготовить сообщество")
    await user.press_through_pages("Коммерческое")
    await user.press_through_pages("Продажи по любому ГЕО")
    await user.press_through_pages("Пройти чек-лист")
    answers = 0
    while CHECKLIST_DONE not in user.text:
        assert "Вопрос" in user.text, user.text
        await user.press("Нет" if answers % 3 == 1 else "Да")
        answers += 1
        assert answers < 40, "the checklist never ends"
    return answers


async def test_start_to_finished_checklist_by_callback_buttons(vk: FakeVK, bot: BotProcess) -> None:
    user = VkUser(vk, 1001, bot=bot)
    # VK's own «Начать» button of a first dialog.
    await user.say("Начать", payload={"command": "start"})
    assert "Здравствуйте" in user.text
    menu = user.last[-1]
    keyboard = menu.keyboard_data
    assert keyboard is not None and keyboard["inline"] is True
    # Eight menu entries do not fit VK's six inline rows: two pages.
    assert len(keyboard["buttons"]) <= 6 and menu.button_labels()[-1] == "Далее ▸"
    assert all(b["action"]["type"] == "callback" for r in keyboard["buttons"] for b in r)
    first_page = menu.button_labels()
    await user.press("Далее ▸")
    assert "страница 2 из 2" in user.text
    assert "◂ Назад" in user.last[-1].button_labels()
    await user.press("◂ Назад")
    assert user.last[-1].button_labels() == first_page

    answers = await _checklist(user)
    assert answers >= 10
    # Every press was a message_event, and every one was answered (the spinner stopped).
    presses = [e for e in vk.longpoll.events if e["type"] == "message_event"]
    mine = [e for e in presses if e["object"]["peer_id"] == user.peer_id]
    answered = {a.event_id for a in vk.event_answers if a.peer_id == user.peer_id}
    assert {e["object"]["event_id"] for e in mine} == answered
    sent = user.messages()
    assert len({m.random_id for m in sent}) == len(sent)
    assert all(m.keyboard is None or json.loads(m.keyboard)["inline"] for m in sent)


async def test_same_checklist_with_a_client_without_inline_keyboards(
    vk: FakeVK, bot: BotProcess
) -> None:
    user = VkUser(vk, 1002, client_info=dict(TEXT_ONLY_CLIENT), bot=bot)
    await user.say("привет")
    assert "Здравствуйте" in user.text
    keyboard = user.last[-1].keyboard_data
    assert keyboard is not None and keyboard["inline"] is False
    assert "Подготовить сообщество" in user.last[-1].button_labels()
    answers = await _checklist(user)
    assert answers >= 10
    # Text buttons: each press was a message_new carrying the label and our JSON payload.
    pressed = [
        e["object"]["message"]
        for e in vk.longpoll.events
        if e["type"] == "message_new" and e["object"]["message"]["peer_id"] == user.peer_id
    ]
    assert sum(1 for m in pressed if "payload" in m) >= answers
    for message in user.messages():
        data = message.keyboard_data
        if data is not None:
            assert data["inline"] is False
            assert all(b["action"]["type"] == "text" for r in data["buttons"] for b in r)
    assert not [a for a in vk.event_answers if a.peer_id == user.peer_id]


async def test_public_check_from_a_pasted_link_with_the_chart(vk: FakeVK, bot: BotProcess) -> None:
    public = vk.add_public(make_public("healthy", screen_name="coffee_house"))
    user = VkUser(vk, 1003, bot=bot)
    await user.say("Здравствуйте! Стоит ли брать рекламу в https://vk.com/coffee_house ?")
    # The answer may take several messages (status lines first): wait for the chart.
    deadline = time.monotonic() + 90
    while not any(m.attachment for m in user.messages()):
        assert time.monotonic() < deadline, [m.message[:80] for m in user.messages()]
        await asyncio.sleep(0.05)
        bot.assert_running()
    with_photo = next(m for m in user.messages() if m.attachment)
    owner, photo_id, key = with_photo.attachment.removeprefix("photo").split("_")
    saved = vk.saved_photos[(int(owner), int(photo_id))]
    assert saved.access_key == key and saved.data.startswith(b"\x89PNG")
    assert int(owner) == -vk.group_id  # uploaded with the community token
    assert public.spec.name in with_photo.message
    # The public's wall was read with the user token, never the community's.
    walls = [r for r in vk.requests if r.method == "wall.get" and r.token_type is not None]
    assert walls and all(r.token_type == "user" for r in walls)
    # "Typing…" was shown while the check ran: before the chart was sent.
    assert [a.type for a in vk.activities if a.peer_id == user.peer_id][:1] == ["typing"]
    typing = next(
        i
        for i, r in enumerate(vk.requests)
        if r.method == "messages.setActivity" and r.params.get("peer_id") == str(user.peer_id)
    )
    sent = [
        i
        for i, r in enumerate(vk.requests)
        if r.method == "messages.send" and r.params.get("attachment", "").startswith("photo")
    ]
    assert sent and typing < sent[0]

    # The chart cannot be saved: the verdict still comes, without the photo, saying so.
    other = VkUser(vk, 1010, bot=bot)
    vk.fail_next("photos.saveMessagesPhoto", 121)
    vk.user_message(other.peer_id, "vk.com/coffee_house")
    await _until(lambda: any("График загрузить не удалось" in m.message for m in other.messages()))
    verdict = next(m for m in other.messages() if "График загрузить не удалось" in m.message)
    assert verdict.attachment is None and public.spec.name in verdict.message


async def test_several_publics_a_summary_then_each_report_on_request(
    vk: FakeVK, bot: BotProcess
) -> None:
    vk.add_public(make_public("healthy", screen_name="tea_vlg", name="Чай Волгоград"))
    vk.add_public(make_public("padded", screen_name="cakes_vlg", name="Торты Волгоград"))
    user = VkUser(vk, 1041, bot=bot)
    vk.user_message(user.peer_id, "что лучше: vk.com/tea_vlg или vk.com/cakes_vlg?")
    await _until(
        lambda: any("Подробнее: Торты Волгоград" in m.button_labels() for m in user.messages())
    )
    await user.reply()
    summary = next(m for m in user.messages() if "Подробнее: Торты Волгоград" in m.button_labels())
    assert "Сравнение пабликов" in summary.message and "Почему:" not in summary.message
    assert not any(m.attachment for m in user.messages())  # no chart before it is asked for
    requests = len(vk.requests)
    await user.press("Подробнее: Торты Волгоград")
    await _until(lambda: any(m.attachment for m in user.messages()))
    report = next(m for m in user.messages() if m.attachment)
    assert "Почему:" in report.message and "vk.com/cakes_vlg" in report.message
    reads = {"groups.getById", "wall.get", "groups.getMembers", "execute"}
    assert not [r for r in vk.requests[requests:] if r.method in reads]


async def test_the_tracker_export_arrives_as_a_document(vk: FakeVK, bot: BotProcess) -> None:
    user = VkUser(vk, 1031, bot=bot)
    await user.say("меню")
    await user.press_through_pages("Учёт размещений")
    await user.press_through_pages("Добавить одной строкой")
    await user.say("-; Кулинария; биржа ВК; видео; 1500; 01.03.2025; 12000; 300; 40")
    assert "Записал размещение" in user.text, user.text
    await user.say("меню")
    await user.press_through_pages("Учёт размещений")
    await user.press_through_pages("Выгрузить таблицу")
    await user.press_through_pages("Excel (XLSX)")
    await _until(lambda: vk.docs_sent_to(user.peer_id))
    (doc,) = vk.docs_sent_to(user.peer_id)
    assert doc.owner_id == -vk.group_id and doc.ext == "xlsx"  # saved with the community token
    sheet = openpyxl.load_workbook(io.BytesIO(doc.data))["Размещения"]
    assert [c.value for c in sheet["C"]] == ["Паблик", "Кулинария"]
    with_doc = next(m for m in user.messages() if m.attachment and "doc" in m.attachment)
    assert "строк 1" in with_doc.message
    methods = [r.method for r in vk.requests]
    assert methods.index("docs.getMessagesUploadServer") < methods.index("docs.save")

    # VK refuses to save it: the table's message still comes, saying the file is missing.
    vk.fail_next("docs.save", 105)
    await user.press_through_pages("Другой формат")
    await user.press_through_pages("Excel (XLSX)")
    await _until(lambda: any("приложить не удалось" in m.message for m in user.messages()))
    assert len(vk.docs_sent_to(user.peer_id)) == 1


async def test_long_poll_failures_1_2_3_are_recovered(vk: FakeVK, bot: BotProcess) -> None:
    user = VkUser(vk, 1004, bot=bot)
    await user.say("меню")
    for code in (1, 2, 3):
        servers = vk.count("groups.getLongPollServer")
        await bot.wait_listening()
        polls = vk.longpoll.polls
        vk.longpoll_fail(code)
        # The bot polls again (failed 1 with VK's new ts; 2 and 3 with a new key) ...
        await _until(lambda p=polls: vk.longpoll.polls > p and vk.longpoll.waiting > 0)
        assert vk.count("groups.getLongPollServer") == servers + (code != 1)
        # ... and what is written next reaches it.
        await user.say("меню")
        assert "Выберите раздел" in user.text, (code, user.text)
    log = bot.log_text()
    for line in ("history outdated", "key expired", "information lost"):
        assert line in log


@contextlib.asynccontextmanager
async def _dropping_proxy(target: str, seconds: float) -> AsyncIterator[str]:
    """A long poll server in front of the fake's that cuts every connection for ``seconds``
    from the first request on (by time: aiohttp itself re-sends some idempotent requests)."""
    window: list[float] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if not window:
            window.append(time.monotonic() + seconds)
        if time.monotonic() < window[0]:
            assert request.transport is not None
            request.transport.close()  # the connection dies without an answer
            return web.Response()
        async with session.get(target, params=request.query) as answer:
            body = await answer.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    async with aiohttp.ClientSession() as session:
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            await runner.cleanup()


async def test_a_dropped_long_poll_connection_reconnects_with_backoff(
    vk: FakeVK, bot: BotProcess
) -> None:
    user = VkUser(vk, 1009, bot=bot)
    real = vk.longpoll.server_url
    problems = bot.log_text().count("connection problem")
    async with _dropping_proxy(real, seconds=2.5) as proxy:
        vk.longpoll.server_url = proxy
        try:
            await bot.wait_listening()
            vk.longpoll_fail(2)  # the bot fetches the (proxied) server anew
            await _until(lambda: bot.log_text().count("connection problem") >= problems + 2)
            await user.say("меню")  # answered once the connection holds again
            assert "Выберите раздел" in user.text
        finally:
            vk.longpoll.server_url = real
            polls = vk.longpoll.polls
            vk.longpoll_fail(2)
            await _until(lambda: vk.longpoll.polls > polls and vk.longpoll.waiting > 0)
    delays = [
        float(line.rsplit("reconnecting in ", 1)[1].split()[0])
        for line in bot.log_text().splitlines()
        if "reconnecting in" in line
    ][problems:]
    assert len(delays) >= 2 and delays == sorted(delays), delays  # exponential backoff


async def test_vk_errors_retried_refused_or_apologised(vk: FakeVK, bot: BotProcess) -> None:
    user = VkUser(vk, 1005, bot=bot)
    vk.fail_next("messages.send", 10, times=2)  # internal server error: retried
    vk.fail_next("messages.sendMessageEventAnswer", 6)  # too many requests: retried
    await user.say("меню")
    assert "Выберите раздел" in user.text
    await user.press("Подготовить сообщество")
    await _until(lambda: any(a.peer_id == user.peer_id for a in vk.event_answers))
    assert [r.error for r in vk.requests if r.method == "messages.sendMessageEventAnswer"][-2:] == [
        6,
        None,
    ]

    quiet = VkUser(vk, 1006, bot=bot)
    vk.fail_next("messages.send", 901)  # the person never allowed the community's messages
    vk.user_message(quiet.peer_id, "меню")
    await _until(lambda: "does not accept the community's messages" in bot.log_text())
    assert quiet.messages() == []

    slow = VkUser(vk, 1011, bot=bot)
    vk.delay_next("messages.send", 3.5)  # longer than VK_REQUEST_TIMEOUT: a timeout, a retry
    await slow.say("меню")
    await asyncio.sleep(1.0)  # the late first attempt lands too, with the same random_id
    assert len(slow.messages()) == 1 and "Выберите раздел" in slow.text
    assert "retry 1 after TimeoutError" in bot.log_text()

    broken = VkUser(vk, 1007, bot=bot)
    vk.fail_next("messages.send", 914)  # message too long: not retried, an apology instead
    await broken.say("меню")
    assert "Извините, не получилось отправить ответ" in broken.text
    assert "(chat 1007) failed: VkApiError" in bot.log_text()  # the outbox sender's line


async def test_a_burst_of_users_is_answered_through_execute_batches(
    vk: FakeVK, bot: BotProcess
) -> None:
    users = [VkUser(vk, 5000 + n, bot=bot) for n in range(40)]
    executes = vk.count("execute")
    vk.fail_next("messages.send", 10)  # inside a batch: that call is retried alone
    for user in users:
        vk.user_message(user.peer_id, "привет")
    await asyncio.gather(*(user.reply(within=30) for user in users))
    for user in users:
        # A reply's pieces stay in order: the greeting, then the menu with its keyboard.
        assert [m.message.split()[0] for m in user.last] == ["Здравствуйте!", "Что"]
    assert vk.count("execute") > executes
    inner = [r for r in vk.requests if r.inner and r.method == "messages.send"]
    assert len(inner) >= len(users)
    assert any(r.error == 10 for r in inner)


async def test_a_redelivered_event_is_handled_once(vk: FakeVK, bot: BotProcess) -> None:
    user = VkUser(vk, 1008, bot=bot)
    event = vk.user_message(user.peer_id, "меню")
    await user.reply()
    before = len(user.messages())
    vk.longpoll.push(event)  # the same event_id again, as after a reconnect
    await _until(lambda: "was delivered again" in bot.log_text())
    await asyncio.sleep(0.3)
    assert len(user.messages()) == before


async def test_health_and_metrics_of_the_vk_bot(vk: FakeVK, bot: BotProcess) -> None:
    port = bot.extra_env["HEALTH_PORT"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
            metrics = await response.text()
    assert 'promo_advisor_updates_total{channel="vk"}' in metrics
    assert 'promo_advisor_api_seconds_count{api="vk",method="execute"}' in metrics
    assert 'promo_advisor_queue_depth{channel="vk"} 0.0' in metrics


async def test_no_token_in_the_whole_log(vk: FakeVK, bot: BotProcess) -> None:
    await bot.stop()
    log = bot.log_text()
    assert "DEBUG" in log and "messages.send" in log  # the run was logged in detail
    for secret in (vk.group_token, vk.user_token, vk.service_token):
        assert secret not in log
    assert "access_token=" not in log.replace("access_token=***", "")
    assert "Traceback" not in log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _until(condition, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
