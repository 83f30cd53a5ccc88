"""Reading the JSON body of a webhook (Telegram) or callback (VK) request, strictly.

Anything a platform would never send is refused before it reaches a handler: bytes that are not
UTF-8 or not JSON, nesting deep enough to exhaust the parser, and escaped lone surrogates
(``"\\ud800"``), which JSON allows but no text can be stored or sent with.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class UnreadableBody(ValueError):
    """The request body is not a JSON document a platform could have sent."""


def parse_body(raw: bytes) -> Any:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableBody(type(exc).__name__) from None
    except RecursionError:
        raise UnreadableBody("nested too deeply") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableBody("lone surrogate in a string") from None
    except RecursionError:
        raise UnreadableBody("nested too deeply") from None
    return value


async def read_json(request: web.Request) -> Any:
    """The parsed body; UnreadableBody when it is not one (a body over the server's size limit
    raises aiohttp's 413 as usual)."""
    return parse_body(await request.read())


_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF.:[]")


def sender(request: web.Request) -> str:
    """Who sent the request, for a log line: the peer, and behind a reverse proxy the client it
    names in X-Real-IP (shown only when it looks like an address: the header is the client's to
    forge, and a log line must not carry what it says)."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Real-IP", "")
    if forwarded and len(forwarded) <= 45 and set(forwarded) <= _ADDRESS_CHARS:
        return f"{forwarded} (via {peer})"
    return peer
