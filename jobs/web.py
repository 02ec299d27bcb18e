"""Running the scheduler and the delivery workers for as long as the aiohttp app runs
(`fission serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from jobs.delivery import DeliveryWorkers
from jobs.scheduler import JobScheduler

SCHEDULER = web.AppKey("scheduler", JobScheduler)
DELIVERY = web.AppKey("delivery", DeliveryWorkers)


def attach_scheduler(app: web.Application, scheduler: JobScheduler) -> None:
    """Start `scheduler` when the app starts and stop it, gracefully, when the app stops."""
    app[SCHEDULER] = scheduler
    app.cleanup_ctx.append(_lifetime(scheduler))


def _lifetime(
    scheduler: JobScheduler,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()

    return lifetime


def attach_workers(app: web.Application, workers: DeliveryWorkers) -> None:
    """Start the delivery workers with the app; stop them (gracefully) when it stops."""
    app[DELIVERY] = workers

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await workers.start()
        try:
            yield
        finally:
            await workers.stop()

    app.cleanup_ctx.append(lifetime)
