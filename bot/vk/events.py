"""A Bots Long Poll / Callback API event → what the person did, ready for the engine.

Pure translation: no I/O. ``message_new`` (a typed text or a text button with our payload) and
``message_event`` (a pressed callback button) are understood; other types are ignored. Only
private dialogs are served: a group chat would get the coach's answers to everyone's chatter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advisor.dialog import payloads
from advisor.dialog.types import MAX_PAYLOAD_BYTES, Incoming
from bot.vk.keyboards import ENGINE_KEY, PAGE_KEY, ClientCaps

CHAT_PEER_START = 2_000_000_000
# A button payload is ours and short; anything longer was not made by this bot.
MAX_PAYLOAD_CHARS = 255
START_TEXT = "/start"
RESUME = payloads.encode(payloads.RESUME)  # shows the current step again


@dataclass(frozen=True)
class EventAnswer:
    """What messages.sendMessageEventAnswer needs to stop the button's spinner."""

    event_id: str
    user_id: int
    peer_id: int


@dataclass(frozen=True)
class VkAction:
    """One thing a person did in the community's messages."""

    event_id: str
    peer_id: int
    caps: ClientCaps
    incoming: Incoming | None = None  # for the engine
    page: int | None = None  # a «далее» / «назад» press of a paged keyboard
    answer: EventAnswer | None = None  # set for message_event


def decode_payload(raw: Any) -> dict[str, Any] | None:
    """A button payload as VK delivers it (a JSON string, or an object in message_event)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw or len(raw) > MAX_PAYLOAD_CHARS:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _page(payload: Mapping[str, Any]) -> int | None:
    page = _int(payload.get(PAGE_KEY))
    return max(page, 0) if page is not None else None


def _engine_payload(payload: Mapping[str, Any]) -> str | None:
    value = payload.get(ENGINE_KEY)
    if not isinstance(value, str) or not value:
        return None
    try:
        size = len(value.encode())
    except UnicodeEncodeError:  # an escaped lone surrogate: no button of ours has one
        return None
    if size > MAX_PAYLOAD_BYTES:
        return None  # not one of the engine's payloads: never handed to it
    return value


def attachment_links(message: Mapping[str, Any]) -> list[str]:
    """Links carried by attachments: a shared post names its public, a link card its URL."""
    links = []
    attachments = message.get("attachments")
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        body = item.get(kind) if isinstance(kind, str) else None
        if not isinstance(body, Mapping):
            continue
        if kind == "link" and isinstance(body.get("url"), str):
            links.append(body["url"])
        elif kind == "wall":
            owner, post = _int(body.get("owner_id", body.get("to_id"))), _int(body.get("id"))
            if owner is not None and post is not None:
                links.append(f"https://vk.com/wall{owner}_{post}")
    return links


def _message_text(message: Mapping[str, Any]) -> str:
    text = message.get("text")
    text = text if isinstance(text, str) else ""
    extra = [link for link in attachment_links(message) if link not in text]
    return "\n".join([text, *extra]) if extra else text


def parse_update(update: Mapping[str, Any]) -> VkAction | None:
    """The action of one update, or None for what the bot does not answer."""
    kind = update.get("type")
    obj = update.get("object")
    event_id = update.get("event_id")
    if not isinstance(obj, Mapping) or not isinstance(event_id, str) or not event_id:
        return None
    if kind == "message_new":
        return _message_new(event_id, obj)
    if kind == "message_event":
        return _message_event(event_id, obj)
    return None


def _private_peer(peer_id: int | None, from_id: int | None) -> bool:
    return peer_id is not None and 0 < peer_id < CHAT_PEER_START and peer_id == from_id


def _message_new(event_id: str, obj: Mapping[str, Any]) -> VkAction | None:
    message = obj.get("message")
    if not isinstance(message, Mapping):
        return None
    peer_id, from_id = _int(message.get("peer_id")), _int(message.get("from_id"))
    if not _private_peer(peer_id, from_id) or message.get("out") in (1, True):
        return None
    assert peer_id is not None
    caps = ClientCaps.from_client_info(obj.get("client_info"))
    user_id = str(peer_id)
    payload = decode_payload(message.get("payload"))
    if payload is not None:
        page = _page(payload)
        if page is not None:
            return VkAction(event_id, peer_id, caps, page=page)
        engine = _engine_payload(payload)
        if engine is not None:
            return VkAction(
                event_id, peer_id, caps, Incoming(channel="vk", user_id=user_id, payload=engine)
            )
        if payload.get("command") == "start":
            # VK's own «Начать» button of a first dialog.
            return VkAction(
                event_id, peer_id, caps, Incoming(channel="vk", user_id=user_id, text=START_TEXT)
            )
    text = _message_text(message)
    return VkAction(event_id, peer_id, caps, Incoming(channel="vk", user_id=user_id, text=text))


def _message_event(event_id: str, obj: Mapping[str, Any]) -> VkAction | None:
    peer_id, user_id = _int(obj.get("peer_id")), _int(obj.get("user_id"))
    button_event = obj.get("event_id")
    if not isinstance(button_event, str) or user_id is None or peer_id is None:
        return None
    answer = EventAnswer(button_event, user_id, peer_id)
    caps = ClientCaps.callback_client()
    if not _private_peer(peer_id, user_id):
        return VkAction(event_id, peer_id, caps, answer=answer)
    payload = decode_payload(obj.get("payload")) or {}
    page = _page(payload)
    if page is not None:
        return VkAction(event_id, peer_id, caps, page=page, answer=answer)
    # A button this bot did not make (an older version's, a forged one): the current step again.
    engine = _engine_payload(payload) or RESUME
    incoming = Incoming(channel="vk", user_id=str(peer_id), payload=engine)
    return VkAction(event_id, peer_id, caps, incoming, answer=answer)
