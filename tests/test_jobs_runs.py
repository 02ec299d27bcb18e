"""Each job slot runs once — across racing processes and restarts — and failures are recorded."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from jobs_world import (
    at,
    customer_with_order,
    fixed,
    job_rows,
    lifecycle_dates,
    settings_for,
)
from sqlalchemy import select

from jobs.runs import INTERRUPTED, claim
from jobs.scheduler import JobScheduler
from jobs.tasks import LIFECYCLE, REMINDERS, SETTLE, WINBACK, JobContext, JobSpec, settle_trigger
from models import Coupon, CouponTemplate, StageAssignment
from models.db import Database
from models.referral import issue_coupon


async def test_a_slot_runs_once_when_two_processes_race(db: Database) -> None:
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        await customer_with_order(db, at(2026, 3, 7, 12))
        settings = settings_for(db)
        clock = fixed(at(2026, 3, 10, 2, 0))
        slot = at(2026, 3, 10, 2, 0)
        first = JobScheduler(db, settings, clock=clock)
        second = JobScheduler(other, settings, clock=clock)
        results = await asyncio.gather(
            first.run_job(LIFECYCLE, slot), second.run_job(LIFECYCLE, slot)
        )
    finally:
        await other.dispose()
    assert sorted(r.outcome for r in results) == ["skipped", "succeeded"]
    assert await lifecycle_dates(db) == [slot.date()]
    assert await job_rows(db) == [(LIFECYCLE, slot, "succeeded", None)]
    async with db.uow() as uow:
        assert await uow.session.scalar(select(StageAssignment.stage)) == "new"


async def test_a_failed_job_records_its_error_and_the_next_slot_runs(db: Database) -> None:
    ran: list[datetime] = []

    async def flaky(ctx: JobContext, slot: datetime) -> None:
        if slot == at(2026, 3, 10, 9):
            raise RuntimeError("cannot reach postgresql://fission:hunter2@db.internal/fission")
        ran.append(slot)

    jobs = {"flaky": JobSpec("flaky", settle_trigger, flaky)}
    settings = settings_for(db)
    scheduler = JobScheduler(db, settings, clock=fixed(at(2026, 3, 10, 9, 30)), jobs=jobs)
    failed = await scheduler.run_job("flaky", at(2026, 3, 10, 9))
    later = JobScheduler(db, settings, clock=fixed(at(2026, 3, 10, 10, 1)), jobs=jobs)
    (succeeded,) = await later.catch_up()

    message = "RuntimeError: cannot reach postgresql://fission:***@db.internal/fission"
    assert (failed.outcome, failed.error) == ("failed", message)
    assert (succeeded.outcome, succeeded.slot) == ("succeeded", at(2026, 3, 10, 10))
    assert ran == [at(2026, 3, 10, 10)]
    assert await job_rows(db) == [
        ("flaky", at(2026, 3, 10, 9), "failed", message),
        ("flaky", at(2026, 3, 10, 10), "succeeded", None),
    ]


async def test_a_phone_in_a_failure_message_is_stored_masked(db: Database) -> None:
    async def pushy(ctx: JobContext, slot: datetime) -> None:
        raise ValueError("no channel reaches 13812345678 (or +8613900001111), order 2024050112345")

    jobs = {"pushy": JobSpec("pushy", settle_trigger, pushy)}
    scheduler = JobScheduler(db, settings_for(db), clock=fixed(at(2026, 3, 10, 9, 30)), jobs=jobs)
    failed = await scheduler.run_job("pushy", at(2026, 3, 10, 9))
    assert failed.error == (
        "ValueError: no channel reaches 138****5678 (or 139****1111), order 2024050112345"
    )


async def test_missed_slots_run_once_on_start(db: Database) -> None:
    await customer_with_order(db, at(2026, 3, 7, 12))
    settings = settings_for(db)
    async with db.uow() as uow:
        template = CouponTemplate(key="welcome", name="新人券", value_fen=1000, validity_days=7)
        uow.session.add(template)
        await uow.session.flush()
        customer_id = 1
        old = await issue_coupon(
            uow.session, template=template, customer_id=customer_id, now=at(2026, 3, 2, 9)
        )
        fresh = await issue_coupon(
            uow.session, template=template, customer_id=customer_id, now=at(2026, 3, 8, 9)
        )
        await uow.commit()

    # Down since before 02:00; back at 10:30: last night's lifecycle, the 10:00 settlement,
    # this morning's reminders and win-back check.
    results = await JobScheduler(db, settings, clock=fixed(at(2026, 3, 10, 10, 30))).catch_up()
    assert [(r.job, r.slot, r.outcome) for r in results] == [
        (LIFECYCLE, at(2026, 3, 10, 2), "succeeded"),
        (SETTLE, at(2026, 3, 10, 10), "succeeded"),
        (REMINDERS, at(2026, 3, 10, 9), "succeeded"),
        (WINBACK, at(2026, 3, 10, 10), "succeeded"),
    ]
    assert await lifecycle_dates(db) == [at(2026, 3, 10, 2).date()]
    async with db.uow() as uow:
        statuses = dict((await uow.session.execute(select(Coupon.id, Coupon.status))).all())
    assert statuses == {old.id: "expired", fresh.id: "issued"}

    # A restart ten minutes later runs nothing again.
    restarted = JobScheduler(db, settings, clock=fixed(at(2026, 3, 10, 10, 40)))
    assert [r.outcome for r in await restarted.catch_up()] == ["skipped"] * 4
    # At 01:30 the next night the latest lifecycle slot is still last night's: nothing new.
    night = JobScheduler(db, settings, clock=fixed(at(2026, 3, 11, 1, 30)))
    assert [(r.job, r.outcome) for r in await night.catch_up()] == [
        (LIFECYCLE, "skipped"),
        (SETTLE, "succeeded"),
        (REMINDERS, "skipped"),
        (WINBACK, "skipped"),
    ]
    assert await lifecycle_dates(db) == [at(2026, 3, 10, 2).date()]


async def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(db: Database) -> None:
    settings = settings_for(db)
    now = at(2026, 3, 10, 10, 30)
    await claim(db, LIFECYCLE, at(2026, 3, 10, 2), now - timedelta(hours=8))
    scheduler = JobScheduler(db, settings, clock=fixed(now))
    assert await scheduler.lead()
    assert await job_rows(db) == [
        (LIFECYCLE, at(2026, 3, 10, 2), "failed", INTERRUPTED),
        (REMINDERS, at(2026, 3, 10, 9), "succeeded", None),
        (SETTLE, at(2026, 3, 10, 10), "succeeded", None),
        (WINBACK, at(2026, 3, 10, 10), "succeeded", None),
    ]
    await scheduler.stop()
