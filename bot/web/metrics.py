"""`GET /metrics` (Prometheus text format): callbacks by platform and result, command latency,
deliveries by platform and result.

The collectors live in a registry of their own, created with the app — not in prometheus-client's
global default registry at import time — so two apps in one process (tests) do not collide.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

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


def setup_metrics(app: web.Application) -> Metrics:
    metrics = Metrics()
    app[METRICS] = metrics
    app.router.add_get("/metrics", metrics_view)
    return metrics


async def metrics_view(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
