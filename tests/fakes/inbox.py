"""A fake message API for the outbox tests, shaped like Feishu's `im/v1/messages`, and a small
route sender that talks to it — the stand-in for a platform sender (those are issue 18's
sender work) wherever the delivery workers are tested.

The fake accepts a message before it answers (`delay` holds the answer), so a worker killed
while waiting has had its message accepted but not recorded — the duplicate window. Like
Feishu it drops a repeat of a `uuid` it has seen (answering with the first message id) unless
`dedupe=False`. `fail_next(PATH, kind, …)` makes the next calls fail: `server_error` (500),
`rate_limit` (429 with `x-ogw-ratelimit-reset: rate_limit_reset`), `blocked` (a permanent
refusal, code 230013).

`build_senders` is an `[outbox] senders` factory (`fakes.inbox:build_senders`): the sender
posts to `settings.feishu_api_base`, so a `fission worker` subprocess given
`FISSION_FEISHU_API_BASE` sends to the fake of the test that started it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

from config import Settings
from fakes.platform import JSON_BODY, FakePlatform
from models.campaigns.outcomes import (
    ClaimedDelivery,
    Dead,
    Outcome,
    RenderedMessage,
    Retry,
    Sent,
)

PATH = "/open-apis/im/v1/messages"
BLOCKED = 230013


class FakeInbox(FakePlatform):
    def __init__(self, *, delay: float = 0.0, dedupe: bool = True) -> None:
        self.delay = delay
        self.dedupe = dedupe
        self.rate_limit_reset = 7
        self.delivered: list[dict[str, Any]] = []  # what recipients saw, in order
        self.by_uuid: dict[str, str] = {}
        self.requested: Counter[str] = Counter()  # uuid → requests
        self.in_flight: set[str] = set()  # accepted, not answered yet
        super().__init__()

    def routes(self) -> None:
        self.app.router.add_post(PATH, self.message)

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return str(self.server.make_url("")).rstrip("/")

    def error(self, kind: str) -> web.Response:
        if kind == "server_error":
            return web.Response(status=500, text="internal")
        if kind == "rate_limit":
            return web.json_response(
                {"code": 99991400, "msg": "request trigger frequency limit"},
                status=429,
                headers={"x-ogw-ratelimit-reset": str(self.rate_limit_reset)},
            )
        if kind == "blocked":
            return web.json_response({"code": BLOCKED, "msg": "the user has blocked the bot"})
        raise KeyError(kind)

    def texts(self, receive_id: str | None = None) -> list[str]:
        return [m["text"] for m in self.delivered if receive_id in (None, m["receive_id"])]

    async def message(self, request: web.Request) -> web.Response:
        body = request[JSON_BODY]
        uuid = body["uuid"]
        self.requested[uuid] += 1
        delay = self.delay
        failure = self.injected(request.path)
        if failure is not None:
            await asyncio.sleep(delay)
            return failure
        if self.dedupe and uuid in self.by_uuid:
            message_id = self.by_uuid[uuid]
        else:
            message_id = self.next_id("om_")
            self.by_uuid[uuid] = message_id
            self.delivered.append(
                {"uuid": uuid, "receive_id": body["receive_id"], "text": body["text"]}
            )
        self.in_flight.add(uuid)
        try:
            await asyncio.sleep(delay)
        finally:
            self.in_flight.discard(uuid)
        return web.json_response({"code": 0, "msg": "success", "data": {"message_id": message_id}})


class InboxSender:
    """Sends a chunk's messages concurrently; each delivery's `idempotency_key` is its uuid."""

    def __init__(self, base_url: str, routes: tuple[str, ...] = ("feishu",)) -> None:
        self.routes = routes
        self._url = base_url.rstrip("/") + PATH
        self._session: aiohttp.ClientSession | None = None
        self.batches: list[list[int]] = []  # the delivery ids of each send() call

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.batches.append([d.id for d, _ in batch])
        return list(await asyncio.gather(*(self._one(d, m) for d, m in batch)))

    async def _one(self, delivery: ClaimedDelivery, message: RenderedMessage) -> Outcome:
        assert self._session is not None
        body = {"uuid": delivery.idempotency_key, "receive_id": delivery.recipient}
        try:
            async with self._session.post(self._url, json={**body, "text": message.text}) as resp:
                if resp.status >= 500:
                    return Retry(resp.status, f"HTTP {resp.status}")
                answer = await resp.json()
                if resp.status == 429:
                    reset = float(resp.headers.get("x-ogw-ratelimit-reset", "1"))
                    return Retry(answer["code"], answer["msg"], retry_after=reset)
        except aiohttp.ClientError as exc:
            return Retry(None, type(exc).__name__)
        if answer["code"] != 0:
            return Dead("blocked", answer["code"], answer["msg"])
        return Sent(answer["data"]["message_id"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def build_senders(settings: Settings) -> list[InboxSender]:
    return [InboxSender(settings.feishu_api_base)]
