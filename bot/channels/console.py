"""The console channel: a local "platform" for trying the bot without any chat credentials.

The web simulator (bot/web/simulator.py) is its only client. It does what every platform
adapter does, minus the cryptography: it turns what was typed into the neutral `ChatMessage`
(an @mention of the bot stripped and turned into `is_to_me`, exactly as the Feishu adapter
does), hands it to the same dispatcher the real platforms use, and renders the neutral
replies for its screen — here JSON with images and files inline as data URLs.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.channels.outbound.http import content_type_of
from handlers.events import CardReply, ChatMessage, FileReply, ImageReply, Reply, TextReply

PLATFORM = "console"
APP_ID = ""
GROUP_ID = "sim-group"
# How people @mention the bot in the simulator's group chat.
_MENTION = re.compile(r"@(?:fission|机器人|bot)(?![A-Za-z0-9_])", re.IGNORECASE)

MessageHandler = Callable[[ChatMessage], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class ConsoleInput:
    user_id: str
    text: str
    group: bool = False
    display_name: str | None = None


class ConsoleChannel:
    """Console input in, rendered replies out, through `handle` (the real dispatcher)."""

    def __init__(self, handle: MessageHandler, clock: Callable[[], datetime]) -> None:
        self._handle = handle
        self._clock = clock

    def to_message(self, data: ConsoleInput) -> ChatMessage:
        mentioned = bool(_MENTION.search(data.text))
        text = " ".join(_MENTION.sub(" ", data.text).split())
        return ChatMessage(
            platform=PLATFORM,
            app_id=APP_ID,
            event_id=f"console-{uuid.uuid4().hex}",
            user_id=data.user_id,
            conversation_id=GROUP_ID if data.group else data.user_id,
            is_group=data.group,
            text=text,
            is_to_me=mentioned or not data.group,
            received_at=self._clock(),
            display_name=data.display_name,
        )

    async def send(self, data: ConsoleInput) -> list[dict[str, Any]]:
        replies = await self._handle(self.to_message(data))
        return [render(reply) for reply in replies]


def _data_url(content: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64," + base64.b64encode(content).decode("ascii")


def render(reply: Reply) -> dict[str, Any]:
    """A reply as the simulator page draws it."""
    if isinstance(reply, TextReply):
        return {"type": "text", "text": reply.text}
    if isinstance(reply, CardReply):
        return {
            "type": "card",
            "title": reply.title,
            "fields": [list(pair) for pair in reply.fields],
            "body": reply.body,
            "footer": reply.footer,
            "image": _data_url(reply.image_png) if reply.image_png else None,
        }
    if isinstance(reply, ImageReply):
        return {"type": "image", "src": _data_url(reply.png), "caption": reply.caption}
    if isinstance(reply, FileReply):
        return {
            "type": "file",
            "name": reply.filename,
            "href": _data_url(reply.content, content_type_of(reply.filename)),
            "caption": reply.caption,
        }
    raise TypeError(f"unknown reply type {type(reply).__name__}")
