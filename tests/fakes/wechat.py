"""A fake Official Account server API (api.weixin.qq.com)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.platform import FakePlatform

CODES = {
    "quota": (45009, "reach max api daily quota limit"),
    "outside_window": (45015, "response out of time limit or subscription is canceled"),
    "invalid_token": (40001, "invalid credential, access_token is invalid or not latest"),
}


class FakeWeChat(FakePlatform):
    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self.users: dict[str, dict[str, Any]] = {}
        super().__init__()

    def routes(self) -> None:
        r = self.app.router
        r.add_get("/cgi-bin/token", self.token)
        r.add_post("/cgi-bin/message/custom/send", self.api(lambda req: {}))
        r.add_post(
            "/cgi-bin/message/template/send", self.api(lambda req: {"msgid": self.next_id("")})
        )
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

    def api(self, answer: Any) -> Any:
        async def view(request: web.Request) -> web.Response:
            token = request.query.get("access_token", "")
            if token not in self.valid_tokens:
                code = 42001 if token in self.issued_tokens else 40014
                return web.json_response({"errcode": code, "errmsg": "access_token expired"})
            failure = self.injected(request.path)
            if failure is not None:
                return failure
            return web.json_response({"errcode": 0, "errmsg": "ok", **answer(request)})

        return view

    def _user(self, request: web.Request) -> dict[str, Any]:
        openid = request.query["openid"]
        return {"subscribe": 1, "openid": openid, **self.users.get(openid, {})}
