"""`POST /feishu/events`: Feishu event subscription, answered within Feishu's 3 s.

lark-oapi's `EventDispatcherHandler` is not used for the callback itself, because it gets in the
way of the requirements: it compares signatures with `!=`; it raises a TypeError (answered 500)
when the signature headers are missing; it has no timestamp check; it answers 500 for any event
type without a registered processor (and has no catch-all), which makes Feishu retry for hours;
it calls synchronous handlers inside `do()`, so storing the event before the answer happens
outside it anyway; and it reports every failure as one 500 whose message would have to be
string-matched to produce a 4xx. So the steps are done here, in order, with lark-oapi's own
cipher for decryption: decrypt → answer url_verification (token checked) → fresh timestamp and
constant-time sha256 signature → token → parse → store + de-duplicate by `header.event_id` →
answer `{"msg": "success"}` (an event type without work too, stored as ignored); replies go
out later through im/v1.

It fails closed: the channel exists only with both the Verification Token and the Encrypt Key
(config/settings.py says why the key is required), so every event must arrive encrypted, signed
and carrying the token; anything else is a 403 and nothing is stored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.channels.base import CallbackRequest, CallbackResponse, forbidden, malformed
from bot.channels.channel import IGNORED, Channel, ChannelDeps
from bot.channels.feishu.api import MAX_FILE_BYTES, FeishuApi
from bot.channels.feishu.crypto import FeishuCipher
from bot.channels.feishu.events import (
    IGNORED_TYPES,
    parse_event,
    schema_one_event,
    to_chat_message,
)
from bot.channels.feishu.render import card_content, text_content
from bot.channels.media import MediaCache
from bot.channels.outbound.errors import RATE_LIMITED, ApiError, SendResult
from bot.channels.security import feishu_signature, require_fresh, require_signature, same
from bot.channels.worker import PassiveSlot
from handlers.events import CardReply, ChatMessage, FileReply, Reply, TextReply

log = logging.getLogger(__name__)


class FeishuChannel(Channel):
    platform = "feishu"

    def __init__(
        self,
        app_id: str,
        deps: ChannelDeps,
        *,
        api: FeishuApi,
        verification_token: str,
        encrypt_key: str,
        media: MediaCache,
    ) -> None:
        super().__init__(app_id, deps)
        self.api = api
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self.cipher = FeishuCipher(encrypt_key)
        self.media = media

    async def handle(self, req: CallbackRequest) -> CallbackResponse:
        outer = _json_object(req.body)
        if "encrypt" not in outer:
            raise forbidden(
                "not_encrypted", "事件未加密 / event not encrypted with the Encrypt Key"
            )
        body = _json_object(self.cipher.decrypt(outer["encrypt"]).encode("utf-8"))
        if body.get("type") == "url_verification":  # Feishu does not sign this one
            self._check_token(body.get("token"))
            return CallbackResponse.json({"challenge": body.get("challenge")}, result="verified")
        timestamp = req.headers.get("X-Lark-Request-Timestamp")
        nonce = req.headers.get("X-Lark-Request-Nonce", "")
        require_fresh(timestamp, self.deps.clock(), self.deps.max_skew)
        assert timestamp is not None
        expected = feishu_signature(timestamp, nonce, self.encrypt_key, req.body)
        require_signature(expected, req.headers.get("X-Lark-Signature"))
        if body.get("schema") != "2.0":
            self._check_token(body.get("token"))
            parsed = schema_one_event(body)
        else:
            header = body.get("header")
            self._check_token(header.get("token") if isinstance(header, dict) else None)
            parsed = parse_event(body, app_id=self.app_id, now=self.deps.clock())
        if not await self.accept(parsed):
            return CallbackResponse.json({"msg": "success"}, result="duplicate")
        if parsed.kind == IGNORED:
            if parsed.payload["type"] not in IGNORED_TYPES:
                log.info("feishu: ignoring event type %s", parsed.payload["type"])
            return CallbackResponse.json({"msg": "success"}, result="ignored")
        return CallbackResponse.json({"msg": "success"}, result="accepted")

    def _check_token(self, token: object) -> None:
        if not same(self.verification_token, token if isinstance(token, str) else None):
            raise forbidden("bad_token", "Verification Token 不符 / verification token mismatch")

    async def chat_message(self, payload: dict[str, Any]) -> ChatMessage:
        try:
            bot_open_id = await self.api.bot_open_id()
        except ApiError as exc:
            log.warning("feishu: bot info unavailable (%s); every mention counts", exc.code)
            bot_open_id = ""
        return to_chat_message(payload["raw"], app_id=self.app_id, bot_open_id=bot_open_id)

    async def deliver_replies(
        self,
        key: str,
        route: dict[str, Any],
        replies: list[Reply],
        passive: PassiveSlot | None,
    ) -> list[SendResult]:
        return await self.push(str(route["chat_id"]), replies, key, receive_id_type="chat_id")

    async def push(
        self, receive_id: str, replies: list[Reply], key: str, *, receive_id_type: str = "open_id"
    ) -> list[SendResult]:
        results: list[SendResult] = []
        for index, reply in enumerate(replies):
            piece_key = f"{key}:{index}"
            results.append(await self._send_one(piece_key, receive_id, receive_id_type, reply))
            if results[-1].status == RATE_LIMITED:
                break
        return results

    async def _text(self, key: str, to: str, id_type: str, text: str) -> SendResult:
        content = text_content(text)
        return await self.send(
            key,
            to,
            "text",
            lambda: self.api.send_message(to, "text", content, key=key, receive_id_type=id_type),
        )

    async def _send_one(self, key: str, to: str, id_type: str, reply: Reply) -> SendResult:
        if isinstance(reply, TextReply):
            return await self._text(key, to, id_type, reply.text)
        if isinstance(reply, CardReply):
            card = reply

            async def send_card() -> str:
                image_key = None
                if card.image_png is not None:
                    png = card.image_png
                    image_key = await self.media.get_or_upload(
                        png, None, lambda: self.api.upload_image(png)
                    )
                return await self.api.send_message(
                    to,
                    "interactive",
                    card_content(card, image_key),
                    key=key,
                    receive_id_type=id_type,
                )

            return await self.send(key, to, "card", send_card)
        if isinstance(reply, FileReply):
            return await self._file(key, to, id_type, reply)
        image = reply
        if image.caption:
            result = await self._text(f"{key}:caption", to, id_type, image.caption)
            if not result.ok:
                return result

        async def send_image() -> str:
            image_key = await self.media.get_or_upload(
                image.png, image.cache_key, lambda: self.api.upload_image(image.png)
            )
            return await self.api.send_message(
                to, "image", {"image_key": image_key}, key=key, receive_id_type=id_type
            )

        return await self.send(f"{key}:image", to, "image", send_image)

    async def _file(self, key: str, to: str, id_type: str, reply: FileReply) -> SendResult:
        """Caption, then the file uploaded to im/v1/files and sent as a `file` message; the
        fallback text instead when the file is over Feishu's 30 MB."""
        if len(reply.content) > MAX_FILE_BYTES:
            return await self._text(f"{key}:fallback", to, id_type, reply.as_text())
        if reply.caption:
            result = await self._text(f"{key}:caption", to, id_type, reply.caption)
            if not result.ok:
                return result

        async def send_file() -> str:
            file_key = await self.api.upload_file(reply.content, reply.filename)
            return await self.api.send_message(
                to, "file", {"file_key": file_key}, key=f"{key}:file", receive_id_type=id_type
            )

        return await self.send(f"{key}:file", to, "file", send_file)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed("请求体不是合法 JSON / body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise malformed("请求体应为 JSON 对象 / body must be a JSON object")
    return body
