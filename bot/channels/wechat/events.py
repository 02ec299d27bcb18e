"""Decrypted Official Account callbacks → what to store, via wechatpy's parser.

- text → a chat message (answered passively if the command is quick);
- `subscribe` (wechatpy: `subscribe_scan` when the EventKey is `qrscene_…`) and `SCAN` → a join;
  the scene string is the bare referral code (DESIGN.md §4), anything with a `prefix_` is not;
- everything else is ignored, though a message of another type and a click / scan menu event
  still count as an interaction (`interaction_openid`): they open the 48 h customer-service
  window like a text does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.channels.base import malformed
from bot.channels.channel import Parsed, event_key, referral_code_from_state
from bot.channels.payloads import join_to_json, message_to_json
from bot.channels.safexml import XmlDoc
from handlers.events import ChatMessage, JoinEvent

JOIN_EVENTS = ("subscribe", "subscribe_scan", "scan")
# What opens the 48 h customer-service window besides text messages and joins: any message, and
# these menu events (a plain link menu, `VIEW`, does not; nor do location reports).
INTERACTION_EVENTS = ("click", "scancode_push", "scancode_waitmsg")


def parse_callback(doc: XmlDoc, plaintext: str, *, app_id: str, now: datetime) -> Parsed | None:
    from wechatpy import parse_message

    msg_type = doc.get("MsgType").strip().lower()
    if msg_type not in ("text", "event"):
        return None
    message: Any = parse_message(plaintext)
    openid = str(message.source or "").strip()
    account = str(message.target or "").strip()
    created = doc.require("CreateTime")
    if not openid or not created.isdigit():
        raise malformed("缺少 FromUserName 或 CreateTime / missing FromUserName or CreateTime")
    route = {"openid": openid, "account": account}
    if msg_type == "text":
        text = str(message.content or "").strip()
        if not text:
            return None
        msg_id = str(message.id) if message.id else event_key(openid, created)
        msg = ChatMessage(
            platform="wechat",
            app_id=app_id,
            event_id=msg_id,
            user_id=openid,
            conversation_id=openid,
            is_group=False,
            text=text,
            is_to_me=True,
            received_at=now,
        )
        return Parsed("message", msg_id, {"event": message_to_json(msg), "route": route})
    event = str(message.event or "").lower()
    if event not in JOIN_EVENTS:
        return None
    scene = str(getattr(message, "scene_id", "") or "").strip()
    event_id = event_key(openid, created, event)
    join = JoinEvent(
        platform="wechat",
        app_id=app_id,
        event_id=event_id,
        user_id=openid,
        channel="wechat_qr",
        occurred_at=datetime.fromtimestamp(int(created), UTC),
        referral_code=referral_code_from_state(scene),
    )
    return Parsed("join", event_id, {"joins": [join_to_json(join)], "route": route})


def interaction_openid(doc: XmlDoc) -> str | None:
    """The follower behind an ignored callback that still counts as an interaction, or None."""
    msg_type = doc.get("MsgType").strip().lower()
    event = doc.get("Event").strip().lower()
    if msg_type == "event" and event not in INTERACTION_EVENTS:
        return None
    return doc.get("FromUserName").strip() or None
