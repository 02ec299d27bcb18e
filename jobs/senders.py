"""The route senders the delivery workers hand messages to, by route.

The composition root (bot/bootstrap.py) fills the registry: the platform senders of the
configured channels, and any `[outbox] senders` factories (`module:function`, called with the
settings, returning route senders) for channels Fission does not ship. A route with no sender
is not claimed at all — its deliveries wait, queued, until a process that can send them runs.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable

from config import Settings
from models.campaigns.outcomes import RouteSender

log = logging.getLogger(__name__)


class SenderRegistry:
    def __init__(
        self,
        senders: Iterable[RouteSender] = (),
        *,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._by_route: dict[str, RouteSender] = {}
        self._on_close = on_close  # e.g. the HTTP session the senders share
        for sender in senders:
            self.add(sender)

    def add(self, sender: RouteSender) -> None:
        for route in sender.routes:
            if route in self._by_route:
                raise ValueError(f"two senders for route {route!r}")
            self._by_route[route] = sender

    def get(self, route: str) -> RouteSender | None:
        return self._by_route.get(route)

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_route))

    def __len__(self) -> int:
        return len(self._by_route)

    async def close(self) -> None:
        """Close the senders that hold connections (those with an async `close()`)."""
        for sender in {id(s): s for s in self._by_route.values()}.values():
            closer = getattr(sender, "close", None)
            if closer is not None and inspect.iscoroutinefunction(closer):
                await closer()
        if self._on_close is not None:
            await self._on_close()


def load_senders(settings: Settings) -> list[RouteSender]:
    """The senders of the `[outbox] senders` factories."""
    senders: list[RouteSender] = []
    for name in settings.outbox.senders:
        module_name, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"[outbox] senders: cannot load {name}: {exc}") from exc
        try:
            made = list(factory(settings))
        except Exception as exc:
            raise ValueError(f"[outbox] senders: {name} failed: {exc}") from exc
        log.info("outbox senders from %s: %s", name, ", ".join(r for s in made for r in s.routes))
        senders += made
    return senders
