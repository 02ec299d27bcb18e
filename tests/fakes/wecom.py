"""A fake WeCom server API (qyapi.weixin.qq.com); customer mass messages in fakes/wecom_mass.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.platform import FILENAMES, FORM_BODY, JSON_BODY, WeixinPlatform
from fakes.wecom_mass import MassMessages

CODES = {
    "quota": (45009, "api freq out of limit"),
    "outside_window": (45015, "response out of time limit"),
    "invalid_token": (40014, "invalid access_token"),
}


@dataclass(frozen=True)
class Media:
    kind: str  # image | voice | video | file
    filename: str
    content: bytes


class FakeWeCom(WeixinPlatform):
    def __init__(self, corp_id: str, secret: str) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.group_chats: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.media: dict[str, Media] = {}  # temporary media by media_id
        self.delivered: list[dict[str, Any]] = []  # app messages members received
        super().__init__()
        self.mass = MassMessages(lambda: self.clock(), self.next_id)

    def routes(self) -> None:
        r = self.app.router
        r.add_get("/cgi-bin/gettoken", self.gettoken)
        r.add_post("/cgi-bin/message/send", self.api(self._message))
        r.add_post("/cgi-bin/media/upload", self.api(self._upload))
        r.add_post("/cgi-bin/externalcontact/send_welcome_msg", self.api(lambda req: {}))
        r.add_get("/cgi-bin/externalcontact/get", self.api(self._contact))
        r.add_post("/cgi-bin/externalcontact/groupchat/get", self.api(self._group_chat))
        r.add_post("/cgi-bin/webhook/send", self.robot)
        contact = "/cgi-bin/externalcontact"
        r.add_post(
            f"{contact}/add_msg_template", self.api(lambda req: self.mass.add(req[JSON_BODY]))
        )
        r.add_post(
            f"{contact}/remind_groupmsg_send",
            self.api(lambda req: self.mass.remind(req[JSON_BODY])),
        )
        r.add_post(
            f"{contact}/cancel_groupmsg_send",
            self.api(lambda req: self.mass.cancel(req[JSON_BODY])),
        )
        r.add_post(
            f"{contact}/get_groupmsg_task",
            self.api(lambda req: self.mass.task_list(req[JSON_BODY])),
        )
        r.add_post(
            f"{contact}/get_groupmsg_send_result",
            self.api(lambda req: self.mass.send_results(req[JSON_BODY])),
        )

    def error(self, kind: str) -> web.Response:
        if kind == "server_error":
            return web.Response(status=502, text="bad gateway")
        code, message = CODES[kind]
        return web.json_response({"errcode": code, "errmsg": message})

    async def gettoken(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = self.issue_token()
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}
        )

    def _upload(self, request: web.Request) -> dict[str, Any]:
        kind = request.query.get("type", "")
        assert kind in ("image", "voice", "video", "file"), kind
        content = request[FORM_BODY]["media"]
        assert len(content) > 5, "WeCom refuses media of 5 bytes or less"
        media_id = self.next_id("m")
        self.media[media_id] = Media(kind, request[FILENAMES]["media"], content)
        return {"type": kind, "media_id": media_id, "created_at": "1380000000"}

    def _message(self, request: web.Request) -> dict[str, Any]:
        body = request[JSON_BODY]
        msgtype = body["msgtype"]
        if msgtype in ("image", "file"):
            media = self.media.get(body[msgtype]["media_id"])
            if media is None or media.kind != msgtype:
                return {"errcode": 40007, "errmsg": "invalid media_id"}
        self.delivered.append(body)
        return {"msgid": self.next_id("msg")}

    def file_messages(self) -> list[Media]:
        """The files members received, in order."""
        return [self.media[m["file"]["media_id"]] for m in self.delivered if m["msgtype"] == "file"]

    def _contact(self, request: web.Request) -> dict[str, Any]:
        return {"external_contact": self.contacts.get(request.query["external_userid"], {})}

    def _group_chat(self, request: web.Request) -> dict[str, Any]:
        return {"group_chat": self.group_chats.get(request[JSON_BODY]["chat_id"], {})}

    async def robot(self, request: web.Request) -> web.Response:
        failure = self.injected(request.path)
        if failure is not None:
            return failure
        if not request.query.get("key"):
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})
