"""Platform callback routes: `/wecom/callback`, `/wechat/callback`, `/feishu/events`.

The only place where aiohttp meets the channels (STYLE.md #1): the request becomes a neutral
`CallbackRequest` (body read with a hard cap, real case-insensitive headers), the channel's
`CallbackResponse` or `Rejected` becomes the HTTP answer, and every answer is counted. The
channels are started with the app (unfinished events picked up again) and stopped with it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.base import CallbackRequest, Rejected
from bot.channels.registry import build_channels
from bot.web.errors import json_error
from bot.web.keys import CHANNELS, CONTAINER
from bot.web.metrics import setup_metrics

log = logging.getLogger(__name__)

ROUTES = (
    ("wecom", "/wecom/callback", ("GET", "POST")),
    ("wechat", "/wechat/callback", ("GET", "POST")),
    ("feishu", "/feishu/events", ("POST",)),
)


def setup_callbacks(app: web.Application) -> None:
    container = app[CONTAINER]
    if container.channels is None:
        container.channels = build_channels(
            container.settings,
            container.db,
            clock=container.clock,
            dispatcher=container.dispatcher,
            extras=container.extras,
        )
    registry = container.channels
    registry.telemetry.target = setup_metrics(app, container.settings.metrics_token)
    app[CHANNELS] = registry
    for platform, path, methods in ROUTES:
        for method in methods:
            app.router.add_route(method, path, _view(platform))
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


async def _start(app: web.Application) -> None:
    await app[CHANNELS].start()


async def _stop(app: web.Application) -> None:
    await app[CHANNELS].stop()


def _view(platform: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def view(request: web.Request) -> web.Response:
        registry = request.app[CHANNELS]
        telemetry = registry.telemetry
        if registry.get(platform) is None:
            telemetry.callback(platform, "not_configured")
            return json_error(404, "channel_not_configured", f"{platform} 未配置 / not configured")
        body = await _read_capped(request, registry.options.max_body_bytes)
        if body is None:
            telemetry.callback(platform, "too_large")
            return json_error(413, "body_too_large", "请求体过大 / body too large")
        callback = CallbackRequest(request.method, request.query, request.headers, body)
        try:
            answer = await registry.handle(platform, callback)
        except Rejected as rejected:
            answer = rejected.response()
        assert answer is not None
        telemetry.callback(platform, answer.result)
        response = web.Response(status=answer.status, body=answer.body, headers=answer.headers)
        response.content_type = answer.content_type
        if answer.content_type.startswith(("text/", "application/xml", "application/json")):
            response.charset = "utf-8"
        return response

    return view


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is (or claims to be) larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
