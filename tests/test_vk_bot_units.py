"""The VK front-end's pure parts: event translation, keyboards and pages, pieces, random_id."""

from __future__ import annotations

import asyncio
import json

import pytest

from advisor.dialog.types import Button, Image, Outgoing
from bot.vk.events import parse_update
from bot.vk.keyboards import (
    INLINE_LIMITS,
    REGULAR_LIMITS,
    ClientCaps,
    KeyboardMode,
    build_keyboard,
    paginate,
)
from bot.vk.longpoll import HandledTs, _resume_ts, backoff_delay
from bot.vk.outgoing import plan_reply, random_id
from tests.fakes.vk_schema import load_schema
from tests.vk_bot_driver import CALLBACK_CLIENT, TEXT_ONLY_CLIENT


def _buttons(count: int, per_row: int = 1) -> list[list[Button]]:
    flat = [Button(label=f"Вариант {n}", payload=f"a:x:y:{n}") for n in range(count)]
    return [flat[i : i + per_row] for i in range(0, count, per_row)]


def _message_new(text: str, payload: object = None, client_info: object = None) -> dict:
    message: dict = {"id": 1, "date": 1, "from_id": 7, "peer_id": 7, "text": text, "out": 0}
    if payload is not None:
        message["payload"] = payload if isinstance(payload, str) else json.dumps(payload)
    return {
        "type": "message_new",
        "event_id": "e1",
        "group_id": 1,
        "v": "5.199",
        "object": {"message": message, "client_info": client_info},
    }


# --- event translation -------------------------------------------------------------------


def test_typed_text_and_text_button_payload() -> None:
    action = parse_update(_message_new("привет", client_info=TEXT_ONLY_CLIENT))
    assert action is not None and action.incoming is not None
    assert action.incoming.text == "привет" and action.incoming.user_id == "7"
    assert action.caps.mode is KeyboardMode.TEXT
    pressed = parse_update(_message_new("Да", {"p": "a:prep:x:0:y"}, CALLBACK_CLIENT))
    assert pressed is not None and pressed.incoming is not None
    assert pressed.incoming.payload == "a:prep:x:0:y" and pressed.incoming.text is None
    assert pressed.caps.mode is KeyboardMode.CALLBACK


def test_vk_start_button_and_foreign_payloads() -> None:
    start = parse_update(_message_new("Начать", {"command": "start"}))
    assert start is not None and start.incoming is not None
    assert start.incoming.text == "/start"
    # A payload this bot did not make: the typed text is what counts.
    too_long = json.dumps({"p": "a:" + "x" * 60})
    for payload in ('{"button":"1"}', "not json", "[1,2]", '{"p":' + '"x' * 300 + '"}', too_long):
        action = parse_update(_message_new("меню", payload))
        assert action is not None and action.incoming is not None
        assert action.incoming.text == "меню", payload


def test_page_buttons_are_the_front_ends_own() -> None:
    action = parse_update(_message_new("Далее ▸", {"pg": 2}))
    assert action is not None and action.page == 2 and action.incoming is None
    negative = parse_update(_message_new("x", {"pg": -4}))
    assert negative is not None and negative.page == 0


def test_message_event_translation() -> None:
    update = {
        "type": "message_event",
        "event_id": "e2",
        "group_id": 1,
        "v": "5.199",
        "object": {"user_id": 7, "peer_id": 7, "event_id": "btn1", "payload": {"p": "m"}},
    }
    action = parse_update(update)
    assert action is not None and action.answer is not None
    assert action.answer.event_id == "btn1" and action.incoming is not None
    assert action.incoming.payload == "m"
    assert action.caps.mode is KeyboardMode.CALLBACK
    # An unknown payload is still answered (the spinner stops) and shows the current step, so
    # the press does not go unanswered.
    update["object"]["payload"] = {"other": 1}
    foreign = parse_update(update)
    assert foreign is not None and foreign.answer is not None and foreign.incoming is not None
    assert foreign.incoming.payload == "r"


def test_ignored_updates() -> None:
    chat = _message_new("всем привет")
    chat["object"]["message"]["peer_id"] = 2_000_000_001
    assert parse_update(chat) is None
    assert parse_update({"type": "group_join", "event_id": "e", "object": {"user_id": 1}}) is None
    assert parse_update({"type": "message_new", "object": "junk"}) is None
    no_event_id = _message_new("x")
    del no_event_id["event_id"]
    assert parse_update(no_event_id) is None


