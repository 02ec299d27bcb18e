"""`GET/POST /wecom/callback`: WeCom self-built app callbacks, and replies as app messages.

Order of a callback: fresh timestamp → constant-time signature over the ciphertext → decrypt →
parse (defusedxml) → store + de-duplicate → answer "" at once; the dispatcher runs afterwards
and replies through `message/send` (a member chatting with the app), the welcome message (a new
external contact) or not at all (a customer group, which an app cannot post to).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.channels.base import CallbackRequest, CallbackResponse, malformed
from bot.channels.channel import (
    IGNORED,
    Channel,
    ChannelDeps,
    event_key,
    referral_code_from_state,
)
from bot.channels.inbound import StoredEvent
from bot.channels.media import MediaCache
from bot.channels.outbound.errors import RATE_LIMITED, ApiError, SendResult
from bot.channels.safexml import parse_xml
from bot.channels.security import require_fresh
from bot.channels.wecom.api import MAX_FILE_BYTES, WeComApi
from bot.channels.wecom.events import parse_callback
from bot.channels.wecom.render import card_markdown
from bot.channels.worker import PassiveSlot
from bot.channels.wxcrypto import WxCallbackCrypto
from handlers.events import CardReply, FileReply, ImageReply, JoinEvent, Reply, TextReply
from models.wecom_follows import record_follow_change

log = logging.getLogger(__name__)

EXTERNAL_MEMBER = 2  # groupchat member type: 1 = corp member, 2 = external contact
JOIN_WINDOW_SECONDS = 120  # without MemChangeList: members who joined around the event


class WeComChannel(Channel):
    platform = "wecom"

    def __init__(
        self,
        corp_id: str,
        deps: ChannelDeps,
        *,
        crypto: WxCallbackCrypto,
        api: WeComApi,
        media: MediaCache,
    ) -> None:
        super().__init__(corp_id, deps)
        self.crypto = crypto
        self.api = api
        self.media = media

    async def handle(self, req: CallbackRequest) -> CallbackResponse:
        timestamp = req.query.get("timestamp")
        nonce = req.query.get("nonce", "")
        signature = req.query.get("msg_signature")
        require_fresh(timestamp, self.deps.clock(), self.deps.max_skew)
        assert timestamp is not None
        if req.method == "GET":
            echostr = req.query.get("echostr")
            if not echostr:
                raise malformed("缺少 echostr / missing echostr")
            self.crypto.check(signature, timestamp, nonce, echostr)
            return CallbackResponse.text(self.crypto.decrypt(echostr), result="verified")
        encrypted = parse_xml(req.body).require("Encrypt")
        self.crypto.check(signature, timestamp, nonce, encrypted)
        plaintext = self.crypto.decrypt(encrypted)
        parsed = parse_callback(
            parse_xml(plaintext), plaintext, corp_id=self.app_id, now=self.deps.clock()
        )
        new = await self.accept(parsed)
        if not new:
            return CallbackResponse.text("", result="duplicate")
        return CallbackResponse.text("", result="ignored" if parsed.kind == IGNORED else "accepted")

    async def process(self, event: StoredEvent, passive: PassiveSlot | None) -> None:
        """Record a follow change first (idempotent, so a retried event is harmless), then do
        the event's own work; a follow change alone has none."""
        follow = event.payload.get("follow")
        if isinstance(follow, dict):
            await self._record_follow(follow)
        if event.kind != "follow":
            await super().process(event, passive)

    async def _record_follow(self, follow: dict[str, Any]) -> None:
        db = self.deps.handlers.ctx.db
        async with db.uow() as uow:
            await record_follow_change(
                uow.session,
                app_id=self.app_id,
                external_userid=str(follow["external_userid"]),
                staff_userid=str(follow["staff_userid"]),
                at=datetime.fromisoformat(str(follow["at"])),
                following=bool(follow["following"]),
                now=self.deps.clock(),
            )
            await uow.commit()

    async def enrich_joins(self, joins: list[JoinEvent]) -> list[JoinEvent]:
        enriched = []
        for join in joins:
            try:
                contact = await self.api.external_contact(join.user_id)
            except ApiError as exc:
                log.info("wecom external contact lookup failed: %s", exc.code)
                enriched.append(join)
                continue
            enriched.append(
                replace(
                    join,
                    union_id=join.union_id or (str(contact.get("unionid") or "") or None),
                    display_name=join.display_name or (str(contact.get("name") or "") or None),
                )
            )
        return enriched

    async def process_group_change(self, event: StoredEvent) -> None:
        payload = event.payload
        chat_id = str(payload["chat_id"])
        changed_at = datetime.fromisoformat(payload["created_at"])
        wanted = set(payload.get("members") or ())
        chat = await self.api.group_chat(chat_id)
        joins = []
        for member in chat.get("member_list") or ():
            if not isinstance(member, dict) or member.get("type") != EXTERNAL_MEMBER:
                continue
            user_id = str(member.get("userid") or "")
            joined = _join_time(member, changed_at)
            if not user_id or (wanted and user_id not in wanted):
                continue
            if not wanted and abs((joined - changed_at).total_seconds()) > JOIN_WINDOW_SECONDS:
                continue
            joins.append(
                JoinEvent(
                    platform="wecom",
                    app_id=self.app_id,
                    event_id=event_key(event.event_id, user_id),
                    user_id=user_id,
                    channel="wecom_group",
                    occurred_at=joined,
                    referral_code=referral_code_from_state(str(member.get("state") or "")),
                    union_id=str(member.get("unionid") or "") or None,
                    conversation_id=chat_id,
                    display_name=str(member.get("name") or "") or None,
                )
            )
        key = f"reply:wecom:{self.app_id}:{event.event_id}"
        await self.process_joins(key, {"group": chat_id}, joins, None)

    async def deliver_replies(
        self,
        key: str,
        route: dict[str, Any],
        replies: list[Reply],
        passive: PassiveSlot | None,
    ) -> list[SendResult]:
        touser = route.get("touser")
        if touser:
            return await self.push(str(touser), replies, key)
        welcome_code = route.get("welcome_code")
        texts = [text for text in map(_as_text, replies) if text]
        if welcome_code and texts:
            result = await self.send(
                f"{key}:welcome",
                str(route.get("staff_userid") or "welcome"),
                "welcome",
                lambda: self.api.send_welcome(str(welcome_code), "\n\n".join(texts)),
            )
            return [result]
        if replies:
            log.info("wecom: %d replies to %s have no channel to go out on", len(replies), key)
        return []

    async def push(self, touser: str, replies: list[Reply], key: str) -> list[SendResult]:
        """App messages to a member (WeCom app messages reach corp members, not customers)."""
        results: list[SendResult] = []
        for index, reply in enumerate(replies):
            results.append(await self._to_member(f"{key}:{index}", touser, reply))
            if results[-1].status == RATE_LIMITED:
                break
        return results

    async def _text(self, key: str, touser: str, text: str) -> SendResult:
        return await self.send(
            key,
            touser,
            "text",
            lambda: self.api.send_app_message(touser, "text", {"content": text}),
        )

    async def _to_member(self, key: str, touser: str, reply: Reply) -> SendResult:
        if isinstance(reply, TextReply):
            return await self._text(key, touser, reply.text)
        if isinstance(reply, CardReply):
            markdown = card_markdown(reply)
            result = await self.send(
                key,
                touser,
                "markdown",
                lambda: self.api.send_app_message(touser, "markdown", {"content": markdown}),
            )
            if result.ok and reply.image_png is not None:
                result = await self._image(f"{key}:image", touser, reply.image_png, None)
            return result
        if isinstance(reply, FileReply):
            return await self._file(key, touser, reply)
        if reply.caption:
            result = await self._text(f"{key}:caption", touser, reply.caption)
            if not result.ok:
                return result
        return await self._image(f"{key}:image", touser, reply.png, reply.cache_key)

    async def _file(self, key: str, touser: str, reply: FileReply) -> SendResult:
        """Caption, then the file as temporary media in a `file` app message; the fallback
        text instead when the file is over WeCom's 20 MB."""
        if len(reply.content) > MAX_FILE_BYTES:
            return await self._text(f"{key}:fallback", touser, reply.as_text())
        if reply.caption:
            result = await self._text(f"{key}:caption", touser, reply.caption)
            if not result.ok:
                return result

        async def upload_and_send() -> str:
            media_id = await self.api.upload_file(reply.content, reply.filename)
            return await self.api.send_app_message(touser, "file", {"media_id": media_id})

        return await self.send(f"{key}:file", touser, "file", upload_and_send)

    async def _image(self, key: str, touser: str, png: bytes, cache_key: str | None) -> SendResult:
        async def upload_and_send() -> str:
            media_id = await self.media.get_or_upload(
                png, cache_key, lambda: self.api.upload_image(png)
            )
            return await self.api.send_app_message(touser, "image", {"media_id": media_id})

        return await self.send(key, touser, "image", upload_and_send)


def _as_text(reply: Reply) -> str:
    if isinstance(reply, TextReply):
        return reply.text
    if isinstance(reply, CardReply):
        return reply.as_text()
    if isinstance(reply, ImageReply):
        return reply.caption
    if isinstance(reply, FileReply):
        return reply.as_text()
    return ""


def _join_time(member: dict[str, Any], fallback: datetime) -> datetime:
    raw = member.get("join_time")
    if isinstance(raw, int) and raw > 0:
        return datetime.fromtimestamp(raw, UTC)
    return fallback
