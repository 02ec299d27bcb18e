"""What every fake platform API shares: an aiohttp server on a free port, issued access tokens
that can be expired, failures queued per path, a record of every request, and a clock of its
own (tests move it to walk the platform's time rules: windows, days, months)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

JSON_BODY = web.RequestKey("json_body", object)
FORM_BODY = web.RequestKey("form_body", dict)
FILENAMES = web.RequestKey("filenames", dict)


class FakeError(Exception):
    """A route's answer refuses the call with the platform's own code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)  # multipart field → file name


class FakePlatform:
    """Subclasses add routes in `routes()` and say how errors look (`error()`)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.token_fetches = 0
        self.valid_tokens: set[str] = set()
        self.issued_tokens: set[str] = set()
        self.expires_in = 7200
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._counter = itertools.count(1)
        self._failures: dict[str, list[str]] = defaultdict(list)
        self.app = web.Application(middlewares=[self._record])
        self.routes()
        self.server: TestServer | None = None

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> str:
        self.server = TestServer(self.app)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    # -- what tests steer -------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every issued token stops working (as after a restart of the platform's token)."""
        self.valid_tokens.clear()

    def fail_next(self, path: str, *kinds: str) -> None:
        """The next calls to `path` fail, one per kind: quota, rate_limit, server_error,
        outside_window, invalid_token, lost_answer (where the fake supports it)."""
        self._failures[path].extend(kinds)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # -- helpers for subclasses -------------------------------------------------------------
    def routes(self) -> None:
        raise NotImplementedError

    def error(self, kind: str) -> web.Response:
        raise NotImplementedError

    def issue_token(self) -> str:
        self.token_fetches += 1
        token = f"tok-{next(self._counter)}"
        self.valid_tokens.add(token)
        self.issued_tokens.add(token)
        return token

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def lost_answer(self, path: str) -> bool:
        """Whether the next call to `path` is to be carried out and its answer lost (a 502
        from a gateway after the platform acted): `fail_next(path, "lost_answer")`."""
        queue = self._failures.get(path)
        if queue and queue[0] == "lost_answer":
            queue.pop(0)
            return True
        return False

    def injected(self, path: str) -> web.Response | None:
        queue = self._failures.get(path)
        if queue:
            return self.error(queue.pop(0))
        return None

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        form: dict[str, Any] = {}
        filenames: dict[str, str] = {}
        if request.content_type == "application/json":
            body = await request.json()
        elif request.content_type.startswith("multipart/"):
            posted = await request.post()
            for name, value in posted.items():
                if isinstance(value, web.FileField):
                    form[name] = value.file.read()
                    filenames[name] = value.filename
                else:
                    form[name] = str(value)
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                body,
                form,
                dict(request.headers),
                filenames,
            )
        )
        request[JSON_BODY] = body
        request[FORM_BODY] = form
        request[FILENAMES] = filenames
        return await handler(request)


class WeixinPlatform(FakePlatform):
    """WeChat and WeCom: the token is the `access_token` query parameter, answers carry
    `errcode` / `errmsg`."""

    def api(self, answer: Any) -> Any:
        async def view(request: web.Request) -> web.Response:
            token = request.query.get("access_token", "")
            if token not in self.valid_tokens:
                code = 42001 if token in self.issued_tokens else 40014
                return web.json_response({"errcode": code, "errmsg": "access_token expired"})
            lost = self.lost_answer(request.path)
            failure = None if lost else self.injected(request.path)
            if failure is not None:
                return failure
            try:
                body = answer(request)
            except FakeError as refusal:
                return web.json_response({"errcode": refusal.code, "errmsg": refusal.message})
            if lost:
                return web.Response(status=502, text="bad gateway")
            return web.json_response({"errcode": 0, "errmsg": "ok", **body})

        return view