def test_shared_post_and_link_attachments_become_links() -> None:
    update = _message_new("стоит брать?")
    update["object"]["message"]["attachments"] = [
        {"type": "wall", "wall": {"id": 55, "owner_id": -123, "from_id": -123}},
        {"type": "link", "link": {"url": "https://vk.com/coffee", "title": "x"}},
    ]
    action = parse_update(update)
    assert action is not None and action.incoming is not None
    assert action.incoming.text == "стоит брать?\nhttps://vk.com/wall-123_55\nhttps://vk.com/coffee"


def test_client_caps_modes() -> None:
    assert ClientCaps.from_client_info(CALLBACK_CLIENT).mode is KeyboardMode.CALLBACK
    assert ClientCaps.from_client_info(TEXT_ONLY_CLIENT).mode is KeyboardMode.TEXT
    inline_text = {**TEXT_ONLY_CLIENT, "inline_keyboard": True}
    assert ClientCaps.from_client_info(inline_text).mode is KeyboardMode.INLINE_TEXT
    bare = {"keyboard": False, "inline_keyboard": False, "button_actions": []}
    assert ClientCaps.from_client_info(bare).mode is KeyboardMode.NONE
    assert ClientCaps.from_client_info(None).mode is KeyboardMode.TEXT


# --- keyboards ------------------------------------------------------------------------------


@pytest.mark.parametrize("limits", [INLINE_LIMITS, REGULAR_LIMITS])
@pytest.mark.parametrize(("count", "per_row"), [(1, 1), (8, 1), (10, 2), (45, 3), (60, 5)])
def test_pages_respect_vk_limits_and_keep_every_button(limits, count: int, per_row: int) -> None:
    rows = _buttons(count, per_row)
    pages = paginate(rows, limits)
    flat = [b for page in pages for row in page for b in row]
    assert flat == [b for row in rows for b in row]
    for page in pages:
        pager = 1 if len(pages) > 1 else 0
        assert len(page) + pager <= limits.rows
        assert sum(map(len, page)) + 2 * pager <= limits.total
        assert all(len(row) <= limits.per_row for row in page)


def test_a_row_is_never_split_between_pages() -> None:
    rows = [[Button(label=w, payload=w) for w in ("Да", "Нет", "Не знаю")]] * 4
    for page in paginate(rows, INLINE_LIMITS):
        assert all(len(row) == 3 for row in page)


def test_keyboard_json_is_valid_for_vk() -> None:
    schema = load_schema()
    long_label = Button(label="Очень длинная подпись кнопки, которая не влезет", payload="m")
    rows = [[long_label], *_buttons(12)]
    for mode in (KeyboardMode.CALLBACK, KeyboardMode.INLINE_TEXT, KeyboardMode.TEXT):
        keyboard, _, pages = build_keyboard(rows, mode, page=1)
        assert keyboard is not None
        data = json.loads(keyboard)
        assert data["inline"] is (mode is not KeyboardMode.TEXT)
        for row in data["buttons"]:
            for button in row:
                assert (
                    schema.check_object("messages/objects.json", "messages_keyboard_button", button)
                    == []
                )
                assert len(button["action"]["label"]) <= 40
                assert json.loads(button["action"]["payload"])
                kind = "callback" if mode is KeyboardMode.CALLBACK else "text"
                assert button["action"]["type"] == kind
        labels = [b["action"]["label"] for row in data["buttons"] for b in row]
        if pages > 1:
            assert "◂ Назад" in labels
    first, _, _ = build_keyboard(rows, KeyboardMode.CALLBACK, page=0)
    assert first is not None
    assert "Очень длинная подпись кнопки, которая н…" in first


def test_text_mode_clears_a_stale_keyboard() -> None:
    keyboard, _, pages = build_keyboard([], KeyboardMode.TEXT)
    assert keyboard is not None and json.loads(keyboard)["buttons"] == [] and pages == 0
    assert build_keyboard([], KeyboardMode.CALLBACK)[0] is None


# --- pieces -----------------------------------------------------------------------------------


