"""Campaigns on their schedules, through the same slot machinery as every other job.

The `campaigns` job ticks every minute (jobs/tasks.py). Each tick, for every switched-on
campaign, it takes the campaign's latest slot at or before the tick — the latest fire time of
its crontab line, and its one-off `run_once_at` — and runs it through `run_slot` under the job
name `campaign:<key>`: the `job_runs` row makes a slot run once across processes and restarts,
and records its outcome. The run's own `campaign_runs` row (unique per campaign and slot)
guards the same slot against a manual `fission campaign run --now`.

A slot missed while every process was down is the latest slot at the next tick (or at the
catch-up when a process becomes the leader), so it runs once, late; of several missed slots
only the latest runs. Slots from before the campaign was switched on never run.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from sqlalchemy import select

from jobs.runs import run_slot
from jobs.tasks import JobContext, latest_slot
from models.campaigns.run import run_campaign
from models.campaigns.schedule import cron_trigger
from models.campaigns.tables import Campaign

log = logging.getLogger(__name__)

_JOB_NAME_MAX = 40  # job_runs.job


def job_name(campaign: Campaign) -> str:
    """`campaign:<key>`; a key too long for the column keeps the id, which keeps it unique
    (keys have no `:`)."""
    name = f"campaign:{campaign.key}"
    if len(name) <= _JOB_NAME_MAX:
        return name
    return f"campaign:{campaign.id}:{campaign.key}"[:_JOB_NAME_MAX]


def due_slots(campaign: Campaign, tick: datetime, tz: tzinfo) -> list[datetime]:
    """The campaign's latest cron slot and its one-off slot, if they fall between the moment
    it was switched on and `tick`."""
    since = campaign.enabled_at
    slots = []
    trigger = cron_trigger(campaign, tz)
    latest = latest_slot(trigger, tick) if trigger is not None else None
    if latest is not None and (since is None or latest >= since):
        slots.append(latest)
    once = campaign.run_once_at
    if once is not None and once <= tick and (since is None or once >= since):
        slots.append(once)
    return slots


async def run_due_campaigns(ctx: JobContext, tick: datetime) -> None:
    async with ctx.db.uow() as uow:
        campaigns = list(
            (
                await uow.session.scalars(
                    select(Campaign).where(Campaign.enabled.is_(True)).order_by(Campaign.id)
                )
            ).all()
        )
    for campaign in campaigns:
        for slot in due_slots(campaign, tick, ctx.settings.tz):

            async def work(campaign_id: int = campaign.id, slot: datetime = slot) -> None:
                await _run(ctx, campaign_id, slot)

            await run_slot(ctx.db, job_name(campaign), slot, work, ctx.clock)


async def _run(ctx: JobContext, campaign_id: int, slot: datetime) -> None:
    async with ctx.db.uow() as uow:
        campaign = await uow.session.get(Campaign, campaign_id)
        if campaign is None or not campaign.enabled:
            return  # switched off since the tick read it
        summary = await run_campaign(
            uow.session, campaign, settings=ctx.settings, now=ctx.clock(), slot=slot
        )
        await uow.commit()
    log.info(
        "campaign %s slot %s: audience %d, treatment %d, holdout %d, control %d, excluded %s%s",
        summary.key,
        slot.isoformat(),
        summary.audience,
        summary.treatment,
        summary.holdout,
        summary.control,
        summary.excluded,
        " (already ran)" if summary.already_ran else "",
    )
