"""The in-process scheduler `fission serve` runs (APScheduler 3, AsyncIOScheduler).

APScheduler only says *when*; what makes a run safe is elsewhere: the leader lock (jobs/leader.py)
picks the one process that runs jobs, and the slot row (jobs/runs.py) makes each slot run once.
APScheduler's misfire and coalesce settings forget everything on restart, so on start — and
whenever a process becomes the leader — each job's latest slot is run if nobody ran it
(`catch_up`). Non-leaders keep trying for the lock every `heartbeat_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from config import Settings
from jobs.leader import Leadership
from jobs.notify import Pusher
from jobs.runs import RunResult, mark_interrupted, run_slot
from jobs.tasks import JOBS, JobContext, JobSpec, latest_slot
from models.db import Database
from models.error_text import error_text
from models.job_runs import ERROR_MAX

log = logging.getLogger(__name__)

HEARTBEAT = "_leadership"


def system_clock() -> datetime:
    return datetime.now(UTC)


class JobScheduler:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = system_clock,
        jobs: Mapping[str, JobSpec] = JOBS,
        heartbeat_seconds: float = 30,
        stop_timeout_seconds: float = 30,
        channels: Pusher | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.jobs = {name: spec for name, spec in jobs.items() if spec.enabled(settings)}
        self.leadership = Leadership(db)
        self._context = JobContext(db, settings, clock, channels)
        self._heartbeat_seconds = heartbeat_seconds
        self._stop_timeout = stop_timeout_seconds
        self._aps: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._leading = False

    @property
    def running(self) -> bool:
        return self._started

    def next_run_times(self) -> dict[str, datetime | None]:
        assert self._aps is not None, "scheduler not started"
        return {job.id: job.next_run_time for job in self._aps.get_jobs() if job.id in self.jobs}

    async def start(self) -> None:
        """Register the jobs and start; the first leadership attempt (and its catch-up) runs
        in the background, so the server does not wait for it."""
        aps = AsyncIOScheduler(timezone=self.settings.tz)
        for name, spec in self.jobs.items():
            aps.add_job(
                self._run_due,
                spec.trigger(self.settings),
                args=[name],
                id=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # late is better than never; the slot row dedupes
            )
        aps.add_job(self._heartbeat, "interval", seconds=self._heartbeat_seconds, id=HEARTBEAT)
        aps.start()
        self._aps = aps
        self._started = True
        self._spawn(self._heartbeat())
        log.info("scheduler started: %s", ", ".join(self.jobs))

    async def settled(self) -> None:
        """Wait for the work in flight now (the startup catch-up, running jobs)."""
        while pending := [t for t in self._tasks if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> None:
        """Stop taking new work, let running jobs finish (cancelled after the timeout: their
        rows say "interrupted"), then give up leadership."""
        if self._aps is not None and self._aps.running:
            self._aps.pause()
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self._stop_timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
            # AsyncIOScheduler shuts down on the loop's next turn (call_soon): give it that turn.
            await asyncio.sleep(0)
        self._started = False
        await self.leadership.release()
        self._leading = False
        log.info("scheduler stopped")

    async def catch_up(self) -> list[RunResult]:
        """Run each job's latest slot if nobody has (a slot missed while everything was down).
        Returns the outcomes of the slots claimed here; a job that claims its own slots (the
        campaigns) runs too, and its slots are found in `job_runs` like any other."""
        results = []
        for name, spec in self.jobs.items():
            result = await self._run_latest(name)
            if result is not None and not spec.claims_own_slots:
                results.append(result)
        return results

    async def run_job(self, name: str, slot: datetime) -> RunResult:
        """Run `name` for `slot` (once: a slot already taken is skipped)."""
        spec = self.jobs[name]
        if spec.claims_own_slots:
            return await self._run_unclaimed(spec, slot)
        return await run_slot(
            self.db, name, slot, lambda: spec.work(self._context, slot), self.clock
        )

    async def _run_unclaimed(self, spec: JobSpec, slot: datetime) -> RunResult:
        """A job that claims its own slots: run it every time; a failure is logged, not
        raised (the slots it ran recorded their own outcomes)."""
        try:
            await spec.work(self._context, slot)
        except Exception as exc:  # like run_slot: a failing job never takes the server down
            log.exception("job %s at %s failed", spec.name, slot.isoformat())
            return RunResult(spec.name, slot, "failed", error_text(exc, limit=ERROR_MAX))
        return RunResult(spec.name, slot, "succeeded")

    async def _run_due(self, name: str) -> RunResult | None:
        self._track_current()
        if not await self.lead():
            return None
        return await self._run_latest(name)

    async def _run_latest(self, name: str) -> RunResult | None:
        slot = latest_slot(self.jobs[name].trigger(self.settings), self.clock())
        if slot is None:
            return None
        return await self.run_job(name, slot)

    async def _heartbeat(self) -> None:
        self._track_current()
        try:
            await self.lead()
        except Exception:  # a database outage must not kill the heartbeat job
            log.exception("scheduler heartbeat failed")

    async def lead(self) -> bool:
        """Leader now? On becoming one, close out a dead leader's runs and catch up."""
        leading = await self.leadership.try_lead()
        if leading and not self._leading:
            self._leading = True
            interrupted = await mark_interrupted(self.db, self.clock())
            if interrupted:
                log.warning("%d job runs of a stopped process marked interrupted", interrupted)
            await self.catch_up()
        self._leading = leading
        return leading

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        self._track(asyncio.create_task(coro))

    def _track_current(self) -> None:
        """Jobs APScheduler starts are tasks of their own; `stop` and `settled` wait for them."""
        task = asyncio.current_task()
        if task is not None:
            self._track(task)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
