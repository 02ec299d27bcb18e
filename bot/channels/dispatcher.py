"""The handlers behind the channels, as the composition root wires them.

`Dispatcher` holds the two entry points of handlers/dispatch.py; tests pass their own (an echo
dispatcher) through `bootstrap(..., dispatcher=...)` instead of patching modules. The real one
is imported on first use, so building the app does not import every command module.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.telemetry import Telemetry
from handlers.events import ChatMessage, HandlerContext, JoinEvent, Reply

MessageHandler = Callable[[HandlerContext, ChatMessage], Awaitable[list[Reply]]]
JoinHandler = Callable[[HandlerContext, JoinEvent], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Dispatcher:
    message: MessageHandler
    join: JoinHandler


def real_dispatcher() -> Dispatcher:
    from handlers.dispatch import dispatch_join, dispatch_message

    return Dispatcher(message=dispatch_message, join=dispatch_join)


class Handlers:
    """Runs the dispatcher with the handler context and times every command."""

    def __init__(
        self,
        ctx: HandlerContext,
        telemetry: Telemetry,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.ctx = ctx
        self._telemetry = telemetry
        self._dispatcher = dispatcher

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            self._dispatcher = real_dispatcher()
        return self._dispatcher

    async def message(self, msg: ChatMessage) -> list[Reply]:
        started = time.perf_counter()
        try:
            return await self.dispatcher.message(self.ctx, msg)
        finally:
            self._telemetry.command(msg.platform, "message", time.perf_counter() - started)

    async def join(self, event: JoinEvent) -> list[Reply]:
        started = time.perf_counter()
        try:
            return await self.dispatcher.join(self.ctx, event)
        finally:
            self._telemetry.command(event.platform, "join", time.perf_counter() - started)
