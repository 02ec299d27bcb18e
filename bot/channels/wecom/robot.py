"""WeCom group robot (群机器人) webhook: its own small client, as wechatpy has none.

No access token — the webhook key is the credential, so it never appears in logs. At most 20
messages per minute per robot (DESIGN.md §4); the limiter keys on a hash of the webhook key.
"""

from __future__ import annotations

import base64
import hashlib

from bot.channels.outbound.caller import WECOM_RULES, ApiCaller
from bot.channels.outbound.http import HttpTransport
from bot.channels.outbound.ratelimit import Limit, RateLimiter

PER_ROBOT_PER_MINUTE = 20


class GroupRobot:
    def __init__(
        self,
        webhook_key: str,
        *,
        base_url: str,
        http: HttpTransport,
        limiter: RateLimiter,
        quota_backoff: float = 60.0,
    ) -> None:
        self._key = webhook_key
        robot_id = hashlib.sha256(webhook_key.encode("utf-8")).hexdigest()[:12]
        self._limit = Limit(f"robot:{robot_id}", PER_ROBOT_PER_MINUTE, 60.0)
        self._caller = ApiCaller(
            WECOM_RULES,
            app_id=f"robot:{robot_id}",
            base_url=base_url,
            http=http,
            limiter=limiter,
            tokens=None,
            quota_backoff=quota_backoff,
        )

    async def _send(self, payload: dict[str, object]) -> None:
        await self._caller.call(
            "POST",
            "/cgi-bin/webhook/send",
            params={"key": self._key},
            json_body=payload,
            limits=(self._limit,),
            authenticated=False,
            idempotent=False,
        )

    async def send_text(self, text: str, mentioned_mobiles: tuple[str, ...] = ()) -> None:
        content: dict[str, object] = {"content": text}
        if mentioned_mobiles:
            content["mentioned_mobile_list"] = list(mentioned_mobiles)
        await self._send({"msgtype": "text", "text": content})

    async def send_markdown(self, markdown: str) -> None:
        await self._send({"msgtype": "markdown", "markdown": {"content": markdown}})

    async def send_image(self, png: bytes) -> None:
        await self._send(
            {
                "msgtype": "image",
                "image": {
                    "base64": base64.b64encode(png).decode("ascii"),
                    "md5": hashlib.md5(png).hexdigest(),
                },
            }
        )
