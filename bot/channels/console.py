"""The console channel: a local "platform" for trying the bot without any chat credentials.

The web simulator (bot/web/simulator.py) is its only client. It does what every platform
adapter does, minus the cryptography: it turns what was typed into the neutral `ChatMessage`
(an @mention of the bot stripped and turned into `is_to_me`, exactly as the Feishu adapter
does), hands it to the same dispatcher the real platforms use, and renders the neutral
replies for its screen — here JSON with images and files inline as data URLs. What the bot
sends on its own (campaign messages, bot/channels/senders/console.py) waits in a
`ConsoleInbox` until the page fetches it.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections import deque
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


@dataclass(frozen=True)
class Pushed:
    """A message the bot sent a console user on its own — a campaign message, not a reply."""

    seq: int
    user_id: str
    reply: Reply
    key: str | None = None


class ConsoleInbox:
    """What the bot pushed to console users, in order, the latest `keep` of them: the web
    simulator's page polls it (`since`) and shows each in that user's conversation.

    Held in memory: the simulator runs only in `fission serve --demo`, whose demo database is
    made afresh at every start, so nothing here has to outlive the process. A `key` pushed
    again (the same delivery sent twice after a lost outcome) is not shown twice — as Feishu
    drops a message whose `uuid` it has seen."""

    def __init__(self, keep: int = 1000) -> None:
        self._keep = keep
        self._items: deque[Pushed] = deque()
        self._by_key: dict[str, int] = {}
        self._last = 0

    @property
    def last(self) -> int:
        return self._last

    def push(self, user_id: str, reply: Reply, *, key: str | None = None) -> int:
        """Shows `reply` to `user_id`; its sequence number (the one it already had, for a key
        pushed before)."""
        if key is not None and key in self._by_key:
            return self._by_key[key]
        self._last += 1
        self._items.append(Pushed(self._last, user_id, reply, key))
        if key is not None:
            self._by_key[key] = self._last
        while len(self._items) > self._keep:
            dropped = self._items.popleft()
            if dropped.key is not None:
                self._by_key.pop(dropped.key, None)
        return self._last

    def since(self, after: int) -> list[Pushed]:
        """The messages numbered above `after`, oldest first."""
        return [item for item in self._items if item.seq > after]


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
