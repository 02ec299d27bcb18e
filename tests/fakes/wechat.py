"""A fake Official Account server API (api.weixin.qq.com).

`strict = True` turns on the platform's rules for pushing to followers: only followers the
test added exist; a customer-service message goes out only within 48 h of the follower's last
interaction (45015 outside it, or after they unfollowed) and at most 20 times per interaction
(45047); a template message needs a known template (40037), a follower (43004) who has not
refused the account's templates (43101); an openid nobody issued is 40003. Without `strict`
every send succeeds, as the chat tests need.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from fakes.platform import JSON_BODY, FakeError, WeixinPlatform

CODES = {
    "quota": (45009, "reach max api daily quota limit"),
    "outside_window": (45015, "response out of time limit or subscription is canceled"),
    "invalid_token": (40001, "invalid credential, access_token is invalid or not latest"),
}
WINDOW = timedelta(hours=48)
CS_PER_INTERACTION = 20


class FakeWeChat(WeixinPlatform):
    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self.users: dict[str, dict[str, Any]] = {}
        self.strict = False
        # openid → the follower's last interaction (None: follows, never interacted).
        self.followers: dict[str, datetime | None] = {}
        self.unfollowed: set[str] = set()
        self.refusing_templates: set[str] = set()
        self.templates: set[str] = set()
        self.delivered: list[dict[str, Any]] = []  # what followers actually received
        self._cs_sent: dict[str, int] = {}
        super().__init__()

    # -- what tests steer -------------------------------------------------------------------
    def follow(
        self, openid: str, interacted_at: datetime | None = None, *, replies_used: int = 0
    ) -> None:
        """`replies_used`: customer-service messages already sent since that interaction."""
        self.followers[openid] = interacted_at
        self.unfollowed.discard(openid)
        self._cs_sent[openid] = replies_used

    def interact(self, openid: str, at: datetime | None = None) -> None:
        """The follower wrote, clicked a menu or scanned: the 48 h window opens again."""
        self.follow(openid, at or self.clock())

    def unfollow(self, openid: str) -> None:
        self.followers.pop(openid, None)
        self.unfollowed.add(openid)

    # -- routes -----------------------------------------------------------------------------
    def routes(self) -> None:
        r = self.app.router
        r.add_get("/cgi-bin/token", self.token)
        r.add_post("/cgi-bin/message/custom/send", self.api(self._custom))
        r.add_post("/cgi-bin/message/template/send", self.api(self._template))
        r.add_post(
            "/cgi-bin/media/upload",
            self.api(lambda req: {"type": "image", "media_id": self.next_id("m")}),
        )
        r.add_get("/cgi-bin/user/info", self.api(self._user))

    def error(self, kind: str) -> web.Response:
        if kind == "server_error":
            return web.Response(status=503, text="busy")
        code, message = CODES[kind]
        return web.json_response({"errcode": code, "errmsg": message})

    async def token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("appid") != self.app_id or query.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        return web.json_response(
            {"access_token": self.issue_token(), "expires_in": self.expires_in}
        )

    def _custom(self, request: web.Request) -> dict[str, Any]:
        body = request[JSON_BODY]
        openid = body["touser"]
        if self.strict:
            if openid in self.unfollowed:
                raise FakeError(*CODES["outside_window"])
            if openid not in self.followers:
                raise FakeError(40003, "invalid openid")
            last = self.followers[openid]
            if last is None or self.clock() - last >= WINDOW:
                raise FakeError(*CODES["outside_window"])
            if self._cs_sent.get(openid, 0) >= CS_PER_INTERACTION:
                raise FakeError(45047, "out of response count limit")
            self._cs_sent[openid] = self._cs_sent.get(openid, 0) + 1
        msgtype = body["msgtype"]
        self.delivered.append({"kind": "cs", "openid": openid, msgtype: body[msgtype]})
        return {}

    def _template(self, request: web.Request) -> dict[str, Any]:
        body = request[JSON_BODY]
        openid = body["touser"]
        if self.strict:
            if body["template_id"] not in self.templates:
                raise FakeError(40037, "invalid template_id")
            if openid in self.unfollowed:
                raise FakeError(43004, "require subscribe")
            if openid not in self.followers:
                raise FakeError(40003, "invalid openid")
            if openid in self.refusing_templates:
                raise FakeError(43101, "user refuse to accept the msg")
        msgid = self.next_id("")
        self.delivered.append(
            {
                "kind": "template",
                "openid": openid,
                "template_id": body["template_id"],
                "data": {key: item["value"] for key, item in body["data"].items()},
                "url": body.get("url"),
                "msgid": msgid,
            }
        )
        return {"msgid": int(msgid)}

    def _user(self, request: web.Request) -> dict[str, Any]:
        openid = request.query["openid"]
        return {"subscribe": 1, "openid": openid, **self.users.get(openid, {})}
