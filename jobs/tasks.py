"""The scheduled jobs, their triggers, and which slot is due at a given moment.

A job's slot is a fire time of its trigger. Both triggers are fixed in local time (a crontab
line; an interval counted from a fixed local midnight), so every process and every restart
agrees on the slots — the key that `job_runs` de-duplicates on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.channels.apis import outbound_apis
from bot.channels.senders.wecom_poll import WeComPoller
from config import Settings
from jobs.notify import Pusher
from jobs.reminders import reminders_job
from jobs.winback import winback_job
from models.db import Database
from models.lifecycle import run_lifecycle
from models.referral import settle_due_rewards

log = logging.getLogger(__name__)

LIFECYCLE = "lifecycle"
SETTLE = "settle"
WECOM_POLL = "wecom_poll"
CAMPAIGNS = "campaigns"
REMINDERS = "reminders"
WINBACK = "winback"
# Interval slots are counted from this local midnight, whatever day a process starts.
_INTERVAL_ANCHOR = datetime(2000, 1, 1)
# How far back to look for the latest fire time, widening until one is found.
_LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=32), timedelta(days=400))
_MAX_STEPS = 2000


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    clock: Callable[[], datetime]
    # The channels jobs push chat messages through (the app's registry); None: nowhere.
    channels: Pusher | None = None


Work = Callable[[JobContext, datetime], Awaitable[None]]


def _always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: Callable[[Settings], BaseTrigger]
    work: Work  # called with the context and the slot being run
    # Whether the job runs at all with these settings (a platform's job needs the platform).
    enabled: Callable[[Settings], bool] = _always
    # The work claims the slots it runs itself (the campaigns job runs each campaign's own
    # slots through `run_slot`), so its frequent ticks are not recorded in `job_runs`.
    claims_own_slots: bool = False


async def lifecycle_job(ctx: JobContext, slot: datetime) -> None:
    """Stages and grades of every customer as of the slot's local date (02:00 → that day)."""
    tz = ctx.settings.tz
    summary = await run_lifecycle(
        ctx.db,
        as_of=slot.astimezone(tz).date(),
        tz=tz,
        rules=ctx.settings.lifecycle,
        grading=ctx.settings.grading,
    )
    log.info(
        "lifecycle as of %s: %s, %d transitions", summary.as_of, summary.counts, summary.transitions
    )


async def settle_job(ctx: JobContext, slot: datetime) -> None:
    """Rewards past their hold period settled, their coupons issued, old coupons expired
    (`settle_due_rewards` expires coupons as its last step), as of the time it runs."""
    async with ctx.db.uow() as uow:
        report = await settle_due_rewards(uow.session, ctx.clock())
        await uow.commit()
    log.info("settlement: %s", report)


async def wecom_poll_job(ctx: JobContext, slot: datetime) -> None:
    """WeCom mass-message tasks: results recorded, staff reminded, unsent ones expired."""
    wecom = ctx.settings.wecom
    assert wecom is not None, "the job is enabled only with WeCom configured"
    async with outbound_apis(ctx.settings, ctx.db, clock=ctx.clock) as apis:
        assert apis.wecom is not None
        poller = WeComPoller(
            ctx.db, apis.wecom, app_id=wecom.corp_id, settings=ctx.settings, clock=ctx.clock
        )
        summary = await poller.poll()
    log.info("wecom mass messages: %s", summary)


async def campaigns_job(ctx: JobContext, tick: datetime) -> None:
    """Each switched-on campaign's slots that are due by `tick` (jobs/campaigns.py)."""
    from jobs.campaigns import run_due_campaigns  # it imports this module

    await run_due_campaigns(ctx, tick)


def lifecycle_trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger.from_crontab(settings.scheduler.lifecycle_cron, timezone=settings.tz)


def _every(minutes: int, settings: Settings) -> BaseTrigger:
    return IntervalTrigger(
        minutes=minutes,
        start_date=_INTERVAL_ANCHOR.replace(tzinfo=settings.tz),
        timezone=settings.tz,
    )


def settle_trigger(settings: Settings) -> BaseTrigger:
    return _every(settings.scheduler.settle_interval_minutes, settings)


def wecom_poll_trigger(settings: Settings) -> BaseTrigger:
    return _every(settings.scheduler.wecom_poll_minutes, settings)


def campaigns_trigger(settings: Settings) -> BaseTrigger:
    """Every minute: a campaign's crontab line may name any minute."""
    return CronTrigger(minute="*", timezone=settings.tz)


def reminders_trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger.from_crontab(settings.scheduler.reminders_cron, timezone=settings.tz)


def winback_trigger(settings: Settings) -> BaseTrigger:
    return CronTrigger.from_crontab(settings.scheduler.winback_cron, timezone=settings.tz)


JOBS: dict[str, JobSpec] = {
    LIFECYCLE: JobSpec(LIFECYCLE, lifecycle_trigger, lifecycle_job),
    SETTLE: JobSpec(SETTLE, settle_trigger, settle_job),
    WECOM_POLL: JobSpec(
        WECOM_POLL, wecom_poll_trigger, wecom_poll_job, enabled=lambda s: s.wecom is not None
    ),
    CAMPAIGNS: JobSpec(CAMPAIGNS, campaigns_trigger, campaigns_job, claims_own_slots=True),
    REMINDERS: JobSpec(REMINDERS, reminders_trigger, reminders_job),
    WINBACK: JobSpec(WINBACK, winback_trigger, winback_job),
}


def latest_slot(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's most recent fire time at or before `now` (UTC), or None if it never fired
    in the last 400 days. APScheduler 3 only walks forward, so walk forward from a little
    before `now`, widening the window until a fire time turns up."""
    for window in _LOOKBACK:
        found: datetime | None = None
        fire: datetime | None = trigger.get_next_fire_time(None, now - window)
        steps = 0
        while fire is not None and fire <= now and steps < _MAX_STEPS:
            found = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
            steps += 1
        if found is not None:
            return found.astimezone(UTC)
    return None
