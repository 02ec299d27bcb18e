"""What channels report to metrics, without depending on a metrics library (bot/web/metrics.py
implements it with prometheus-client)."""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def callback(self, platform: str, result: str) -> None: ...

    def command(self, platform: str, kind: str, seconds: float) -> None: ...

    def delivery(self, platform: str, result: str) -> None: ...


class NoTelemetry:
    def callback(self, platform: str, result: str) -> None:
        return None

    def command(self, platform: str, kind: str, seconds: float) -> None:
        return None

    def delivery(self, platform: str, result: str) -> None:
        return None
