"""A campaign's slots: the fire times of its crontab line (local time) and its one-off time.

A slot is only due once the campaign is switched on: slots before `enabled_at` are never run
by the scheduler (a monthly campaign switched on on the 20th waits for the 1st).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger

from models.campaigns.tables import Campaign


def cron_trigger(campaign: Campaign, tz: tzinfo) -> CronTrigger | None:
    if not campaign.schedule:
        return None
    return CronTrigger.from_crontab(campaign.schedule, timezone=tz)


def next_slot(campaign: Campaign, now: datetime, tz: tzinfo) -> datetime | None:
    """When the scheduler will next run the campaign, if it is switched on."""
    if not campaign.enabled:
        return None
    candidates = []
    trigger = cron_trigger(campaign, tz)
    if trigger is not None:
        fire = trigger.get_next_fire_time(None, now)
        if fire is not None:
            candidates.append(fire)
    if campaign.run_once_at is not None and campaign.run_once_at > now:
        candidates.append(campaign.run_once_at)
    return min(candidates) if candidates else None
