"""`GET/POST /wechat/callback`: Official Account callbacks, plaintext or safe mode.

WeChat waits 5 s for the answer and retries otherwise. The event is stored first; the command
then gets `passive_budget` seconds (well inside 5 s): if its first reply is text and ready in
time it goes back in the HTTP response (a passive reply, encrypted in safe mode); everything else
— and everything after the budget — goes out through the customer-service API. A customer
outside the 48 h window gets no storm of retries: the first `OutsideWindow` stops that batch.

With an EncodingAESKey configured only encrypted bodies are accepted: in plaintext mode the
signature covers token/timestamp/nonce but not the body, so a captured signature would let
anyone post any body within the freshness window.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from typing import Any

from bot.channels.base import CallbackRequest, CallbackResponse, malformed
from bot.channels.channel import IGNORED, Channel, ChannelDeps
from bot.channels.media import MediaCache
from bot.channels.outbound.errors import (
    DUPLICATE,
    OUTSIDE_WINDOW,
    RATE_LIMITED,
    SENT,
    ApiError,
    SendResult,
)
from bot.channels.safexml import parse_xml
from bot.channels.security import require_fresh, require_signature, wechat_signature
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.events import interaction_openid, parse_callback
from bot.channels.wechat.render import caption_of, passive_text_xml, reply_text
from bot.channels.worker import PassiveSlot
from bot.channels.wxcrypto import WxCallbackCrypto
from handlers.events import ImageReply, JoinEvent, Reply

log = logging.getLogger(__name__)

SUCCESS = "success"  # "no reply" for WeChat: it neither retries nor shows an error


class WeChatChannel(Channel):
    platform = "wechat"

    def __init__(
        self,
        app_id: str,
        deps: ChannelDeps,
        *,
        token: str,
        crypto: WxCallbackCrypto | None,
        api: WeChatApi,
        media: MediaCache,
        passive_budget: float,
    ) -> None:
        super().__init__(app_id, deps)
        self.token = token
        self.crypto = crypto
        self.api = api
        self.media = media
        self.passive_budget = passive_budget

    async def handle(self, req: CallbackRequest) -> CallbackResponse:
        timestamp = req.query.get("timestamp")
        nonce = req.query.get("nonce", "")
        require_fresh(timestamp, self.deps.clock(), self.deps.max_skew)
        assert timestamp is not None
        if req.method == "GET":
            echostr = req.query.get("echostr")
            if not echostr:
                raise malformed("缺少 echostr / missing echostr")
            expected = wechat_signature(self.token, timestamp, nonce)
            require_signature(expected, req.query.get("signature"))
            return CallbackResponse.text(echostr, result="verified")
        envelope = parse_xml(req.body)
        if self.crypto is not None:
            encrypted = envelope.require("Encrypt")
            self.crypto.check(req.query.get("msg_signature"), timestamp, nonce, encrypted)
            plaintext = self.crypto.decrypt(encrypted)
            doc = parse_xml(plaintext)
        else:
            if envelope.get("Encrypt"):
                raise malformed("收到加密消息但未配置 EncodingAESKey / encrypted body, no AES key")
            require_signature(
                wechat_signature(self.token, timestamp, nonce), req.query.get("signature")
            )
            plaintext, doc = req.body.decode("utf-8", errors="replace"), envelope
        parsed = parse_callback(doc, plaintext, app_id=self.app_id, now=self.deps.clock())
        if parsed.kind == IGNORED:
            new = await self.accept(parsed)
            openid = interaction_openid(doc)
            if new and openid is not None:
                # A message of another type or a menu click opens the 48 h window too.
                await self.deps.store.seen(
                    platform=self.platform, app_id=self.app_id, kind="openid", value=openid
                )
            return CallbackResponse.text(SUCCESS, result="ignored" if new else "duplicate")
        slot = PassiveSlot()
        if not await self.accept(parsed, slot):
            return CallbackResponse.text(SUCCESS, result="duplicate")
        reply = await slot.wait(self.passive_budget)
        text = reply_text(reply) if reply is not None else None
        if text is None:
            return CallbackResponse.text(SUCCESS, result="accepted")
        route = parsed.payload["route"]
        xml = passive_text_xml(
            account=route["account"], openid=route["openid"], text=text, now=self.deps.clock()
        )
        if self.crypto is not None:
            xml = self.crypto.encrypt_reply(
                xml, secrets.token_hex(8), str(int(self.deps.clock().timestamp()))
            )
        return CallbackResponse.text(xml, result="accepted", content_type="application/xml")

    async def enrich_joins(self, joins: list[JoinEvent]) -> list[JoinEvent]:
        enriched = []
        for join in joins:
            try:
                info = await self.api.user_info(join.user_id)
            except ApiError as exc:
                log.info("wechat user info lookup failed: %s", exc.code)
                enriched.append(join)
                continue
            union_id = str(info.get("unionid") or "") or None
            enriched.append(replace(join, union_id=join.union_id or union_id))
        return enriched

    async def deliver_replies(
        self,
        key: str,
        route: dict[str, Any],
        replies: list[Reply],
        passive: PassiveSlot | None,
    ) -> list[SendResult]:
        openid = str(route["openid"])
        first = 0
        results: list[SendResult] = []
        takes_passive = passive is not None and replies and reply_text(replies[0]) is not None
        if takes_passive and passive is not None and passive.offer(replies[0]):
            first = 1
            results.append(await self._record_passive(f"{key}:0", openid))
        if passive is not None:
            passive.decline()
        for index, reply in enumerate(replies[first:], start=first):
            results.append(await self._send_one(f"{key}:{index}", openid, reply))
            if results[-1].status in (OUTSIDE_WINDOW, RATE_LIMITED):
                log.info("wechat: stopped replying to %s: %s", key, results[-1].status)
                break
        return results

    async def push(self, openid: str, replies: list[Reply], key: str) -> list[SendResult]:
        """Customer-service messages to a follower (only within 48 h of their last message)."""
        return await self.deliver_replies(key, {"openid": openid}, replies, None)

    async def _record_passive(self, key: str, openid: str) -> SendResult:
        """The passive reply went out in the HTTP response: log it as sent, so a re-run of
        this event does not send it again through the API."""
        outbound = self.deps.outbound
        stopped_by = await outbound.begin(
            key, platform="wechat", app_id=self.app_id, recipient=openid, kind="passive"
        )
        if stopped_by is not None:
            return SendResult(DUPLICATE, detail=f"already {stopped_by}")
        result = SendResult(SENT)
        await outbound.finish(key, result)
        self.deps.telemetry.delivery("wechat", SENT)
        return result

    async def _send_one(self, key: str, openid: str, reply: Reply) -> SendResult:
        text = reply_text(reply)
        if text is not None:
            content = {"content": text}
            return await self.send(
                key, openid, "text", lambda: self.api.send_custom(openid, "text", content)
            )
        assert isinstance(reply, ImageReply)
        caption = caption_of(reply)
        if caption:
            result = await self.send(
                f"{key}:caption",
                openid,
                "text",
                lambda: self.api.send_custom(openid, "text", {"content": caption}),
            )
            if not result.ok:
                return result

        async def upload_and_send() -> str | None:
            media_id = await self.media.get_or_upload(
                reply.png, reply.cache_key, lambda: self.api.upload_image(reply.png)
            )
            await self.api.send_custom(openid, "image", {"media_id": media_id})
            return None

        return await self.send(f"{key}:image", openid, "image", upload_and_send)
