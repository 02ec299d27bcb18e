"""WeCom server API, called through the choke point. Paths are relative to the configured
`wecom_api_base`, token fetch included (wechatpy's WeCom client hard-codes
https://qyapi.weixin.qq.com for it, which is why its HTTP client is not used)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
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

# `get_groupmsg_task` / `get_groupmsg_send_result` return at most this many rows per page.
RESULT_PAGE = 1000


@dataclass(frozen=True)
class SendResult:
    """One customer of a mass-message task: status 0 not sent yet, 1 sent, 2 not the sender's
    contact (any more), 3 not sent because the customer already received their mass messages
    (the corp's 4 a month, or this staff member's one a day)."""

    external_userid: str
    status: int
    send_time: int | None


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

    async def add_msg_template(
        self, sender: str, external_userids: Sequence[str], text: str
    ) -> tuple[str, list[str]]:
        """A customer mass-message task (`chat_type` single) for `sender` to confirm in the
        app: (msgid, the external_userids the platform left out). Not repeated after a 5xx or
        timeout: a second task would ask the staff member to confirm the same message twice."""
        body = await self._caller.call(
            "POST",
            "/cgi-bin/externalcontact/add_msg_template",
            json_body={
                "chat_type": "single",
                "external_userid": list(external_userids),
                "sender": sender,
                "text": {"content": text},
            },
            idempotent=False,
        )
        return str(body.get("msgid", "")), [str(item) for item in body.get("fail_list") or []]

    async def remind_groupmsg_send(self, msgid: str) -> None:
        """WeCom notifies the staff member of the task again (at most 3 times in 24 h)."""
        await self._caller.call(
            "POST", "/cgi-bin/externalcontact/remind_groupmsg_send", json_body={"msgid": msgid}
        )

    async def cancel_groupmsg_send(self, msgid: str) -> None:
        """The task can no longer be sent."""
        await self._caller.call(
            "POST", "/cgi-bin/externalcontact/cancel_groupmsg_send", json_body={"msgid": msgid}
        )

    async def groupmsg_task_status(self, msgid: str, sender: str) -> tuple[int, int | None]:
        """The sender's status on the task (0 not sent, 1 confirmed, 2 sent) and send time."""
        cursor = ""
        while True:
            body = await self._caller.call(
                "POST",
                "/cgi-bin/externalcontact/get_groupmsg_task",
                json_body={"msgid": msgid, "limit": RESULT_PAGE, "cursor": cursor},
            )
            for task in body.get("task_list") or []:
                if task.get("userid") == sender:
                    return int(task.get("status") or 0), _time(task.get("send_time"))
            cursor = str(body.get("next_cursor") or "")
            if not cursor:
                return 0, None

    async def groupmsg_send_results(
        self, msgid: str, sender: str
    ) -> AsyncIterator[list[SendResult]]:
        """The task's per-customer results, one page at a time (paged by cursor)."""
        cursor = ""
        while True:
            body = await self._caller.call(
                "POST",
                "/cgi-bin/externalcontact/get_groupmsg_send_result",
                json_body={
                    "msgid": msgid,
                    "userid": sender,
                    "limit": RESULT_PAGE,
                    "cursor": cursor,
                },
            )
            yield [
                SendResult(
                    str(item.get("external_userid") or ""),
                    int(item.get("status") or 0),
                    _time(item.get("send_time")),
                )
                for item in body.get("send_list") or []
            ]
            cursor = str(body.get("next_cursor") or "")
            if not cursor:
                return


def _time(raw: object) -> int | None:
    try:
        return int(str(raw)) if raw not in (None, "", 0) else None
    except ValueError:
        return None