def test_long_text_is_split_and_the_keyboard_rides_on_the_last_piece() -> None:
    text = ("Абзац про продвижение сообщества. " * 40 + "\n\n") * 8
    reply = [Outgoing(text=text, buttons=_buttons(3), image=Image(png=b"png", caption="Итог"))]
    pieces = plan_reply(reply, KeyboardMode.CALLBACK)
    assert len(pieces) > 1
    assert all(len(p.text) <= 4096 for p in pieces)
    assert pieces[0].image is not None and all(p.image is None for p in pieces[1:])
    assert pieces[-1].keyboard is not None and all(p.keyboard is None for p in pieces[:-1])
    assert pieces[0].text.startswith("Итог")


def test_text_mode_puts_the_last_buttons_on_the_last_message() -> None:
    reply = [Outgoing(text="Меню", buttons=_buttons(2)), Outgoing(text="Подсказка")]
    pieces = plan_reply(reply, KeyboardMode.TEXT)
    assert [p.keyboard is None for p in pieces] == [True, False]
    assert "Вариант 1" in (pieces[-1].keyboard or "")


def test_no_keyboard_client_reads_the_options() -> None:
    pieces = plan_reply([Outgoing(text="Выберите:", buttons=_buttons(2))], KeyboardMode.NONE)
    assert pieces[0].keyboard is None
    assert "• Вариант 0" in pieces[0].text and "• Вариант 1" in pieces[0].text


def test_random_id_is_stable_distinct_and_int32() -> None:
    ids = {random_id(f"event{n}", piece) for n in range(300) for piece in range(5)}
    assert len(ids) == 1500
    assert all(0 < value < 2**31 for value in ids)
    assert random_id("abc", 0) == random_id("abc", 0) != random_id("abc", 1)


# --- long poll bookkeeping --------------------------------------------------------------------


async def test_handled_ts_advances_only_past_fully_handled_batches(tmp_path) -> None:
    from advisor.storage.db import create_engine
    from advisor.storage.longpoll_positions import LongPollPositions
    from advisor.storage.migrate import upgrade

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'lp.db'}")
    await upgrade(engine)
    try:
        state = HandledTs(LongPollPositions(engine, 5))
        first = state.batch("5", 2)
        second = state.batch("7", 1)
        second()
        assert state.committed is None  # the earlier batch is still running
        first()
        assert state.committed is None
        first()
        assert state.committed == "7"
        state.batch("8", 0)
        assert state.committed == "8"
        await state.save()
        # In the database, per community; a new process (another HandledTs) finds it there.
        assert await HandledTs(LongPollPositions(engine, 5)).load() == "8"
        assert await HandledTs(LongPollPositions(engine, 6)).load() is None
        state.batch("9", 0)
        await state.save()
        assert await HandledTs(LongPollPositions(engine, 5)).load() == "9"

        # An older version's file is read once, while the database has no position.
        legacy = tmp_path / "vk-longpoll-6.json"
        legacy.write_text('{"ts": "41"}', encoding="utf-8")
        moved = HandledTs(LongPollPositions(engine, 6, legacy))
        assert await moved.load() == "41"
        moved.batch("42", 0)
        await moved.save()
        legacy.write_text('{"ts": "1"}', encoding="utf-8")
        assert await HandledTs(LongPollPositions(engine, 6, legacy)).load() == "42"
    finally:
        await engine.dispose()


def test_resume_and_backoff() -> None:
    assert _resume_ts(None, "10") == "10"
    assert _resume_ts("4", "10") == "4"
    assert _resume_ts("40", "10") == "10"  # a restarted counter: the saved point is void
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[0] < 1 and max(delays) <= 36 and delays[5] > delays[0]


# --- execute batches --------------------------------------------------------------------------


async def test_batch_script_runs_units_in_order_and_stops_a_unit_after_a_failure() -> None:
    from bot.vk.batch import _Call, batch_script, script_call
    from tests.fakes.vk_script import run_script

    made: list[tuple[str, dict[str, str]]] = []

    async def call_api(method: str, params: dict[str, str]) -> tuple[bool, object]:
        made.append((method, params))
        if params.get("message") == "сбой":
            return False, {"error_code": 914, "error_msg": "Message is too long"}
        return True, len(made)

    loop = asyncio.get_running_loop()

    def unit(*texts: str) -> list[_Call]:
        calls = []
        for text in texts:
            params = {"peer_id": 1, "random_id": 5, "message": text}
            script = script_call("messages.send", params)
            calls.append(_Call("messages.send", params, script, loop.create_future()))
        return calls

    tricky = 'кавычки " и \\ слеш, перенос\nстроки и ☰ «ёлочки»'
    value, errors = await run_script(
        batch_script([unit("раз", tricky), unit("сбой", "не отправлять"), unit("три")]), call_api
    )
    assert value == [1, 2, False, None, 4]
    assert [e["error_code"] for e in errors] == [914]
    assert [p["message"] for _, p in made] == ["раз", tricky, "сбой", "три"]


