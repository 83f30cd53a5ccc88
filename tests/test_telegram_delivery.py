"""Engine replies turned into Telegram calls by a real aiogram Bot against the fake Bot API:
callback data, splitting, captions, files, HTML escaping, edits in place, 429 and 403."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from aiogram import Bot
from aiogram.types import CallbackQuery, Message, Update, User
from PIL import Image as PILImage
from sqlalchemy.exc import OperationalError

from advisor.app import Advisor
from advisor.config import get_settings
from advisor.dialog.types import MAX_PAYLOAD_BYTES, Button, Document, Image, Outgoing
from advisor.texts import t
from bot.cli import main as cli_main
from bot.logs import SecretFilter
from bot.telegram.delivery import Delivery
from bot.telegram.keyboards import EnginePress, inline_keyboard
from bot.telegram.middlewares import OncePerUpdate
from bot.turns import CLAIM_ATTEMPTS, TurnLifecycle
from tests.fakes.telegram_api import FakeTelegram, TelegramUser, utf16_len


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def bot(telegram_client: Bot) -> Bot:
    return telegram_client


@pytest.fixture
def user(tg: FakeTelegram) -> TelegramUser:
    return tg.user()


# --- callback data ---------------------------------------------------------------------------


def test_longest_engine_payload_fits_callback_data() -> None:
    # Colons of the engine's own format and multi-byte characters, exactly at the engine's limit.
    payload = "a:readiness:q:3:" + "я" * ((MAX_PAYLOAD_BYTES - 16) // 2)
    assert len(payload.encode()) == MAX_PAYLOAD_BYTES
    data = EnginePress(payload=payload).pack()
    assert len(data.encode()) <= 64
    assert EnginePress.unpack(data).payload == payload


def test_too_long_payload_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError):
        EnginePress(payload="x" * (MAX_PAYLOAD_BYTES + 1)).pack()


async def test_foreign_callback_data_does_not_match_the_filter() -> None:
    query_filter = EnginePress.filter()
    for data in ("other:thing", "e", "e:", "x:a:b"):
        query = CallbackQuery(
            id="1",
            from_user=User(id=1, is_bot=False, first_name="A"),
            chat_instance="1",
            data=data,
        )
        assert await query_filter(query) is False
    query = query.model_copy(update={"data": "e:a:s:q:1:y"})
    assert await query_filter(query) == {"callback_data": EnginePress(payload="a:s:q:1:y")}


def test_keyboard_rows_follow_engine_rows() -> None:
    rows = [[Button(label="Да", payload="a:x:y:0:y"), Button(label="Нет", payload="a:x:y:0:n")]]
    rows.append([Button(label="☰ Меню", payload="m")])
    markup = inline_keyboard(rows)
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Да", "Нет"], ["☰ Меню"]]
    assert markup.inline_keyboard[1][0].callback_data == "e:m"
    assert inline_keyboard([]) is None


# --- sending -----------------------------------------------------------------------------------


async def test_long_text_is_split_on_paragraphs_with_buttons_on_the_last(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    paragraphs = [f"Абзац {n}. " + "Текст совета про продвижение. " * 40 for n in range(12)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 3 * 4096
    buttons = [[Button(label="☰ Меню", payload="m")]]
    await Delivery(bot).send(user.id, [Outgoing(text=text, buttons=buttons)])
    messages = user.messages()
    assert len(messages) == 4
    assert all(utf16_len(m.text) <= 4096 for m in messages)
    assert all(m.text.rstrip().endswith(".") for m in messages), "cut inside a paragraph"
    assert "\n\n".join(m.text for m in messages).split() == text.split()
    assert [m.labels for m in messages] == [[], [], [], ["☰ Меню"]]


async def test_user_text_is_escaped_not_interpreted(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    text = "Ваше сообщество: <b>Кофе & Чай</b> <script>alert(1)</script> &amp; 5 < 7"
    await Delivery(bot).send(user.id, [Outgoing(text=text)])
    message = user.messages()[-1]
    assert message.text == text
    assert message.entities == []


async def test_emoji_heavy_text_fits_utf16_limit(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    text = "📈" * 3000
    await Delivery(bot).send(user.id, [Outgoing(text=text)])
    assert "".join(m.text for m in user.messages()) == text
    assert all(utf16_len(m.text) <= 4096 for m in user.messages())


async def test_photo_with_verdict_caption_then_report(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    reply = Outgoing(
        text="Подробный разбор паблика.",
        image=Image(png=png(), caption="Кофейня: ✅ Вердикт: брать"),
        buttons=[[Button(label="☰ Меню", payload="m")]],
    )
    await Delivery(bot).send(user.id, [reply])
    photo, report = user.messages()
    assert photo.photo == reply.image.png
    assert photo.caption == "Кофейня: ✅ Вердикт: брать"
    assert report.text == "Подробный разбор паблика."
    assert photo.labels == [] and report.labels == ["☰ Меню"]
    upload = tg.calls_to("sendPhoto")[0]
    assert upload.files and upload.params["photo"].startswith("attach://")


async def test_too_long_caption_goes_into_messages(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    caption = "Вердикт и его причины. " * 80
    assert len(caption) > 1024
    await Delivery(bot).send(
        user.id, [Outgoing(text="Итог.", image=Image(png=png(), caption=caption))]
    )
    photo, *texts = user.messages()
    assert photo.caption == t("telegram.chart_caption")
    assert texts[0].text == caption.strip()
    assert texts[-1].text == "Итог."


async def test_document_is_uploaded_with_its_name(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    table = Document(filename="размещения.xlsx", data=b"PK\x03\x04table", mime="application/zip")
    await Delivery(bot).send(user.id, [Outgoing(text="Ваша таблица.", document=table)])
    (message,) = user.messages()
    assert message.document == table.data
    assert message.document_name == "размещения.xlsx"
    assert message.caption == "Ваша таблица."


async def test_single_text_reply_edits_the_pressed_message(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    delivery = Delivery(bot)
    question = await bot.send_message(user.id, "Вопрос 1 из 3.")
    await delivery.send(user.id, [Outgoing(text="Вопрос 2 из 3.")], edit=question)
    assert [m.text for m in user.messages()] == ["Вопрос 2 из 3."]
    # The same content again (a re-rendered step) is not an error and sends nothing new.
    await delivery.send(user.id, [Outgoing(text="Вопрос 2 из 3.")], edit=question)
    assert len(user.messages()) == 1
    # Two messages are never squeezed into an edit.
    await delivery.send(
        user.id, [Outgoing(text="Готово."), Outgoing(text="Дальше?")], edit=question
    )
    assert [m.text for m in user.messages()] == ["Вопрос 2 из 3.", "Готово.", "Дальше?"]


async def test_uneditable_message_gets_a_new_one(
    tg: FakeTelegram, bot: Bot, user: TelegramUser
) -> None:
    gone = Message.model_validate(
        {
            "message_id": 999,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private"},
            "text": "старое",
        }
    )
    await Delivery(bot).send(user.id, [Outgoing(text="Новый шаг.")], edit=gone)
    assert [m.text for m in user.messages()] == ["Новый шаг."]
    assert tg.calls_to("editMessageText")[0].status == 400


async def test_flood_limit_is_waited_out(tg: FakeTelegram, bot: Bot, user: TelegramUser) -> None:
    tg.fail("sendMessage", code=429, retry_after=1, times=2)
    started = time.monotonic()
    await Delivery(bot).send(user.id, [Outgoing(text="Привет")])
    assert time.monotonic() - started >= 1.9
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 429, 200]


async def test_blocked_chat_is_logged_once_and_not_retried(
    tg: FakeTelegram, bot: Bot, user: TelegramUser, caplog: pytest.LogCaptureFixture
) -> None:
    tg.block(user.id)
    delivery = Delivery(bot)
    with caplog.at_level(logging.WARNING, logger="bot.telegram.delivery"):
        await delivery.send(user.id, [Outgoing(text="Раз"), Outgoing(text="Два")])
        await delivery.send(user.id, [Outgoing(text="Три")])
    assert [c.status for c in tg.calls_to("sendMessage")] == [403, 403]
    assert len([r for r in caplog.records if "refuses messages" in r.getMessage()]) == 1
    tg.unblock(user.id)
    await delivery.send(user.id, [Outgoing(text="Снова здесь")])
    assert user.messages()[-1].text == "Снова здесь"


def test_secret_filter_masks_bot_token_in_request_urls() -> None:
    token = "7000000001:AAHfakeTokenForTests-only_0123456789ab"
    record = logging.LogRecord(
        "aiogram.dispatcher",
        logging.ERROR,
        __file__,
        1,
        "Failed to fetch updates - %s: %s",
        ("TelegramNetworkError", f"url='http://127.0.0.1:1/bot{token}/getUpdates'"),
        None,
    )
    SecretFilter([]).filter(record)
    assert token not in record.getMessage()
    assert "/bot***/getUpdates" in record.getMessage()


# --- once per update -------------------------------------------------------------------------


class _Deliveries:
    """Stands in for the Advisor's claim and release of update ids (the database's answer)."""

    def __init__(self, answer: bool | Exception) -> None:
        self.answer = answer
        self.keys: list[tuple[str, str]] = []
        self.released: list[tuple[str, bool]] = []

    async def first_delivery(self, channel: str, event_id: str) -> bool:
        self.keys.append((channel, event_id))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def delivered(self, channel: str, event_id: str, *, handled: bool = True) -> None:
        self.released.append((event_id, handled))


@pytest.mark.parametrize(
    ("answer", "handled", "claims"),
    [
        (True, True, 1),
        (False, False, 1),
        # A busy database is waited out, then the update is handled anyway: never dropped.
        (OperationalError("INSERT", {}, Exception("locked")), True, CLAIM_ATTEMPTS),
    ],
)
async def test_update_is_handled_once_and_a_storage_failure_does_not_drop_it(
    answer: bool | Exception, handled: bool, claims: int
) -> None:
    deliveries = _Deliveries(answer)
    calls: list[int] = []

    async def handler(event: Update, data: dict[str, object]) -> str:
        calls.append(event.update_id)
        return "done"

    bot = Bot("42:" + "A" * 35)
    lifecycle = TurnLifecycle(cast(Advisor, deliveries), "telegram")
    result = await OncePerUpdate(lifecycle)(handler, Update(update_id=7), {"bot": bot})
    assert deliveries.keys == [("telegram", "42:7")] * claims
    assert calls == ([7] if handled else [])
    assert result == ("done" if handled else None)
    assert deliveries.released == ([("42:7", True)] if handled else [])
    assert lifecycle.in_hand == 0


async def test_a_cancelled_turn_is_released_for_a_fresh_redelivery() -> None:
    deliveries = _Deliveries(True)
    lifecycle = TurnLifecycle(cast(Advisor, deliveries), "vk")
    started = asyncio.Event()

    async def turn() -> None:
        async with lifecycle.turn("e1") as fresh:
            assert fresh
            started.set()
            await asyncio.Event().wait()  # a long turn, stopped by a shutdown

    task = asyncio.create_task(turn())
    await started.wait()
    assert lifecycle.in_hand == 1
    assert not await lifecycle.drain(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert deliveries.released == [("e1", False)]
    assert await lifecycle.drain(1)


# --- start-up errors -------------------------------------------------------------------------


@pytest.fixture
def fake_in_thread() -> Iterator[FakeTelegram]:
    """The fake on its own loop, for code that runs ``asyncio.run`` itself (the CLI)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeTelegram()
    asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.mark.parametrize(
    ("token", "code", "text"),
    [
        ("7000000001:" + "B" * 35, 2, "telegram.unauthorized"),  # well-formed, refused by the API
        ("not-a-token", 2, "telegram.bad_token"),
    ],
)
def test_cli_explains_a_refused_token(
    fake_in_thread: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
    code: int,
    text: str,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("TELEGRAM_API_URL", fake_in_thread.base_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setattr("bot.cli.telegram.setup_logging", lambda *args, **kwargs: None)
    get_settings.cache_clear()
    try:
        assert cli_main(["telegram"]) == code
    finally:
        get_settings.cache_clear()
    assert t(text) in capsys.readouterr().err
