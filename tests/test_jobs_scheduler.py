"""The scheduler starts and stops with the app; on PostgreSQL one process leads at a time."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp.test_utils import TestClient, TestServer
from jobs_world import at, fixed, job_rows, settings_for
from sqlalchemy import text

from bot.bootstrap import bootstrap
from bot.web.app import create_app
from jobs.leader import Leadership
from jobs.runs import INTERRUPTED
from jobs.scheduler import JobScheduler
from jobs.tasks import LIFECYCLE, REMINDERS, SETTLE, WINBACK, JobContext, JobSpec, settle_trigger
from jobs.web import SCHEDULER, attach_scheduler
from models.db import Database


async def test_scheduler_starts_and_stops_with_the_app(db: Database) -> None:
    settings = settings_for(db)
    clock = fixed(at(2026, 3, 10, 10, 30))
    container = bootstrap(settings, db=db, clock=clock)
    app = create_app(container)
    attach_scheduler(app, JobScheduler(db, settings, clock=clock))
    scheduler = app[SCHEDULER]
    assert not scheduler.running
    async with TestClient(TestServer(app)) as client:
        assert scheduler.running
        await scheduler.settled()  # the catch-up on start
        nxt = {k: v.astimezone(settings.tz) for k, v in scheduler.next_run_times().items() if v}
        assert (nxt[LIFECYCLE].hour, nxt[LIFECYCLE].minute) == (2, 0)
        assert nxt[SETTLE].minute == 0
        assert (await client.get("/healthz")).status == 200
    assert not scheduler.running
    assert await job_rows(db) == [
        (LIFECYCLE, at(2026, 3, 10, 2), "succeeded", None),
        (REMINDERS, at(2026, 3, 10, 9), "succeeded", None),
        (SETTLE, at(2026, 3, 10, 10), "succeeded", None),
        (WINBACK, at(2026, 3, 10, 10), "succeeded", None),
    ]
    if db.dialect == "postgresql":  # leadership was handed back on the way out
        other = Leadership(db)
        assert await other.try_lead()
        await other.release()


async def test_only_one_process_leads_and_another_takes_over(db: Database) -> None:
    if db.dialect != "postgresql":
        # SQLite: one process by design, always the leader.
        assert await Leadership(db).try_lead()
        return
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    first, second = Leadership(db), Leadership(other)
    try:
        assert await first.try_lead()
        assert not await second.try_lead()
        assert await first.try_lead()  # still held
        await first.release()
        assert await second.try_lead()
        assert not await first.try_lead()
        # The leader's connection dies (crash, network): the lock goes with it — once that
        # backend has exited, which pg_terminate_backend only asks it to do.
        held = "FROM pg_locks WHERE locktype = 'advisory' AND objid = 1179210579"
        async with db.engine.connect() as conn:
            await conn.execute(text(f"SELECT pg_terminate_backend(pid) {held}"))
            for _ in range(100):  # at most 10 s
                if not await conn.scalar(text(f"SELECT count(*) {held}")):
                    break
                await asyncio.sleep(0.1)
        assert await first.try_lead()
        assert not await second.try_lead()
    finally:
        await first.release()
        await second.release()
        await other.dispose()


async def test_two_schedulers_run_each_slot_once(db: Database) -> None:
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    settings = settings_for(db)
    clock = fixed(at(2026, 3, 10, 10, 30))
    first = JobScheduler(db, settings, clock=clock)
    second = JobScheduler(other, settings, clock=clock)
    try:
        await first.start()
        await second.start()
        await first.settled()
        await second.settled()
        leaders = [first.leadership.is_leader, second.leadership.is_leader]
        if db.dialect == "postgresql":
            assert sorted(leaders) == [False, True]
        assert await job_rows(db) == [
            (LIFECYCLE, at(2026, 3, 10, 2), "succeeded", None),
            (REMINDERS, at(2026, 3, 10, 9), "succeeded", None),
            (SETTLE, at(2026, 3, 10, 10), "succeeded", None),
            (WINBACK, at(2026, 3, 10, 10), "succeeded", None),
        ]
    finally:
        await first.stop()
        await second.stop()
        await other.dispose()


async def test_stop_waits_for_a_running_job_and_interrupts_one_that_hangs(db: Database) -> None:
    started, gate = asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext, slot: datetime) -> None:
        started.set()
        await gate.wait()

    jobs = {"slow": JobSpec("slow", settle_trigger, slow)}
    settings = settings_for(db)
    clock = fixed(at(2026, 3, 10, 10, 30))

    patient = JobScheduler(db, settings, clock=clock, jobs=jobs)
    await patient.start()
    await started.wait()
    stopping = asyncio.create_task(patient.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # still waiting for the job
    gate.set()
    await stopping
    assert await job_rows(db) == [("slow", at(2026, 3, 10, 10), "succeeded", None)]

    started.clear()
    gate.clear()
    hasty = JobScheduler(
        db, settings, clock=fixed(at(2026, 3, 10, 11)), jobs=jobs, stop_timeout_seconds=0.01
    )
    await hasty.start()
    await started.wait()
    await hasty.stop()
    assert not hasty.running
    assert (await job_rows(db))[1] == ("slow", at(2026, 3, 10, 11), "failed", INTERRUPTED)
