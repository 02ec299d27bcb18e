"""WeCom server API, called through the choke point. Paths are relative to the configured
`wecom_api_base`, token fetch included (wechatpy's WeCom client hard-codes
https://qyapi.weixin.qq.com for it, which is why its HTTP client is not used)."""

from __future__ import annotations

from typing import Any

from bot.channels.outbound.caller import ApiCaller
from bot.channels.outbound.errors import ApiError
from bot.channels.outbound.http import HttpTransport, Upload, content_type_of
from bot.channels.outbound.ratelimit import Limit

# ~30 app messages per minute and 1000 per hour to one member, DESIGN.md §4.
PER_MEMBER_PER_MINUTE = 30
PER_MEMBER_PER_HOUR = 1000
# media/upload takes files (type=file) up to 20 MB.
MAX_FILE_BYTES = 20 * 1024 * 1024


async def fetch_token(
    http: HttpTransport, base_url: str, corp_id: str, secret: str
) -> tuple[str, int]:
    reply = await http.request(
        "wecom",
        "GET",
        f"{base_url}/cgi-bin/gettoken",
        params={"corpid": corp_id, "corpsecret": secret},
    )
    body = reply.body
    if int(body.get("errcode", 0) or 0) != 0 or not body.get("access_token"):
        raise ApiError("wecom", body.get("errcode"), str(body.get("errmsg", "token fetch failed")))
    return str(body["access_token"]), int(body.get("expires_in", 7200))


class WeComApi:
    def __init__(self, caller: ApiCaller, agent_id: int | None) -> None:
        self._caller = caller
        self.agent_id = agent_id

    async def send_app_message(self, touser: str, msgtype: str, content: dict[str, Any]) -> str:
        """App message to a member (`message/send`); returns the msgid."""
        if self.agent_id is None:
            raise ApiError("wecom", None, "FISSION_WECOM_AGENT_ID is not configured")
        member = f"{self._caller.app_id}:{touser}"
        body = await self._caller.call(
            "POST",
            "/cgi-bin/message/send",
            json_body={
                "touser": touser,
                "msgtype": msgtype,
                "agentid": self.agent_id,
                msgtype: content,
            },
            limits=(
                Limit(f"wecom:{member}:minute", PER_MEMBER_PER_MINUTE, 60.0),
                Limit(f"wecom:{member}:hour", PER_MEMBER_PER_HOUR, 3600.0),
            ),
            idempotent=False,
        )
        return str(body.get("msgid", ""))

    async def upload_image(self, png: bytes) -> str:
        body = await self._caller.call(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": "image"},
            upload=Upload("media", "image.png", png),
        )
        return str(body["media_id"])

    async def upload_file(self, content: bytes, filename: str) -> str:
        """A temporary file (`media/upload?type=file`, kept 3 days): its `media_id`."""
        body = await self._caller.call(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": "file"},
            upload=Upload("media", filename, content, content_type_of(filename)),
        )
        return str(body["media_id"])

    async def send_welcome(self, welcome_code: str, text: str) -> str | None:
        """The welcome message to a new external contact (one per `WelcomeCode`, 20 s)."""
        await self._caller.call(
            "POST",
            "/cgi-bin/externalcontact/send_welcome_msg",
            json_body={"welcome_code": welcome_code, "text": {"content": text}},
            idempotent=False,
        )
        return None

    async def external_contact(self, external_userid: str) -> dict[str, Any]:
        body = await self._caller.call(
            "GET",
            "/cgi-bin/externalcontact/get",
            params={"external_userid": external_userid},
        )
        contact = body.get("external_contact")
        return contact if isinstance(contact, dict) else {}

    async def group_chat(self, chat_id: str) -> dict[str, Any]:
        """`externalcontact/groupchat/get`: members with type, join time and the join way's
        `state` (set when the member came through a join-way QR / link that carried one)."""
        body = await self._caller.call(
            "POST",
            "/cgi-bin/externalcontact/groupchat/get",
            json_body={"chat_id": chat_id, "need_name": 1},
        )
        chat = body.get("group_chat")
        return chat if isinstance(chat, dict) else {}
