"""Verified callbacks Fission has no work for: acknowledged, stored, never worked on.

Every platform sends event types nobody registered for — the Official Account's
subscription-message events (`subscribe_msg_popup_event`, …) that wechatpy does not know, WeCom
tag changes, any Feishu type the app is subscribed to. Each one is answered the way its platform
expects (an error makes the platform retry for hours) and stored under its platform id as kind
`ignored`, status `done`: a redelivery is recognised as a duplicate, and an operator can see what
arrives. Only the event's type is kept — never its content, which may carry names or phones.
"""

from __future__ import annotations

import hashlib

from bot.channels.channel import IGNORED, Parsed, event_key
from bot.channels.safexml import XmlDoc


def ignored(event_id: str, event_type: str) -> Parsed:
    return Parsed(IGNORED, event_id, {"type": event_type[:100]})


def ignored_xml(doc: XmlDoc) -> Parsed:
    """A WeChat or WeCom callback: its `MsgId` when it has one (messages), else sender, time,
    type and a digest of the whole document — events carry no id, several (WeCom customer
    contact changes from `sys`) share sender and second, and a retry repeats the document."""
    parts = [doc.get(name).strip().lower() for name in ("MsgType", "Event", "ChangeType")]
    event_type = ":".join(part for part in parts if part) or "unknown"
    msg_id = doc.get("MsgId").strip()
    if msg_id:
        return ignored(msg_id, event_type)
    digest = hashlib.sha256(doc.canonical().encode("utf-8")).hexdigest()[:32]
    sender = doc.get("FromUserName").strip() or "-"
    return ignored(event_key(sender, doc.get("CreateTime").strip(), event_type, digest), event_type)
