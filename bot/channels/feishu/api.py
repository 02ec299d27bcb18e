"""Feishu open API through the choke point, under the configured `feishu_api_base`.

lark-oapi's client is not used for sending: its token fetch blocks the event loop and it does
not back off on code 99991400 / HTTP 429. Messages carry a `uuid` derived from our idempotency
key, so Feishu itself drops a repeat within an hour even if our log could not record the first.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from typing import Any

from bot.channels.outbound.caller import ApiCaller
from bot.channels.outbound.errors import ApiError
from bot.channels.outbound.http import HttpTransport, Upload, content_type_of
from bot.channels.outbound.ratelimit import Limit

# DESIGN.md §4: 5 QPS per user or group, 50/s and 1000/min per app.
APP_PER_SECOND = 50
APP_PER_MINUTE = 1000
CHAT_PER_SECOND = 5
# im/v1/files takes files up to 30 MB, of these types (anything else is a "stream").
MAX_FILE_BYTES = 30 * 1024 * 1024
_FILE_TYPES = {
    ".xls": "xls",
    ".xlsx": "xls",
    ".csv": "stream",
    ".pdf": "pdf",
    ".doc": "doc",
    ".docx": "doc",
    ".ppt": "ppt",
    ".pptx": "ppt",
}


async def fetch_token(
    http: HttpTransport, base_url: str, app_id: str, app_secret: str
) -> tuple[str, int]:
    reply = await http.request(
        "feishu",
        "POST",
        f"{base_url}/open-apis/auth/v3/tenant_access_token/internal",
        json_body={"app_id": app_id, "app_secret": app_secret},
    )
    body = reply.body
    if int(body.get("code", 0) or 0) != 0 or not body.get("tenant_access_token"):
        raise ApiError("feishu", body.get("code"), str(body.get("msg", "token fetch failed")))
    return str(body["tenant_access_token"]), int(body.get("expire", 7200))


def message_uuid(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class FeishuApi:
    def __init__(self, caller: ApiCaller) -> None:
        self._caller = caller
        self._bot_open_id: str | None = None

    async def send_message(
        self,
        receive_id: str,
        msg_type: str,
        content: dict[str, Any],
        *,
        key: str,
        receive_id_type: str = "chat_id",
    ) -> str:
        app = self._caller.app_id
        body = await self._caller.call(
            "POST",
            "/open-apis/im/v1/messages",
            params={"receive_id_type": receive_id_type},
            json_body={
                "receive_id": receive_id,
                "msg_type": msg_type,
                "content": json.dumps(content, ensure_ascii=False),
                "uuid": message_uuid(key),
            },
            limits=(
                Limit(f"feishu:{app}", APP_PER_SECOND, 1.0),
                Limit(f"feishu:{app}:minute", APP_PER_MINUTE, 60.0),
                Limit(f"feishu:{app}:to:{receive_id}", CHAT_PER_SECOND, 1.0),
            ),
        )
        data = body.get("data") or {}
        return str(data.get("message_id", ""))

    async def upload_image(self, png: bytes) -> str:
        body = await self._caller.call(
            "POST",
            "/open-apis/im/v1/images",
            form={"image_type": "message"},
            upload=Upload("image", "image.png", png),
        )
        return str((body.get("data") or {})["image_key"])

    async def upload_file(self, content: bytes, filename: str) -> str:
        """`im/v1/files`: the file's `file_key`, for a `file` message."""
        file_type = _FILE_TYPES.get(PurePosixPath(filename).suffix.lower(), "stream")
        body = await self._caller.call(
            "POST",
            "/open-apis/im/v1/files",
            form={"file_type": file_type, "file_name": filename},
            upload=Upload("file", filename, content, content_type_of(filename)),
        )
        return str((body.get("data") or {})["file_key"])

    async def bot_open_id(self) -> str:
        if self._bot_open_id is None:
            body = await self._caller.call("GET", "/open-apis/bot/v3/info")
            self._bot_open_id = str((body.get("bot") or {}).get("open_id") or "")
        return self._bot_open_id
