"""`GET /metrics` (Prometheus text format): callbacks by platform and result, command latency,
deliveries by platform and result.

The collectors live in a registry of their own, created with the app — not in prometheus-client's
global default registry at import time — so two apps in one process (tests) do not collide.

Who may read it: with `metrics_token` set, whoever sends it as a bearer token (compared in
constant time); without, only a loopback peer. The peer is the TCP peer, never an address from
X-Forwarded-For: behind a reverse proxy on the same machine the peer is the proxy, loopback for
every visitor it forwards — so a request carrying forwarding headers is not served as local.
"""

from __future__ import annotations

import ipaddress

from aiohttp import hdrs, web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from pydantic import SecretStr

from bot.web.bearer import CHALLENGE, INVALID_TOKEN, MISSING_TOKEN, presented_token, token_matches
from bot.web.errors import json_error

PROXY_HEADERS = (hdrs.FORWARDED, hdrs.X_FORWARDED_FOR, "X-Real-IP")
LOCAL_ONLY = (
    "/metrics 仅对本机开放；远程抓取请设置 FISSION_METRICS_TOKEN 并发送 Authorization: Bearer "
    "<令牌> / /metrics is served to loopback only; set FISSION_METRICS_TOKEN to scrape it remotely"
)

COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.callbacks = Counter(
            "fission_callbacks",
            "Platform callbacks answered, by platform and result.",
            ["platform", "result"],
            registry=self.registry,
        )
        self.commands = Histogram(
            "fission_command_seconds",
            "Time to handle one chat message or join, by platform and kind.",
            ["platform", "kind"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "fission_deliveries",
            "Outbound messages, by platform and result.",
            ["platform", "result"],
            registry=self.registry,
        )

    def callback(self, platform: str, result: str) -> None:
        self.callbacks.labels(platform=platform, result=result).inc()

    def command(self, platform: str, kind: str, seconds: float) -> None:
        self.commands.labels(platform=platform, kind=kind).observe(seconds)

    def delivery(self, platform: str, result: str) -> None:
        self.deliveries.labels(platform=platform, result=result).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


def setup_metrics(app: web.Application, token: SecretStr | None) -> Metrics:
    metrics = Metrics()
    app[METRICS] = metrics

    async def metrics_view(request: web.Request) -> web.Response:
        refused = _refusal(request, token)
        if refused is not None:
            return refused
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/metrics", metrics_view)
    return metrics


def _refusal(request: web.Request, token: SecretStr | None) -> web.Response | None:
    if token is not None and token.get_secret_value():
        presented = presented_token(request)
        if presented is not None and token_matches(presented, token):
            return None
        code, message = (
            ("missing_token", MISSING_TOKEN)
            if presented is None
            else ("invalid_token", INVALID_TOKEN)
        )
        refused = json_error(401, code, message)
        refused.headers.update(CHALLENGE)
        return refused
    if _loopback(request.remote) and not any(name in request.headers for name in PROXY_HEADERS):
        return None
    return json_error(403, "metrics_local_only", LOCAL_ONLY)


def _loopback(peer: str | None) -> bool:
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False  # a Unix socket, or no peer at all
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
