"""Work after the acknowledgement: run a stored event through its platform's processor in a
tracked background task, record the outcome on the event row, and pick unfinished rows up again
on start-up and periodically (a dead process's rows, retries after a failure).

While a processor runs, its attempt renews the row's lease every third of a lease, so the sweep
never starts a live slow event a second time. Should a renewal find the row taken by another
attempt (this one stalled past its lease, or another process's clock runs ahead), the processor
is cancelled: one attempt works on an event at a time, and only it records the outcome.

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
from models.channels import LAST_ERROR_MAX
from models.error_text import error_text

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


class LeaseLost(Exception):
    """The event's row was claimed by another attempt while this one worked on it."""


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
            await self._holding_lease(event, self._processors[event.platform](event, passive))
        except asyncio.CancelledError:
            raise  # shutting down: the row keeps its lease and is picked up again
        except LeaseLost:
            log.warning(
                "%s event %s: attempt %s stopped, another attempt has the event",
                event.platform,
                event.event_id,
                event.attempts,
            )
        except Exception as exc:
            log.exception(
                "%s event %s failed (attempt %s)", event.platform, event.event_id, event.attempts
            )
            await self._store.failed(event, error_text(exc, limit=LAST_ERROR_MAX))
        else:
            await self._store.finish(event)
        finally:
            if passive is not None:
                passive.decline()

    async def _holding_lease(self, event: StoredEvent, work: Awaitable[None]) -> None:
        """Await `work`, renewing `event`'s lease meanwhile; raise `LeaseLost` (work cancelled)
        once the row belongs to another attempt."""
        task = asyncio.ensure_future(work)
        interval = self._store.lease.total_seconds() / 3
        try:
            while not (await asyncio.wait({task}, timeout=interval))[0]:
                try:
                    ours = await self._store.renew(event)
                except Exception:  # the database is away: try again at the next renewal
                    log.warning("could not renew the lease of %s", event.event_id, exc_info=True)
                    continue
                if not ours:
                    raise LeaseLost(event.event_id)
            task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

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
