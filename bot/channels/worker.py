"""Work after the acknowledgement: run a stored event through its platform's processor in a
tracked background task, record the outcome on the event row, and pick unfinished rows up again
on start-up and periodically (a dead process's rows, retries after a failure).

`PassiveSlot` lets a platform that accepts a reply inside the HTTP response (the Official
Account's passive reply) take the first reply when it is ready within the time budget; past the
budget the slot closes and every reply goes out through the send API instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.channels.inbound import InboundStore, StoredEvent
from bot.channels.tasks import BackgroundTasks
from handlers.events import Reply

log = logging.getLogger(__name__)


class PassiveSlot:
    def __init__(self) -> None:
        self._future: asyncio.Future[Reply | None] = asyncio.get_running_loop().create_future()
        self._open = True

    def offer(self, reply: Reply) -> bool:
        """Hand `reply` to the HTTP response; False if the response has gone without it."""
        if not self._open or self._future.done():
            return False
        self._future.set_result(reply)
        return True

    def decline(self) -> None:
        """Nothing (more) for the HTTP response: let it go out now."""
        if not self._future.done():
            self._future.set_result(None)

    async def wait(self, budget: float) -> Reply | None:
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), budget)
        except TimeoutError:
            self._open = False
            if self._future.done():
                return self._future.result()
            return None


Processor = Callable[[StoredEvent, PassiveSlot | None], Awaitable[None]]


class EventWorker:
    def __init__(
        self,
        store: InboundStore,
        tasks: BackgroundTasks,
        processors: Mapping[str, Processor],
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._processors = processors

    def start(self, event: StoredEvent, passive: PassiveSlot | None = None) -> asyncio.Task[None]:
        return self._tasks.spawn(
            self.run(event, passive), name=f"{event.platform}:{event.kind}:{event.event_id}"
        )

    async def run(self, event: StoredEvent, passive: PassiveSlot | None = None) -> None:
        try:
            await self._processors[event.platform](event, passive)
        except asyncio.CancelledError:
            raise  # shutting down: the row keeps its lease and is picked up again
        except Exception as exc:
            log.exception(
                "%s event %s failed (attempt %s)", event.platform, event.event_id, event.attempts
            )
            await self._store.failed(event, f"{type(exc).__name__}: {exc}")
        else:
            await self._store.finish(event.id)
        finally:
            if passive is not None:
                passive.decline()

    async def resume(self) -> int:
        """Start every unfinished event this process can handle; returns how many."""
        await self._store.give_up_abandoned()
        started = 0
        for row_id in await self._store.claimable_ids():
            event = await self._store.claim(row_id)
            if event is None:
                continue  # another process took it
            if event.platform not in self._processors:
                await self._store.failed(event, f"no channel configured for {event.platform}")
                continue
            self.start(event)
            started += 1
        return started

    async def sweep_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.resume()
            except Exception:
                log.exception("sweeping unfinished inbound events failed")
