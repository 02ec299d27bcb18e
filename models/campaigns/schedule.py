"""A campaign's slots: the fire times of its crontab line (local time) and its one-off time.

A slot is only due once the campaign is switched on: slots before `enabled_at` are never run
by the scheduler (a monthly campaign switched on on the 20th waits for the 1st).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger

from models.campaigns.tables import Campaign

# Crontab weekdays: 0 and 7 are Sunday. APScheduler 3 counts 0 as *Monday* — even in
# `CronTrigger.from_crontab` (its docs' warning, agronholm/apscheduler#286) — so "0 10 * * 2"
# would fire on Wednesdays. The weekday field is translated to names, which mean the same to both.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(campaign: Campaign, tz: tzinfo) -> CronTrigger | None:
    if not campaign.schedule:
        return None
    return crontab_trigger(campaign.schedule, tz)


def crontab_trigger(line: str, tz: tzinfo) -> CronTrigger:
    """A trigger that fires when a standard crontab line does (weekday 0 or 7 = Sunday)."""
    minute, hour, day, month, weekday = line.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=tz,
    )


def _weekday_names(field: str) -> str:
    """`2` → `tue`, `1-5` → `mon,tue,wed,thu,fri`, `*/2` → `sun,tue,thu,sat`."""
    days: set[int] = set()
    for part in field.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        else:
            start, _, end = base.partition("-")
            first = _weekday(start)
            last = _weekday(end) if end else (6 if step_text else first)
            if end and last == 0 and first > 0:
                last = 7  # "5-7", "fri-sun": up to Sunday
        days |= {d % 7 for d in range(first, last + 1, step)}
    if len(days) == 7:
        return "*"
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday(token: str) -> int:
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    number = int(token)
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {number} is not 0–7")
    return number


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
