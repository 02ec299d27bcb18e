"""The platform-neutral contract between channel adapters (bot/channels/) and handlers.

An adapter turns a verified, decrypted, de-duplicated platform callback into one of these
events and renders the replies it gets back. Only facts every platform has live here; a
platform's extras stay in the adapter (DESIGN.md §3, STYLE.md #4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from config import Settings
from models.db import Database

SENDER_CUSTOMER = "customer"
SENDER_MEMBER = "member"


@dataclass(frozen=True)
class ChatMessage:
    """A text message to the bot, in a group or a private chat."""

    platform: str  # "wecom" | "wechat" | "feishu" | "console"
    app_id: str  # corp id / app id of the receiving app ("" for console)
    event_id: str  # the platform's id, already used for de-duplication
    user_id: str  # sender's id on the platform (external_userid, openid, open_id, …)
    conversation_id: str  # the group's id, or the user's id in a private chat
    is_group: bool
    text: str  # plain text, @mentions stripped, whitespace trimmed
    is_to_me: bool  # private chat, or the bot was @mentioned in the group
    received_at: datetime
    union_id: str | None = None  # cross-app identity where the platform has one
    display_name: str | None = None
    # SENDER_CUSTOMER: anybody who may be a customer. SENDER_MEMBER: an account of the
    # organisation's own directory (a WeCom corp member writing to the self-built app), whose
    # id lives in another namespace than customers' ids. A member who is not staff is
    # refused, never made a customer on first contact.
    sender_kind: str = SENDER_CUSTOMER


@dataclass(frozen=True)
class JoinEvent:
    """Somebody arrived through a referral hook: added a staff contact with a `state`, joined a
    customer group, subscribed through a parametric QR, or joined a Feishu group."""

    platform: str
    app_id: str
    event_id: str
    user_id: str  # the newcomer's id on the platform
    channel: str  # models.referral.tables.CHANNELS, e.g. "wecom_contact", "wechat_qr"
    occurred_at: datetime
    referral_code: str | None = None  # bare code from state / qrscene (DESIGN.md §4 convention)
    union_id: str | None = None
    conversation_id: str | None = None  # the group joined, if any
    display_name: str | None = None
    # Who brought the newcomer in (a Feishu group's `operator_id`), on the same platform and
    # app. Without a referral code, a known customer here is the inviter (their personal code).
    added_by_user_id: str | None = None
    added_by_union_id: str | None = None


@dataclass(frozen=True)
class TextReply:
    text: str


@dataclass(frozen=True)
class CardReply:
    """A structured answer: Feishu renders an interactive card, WeCom markdown, others text."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    body: str = ""
    footer: str = ""
    image_png: bytes | None = None  # an inline chart, if any

    def as_text(self) -> str:
        lines = [self.title]
        lines += [f"{label}：{value}" for label, value in self.fields]
        if self.body:
            lines.append(self.body)
        if self.footer:
            lines.append(self.footer)
        return "\n".join(lines)


@dataclass(frozen=True)
class ImageReply:
    png: bytes
    caption: str = ""
    cache_key: str | None = None  # stable key, so adapters upload an image once


@dataclass(frozen=True)
class FileReply:
    """A document for staff (an export as XLSX or CSV). Feishu and WeCom upload it and send a
    file message; where a file cannot go — the Official Account has no file message, and a
    file may be over a platform's size limit — `fallback` (how else to get it) goes out as
    text instead. `caption` is said before the file."""

    content: bytes
    filename: str
    fallback: str
    caption: str = ""

    def as_text(self) -> str:
        """What to send where no file can go: the caption, then the way to get the file."""
        return "\n".join(part for part in (self.caption, self.fallback) if part)


Reply = TextReply | CardReply | ImageReply | FileReply


@dataclass
class HandlerContext:
    """What a handler may use. Built by the composition root; tests build their own."""

    db: Database
    settings: Settings
    now: Callable[[], datetime]
    extras: dict[str, object] = field(default_factory=dict)
