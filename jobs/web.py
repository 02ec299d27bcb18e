"""Running the scheduler and the delivery workers for as long as the aiohttp app runs
(`fission serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from aiohttp import web

from jobs.delivery import DeliveryWorkers
from jobs.scheduler import JobScheduler

SCHEDULER = web.AppKey("scheduler", JobScheduler)
DELIVERY = web.AppKey("delivery", DeliveryWorkers)


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def attach_scheduler(app: web.Application, scheduler: JobScheduler) -> None:
    """Start `scheduler` when the app starts and stop it, gracefully, when the app stops."""
    app[SCHEDULER] = scheduler
    app.cleanup_ctx.append(_lifetime(scheduler))


def attach_workers(app: web.Application, workers: DeliveryWorkers) -> None:
    """Start the delivery workers with the app; stop them (gracefully) when it stops."""
    app[DELIVERY] = workers
    app.cleanup_ctx.append(_lifetime(workers))


def _lifetime(service: Service) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    return lifetime
