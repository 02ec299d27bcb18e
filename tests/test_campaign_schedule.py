"""Campaigns on their schedules, with a frozen clock: each cron slot runs once, a slot missed
while everything was down runs once on catch-up (only the latest of several), a one-off slot
runs once, nothing from before the campaign was switched on runs, and two schedulers racing
for the same slot run it once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from campaign_world import COMEBACK, WINBACK, Person, configure, console, seed, settings_for
from jobs_world import at, fixed, job_rows
from sqlalchemy import select

from jobs.scheduler import JobScheduler
from jobs.tasks import CAMPAIGNS, JOBS
from models import Campaign, CampaignRun, Delivery
from models.db import Database

# The lifecycle job would re-classify the hand-made stages of these customers (no orders).
ONLY_CAMPAIGNS = {CAMPAIGNS: JOBS[CAMPAIGNS]}


async def _runs(db: Database) -> list[tuple[str, datetime, datetime]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Campaign.key, CampaignRun.slot, CampaignRun.started_at)
            .join(Campaign, Campaign.id == CampaignRun.campaign_id)
            .order_by(CampaignRun.slot)
        )
        return [(key, slot, started) for key, slot, started in rows.all()]


async def _world(db: Database) -> None:
    await seed(
        db,
        [
            Person("D1", ids=(console("c-d1"),)),
            Person("D2", ids=(console("c-d2"),)),
            Person("C1", stage="churned", ids=(console("c-c1"),)),
        ],
    )
    # Switched on Monday 3 June 09:00; Tuesdays 10:00; no holdout, no cooldown.
    await configure(
        db, WINBACK, enabled=True, enabled_at=at(2024, 6, 3, 9), holdout_pct=0, cooldown_days=0
    )


async def test_cron_slots_misfires_and_a_one_off_run_once(db: Database) -> None:
    await _world(db)
    settings = settings_for(db, marketing={"control_pct": 0, "max_messages": 100})

    async def tick(moment: datetime) -> None:
        await JobScheduler(db, settings, clock=fixed(moment), jobs=ONLY_CAMPAIGNS).catch_up()

    await tick(at(2024, 6, 4, 9, 59))  # the latest slot, 28 May, is from before it was on
    assert await _runs(db) == []
    await tick(at(2024, 6, 4, 10, 0))
    await tick(at(2024, 6, 4, 10, 5))  # the same slot: not again
    assert await _runs(db) == [(WINBACK, at(2024, 6, 4, 10), at(2024, 6, 4, 10))]

    # Down from Tuesday 10:05 until Wednesday 12 June 15:00: the 11 June slot runs, late, once.
    await tick(at(2024, 6, 12, 15))
    await tick(at(2024, 6, 12, 15, 1))
    assert (await _runs(db))[1:] == [(WINBACK, at(2024, 6, 11, 10), at(2024, 6, 12, 15))]

    # A one-off for the churned campaign, switched on before its time.
    await configure(
        db,
        COMEBACK,
        enabled=True,
        enabled_at=at(2024, 6, 12, 16),
        schedule=None,
        run_once_at=at(2024, 6, 20, 12),
        holdout_pct=0,
        cooldown_days=0,
    )
    # Down again until 26 June: of the slots of 18 and 25 June only the latest runs.
    await tick(at(2024, 6, 26, 8))
    await tick(at(2024, 6, 27, 8))
    assert (await _runs(db))[2:] == [
        (COMEBACK, at(2024, 6, 20, 12), at(2024, 6, 26, 8)),
        (WINBACK, at(2024, 6, 25, 10), at(2024, 6, 26, 8)),
    ]
    jobs = [(job, slot, status) for job, slot, status, _ in await job_rows(db)]
    assert jobs == [
        ("campaign:comeback_churned", at(2024, 6, 20, 12), "succeeded"),
        ("campaign:winback_declining", at(2024, 6, 4, 10), "succeeded"),
        ("campaign:winback_declining", at(2024, 6, 11, 10), "succeeded"),
        ("campaign:winback_declining", at(2024, 6, 25, 10), "succeeded"),
    ]
    async with db.uow() as uow:  # each run queued its messages: 2 declining, 1 churned
        per_run = (
            await uow.session.execute(
                select(Delivery.run_id, Delivery.customer_id).order_by(Delivery.run_id)
            )
        ).all()
    assert len(per_run) == 2 + 2 + 1 + 2 == len(set(per_run))

    # Switched off: its next slot does not run.
    await configure(db, WINBACK, enabled=False)
    await tick(at(2024, 7, 2, 10))
    assert len(await _runs(db)) == 4


async def test_two_schedulers_racing_for_a_slot_run_it_once(db: Database) -> None:
    await _world(db)
    settings = settings_for(db)
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        moment = fixed(at(2024, 6, 4, 10, 1))
        await asyncio.gather(
            JobScheduler(db, settings, clock=moment, jobs=ONLY_CAMPAIGNS).catch_up(),
            JobScheduler(other, settings, clock=moment, jobs=ONLY_CAMPAIGNS).catch_up(),
        )
    finally:
        await other.dispose()
    assert [key for key, _, _ in await _runs(db)] == [WINBACK]
    async with db.uow() as uow:
        sent = list(await uow.session.scalars(select(Delivery.customer_id)))
    assert len(sent) == len(set(sent)) == 2
