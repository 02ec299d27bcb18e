"""What every platform channel shares: accept (persist + de-duplicate) a parsed callback and
start its work, run the dispatcher, and send replies through the idempotent outbound log.

A platform subclass parses and verifies its callbacks (`handle`) and knows how to deliver a
neutral reply (`deliver_replies`); everything else is here, once.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.channels.base import CallbackRequest, CallbackResponse
from bot.channels.dispatcher import Handlers
from bot.channels.inbound import InboundStore, StoredEvent
from bot.channels.outbound.deliver import SendCall, deliver
from bot.channels.outbound.errors import SendResult
from bot.channels.outbound.log import OutboundLog
from bot.channels.payloads import join_from_json, message_from_json
from bot.channels.telemetry import Telemetry
from bot.channels.worker import EventWorker, PassiveSlot
from handlers.events import ChatMessage, JoinEvent, Reply
from models.referral.codes import normalize_code

IGNORED = "ignored"  # a verified event with no work to do (bot/channels/ignored.py)


@dataclass(frozen=True)
class Parsed:
    """A verified callback worth working on: what to store and under which platform id."""

    kind: str  # message | join | group_change | ignored (bot/channels/ignored.py)
    event_id: str
    payload: dict[str, Any]


@dataclass
class ChannelDeps:
    store: InboundStore
    worker: EventWorker
    outbound: OutboundLog
    handlers: Handlers
    telemetry: Telemetry
    clock: Callable[[], datetime]
    max_skew: timedelta


def event_key(*parts: object) -> str:
    """A stable id from several fields; hashed when it would not fit the column."""
    key = ":".join(str(part) for part in parts)
    if len(key) <= 128:
        return key
    return f"{str(parts[0])[:40]}:h:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:64]}"


def referral_code_from_state(state: str | None) -> str | None:
    """DESIGN.md §4: a referral's contact-way `state` / QR scene is the bare code; any other
    state starts with a prefix and `_` (codes never contain `_`)."""
    if not state or "_" in state:
        return None
    return normalize_code(state)


class Channel(ABC):
    platform = ""

    def __init__(self, app_id: str, deps: ChannelDeps) -> None:
        self.app_id = app_id
        self.deps = deps

    @abstractmethod
    async def handle(self, req: CallbackRequest) -> CallbackResponse:
        """Verify and parse one callback, store it, answer; raises `Rejected` when refused."""
        raise NotImplementedError

    async def accept(self, parsed: Parsed, passive: PassiveSlot | None = None) -> bool:
        """Store the event and start its work (an `ignored` one has none); False when it was
        seen before (a duplicate)."""
        work = parsed.kind != IGNORED
        event = await self.deps.store.accept(
            platform=self.platform,
            app_id=self.app_id,
            event_id=parsed.event_id,
            kind=parsed.kind,
            payload=parsed.payload,
            work=work,
        )
        if event is None:
            return False
        if work:
            self.deps.worker.start(event, passive)
        return True

    async def process(self, event: StoredEvent, passive: PassiveSlot | None) -> None:
        route = event.payload.get("route", {})
        key = f"reply:{self.platform}:{self.app_id}:{event.event_id}"
        if event.kind == "message":
            message = await self.chat_message(event.payload)
            replies = await self.deps.handlers.message(message)
            await self.deliver_replies(key, route, replies, passive)
        elif event.kind == "join":
            joins = [join_from_json(item) for item in event.payload["joins"]]
            await self.process_joins(key, route, await self.enrich_joins(joins), passive)
        elif event.kind == "group_change":
            await self.process_group_change(event)
        else:
            raise ValueError(f"unknown event kind {event.kind!r}")

    async def chat_message(self, payload: dict[str, Any]) -> ChatMessage:
        return message_from_json(payload["event"])

    async def process_joins(
        self,
        key: str,
        route: dict[str, Any],
        joins: list[JoinEvent],
        passive: PassiveSlot | None,
    ) -> None:
        replies: list[Reply] = []
        for join in joins:
            replies += await self.deps.handlers.join(join)
        await self.deliver_replies(key, route, replies, passive)

    async def enrich_joins(self, joins: list[JoinEvent]) -> list[JoinEvent]:
        """Add what the callback lacked (union id, name) from the platform API; best effort."""
        return joins

    async def process_group_change(self, event: StoredEvent) -> None:
        raise ValueError(f"{self.platform} has no group changes")

    @abstractmethod
    async def deliver_replies(
        self,
        key: str,
        route: dict[str, Any],
        replies: list[Reply],
        passive: PassiveSlot | None,
    ) -> list[SendResult]:
        """Send `replies` where `route` says; one idempotency key per piece (`key:index…`)."""
        raise NotImplementedError

    @abstractmethod
    async def push(self, user_id: str, replies: list[Reply], key: str) -> list[SendResult]:
        """Replies to one user outside any callback (campaigns, reminders), each piece sent at
        most once under `key:index…`: WeCom app message to a member, Official Account
        customer-service message (48 h window), Feishu message to an open_id."""
        raise NotImplementedError

    async def send(self, key: str, recipient: str, kind: str, call: SendCall) -> SendResult:
        return await deliver(
            self.deps.outbound,
            self.deps.telemetry,
            key=key,
            platform=self.platform,
            app_id=self.app_id,
            recipient=recipient,
            kind=kind,
            send=call,
        )
