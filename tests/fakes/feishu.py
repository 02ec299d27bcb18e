"""A fake Feishu open API (open.feishu.cn): tenant tokens, im/v1 messages with `uuid`
de-duplication for an hour, users outside the bot's availability, image and file uploads, bot
info."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from fakes.platform import FORM_BODY, JSON_BODY, FakeError, FakePlatform

# Feishu drops a message whose `uuid` it has seen within the last hour.
UUID_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class UploadedFile:
    name: str
    file_type: str
    content: bytes


class FakeFeishu(FakePlatform):
    def __init__(self, app_id: str, app_secret: str, bot_open_id: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.bot_open_id = bot_open_id
        self.rate_limit_reset = 7
        self.delivered: list[dict[str, Any]] = []  # messages a user would actually see
        self.files: dict[str, UploadedFile] = {}  # by file_key
        # open_ids outside the app's availability (or who left the company): 230013.
        self.unavailable: set[str] = set()
        # open_ids of another app or nobody: 99992361.
        self.foreign_ids: set[str] = set()
        self._by_uuid: dict[str, tuple[str, datetime]] = {}
        super().__init__()

    def routes(self) -> None:
        r = self.app.router
        r.add_post("/open-apis/auth/v3/tenant_access_token/internal", self.token)
        r.add_post("/open-apis/im/v1/messages", self.api(self._message))
        r.add_post("/open-apis/im/v1/images", self.api(self._image))
        r.add_post("/open-apis/im/v1/files", self.api(self._file))
        r.add_get("/open-apis/bot/v3/info", self.api(self._bot))

    def error(self, kind: str) -> web.Response:
        if kind == "server_error":
            return web.Response(status=500, text="internal")
        if kind == "rate_limit":
            return web.json_response(
                {"code": 99991400, "msg": "request trigger frequency limit"},
                status=429,
                headers={
                    "x-ogw-ratelimit-limit": "50",
                    "x-ogw-ratelimit-reset": str(self.rate_limit_reset),
                },
            )
        if kind == "invalid_token":
            return web.json_response({"code": 99991663, "msg": "Invalid access token"}, status=400)
        raise KeyError(kind)

    async def token(self, request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            return web.json_response({"code": 10014, "msg": "app secret invalid"})
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "tenant_access_token": self.issue_token(),
                "expire": self.expires_in,
            }
        )

    def api(self, answer: Any) -> Any:
        async def view(request: web.Request) -> web.Response:
            auth = request.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return web.json_response(
                    {"code": 99991663, "msg": "Invalid access token for authorization"},
                    status=400,
                )
            failure = self.injected(request.path)
            if failure is not None:
                return failure
            try:
                body = answer(request)
            except FakeError as refusal:
                return web.json_response({"code": refusal.code, "msg": refusal.message}, status=400)
            return web.json_response({"code": 0, "msg": "success", **body})

        return view

    def _message(self, request: web.Request) -> dict[str, Any]:
        body = request[JSON_BODY]
        uuid = body.get("uuid")
        now = self.clock()
        if uuid and uuid in self._by_uuid:
            message_id, sent_at = self._by_uuid[uuid]
            if now - sent_at < UUID_WINDOW:
                return {"data": {"message_id": message_id}}
        if request.query.get("receive_id_type") == "open_id":
            if body["receive_id"] in self.foreign_ids:
                raise FakeError(99992361, "open_id cross app")
            if body["receive_id"] in self.unavailable:
                raise FakeError(230013, "Bot has NO availability to this user.")
        message_id = self.next_id("om_")
        if uuid:
            self._by_uuid[uuid] = (message_id, now)
        self.delivered.append(
            {
                "receive_id_type": request.query.get("receive_id_type"),
                "receive_id": body["receive_id"],
                "msg_type": body["msg_type"],
                "content": body["content"],
                "message_id": message_id,
            }
        )
        return {"data": {"message_id": message_id}}

    def _image(self, request: web.Request) -> dict[str, Any]:
        assert request[FORM_BODY].get("image_type") == "message"
        assert request[FORM_BODY]["image"].startswith(b"\x89PNG")
        return {"data": {"image_key": self.next_id("img_")}}

    def _file(self, request: web.Request) -> dict[str, Any]:
        form = request[FORM_BODY]
        assert form["file_type"] in ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream")
        content = form["file"]
        assert content, "Feishu refuses empty files"
        key = self.next_id("file_v2_")
        self.files[key] = UploadedFile(form["file_name"], form["file_type"], content)
        return {"data": {"file_key": key}}

    def file_messages(self) -> list[UploadedFile]:
        """The files users received, in order."""
        return [
            self.files[json.loads(m["content"])["file_key"]]
            for m in self.delivered
            if m["msg_type"] == "file"
        ]

    def _bot(self, request: web.Request) -> dict[str, Any]:
        return {"bot": {"app_name": "Fission", "open_id": self.bot_open_id, "activate_status": 2}}
