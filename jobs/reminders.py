"""The morning follow-up reminder (seed 004 step 5): at 09:00 local time every owner with
customers due gets their list in chat — one set-based query for all owners, one message each,
keyed by the slot and the staff member so nothing goes out twice for one slot."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.reminder_text import MAX_LINES, render_reminder
from jobs.notify import Tally, configured_platforms, notify
from models.followup_due import cadence_days, due_follow_ups
from models.staff_reach import chat_targets

if TYPE_CHECKING:
    from jobs.tasks import JobContext

log = logging.getLogger(__name__)


def reminder_key(slot: datetime, staff_id: int) -> str:
    return f"reminder:{slot.isoformat()}:{staff_id}"


async def reminders_job(ctx: JobContext, slot: datetime) -> None:
    settings = ctx.settings
    async with ctx.db.uow() as uow:
        owners = await due_follow_ups(
            uow.session,
            today=slot.astimezone(settings.tz).date(),
            tz=settings.tz,
            cadence=cadence_days(settings.playbook, settings.locale),
            limit=MAX_LINES,
        )
        targets = await chat_targets(
            uow.session, [o.staff_id for o in owners], configured_platforms(ctx.channels)
        )
    tally = Tally()
    for owner in owners:
        await notify(
            ctx.channels,
            targets.get(owner.staff_id),
            [render_reminder(owner, settings.locale)],
            reminder_key(slot, owner.staff_id),
            tally,
        )
    log.info(
        "reminders: %d staff reminded of %d customers due; %d skipped, not reachable in chat "
        "(no identity on a configured platform, or outside the 48 h window); %d not sent",
        tally.sent,
        sum(o.total for o in owners),
        tally.unreachable,
        len(tally.failures),
    )
    tally.raise_if_failed("reminders")
