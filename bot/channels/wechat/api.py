"""Official Account server API through the choke point, every URL (token fetch included) under
the configured `wechat_api_base` — wechatpy's `WeChatClient.fetch_access_token` hard-codes
https://api.weixin.qq.com/cgi-bin/token, so its HTTP client is not used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.outbound.caller import ApiCaller
from bot.channels.outbound.errors import ApiError
from bot.channels.outbound.http import HttpTransport, Upload


async def fetch_token(
    http: HttpTransport, base_url: str, app_id: str, secret: str
) -> tuple[str, int]:
    reply = await http.request(
        "wechat",
        "GET",
        f"{base_url}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": app_id, "secret": secret},
    )
    body = reply.body
    if int(body.get("errcode", 0) or 0) != 0 or not body.get("access_token"):
        raise ApiError("wechat", body.get("errcode"), str(body.get("errmsg", "token fetch failed")))
    return str(body["access_token"]), int(body.get("expires_in", 7200))


class WeChatApi:
    def __init__(self, caller: ApiCaller) -> None:
        self._caller = caller

    async def send_custom(self, openid: str, msgtype: str, content: Mapping[str, Any]) -> None:
        """Customer-service message; only within 48 h of the user's last interaction
        (`OutsideWindow` otherwise)."""
        await self._caller.call(
            "POST",
            "/cgi-bin/message/custom/send",
            json_body={"touser": openid, "msgtype": msgtype, msgtype: dict(content)},
            idempotent=False,
        )

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        *,
        url: str | None = None,
    ) -> str:
        """A template message (works outside the 48 h window); returns the msgid."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if url:
            body["url"] = url
        # Not repeated after a 5xx or timeout: WeChat does not de-duplicate template messages.
        answer = await self._caller.call(
            "POST", "/cgi-bin/message/template/send", json_body=body, idempotent=False
        )
        return str(answer.get("msgid", ""))

    async def upload_image(self, png: bytes) -> str:
        body = await self._caller.call(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": "image"},
            upload=Upload("media", "image.png", png),
            idempotent=False,
        )
        return str(body["media_id"])

    async def user_info(self, openid: str) -> dict[str, Any]:
        return await self._caller.call(
            "GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"}
        )
