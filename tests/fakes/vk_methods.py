"""Method handlers of the fake VK API.

A handler takes the FakeVK state and one call, returns the `response` value, or raises
VKError. Token checks, rate limits, fault injection and schema validation happen around it
in vk_api.FakeVK, once for HTTP calls and execute's inner calls alike.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .vk_data import Community, Member
from .vk_objects import group_object, post_object, stats_periods, user_object
from .vk_script import ScriptCompileError, ScriptRuntimeError, run_script

if TYPE_CHECKING:
    from .vk_api import FakeVK

MAX_MESSAGE_CHARS = 4096
MAX_WALL_COUNT = 100
MAX_MEMBERS_COUNT = 1000
_ATTACHMENT_RE = re.compile(
    r"^(photo|video|audio|doc|wall|market|poll|link|story|clip)(-?\d+)_(\d+)(?:_([0-9A-Za-z]+))?$"
)
_GROUP_ALIAS_RE = re.compile(r"^(?:club|public|event)(\d+)$")


class VKError(Exception):
    """A VK API error; the message is errors.json's description plus an optional detail."""

    def __init__(self, code: int, detail: str | None = None, *, subcode: int | None = None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.subcode = subcode


@dataclass
class Call:
    """One method call as a handler sees it."""

    method: str
    params: dict[str, str]
    token_type: str
    inner: bool = False

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else default

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise VKError(100, f"{name} not integer") from None

    def flag(self, name: str) -> bool:
        return (self.text(name) or "0").lower() in {"1", "true"}

    def items(self, name: str) -> list[str]:
        value = self.text(name)
        return [part.strip() for part in value.split(",") if part.strip()] if value else []


@dataclass(frozen=True)
class ExecuteResult:
    """execute's value plus the errors of its inner calls (the envelope's execute_errors)."""

    value: Any
    errors: list[dict[str, Any]]


Handler = Callable[["FakeVK", Call], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[name] = function
        return function

    return register


# -- lookups ---------------------------------------------------------------------------


def find_community(vk: FakeVK, ref: str) -> Community | None:
    """A community by id, screen name, or club123/public123/event123 alias."""
    ref = ref.strip()
    if ref.lstrip("-").isdigit():
        return vk.communities.get(abs(int(ref)))
    alias = _GROUP_ALIAS_RE.match(ref)
    if alias:
        found = vk.communities.get(int(alias.group(1)))
        if found is not None:
            return found
    return vk.communities_by_name.get(ref.lower())


def find_member(vk: FakeVK, user_id: int) -> Member | None:
    user = vk.users.get(user_id)
    if user is not None:
        return Member.from_user(user)
    for community in vk.communities.values():
        index = community.member_index(user_id)
        if index is not None:
            return community.member(index)
    return None


def _closed_detail(community: Community, what: str) -> str | None:
    spec = community.spec
    if spec.deactivated == "deleted":
        return "community deleted"
    if spec.deactivated == "banned":
        return "community blocked"
    if spec.is_closed:
        return f"this {what} is available only for community members"
    return None


# -- utils / groups / users ------------------------------------------------------------


@handler("utils.resolveScreenName")
async def resolve_screen_name(vk: FakeVK, call: Call) -> Any:
    name = (call.text("screen_name") or "").strip().lower()
    if not name:
        raise VKError(100, "screen_name is undefined")
    community = find_community(vk, name) if not name.lstrip("-").isdigit() else None
    if community is not None:
        return {"type": community.spec.type, "object_id": community.id}
    user_alias = re.fullmatch(r"id(\d+)", name)
    if user_alias and int(user_alias.group(1)) in vk.users:
        return {"type": "user", "object_id": int(user_alias.group(1))}
    user = vk.users_by_name.get(name)
    if user is not None:
        return {"type": "user", "object_id": user.id}
    app_alias = re.fullmatch(r"app(\d+)", name)
    if app_alias and int(app_alias.group(1)) in vk.apps:
        return {"type": "application", "object_id": int(app_alias.group(1))}
    app = vk.apps_by_name.get(name)
    if app is not None:
        return {"type": "application", "object_id": app.id}
    return []  # VK's answer for an unknown name (an empty PHP array)


@handler("utils.getServerTime")
async def get_server_time(vk: FakeVK, call: Call) -> Any:
    return int(time.time())


@handler("groups.getById")
async def groups_get_by_id(vk: FakeVK, call: Call) -> Any:
    refs = call.items("group_ids") or call.items("group_id")
    if not refs:
        if call.token_type != "group":
            raise VKError(100, "group_ids is undefined")
        refs = [str(vk.group_id)]
    found = [c for c in (find_community(vk, ref) for ref in refs) if c is not None]
    if not found:
        raise VKError(100, "group_ids is undefined")
    fields = call.items("fields")
    groups = [group_object(c, fields, user_viewer=call.token_type == "user") for c in found]
    return {"groups": groups, "profiles": []}


@handler("groups.getMembers")
async def groups_get_members(vk: FakeVK, call: Call) -> Any:
    ref = call.text("group_id")
    if ref is None:
        raise VKError(100, "group_id is undefined")
    community = find_community(vk, ref)
    if community is None:
        raise VKError(125)
    closed = _closed_detail(community, "community")
    is_own = call.token_type == "group" and community.id == vk.group_id
    if closed and not is_own:
        raise VKError(15, closed)
    if community.spec.members_hidden and not is_own:
        raise VKError(15, "group hide members")
    offset = call.integer("offset", 0) or 0
    count = call.integer("count", MAX_MEMBERS_COUNT)
    if offset < 0 or count is None or not 0 <= count <= MAX_MEMBERS_COUNT:
        raise VKError(100, "count or offset is invalid")
    sort = call.text("sort", "id_asc")
    if sort not in {"id_asc", "id_desc", "time_asc", "time_desc"}:
        raise VKError(100, "sort is invalid")
    if sort.startswith("time") and not is_own:
        raise VKError(15, "sorting by time is available only to community managers")
    flt = call.text("filter")
    fields = call.items("fields")
    if flt is not None:
        return _filtered_members(vk, call, community, flt, fields, is_own)
    members = community.members(offset, count, descending=sort.endswith("desc"))
    if fields:
        items: list[Any] = [user_object(m, fields, vk.now) for m in members]
    else:
        items = [m.id for m in members]
    return {"count": community.spec.members_count, "items": items}


def _filtered_members(
    vk: FakeVK, call: Call, community: Community, flt: str, fields: list[str], is_own: bool
) -> Any:
    if flt == "managers":
        if not is_own:
            raise VKError(15, "you must be a manager of this community")
        items = [{"id": uid, "role": "administrator"} for uid in community.spec.managers]
        return {"count": len(items), "items": items}
    if flt in {"friends", "unsure", "donut"}:
        if flt == "friends" and call.token_type != "user":
            raise VKError(15, "friends filter needs a user token")
        return {"count": 0, "items": []}
    raise VKError(100, "filter is invalid")


MAX_IS_MEMBER_IDS = 500


def _is_member(vk: FakeVK, community: Community, user_id: int) -> bool:
    """A member of `community`: one of its own generated members, or a member of another
    served community that `also_in` says is in it too."""
    if community.member_index(user_id) is not None:
        return True
    for other in vk.communities.values():
        if other is community or community.id not in other.spec.also_in:
            continue
        index = other.member_index(user_id)
        if index is not None:
            return other.in_also(index, community.id)
    return False


@handler("groups.isMember")
async def groups_is_member(vk: FakeVK, call: Call) -> Any:
    ref = call.text("group_id")
    if ref is None:
        raise VKError(100, "group_id is undefined")
    community = find_community(vk, ref)
    if community is None:  # the schema lists no method error for it: VK answers 100
        raise VKError(100, "group_id is invalid")
    if call.flag("extended"):
        raise VKError(100, "extended is not supported by the fake")
    refs = call.items("user_ids")
    if refs:
        if len(refs) > MAX_IS_MEMBER_IDS:
            raise VKError(100, f"user_ids: at most {MAX_IS_MEMBER_IDS} ids")
        if not all(ref.isdigit() and int(ref) > 0 for ref in refs):
            raise VKError(100, "user_ids must be positive integers")
        return [
            {"member": int(_is_member(vk, community, int(ref))), "user_id": int(ref)}
            for ref in refs
        ]
    user_id = call.integer("user_id")
    if user_id is None:
        if call.token_type != "user":
            raise VKError(100, "user_id is undefined")
        user_id = vk.user_id
    return int(_is_member(vk, community, user_id))


@handler("users.get")
async def users_get(vk: FakeVK, call: Call) -> Any:
    refs = call.items("user_ids")
    if not refs:
        refs = [str(vk.user_id)] if call.token_type == "user" else []
    fields = call.items("fields")
    result = []
    for ref in refs:
        if ref.isdigit():
            member = find_member(vk, int(ref))
            if member is None:  # VK answers a DELETED stub for an unused id
                member = Member(int(ref), "DELETED", "", 0, "deleted", None, 0, None, False, None)
        else:
            user = vk.users_by_name.get(ref.lower())
            alias = re.fullmatch(r"id(\d+)", ref)
            if user is None and alias:
                user = vk.users.get(int(alias.group(1)))
            if user is None:
                raise VKError(113)
            member = Member.from_user(user)
        result.append(user_object(member, fields, vk.now))
    return result


@handler("groups.getLongPollServer")
async def groups_get_long_poll_server(vk: FakeVK, call: Call) -> Any:
    group_id = call.integer("group_id")
    if group_id is None:
        raise VKError(100, "group_id is undefined")
    if group_id != vk.group_id:
        raise VKError(15, "no access to this community's long poll")
    return vk.longpoll.server_info()


# -- wall ------------------------------------------------------------------------------


def _wall_community(vk: FakeVK, call: Call) -> Community | None:
    owner = call.text("owner_id")
    if owner is not None:
        owner_id = call.integer("owner_id") or 0
        if owner_id >= 0:
            if owner_id and find_member(vk, owner_id) is None:
                raise VKError(100, "owner_id is incorrect")
            return None  # a user's wall: the fake keeps none
        community = vk.communities.get(-owner_id)
    elif call.text("domain") is not None:
        community = find_community(vk, call.text("domain") or "")
        if community is None and (call.text("domain") or "").lower() in vk.users_by_name:
            return None
    else:
        raise VKError(100, "owner_id is undefined")
    if community is None:
        raise VKError(100, "owner_id is incorrect")
    closed = _closed_detail(community, "wall")
    if closed:
        raise VKError(15, closed)
    return community


def _extended(vk: FakeVK, posts: list[dict[str, Any]], fields: list[str]) -> dict[str, Any]:
    owners = set()
    for post in posts:
        for item in [post, *post.get("copy_history", [])]:
            owners.add(item["owner_id"])
            owners.add(item["from_id"])
    profiles, groups = [], []
    for owner in sorted(owners):
        if owner > 0:
            member = find_member(vk, owner)
            if member is not None:
                profiles.append(user_object(member, fields, vk.now))
        else:
            community = vk.communities.get(-owner)
            if community is not None:
                groups.append(group_object(community, fields, user_viewer=False))
    return {"profiles": profiles, "groups": groups}


@handler("wall.get")
async def wall_get(vk: FakeVK, call: Call) -> Any:
    community = _wall_community(vk, call)
    offset = call.integer("offset", 0) or 0
    count = call.integer("count", 20)
    if offset < 0 or count is None or not 0 <= count <= MAX_WALL_COUNT:
        raise VKError(100, "count or offset is invalid")
    flt = call.text("filter", "all")
    if flt in {"postponed", "suggests", "donut"}:
        raise VKError(15, "only community managers can see these posts")
    if flt not in {"all", "owner", "others"}:
        raise VKError(100, "filter is invalid")
    posts: list[dict[str, Any]] = []
    total = 0
    if community is not None:
        positions: Sequence[int] = range(community.posts_count)
        if flt != "all":
            own = community.owner_id
            positions = [
                p for p in positions if (community.author_of(p) == own) == (flt == "owner")
            ]
        total = len(positions)
        posts = [
            post_object(community.post_at(p), community.owner_id)
            for p in positions[offset : offset + count]
        ]
    response: dict[str, Any] = {"count": total, "items": posts}
    if call.flag("extended"):
        response |= _extended(vk, posts, call.items("fields"))
    return response


@handler("wall.getById")
async def wall_get_by_id(vk: FakeVK, call: Call) -> Any:
    refs = call.items("posts")
    if not refs:
        raise VKError(100, "posts is undefined")
    items = []
    for ref in refs:
        match = re.fullmatch(r"(-?\d+)_(\d+)", ref)
        if match is None:
            raise VKError(100, "posts is invalid")
        owner_id, post_id = int(match.group(1)), int(match.group(2))
        community = vk.communities.get(-owner_id) if owner_id < 0 else None
        if community is None or _closed_detail(community, "wall"):
            continue
        post = community.post_by_id(post_id)
        if post is not None:
            items.append(post_object(post, owner_id))
    response: dict[str, Any] = {"items": items}
    if call.flag("extended"):
        response |= _extended(vk, items, call.items("fields"))
    return response


# -- stats -----------------------------------------------------------------------------


@handler("stats.get")
async def stats_get(vk: FakeVK, call: Call) -> Any:
    ref = call.text("group_id")
    if ref is None:
        raise VKError(100, "group_id is undefined")
    community = find_community(vk, ref)
    if community is None:
        raise VKError(100, "group_id is invalid")
    if not community.spec.stats_access:
        raise VKError(15, "no access to call this method")
    interval = call.text("interval", "day") or "day"
    if interval not in {"day", "week", "month", "year", "all"}:
        raise VKError(100, "interval is invalid")
    count = call.integer("intervals_count")
    if count is None:
        start = call.integer("timestamp_from")
        end = call.integer("timestamp_to", vk.now) or vk.now
        count = max(1, (end - start) // 86_400) if start else 7
    until = call.integer("timestamp_to", vk.now) or vk.now
    return stats_periods(community, interval, min(count, 100), until)


# -- execute ---------------------------------------------------------------------------


@handler("execute")
async def execute(vk: FakeVK, call: Call) -> Any:
    code = call.text("code")
    if code is None:
        raise VKError(100, "code is undefined")

    async def call_api(method: str, params: dict[str, str]) -> tuple[bool, Any]:
        return await vk.inner_call(method, params, call.token_type)

    try:
        value, errors = await run_script(code, call_api)
    except ScriptCompileError as error:
        raise VKError(12, str(error)) from None
    except ScriptRuntimeError as error:
        raise VKError(13, str(error)) from None
    return ExecuteResult(value, errors)


# -- messages --------------------------------------------------------------------------


def _check_keyboard(vk: FakeVK, raw: str) -> None:
    try:
        keyboard = json.loads(raw)
    except ValueError:
        raise VKError(911, "keyboard is not JSON") from None
    if not isinstance(keyboard, dict) or not isinstance(keyboard.get("buttons"), list):
        raise VKError(911, "buttons must be an array")
    rows = keyboard["buttons"]
    inline = bool(keyboard.get("inline"))
    max_rows, max_buttons = (6, 10) if inline else (10, 40)
    if len(rows) > max_rows or sum(len(r) for r in rows if isinstance(r, list)) > max_buttons:
        raise VKError(911, "too many buttons")
    for row in rows:
        if not isinstance(row, list) or len(row) > 5:
            raise VKError(911, "a row is an array of at most 5 buttons")
        for button in row:
            _check_button(vk, button)


def _check_button(vk: FakeVK, button: Any) -> None:
    action = button.get("action") if isinstance(button, dict) else None
    payload = action.get("payload") if isinstance(action, dict) else None
    if isinstance(payload, dict | list):
        # VK takes the payload as a JSON string or as JSON itself (vkbottle sends the latter).
        payload = json.dumps(payload, ensure_ascii=False)
        button = {**button, "action": {**action, "payload": payload}}  # type: ignore[dict-item]
    problems = vk.schema.check_object("messages/objects.json", "messages_keyboard_button", button)
    if problems:
        raise VKError(911, problems[0])
    if len(button["action"].get("label", "")) > 40:
        raise VKError(911, "label is longer than 40 characters")
    if payload is not None:
        if len(payload) > 255:
            raise VKError(911, "payload is longer than 255 characters")
        try:
            json.loads(payload)
        except ValueError:
            raise VKError(911, "payload is not JSON") from None


def _check_attachments(vk: FakeVK, value: str) -> None:
    for item in value.split(","):
        match = _ATTACHMENT_RE.match(item.strip())
        if match is None:
            raise VKError(100, f"attachment {item!r} is invalid")
        kind, owner_id, item_id, key = match.groups()
        if kind == "photo" and int(owner_id) in vk.photo_owners():
            photo = vk.saved_photos.get((int(owner_id), int(item_id)))
            if photo is None or (key is not None and key != photo.access_key):
                raise VKError(100, f"attachment {item!r} is invalid")
        if kind == "doc" and int(owner_id) in vk.photo_owners():
            doc = vk.saved_docs.get((int(owner_id), int(item_id)))
            if doc is None or (key is not None and key != doc.access_key):
                raise VKError(100, f"attachment {item!r} is invalid")


@handler("messages.send")
async def messages_send(vk: FakeVK, call: Call) -> Any:
    peers = [int(p) for p in call.items("peer_ids")] if call.text("peer_ids") else []
    single = call.integer("peer_id") or call.integer("user_id")
    if not peers and single is None:
        raise VKError(100, "peer_id is undefined")
    random_id = call.integer("random_id")
    if random_id is None:
        raise VKError(100, "random_id is a required parameter")
    text = call.text("message", "") or ""
    attachment = call.text("attachment")
    if not text and not attachment and not call.text("sticker_id"):
        raise VKError(100, "message is empty or invalid")
    if len(text) > MAX_MESSAGE_CHARS:
        raise VKError(914)
    keyboard = call.text("keyboard")
    if keyboard is not None:
        _check_keyboard(vk, keyboard)
    if attachment:
        _check_attachments(vk, attachment)
    results = []
    for peer_id in peers or [single]:
        if call.token_type == "group" and peer_id not in vk.allowed_peers:
            raise VKError(901)
        sent = vk.deliver(peer_id, text, keyboard, attachment, random_id, call.text("payload"))
        results.append(
            {
                "peer_id": peer_id,
                "message_id": sent.message_id,
                "conversation_message_id": sent.conversation_message_id,
            }
        )
    return results if peers else results[0]["message_id"]


@handler("messages.edit")
async def messages_edit(vk: FakeVK, call: Call) -> Any:
    # The community edits its own message in a conversation: by message_id (cmid is not kept).
    peer_id, message_id = call.integer("peer_id"), call.integer("message_id")
    if peer_id is None:
        raise VKError(100, "peer_id is undefined")
    if message_id is None:
        raise VKError(100, "message_id or cmid is required")
    text = call.text("message", "") or ""
    if not text and not call.text("attachment"):
        raise VKError(100, "message is empty or invalid")
    if len(text) > MAX_MESSAGE_CHARS:
        raise VKError(914)
    keyboard = call.text("keyboard")
    if keyboard is not None:
        _check_keyboard(vk, keyboard)
    if call.token_type == "group" and peer_id not in vk.allowed_peers:
        raise VKError(901)
    try:
        vk.edit_message(peer_id, message_id, text)
    except KeyError:
        # VK: "Access denied" for a message that is not the community's in this conversation.
        raise VKError(15, "Access denied: message not found") from None
    return 1


@handler("messages.sendMessageEventAnswer")
async def send_message_event_answer(vk: FakeVK, call: Call) -> Any:
    event_id = call.text("event_id")
    user_id, peer_id = call.integer("user_id"), call.integer("peer_id")
    if event_id is None or user_id is None or peer_id is None:
        raise VKError(100, "event_id, user_id and peer_id are required")
    issued = vk.issued_events.get(event_id)
    if issued is None or issued != (user_id, peer_id):
        raise VKError(100, "event_id is invalid")
    raw = call.text("event_data")
    data = None
    if raw is not None:
        try:
            data = json.loads(raw)
        except ValueError:
            raise VKError(100, "event_data is not JSON") from None
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "show_snackbar":
            if not isinstance(data.get("text"), str) or not 0 < len(data["text"]) <= 90:
                raise VKError(100, "event_data.text must be 1..90 characters")
        elif kind == "open_link":
            if not isinstance(data.get("link"), str):
                raise VKError(100, "event_data.link is required")
        elif kind == "open_app":
            if not isinstance(data.get("app_id"), int):
                raise VKError(100, "event_data.app_id is required")
        else:
            raise VKError(100, "event_data.type is invalid")
    vk.record_event_answer(event_id, user_id, peer_id, data)
    return 1


@handler("messages.setActivity")
async def messages_set_activity(vk: FakeVK, call: Call) -> Any:
    peer_id = call.integer("peer_id") or call.integer("user_id")
    if peer_id is None:
        raise VKError(100, "peer_id is undefined")
    kind = call.text("type", "typing") or "typing"
    if kind not in ("audiomessage", "file", "photo", "typing", "video"):
        raise VKError(100, "type is invalid")
    if call.token_type == "group" and peer_id not in vk.allowed_peers:
        raise VKError(901, "Can't send messages for users without permission")
    vk.record_activity(peer_id, kind)
    return 1


# -- docs ------------------------------------------------------------------------------


@handler("docs.getMessagesUploadServer")
async def docs_get_messages_upload_server(vk: FakeVK, call: Call) -> Any:
    kind = call.text("type", "doc") or "doc"
    if kind not in ("audio_message", "doc", "graffiti"):
        raise VKError(100, "type is invalid")
    peer_id = call.integer("peer_id")
    if call.token_type == "group":
        if peer_id is None:
            raise VKError(100, "peer_id is undefined")
        if peer_id not in vk.allowed_peers:
            raise VKError(901, "Can't send messages for users without permission")
    return {"upload_url": vk.doc_upload_url(peer_id or 0)}


@handler("docs.save")
async def docs_save(vk: FakeVK, call: Call) -> Any:
    file = call.text("file")
    if not file:
        raise VKError(100, "file is undefined")
    upload = vk.take_doc_upload(file)
    if upload is None:
        raise VKError(105, "file is invalid")
    name, data = upload
    title = call.text("title") or name
    owner_id = -vk.group_id if call.token_type == "group" else vk.user_id
    saved = vk.save_doc(owner_id, title, name, data)
    return {
        "type": "doc",
        "doc": {
            "id": saved.id,
            "owner_id": owner_id,
            "title": saved.title,
            "size": len(saved.data),
            "ext": saved.ext,
            "url": f"{vk.root_url}/doc{owner_id}_{saved.id}?hash={saved.access_key}",
            "date": saved.date,
            "type": 8 if saved.ext in ("zip", "xlsx") else 1,
            "access_key": saved.access_key,
        },
    }


# -- photos ----------------------------------------------------------------------------


@handler("photos.getMessagesUploadServer")
async def photos_get_messages_upload_server(vk: FakeVK, call: Call) -> Any:
    info: dict[str, Any] = {
        "album_id": -3,
        "upload_url": vk.upload_url(call.token_type),
        "user_id": vk.user_id if call.token_type == "user" else 0,
    }
    if call.token_type == "group":
        info["group_id"] = vk.group_id
    return info


@handler("photos.saveMessagesPhoto")
async def photos_save_messages_photo(vk: FakeVK, call: Call) -> Any:
    photo = call.text("photo")
    if photo is None:
        raise VKError(100, "photo is undefined")
    if call.integer("server") != vk.upload_server_id:
        raise VKError(118)
    if call.text("hash") != vk.upload_hash(photo):
        raise VKError(121)
    upload = vk.take_upload(photo)
    if upload is None:
        raise VKError(100, "photos_list is invalid")
    owner_id = -vk.group_id if call.token_type == "group" else vk.user_id
    saved = vk.save_photo(owner_id, upload)
    sizes = [
        {"type": t, "width": w, "height": h, "url": f"{vk.root_url}/photo/{saved.id}_{t}.jpg"}
        for t, w, h in saved.sizes()
    ]
    return [
        {
            "id": saved.id,
            "album_id": -3,
            "owner_id": owner_id,
            "user_id": 100 if owner_id < 0 else owner_id,
            "date": saved.date,
            "text": "",
            "has_tags": False,
            "access_key": saved.access_key,
            "sizes": sizes,
            "width": saved.width,
            "height": saved.height,
        }
    ]


__all__ = [
    "HANDLERS",
    "Call",
    "ExecuteResult",
    "VKError",
    "find_community",
    "find_member",
    "handler",
]
