"""The outbox benchmark's platform: an unlimited local message API in the bench process, and
the route sender the `fission worker` processes load to reach it (`[outbox] senders =
["bench.outbox_fake:build_senders"]`, API base from `FISSION_FEISHU_API_BASE`).

One request carries a whole chunk (as a WeCom mass-message task carries a staff member's
customers), so the figure is the outbox's own work — claims, rendering, budgets, records —
rather than this machine's HTTP round trips.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
from aiohttp import web

from config import Settings
from models.campaigns.outcomes import ClaimedDelivery, Outcome, RenderedMessage, Sent

PATH = "/bench/messages"


class FakeApi:
    def __init__(self) -> None:
        self.received = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(PATH, self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _messages(self, request: web.Request) -> web.Response:
        messages: list[dict[str, Any]] = await request.json()
        self.received += len(messages)
        return web.json_response({"ids": [f"bm_{next(self._ids)}" for _ in messages]})


class BenchSender:
    routes = ("feishu",)

    def __init__(self, base_url: str) -> None:
        self._url = base_url.rstrip("/") + PATH
        self._session: aiohttp.ClientSession | None = None

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = [{"uuid": d.idempotency_key, "to": d.recipient, "text": m.text} for d, m in batch]
        async with self._session.post(self._url, json=body) as resp:
            resp.raise_for_status()
            ids = (await resp.json())["ids"]
        return [Sent(message_id) for message_id in ids]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def build_senders(settings: Settings) -> list[BenchSender]:
    return [BenchSender(settings.feishu_api_base)]
