"""Decrypted Official Account callbacks → what to store.

- text → a chat message (answered passively if the command is quick), through wechatpy's parser;
- `subscribe` and `SCAN` → a join; a parametric QR's scene arrives as `qrscene_<scene>` in a
  subscribe's EventKey and bare in a SCAN's, and is the bare referral code (DESIGN.md §4) unless
  it has a `prefix_`;
- every other message or event → stored as ignored and answered "success". Events are read from
  the XML here, not through wechatpy: it returns an `UnknownMessage` without `event` for any
  type it does not know (the subscription-message events, for one).
- a message of another type and a click / scan menu event still count as an interaction
  (`interaction_openid`): they open the 48 h customer-service window like a text does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.channels.base import malformed
from bot.channels.channel import Parsed, event_key, referral_code_from_state
from bot.channels.ignored import ignored_xml
from bot.channels.payloads import join_to_json, message_to_json
from bot.channels.safexml import XmlDoc
from handlers.events import ChatMessage, JoinEvent

SCENE_PREFIX = "qrscene_"
# What opens the 48 h customer-service window besides text messages and joins: any message, and
# these menu events (a plain link menu, `VIEW`, does not; nor do location reports).
INTERACTION_EVENTS = ("click", "scancode_push", "scancode_waitmsg")


def parse_callback(doc: XmlDoc, plaintext: str, *, app_id: str, now: datetime) -> Parsed:
    openid = doc.get("FromUserName").strip()
    created = doc.require("CreateTime")
    if not openid or not created.isdigit():
        raise malformed("缺少 FromUserName 或 CreateTime / missing FromUserName or CreateTime")
    route = {"openid": openid, "account": doc.get("ToUserName").strip()}
    msg_type = doc.get("MsgType").strip().lower()
    if msg_type == "text":
        return _text(doc, plaintext, route, app_id=app_id, now=now) or ignored_xml(doc)
    event = doc.get("Event").strip().lower() if msg_type == "event" else ""
    if event not in ("subscribe", "scan"):
        return ignored_xml(doc)
    key = doc.get("EventKey").strip()
    if event == "subscribe":
        scene = key.removeprefix(SCENE_PREFIX) if key.startswith(SCENE_PREFIX) else ""
    else:
        scene = key
    event_id = event_key(
        openid, created, "subscribe_scan" if event == "subscribe" and scene else event
    )
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


def _text(
    doc: XmlDoc, plaintext: str, route: dict[str, str], *, app_id: str, now: datetime
) -> Parsed | None:
    from wechatpy import parse_message

    message: Any = parse_message(plaintext)
    text = str(message.content or "").strip()
    if not text:
        return None
    openid = route["openid"]
    msg_id = str(message.id) if message.id else event_key(openid, doc.require("CreateTime"))
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


def interaction_openid(doc: XmlDoc) -> str | None:
    """The follower behind an ignored callback that still counts as an interaction, or None."""
    msg_type = doc.get("MsgType").strip().lower()
    event = doc.get("Event").strip().lower()
    if msg_type == "event" and event not in INTERACTION_EVENTS:
        return None
    return doc.get("FromUserName").strip() or None
