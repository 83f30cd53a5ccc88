"""The real `promo-advisor telegram` process against the fake Telegram Bot API (and fake VK API),
played as a person would: typing, pressing buttons, reading what arrives."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from advisor.texts import t
from bot.telegram.commands import COMMANDS
from tests.chat_helpers import verdict_key
from tests.fakes.telegram_api import FakeTelegram, Output, TelegramUser
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public
from tests.telegram_driver import BotProcess, free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHECKLIST_ANSWERS = ["Да", "Нет", "Не знаю"]
# Error lines the tests below provoke on purpose; any other error line fails the module.
PROVOKED_ERRORS = (
    "failed: TelegramBadRequest: Telegram server says - Bad Request: provoked",
    "Failed to fetch updates - TelegramNetworkError",
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake
    assert fake.problems == []


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(
    tg: FakeTelegram, vk: FakeVK, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    """One polling process shared by the tests of this module (starting one takes seconds): a
    new interpreter, as `python -m bot telegram` starts (most tests start a fork, see
    tests/launcher.py)."""
    process = BotProcess(
        tg,
        tmp_path_factory.mktemp("telegram"),
        {"VK_API_URL": vk.base_url, "VK_USER_TOKEN": vk.user_token, "VK_REQUEST_TIMEOUT": "5"},
        fresh=True,
    )
    await process.start()
    yield process
    code = await process.stop()
    log = process.log_text()
    assert code == 0, log
    assert tg.token not in log and vk.user_token not in log, "a token leaked into the log"
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert [e for e in errors if not any(p in e for p in PROVOKED_ERRORS)] == [], log
    assert "never retrieved" not in log and "Unclosed" not in log, log


def sent(outputs: list[Output]) -> list[Output]:
    return [o for o in outputs if o.kind != "action"]


def shown(outputs: list[Output]) -> str:
    return "\n".join(o.text for o in outputs if o.kind != "action")


async def post_json(
    http: aiohttp.ClientSession, url: str, body: dict[str, object], headers: dict[str, str]
) -> int:
    async with http.post(url, json=body, headers=headers) as response:
        return response.status


async def open_checklist(user: TelegramUser) -> None:
    await user.say("/start")
    assert "Здравствуйте" in user.text
    await user.press("Подготовить сообщество")
    assert "К какому типу" in user.text
    await user.press("Коммерческое")
    await user.press("Продажи по любому ГЕО")
    await user.press("Пройти чек-лист")
    assert "Вопрос 1 из" in user.text


async def test_commands_are_registered_in_russian(bot: BotProcess, tg: FakeTelegram) -> None:
    assert [c["command"] for c in tg.commands] == list(COMMANDS)
    for command in tg.commands:
        assert re.search("[а-яА-Я]", command["description"]), command
    assert tg.calls_to("deleteWebhook"), "polling must clear a webhook left from another run"


async def test_start_to_finished_readiness_checklist(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user(first_name="Ольга")
    await open_checklist(user)
    total = int(re.search(r"Вопрос 1 из (\d+)", user.text).group(1))
    question = user.last[-1].message
    assert question is not None
    for number in range(1, total + 1):
        assert f"Вопрос {number} из {total}" in question.text
        await user.press(CHECKLIST_ANSWERS[number % 3])
        if number < total:
            # The next question replaces the answered one in place.
            assert [o.kind for o in sent(user.last)] == ["edit"], user.last
            assert user.last[0].message is question
    assert "Что доделать" in user.text
    assert tg.unanswered_callbacks() == []
    for message in user.messages():
        for button in message.buttons:
            assert len(button["callback_data"].encode()) <= 64


def photo_outputs(outputs: list[Output]) -> list[Output]:
    return [o for o in outputs if o.method == "sendPhoto"]


async def test_public_check_from_a_pasted_link(
    bot: BotProcess, tg: FakeTelegram, vk: FakeVK
) -> None:
    vk.add_public(make_public("healthy", id=5550101, screen_name="coffee_spb"))
    user = tg.user(first_name="Марина")
    await user.say(
        "Стоит ли брать рекламу в vk.com/coffee_spb?",
        until=lambda new: bool(photo_outputs(new)),
        seconds=40,
    )
    assert [o for o in user.last if o.kind == "action"], "no 'typing' while the check ran"
    # One status message for the public, its stage first, then replaced by its final line.
    first = sent(user.last)[0]
    assert first.text == t("check.progress.group", what="vk.com/coffee_spb")
    name = vk.public(5550101).spec.name
    assert first.message is not None
    assert first.message.text == t("check.progress.final_done", what=f"«{name}»")
    assert all(o.message is first.message for o in sent(user.last) if o.kind == "edit")
    photo = photo_outputs(user.last)[0].message
    assert photo is not None and photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    verdicts = [t(f"check.report.verdict.{key}") for key in ("buy", "caution", "avoid")]
    assert any(v in (photo.caption or "") for v in verdicts), photo.caption
    after = sent(user.last)[sent(user.last).index(photo_outputs(user.last)[0]) + 1 :]
    assert "vk.com/coffee_spb" in after[0].message.text


async def test_comparing_publics_updates_the_progress_message(
    bot: BotProcess, tg: FakeTelegram, vk: FakeVK
) -> None:
    vk.add_public(make_public("healthy", id=5550102, screen_name="tea_spb", name="Чай СПб"))
    vk.add_public(make_public("padded", id=5550103, screen_name="cakes_spb", name="Торты СПб"))
    user = tg.user()
    ranking = t("check.compare.title")
    await user.say(
        "Какой лучше: vk.com/tea_spb или https://vk.com/cakes_spb",
        until=lambda new: any("Подробнее: Торты СПб" in o.message.labels for o in new if o.message),
        seconds=40,
    )
    progress = [o for o in user.last if o.text.startswith("⏳")]
    assert progress[0].kind == "send"
    edits = [o for o in progress if o.kind == "edit"]
    assert edits and all(o.message is progress[0].message for o in edits)
    assert "2 из 2" in progress[-1].text
    # Two publics: a compact summary, no report and no chart yet…
    assert any("tea_spb" in (o.message.shown_text or "") for o in sent(user.last))
    assert not photo_outputs(user.last) and "Почему:" not in user.text
    # Each public's verdict in its own status message as soon as it is in, the ranking after.
    sends = [o for o in sent(user.last) if o.kind in ("send", "edit")]
    ranked = next(i for i, o in enumerate(sends) if o.text.startswith(ranking))
    for name, screen_name in (("Чай СПб", "tea_spb"), ("Торты СПб", "cakes_spb")):
        verdict_at = next(i for i, o in enumerate(sends) if o.text.startswith(f"«{name}» — "))
        assert verdict_at < ranked
        # The summary (committed with the turn, sent from the outbox) carries that verdict: a
        # kill before the commit costs the early lines only until the update is handled again.
        verdict = t(f"check.compare.verdict.{verdict_key(sends[verdict_at].text)}")
        assert f"«{name}» (vk.com/{screen_name}) — {verdict}:" in sends[ranked].text
    # …each report (with its chart, from the check's cache) behind its «Подробнее».
    requests = len(vk.requests)
    await user.press("Подробнее: Торты СПб", until=lambda new: bool(photo_outputs(new)))
    photo = photo_outputs(user.last)[0].message
    assert photo is not None and photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    assert "Почему:" in user.text and "vk.com/cakes_spb" in user.text
    assert len(vk.requests) == requests


async def test_contest_check(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user()
    await user.say("/contest")
    assert "текст условий конкурса" in user.text
    await user.say("Розыгрыш! Отметь трёх друзей в комментариях и подпишись на спонсоров.")
    text = user.text.lower()
    assert "друз" in text and "спонсор" in text


async def test_duplicate_update_is_answered_once(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user()
    update = user.send_text("/menu")
    await tg.settle(user.id, 0)
    answered = len(sent(user.outputs))
    tg.redeliver(update)
    await tg.wait_for(lambda: not tg.pending)
    await asyncio.sleep(0.8)
    assert len(sent(user.outputs)) == answered
    assert f":{update['update_id']} was delivered again" in bot.log_text()


async def test_flood_limit_waits_retry_after(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user()
    tg.fail("sendMessage", chat_id=user.id, code=429, retry_after=1)
    await user.say("/help")
    assert "Я веду по шагам" in user.text
    calls = tg.calls_to("sendMessage", user.id)
    assert calls[0].status == 429 and calls[1].status == 200
    assert calls[1].at - calls[0].at >= 0.95
    assert calls[0].params["text"] == calls[1].params["text"]


async def test_blocked_user_is_logged_once_and_not_retried(
    bot: BotProcess, tg: FakeTelegram
) -> None:
    user = tg.user()
    tg.block(user.id)
    user.send_text("/start")
    user.send_text("/help")
    await tg.wait_for(lambda: len(tg.calls_to("sendMessage", user.id)) >= 2)
    await asyncio.sleep(0.8)
    calls = tg.calls_to("sendMessage", user.id)
    assert [c.status for c in calls] == [403, 403]
    assert bot.log_text().count(f"chat {user.id} refuses messages") == 1


async def test_failure_in_a_handler_gives_an_apology(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user()
    tg.fail("sendMessage", chat_id=user.id, code=400, description="Bad Request: provoked")
    update = user.send_text("/help")
    await tg.settle(user.id, 0)
    assert user.messages()[-1].text == t("telegram.apology")
    # The reply waited in the outbox; its sender names the update it answers.
    assert f"the reply to update {tg.bot_id}:{update['update_id']} (chat {user.id}) failed" in (
        bot.log_text()
    )


async def test_non_text_message_gets_a_hint(bot: BotProcess, tg: FakeTelegram) -> None:
    user = tg.user()
    update = tg.text_update(user.id, "")
    del update["message"]["text"]
    update["message"]["location"] = {"latitude": 59.93, "longitude": 30.31}
    tg.enqueue(update)
    await tg.settle(user.id, 0)
    assert user.messages()[-1].text == t("telegram.text_only")


async def test_a_group_gets_one_line_and_nothing_is_stored(
    bot: BotProcess, tg: FakeTelegram
) -> None:
    group = tg.user(-1001234567)  # the group, as a chat the bot may write to
    member = tg.user()
    update = tg.text_update(member.id, "/start")
    update["message"]["chat"] = {"id": group.id, "type": "supergroup", "title": "Клуб"}
    update = tg.enqueue(update)
    await tg.settle(group.id, 0)
    assert [o.text for o in sent(group.outputs)] == [t("telegram.private_only")]
    assert sent(member.outputs) == []
    with sqlite3.connect(bot.workdir / "telegram.db") as db:
        stored = db.execute(
            "SELECT count(*) FROM users WHERE external_id IN (?, ?)",
            (str(group.id), str(member.id)),
        ).fetchone()[0]
        seen = db.execute(
            "SELECT count(*) FROM processed_events WHERE event_id LIKE ?",
            (f"%:{update['update_id']}",),
        ).fetchone()[0]
    assert (stored, seen) == (0, 0), "a group's update left state behind"


async def test_token_is_masked_when_aiogram_logs_a_request_url(
    bot: BotProcess, tg: FakeTelegram
) -> None:
    polls = len(tg.calls_to("getUpdates"))
    tg.redirect_loop("getUpdates")
    # An update ends the long poll under way, so the next poll meets the redirects at once.
    tg.user().send_text("/menu")
    await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > polls + 1, 20)
    log = bot.log_text()
    assert "TooManyRedirects" in log
    assert "/bot***/getUpdates" in log
    assert tg.token not in log
    assert tg.token.split(":")[1] not in log


async def test_restart_mid_checklist_continues_at_the_same_step(
    bot: BotProcess, tg: FakeTelegram, vk: FakeVK
) -> None:
    user = tg.user()
    await open_checklist(user)
    await user.press("Да")
    mark = len(user.outputs)
    last_handled = user.send_press("Нет")
    await tg.settle(user.id, mark)
    assert "Вопрос 3 из" in user.messages()[-1].text

    # SIGTERM while another person's public check is under way: it still gets its answer.
    checking = tg.user()
    vk.add_public(make_public("healthy", id=5550104, screen_name="bakery_spb"))
    vk.delay_next("execute", 1.5)
    checking.send_text("vk.com/bakery_spb")
    await tg.wait_for(lambda: any(o.kind == "send" for o in checking.outputs))
    code = await bot.stop()
    assert code == 0
    assert photo_outputs(checking.outputs), "the check under way was cut off by the stop"

    # While the bot is down the person presses on; Telegram keeps the update, and it also
    # redelivers the last one the stopped process may not have confirmed.
    mark = len(user.outputs)
    tg.redeliver(last_handled)
    user.send_press("Да")
    await bot.start()
    after_restart = await tg.settle(user.id, mark)
    # Exactly one answer: the press made while the bot was down; the redelivery is skipped.
    assert [o.kind for o in sent(after_restart)] == ["edit"]
    assert "Вопрос 4 из" in after_restart[-1].text


async def test_webhook_mode_checks_the_secret(tmp_path: Path) -> None:
    secret = "s3cret-for_tests"
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with FakeTelegram() as tg:
        process = BotProcess(
            tg,
            tmp_path,
            {
                "TELEGRAM_WEBHOOK_URL": url,
                "TELEGRAM_WEBHOOK_SECRET": secret,
                "TELEGRAM_WEBHOOK_HOST": "127.0.0.1",
                "TELEGRAM_WEBHOOK_PORT": str(port),
            },
        )
        await process.start()
        try:
            registered = tg.calls_to("setWebhook")[-1].params
            assert registered["url"] == url and registered["secret_token"] == secret
            assert set(json.loads(registered["allowed_updates"])) == {"message", "callback_query"}

            # Telegram itself delivers with the secret.
            user = tg.user()
            await user.say("/start")
            assert "Здравствуйте" in user.text
            await user.press("Проверить паблик")
            assert tg.unanswered_callbacks() == []

            intruder = tg.user()
            forged = {"update_id": 1, **tg.text_update(intruder.id, "/start")}
            async with aiohttp.ClientSession() as http:
                for value in ("wrong", "", "секрет", secret + "é"):
                    # A non-ASCII header is a wrong secret too (it was an HTTP 500).
                    headers = {"X-Telegram-Bot-Api-Secret-Token": value} if value else {}
                    async with http.post(url, json=forged, headers=headers) as response:
                        assert response.status == 401
                await asyncio.sleep(0.8)
                assert intruder.messages() == []
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 200
                # 200 comes after the turn: its answer is out by then.
                assert "Здравствуйте" in intruder.messages()[0].text
                greeted = len(intruder.outputs)
                # Telegram posts again an update it doubts was received: answered once.
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 200
                assert len(intruder.outputs) == greeted
                assert f":{forged['update_id']} was delivered again" in process.log_text()

            # SIGKILL while two presses are in their turns, before either committed (the
            # button's answer is stalled): one delivered by Telegram, which got no 200 and so
            # posts it again; one posted once and never again (as when aiogram answered 200
            # after 55 s while the turn went on), which only the inbox brings back.
            await user.say("/start")
            tg.stall("answerCallbackQuery", 5.0)
            acks = len(tg.calls_to("answerCallbackQuery"))
            redelivered = user.send_press("Подготовить сообщество")
            message, data = intruder.find_button("Подготовить сообщество")
            once = {"update_id": 2, **tg.callback_update(intruder.id, message, data)}
            async with aiohttp.ClientSession() as http:
                posting = asyncio.create_task(post_json(http, url, once, headers))
                await tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) >= acks + 2)
                assert await process.stop(signal.SIGKILL) == -signal.SIGKILL
                with pytest.raises(aiohttp.ClientError):
                    await posting
            tg.stall("answerCallbackQuery", 0)
            assert (redelivered["update_id"], 0) in tg.webhook_deliveries
            marks = {person.id: len(person.outputs) for person in (user, intruder)}
            await process.start()
            for person in (user, intruder):
                await tg.settle(
                    person.id, marks[person.id], until=lambda new: "К какому типу" in shown(new)
                )
            # The redelivery got its 200 after its turn; the stored copy's turn was fed first.
            await tg.wait_for(lambda: tg.pending == [])
            log = process.log_text()
            assert "handling 2 updates stored before a stop" in log
            # The user's press came twice (stored, posted again): one of them was skipped.
            assert f":{redelivered['update_id']} was delivered again" in log
            # Each press answered once, the same way for both.
            answers = [
                [o.text for o in sent(person.outputs[marks[person.id] :])]
                for person in (user, intruder)
            ]
            assert answers[0] == answers[1], answers
            assert "\n".join(answers[0]).count("К какому типу") == 1, answers[0]
        finally:
            code = await process.stop()
        log = process.log_text()
        assert code == 0, log
        assert secret not in log and tg.token not in log
        assert "Traceback" not in log
        assert log.count("wrong secret") == 1, "each refused request was logged"
