"""Strict reading of webhook bodies, and naming the sender of a refused request in a log line."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from bot.webhook_body import UnreadableBody, parse_body, sender


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", b"{", b'{"a": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["not utf-8", "not json", "lone surrogate", "deep nesting"],
)
def test_unreadable_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(UnreadableBody):
        parse_body(raw)


def test_a_platforms_body_is_read() -> None:
    assert parse_body('{"update_id": 1, "text": "привет"}'.encode()) == {
        "update_id": 1,
        "text": "привет",
    }


def test_the_sender_behind_a_proxy_is_the_address_it_names() -> None:
    request = make_mocked_request("POST", "/telegram/", headers={"X-Real-IP": "203.0.113.7"})
    assert sender(request).startswith("203.0.113.7 (via ")


@pytest.mark.parametrize(
    "forged",
    ["1.2.3.4\n2026-11-25 ERROR fake line", "<script>", "x" * 100, "token=123:ABC"],
)
def test_a_forged_header_is_not_written_to_the_log(forged: str) -> None:
    request = make_mocked_request("POST", "/vk/", headers={"X-Real-IP": forged})
    assert forged not in sender(request)
    assert "via" not in sender(request)