# --- configuration ----------------------------------------------------------------------------


async def test_missing_settings_stop_the_bot_with_a_clear_log_line(caplog, tmp_path) -> None:
    from pydantic import SecretStr

    from advisor.config import Settings
    from bot.vk.runner import run_vk, state_path

    database = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert await run_vk(Settings(database_url=database, vk_group_token=None)) == 2
    assert "VK_GROUP_TOKEN is not set" in caplog.text
    half_callback = Settings(
        database_url=database, vk_group_token=SecretStr("t" * 20), vk_callback_port=8099
    )
    assert await run_vk(half_callback) == 2
    assert "VK_CALLBACK_CONFIRMATION is not" in caplog.text
    # Callback mode without the secret would accept a forged message_new from anyone.
    for secret in (None, SecretStr("  ")):
        no_secret = Settings(
            database_url=database,
            vk_group_token=SecretStr("t" * 20),
            vk_callback_port=8099,
            vk_callback_confirmation=SecretStr("c0nfirm"),
            vk_callback_secret=secret,
        )
        caplog.clear()
        assert await run_vk(no_secret) == 2
        assert "VK_CALLBACK_SECRET is not" in caplog.text
    assert state_path(Settings(database_url=database), 5) == tmp_path / "vk-longpoll-5.json"
    assert state_path(Settings(database_url="sqlite+aiosqlite:///:memory:"), 5) is None


async def test_a_community_id_vk_refuses_stops_the_bot_for_the_operator(
    fake_vk, tmp_path, caplog
) -> None:
    from pydantic import SecretStr

    from advisor.config import Settings
    from bot.vk.runner import run_vk

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        vk_api_url=fake_vk.base_url,
        vk_group_token=SecretStr(fake_vk.group_token),
        vk_group_id=fake_vk.group_id + 1,  # long poll of a community the token does not manage
    )
    assert await run_vk(settings) == 2
    assert "check VK_GROUP_TOKEN, VK_GROUP_ID" in caplog.text
    assert fake_vk.group_token not in caplog.text


async def test_sender_against_the_fake_vk_document_and_random_id_dedup(fake_vk) -> None:
    import aiohttp
    from pydantic import SecretStr

    from advisor.config import Settings
    from advisor.dialog.types import Document
    from advisor.vk.api import VkClient
    from bot.vk.batch import CallBatcher
    from bot.vk.outgoing import Piece
    from bot.vk.sender import VkSender

    settings = Settings(vk_api_url=fake_vk.base_url, vk_request_timeout=3)
    client = VkClient(settings, SecretStr(fake_vk.group_token), "group")
    calls = CallBatcher(client)
    fake_vk.allow_messages(77)
    table = Document(filename="razmeshcheniya.xlsx", data=b"PK\x03\x04", mime="application/zip")
    pieces = [Piece("Таблица размещений в Excel: строк 3."), Piece("", document=table)]
    try:
        async with aiohttp.ClientSession() as http:
            sender = VkSender(calls, http, 3)
            assert await sender.send_pieces(77, "event-1", pieces)
            # The same event again (a redelivery that slipped through): VK drops the copies.
            assert await sender.send_pieces(77, "event-1", pieces)
    finally:
        await calls.close()
        await client.close()
    sent = fake_vk.messages_to(77)
    assert len(sent) == 2
    # The table is a document of the community, attached to its message.
    assert sent[1].message == "" and sent[1].attachment.startswith(f"doc-{fake_vk.group_id}_")
    (doc,) = fake_vk.docs_sent_to(77)
    assert (doc.title, doc.ext, doc.data) == ("razmeshcheniya.xlsx", "xlsx", b"PK\x03\x04")
