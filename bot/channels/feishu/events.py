"""Decrypted Feishu events (schema 2.0) → what to store.

Handled: `im.message.receive_v1` (text, group or private; messages from bots/apps — our own
included — are ignored) and `im.chat.member.user.added_v1` (a group join; its `operator_id`,
who added the members, travels with each join so the handlers can attribute it to that
person's referral code when they are a customer). Every other type — and messages from bots,
or other than text — is stored as ignored and answered 200 (bot/channels/ignored.py): an error
answer makes Feishu retry for hours.

Whether a group message is *to the bot* depends on the bot's open_id, which needs an API call,
so the raw mentions are stored and `to_chat_message` decides in the worker.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.channels.base import forbidden, malformed
from bot.channels.channel import Parsed, event_key
from bot.channels.ignored import ignored
from bot.channels.payloads import join_to_json
from handlers.events import ChatMessage, JoinEvent

MESSAGE_RECEIVED = "im.message.receive_v1"
MEMBERS_ADDED = "im.chat.member.user.added_v1"
# Subscribed (or commonly subscribed) types we deliberately do nothing with (not logged).
IGNORED_TYPES = frozenset(
    {
        "im.message.message_read_v1",
        "im.message.recalled_v1",
        "im.message.reaction.created_v1",
        "im.message.reaction.deleted_v1",
        "im.chat.member.bot.added_v1",
        "im.chat.member.bot.deleted_v1",
        "im.chat.member.user.deleted_v1",
        "im.chat.member.user.withdrawn_v1",
        "im.chat.updated_v1",
        "im.chat.disbanded_v1",
        "application.bot.menu_v6",
        "p2p_chat_create",
    }
)
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(f"事件缺少 {what} / event without {what}")
    return value


def occurred_at(header: dict[str, Any], fallback: datetime) -> datetime:
    raw = str(header.get("create_time") or "")
    return datetime.fromtimestamp(int(raw) / 1000, UTC) if raw.isdigit() else fallback


def parse_event(body: dict[str, Any], *, app_id: str, now: datetime) -> Parsed:
    header = _dict(body.get("header"), "header")
    event = _dict(body.get("event"), "event")
    event_id = str(header.get("event_id") or "")
    if not event_id:
        raise malformed("事件缺少 event_id / event without event_id")
    if header.get("app_id") and header.get("app_id") != app_id:
        raise forbidden("wrong_receiver", "事件不属于本应用 / event for another app")
    event_type = str(header.get("event_type") or "")
    parsed = None
    if event_type == MESSAGE_RECEIVED:
        parsed = _message(event_id, event, header, now)
    elif event_type == MEMBERS_ADDED:
        parsed = _members_added(event_id, event, header, app_id, now)
    return parsed or ignored(event_id, event_type or "unknown")


def schema_one_event(body: dict[str, Any]) -> Parsed:
    """An event in the 1.0 schema (apps subscribed before 2.0): nothing here works on them."""
    uuid = str(body.get("uuid") or "")
    if not uuid:
        raise malformed("事件缺少 uuid / event without uuid")
    event = body.get("event")
    event_type = str(event.get("type") or "") if isinstance(event, dict) else ""
    return ignored(uuid, f"1.0:{event_type or 'unknown'}")


def _message(
    event_id: str, event: dict[str, Any], header: dict[str, Any], now: datetime
) -> Parsed | None:
    sender = _dict(event.get("sender"), "sender")
    if sender.get("sender_type") != "user":
        return None
    sender_id = _dict(sender.get("sender_id"), "sender_id")
    message = _dict(event.get("message"), "message")
    if message.get("message_type") != "text":
        return None
    try:
        content = json.loads(str(message.get("content") or ""))
    except ValueError as exc:
        raise malformed("消息内容不是 JSON / message content is not JSON") from exc
    open_id = str(sender_id.get("open_id") or "")
    chat_id = str(message.get("chat_id") or "")
    if not open_id or not chat_id or not isinstance(content, dict):
        raise malformed("消息缺少发送者或会话 / message without sender or chat")
    mentions = [
        {
            "key": str(item.get("key") or ""),
            "open_id": str((item.get("id") or {}).get("open_id") or ""),
            "name": str(item.get("name") or ""),
        }
        for item in message.get("mentions") or ()
        if isinstance(item, dict)
    ]
    raw = {
        "event_id": event_id,
        "open_id": open_id,
        "union_id": str(sender_id.get("union_id") or "") or None,
        "chat_id": chat_id,
        "is_group": message.get("chat_type") != "p2p",
        "text": str(content.get("text") or ""),
        "mentions": mentions,
        "received_at": now.isoformat(),
    }
    route = {"chat_id": chat_id, "message_id": str(message.get("message_id") or "")}
    return Parsed("message", event_id, {"raw": raw, "route": route})


def to_chat_message(raw: dict[str, Any], *, app_id: str, bot_open_id: str) -> ChatMessage:
    """Strip @mentions (`@_user_1 /invite` → `/invite`): the bot's own mention disappears,
    anybody else's becomes `@name`. Without a known bot id every mention counts as the bot's
    (in groups Feishu only delivers messages that @mention the bot, unless the app may read
    all group messages)."""
    text = str(raw["text"])
    to_me = False
    # Longest key first, so `@_user_1` never eats the start of `@_user_10`.
    for mention in sorted(raw["mentions"], key=lambda m: len(m["key"]), reverse=True):
        key = mention["key"]
        if not key:
            continue
        if not bot_open_id or mention["open_id"] == bot_open_id:
            to_me = to_me or key in text
            text = text.replace(key, " ")
        else:
            text = text.replace(key, f"@{mention['name']}")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.strip().splitlines())
    is_group = bool(raw["is_group"])
    return ChatMessage(
        platform="feishu",
        app_id=app_id,
        event_id=str(raw["event_id"]),
        user_id=str(raw["open_id"]),
        conversation_id=str(raw["chat_id"]) if is_group else str(raw["open_id"]),
        is_group=is_group,
        text=text.strip(),
        is_to_me=to_me or not is_group,
        received_at=datetime.fromisoformat(str(raw["received_at"])),
        union_id=raw.get("union_id"),
    )


def _members_added(
    event_id: str, event: dict[str, Any], header: dict[str, Any], app_id: str, now: datetime
) -> Parsed | None:
    chat_id = str(event.get("chat_id") or "")
    if not chat_id:
        raise malformed("事件缺少 chat_id / event without chat_id")
    joined = occurred_at(header, now)
    operator = event.get("operator_id")
    operator_ids = operator if isinstance(operator, dict) else {}
    added_by = str(operator_ids.get("open_id") or "") or None
    added_by_union = str(operator_ids.get("union_id") or "") or None
    joins = []
    for user in event.get("users") or ():
        if not isinstance(user, dict):
            continue
        ids = user.get("user_id") or {}
        open_id = str(ids.get("open_id") or "") if isinstance(ids, dict) else ""
        if not open_id:
            continue
        joins.append(
            JoinEvent(
                platform="feishu",
                app_id=app_id,
                event_id=event_key(event_id, open_id),
                user_id=open_id,
                channel="feishu_group",
                occurred_at=joined,
                union_id=str(ids.get("union_id") or "") or None,
                conversation_id=chat_id,
                display_name=str(user.get("name") or "") or None,
                added_by_user_id=added_by,
                added_by_union_id=added_by_union,
            )
        )
    if not joins:
        return None
    payload = {"joins": [join_to_json(join) for join in joins], "route": {"chat_id": chat_id}}
    return Parsed("join", event_id, payload)
