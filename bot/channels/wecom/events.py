"""Decrypted WeCom callbacks → what to store.

Text messages to the app come from corp MEMBERS (their internal `userid`), never from
customers (who reach the bot as external contacts and in customer groups): they are marked
`sender_kind=SENDER_MEMBER` and go through wechatpy's WeCom parser. wechatpy parses the
customer-contact events as unknown events, so those are read here:
- `change_external_contact` / `add_external_contact` (or `add_half_external_contact`): a
  customer added a staff member, `State` is the contact way's state → a referral join, and
  the staff member now follows the customer (`wecom_follows`, the sender of mass messages);
- `change_external_contact` / `del_follow_user` (the customer deleted the staff member) or
  `del_external_contact` (the staff member deleted the customer) → the follow ends;
- `change_external_chat` / `update` / `add_member`: somebody joined a customer group; who, and
  through which join way's `state`, is only known from `externalcontact/groupchat/get`, which the
  worker calls after the callback has been answered.
Everything else (`subscribe`, `enter_agent`, a customer deleting a staff member, tag changes,
any type added later) is stored as ignored and answered "" (bot/channels/ignored.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.channels.base import malformed
from bot.channels.channel import Parsed, event_key, referral_code_from_state
from bot.channels.ignored import ignored_xml
from bot.channels.payloads import join_to_json, message_to_json
from bot.channels.safexml import XmlDoc
from handlers.events import SENDER_MEMBER, ChatMessage, JoinEvent

CONTACT_ADDED = ("add_external_contact", "add_half_external_contact")
CONTACT_REMOVED = ("del_follow_user", "del_external_contact")


def create_time(doc: XmlDoc) -> datetime:
    raw = doc.require("CreateTime")
    if not raw.isdigit():
        raise malformed("CreateTime 无效 / invalid CreateTime")
    return datetime.fromtimestamp(int(raw), UTC)


def parse_callback(doc: XmlDoc, plaintext: str, *, corp_id: str, now: datetime) -> Parsed:
    msg_type = doc.get("MsgType").strip().lower()
    if msg_type == "text":
        return _text(doc, plaintext, corp_id=corp_id, now=now) or ignored_xml(doc)
    if msg_type != "event":
        return ignored_xml(doc)
    event = doc.get("Event").strip().lower()
    change = doc.get("ChangeType").strip()
    if event == "change_external_contact" and change in CONTACT_ADDED:
        return _contact_added(doc, corp_id=corp_id)
    if event == "change_external_contact" and change in CONTACT_REMOVED:
        return _contact_removed(doc)
    if (
        event == "change_external_chat"
        and change == "update"
        and doc.get("UpdateDetail").strip() == "add_member"
    ):
        return _group_members_added(doc)
    return ignored_xml(doc)


def _text(doc: XmlDoc, plaintext: str, *, corp_id: str, now: datetime) -> Parsed | None:
    from wechatpy.enterprise import parse_message

    message: Any = parse_message(plaintext)
    sender = str(message.source or "").strip()
    text = str(message.content or "").strip()
    if not sender:
        raise malformed("缺少 FromUserName / missing FromUserName")
    if not text:
        return None
    msg_id = str(message.id) if message.id else event_key(sender, doc.require("CreateTime"))
    msg = ChatMessage(
        platform="wecom",
        app_id=corp_id,
        event_id=msg_id,
        user_id=sender,
        conversation_id=sender,
        is_group=False,
        text=text,
        is_to_me=True,
        received_at=now,
        sender_kind=SENDER_MEMBER,  # app messages come from corp members, never customers
    )
    return Parsed("message", msg_id, {"event": message_to_json(msg), "route": {"touser": sender}})


def _contact_event_id(doc: XmlDoc, staff: str, external: str) -> str:
    return event_key(
        doc.get("FromUserName").strip() or "sys",
        doc.require("CreateTime"),
        doc.get("ChangeType").strip(),
        staff,
        external,
    )


def _contact_added(doc: XmlDoc, *, corp_id: str) -> Parsed:
    external = doc.require("ExternalUserID")
    staff = doc.get("UserID").strip()
    occurred = create_time(doc)
    event_id = _contact_event_id(doc, staff, external)
    join = JoinEvent(
        platform="wecom",
        app_id=corp_id,
        event_id=event_id,
        user_id=external,
        channel="wecom_contact",
        occurred_at=occurred,
        referral_code=referral_code_from_state(doc.get("State").strip()),
    )
    route = {"welcome_code": doc.get("WelcomeCode").strip(), "staff_userid": staff}
    payload = {"joins": [join_to_json(join)], "route": route}
    if staff:
        payload["follow"] = _follow(staff, external, occurred, following=True)
    return Parsed("join", event_id, payload)


def _contact_removed(doc: XmlDoc) -> Parsed:
    external = doc.require("ExternalUserID")
    staff = doc.require("UserID")
    event_id = _contact_event_id(doc, staff, external)
    follow = _follow(staff, external, create_time(doc), following=False)
    return Parsed("follow", event_id, {"follow": follow})


def _follow(staff: str, external: str, at: datetime, *, following: bool) -> dict[str, Any]:
    return {
        "staff_userid": staff,
        "external_userid": external,
        "at": at.isoformat(),
        "following": following,
    }


def _group_members_added(doc: XmlDoc) -> Parsed:
    chat_id = doc.require("ChatId")
    members = doc.items("MemChangeList")
    version = doc.get("CurMemVer").strip() or ",".join(members)
    event_id = event_key(
        doc.get("FromUserName").strip() or "sys", doc.require("CreateTime"), chat_id, version
    )
    payload = {
        "chat_id": chat_id,
        "created_at": create_time(doc).isoformat(),
        "members": members,
        "join_scene": doc.get("JoinScene").strip(),
    }
    return Parsed("group_change", event_id, payload)
