"""Neutral replies as Official Account messages: the passive XML reply, customer-service text."""

from __future__ import annotations

from datetime import datetime

from bot.channels.safexml import cdata_safe
from handlers.events import CardReply, FileReply, ImageReply, Reply, TextReply


def reply_text(reply: Reply) -> str | None:
    """The text of a reply that can go out as text (None for an image). The Official Account
    has no file message: a file goes out as the text saying how else to get it."""
    if isinstance(reply, TextReply):
        return reply.text
    if isinstance(reply, CardReply | FileReply):
        return reply.as_text()
    return None


def passive_text_xml(*, account: str, openid: str, text: str, now: datetime) -> str:
    from wechatpy.replies import TextReply as WxTextReply

    reply = WxTextReply(
        source=account, target=openid, content=cdata_safe(text), time=int(now.timestamp())
    )
    return str(reply.render())


def caption_of(reply: Reply) -> str:
    return reply.caption if isinstance(reply, ImageReply) else ""
