"""The daily win-back check: every finished campaign run whose conversion windows have closed
is judged once; when the win-back rate of its declining and churned customers is below the
campaign's `alert_below_rate` (default 10%), the managers get the figures in chat.

A run is marked judged only once every manager who can be reached has the alert; if a send
failed, the next day's slot tries again, and the outbound log (one key per run and manager)
keeps those already alerted from getting it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.winback_alert_text import render_winback_alert
from jobs.notify import Tally, configured_platforms, notify
from models.campaigns.winback import below_alert_line, mark_evaluated, runs_to_evaluate
from models.staff_reach import chat_targets, manager_ids

if TYPE_CHECKING:
    from jobs.tasks import JobContext

log = logging.getLogger(__name__)


def alert_key(run_id: int, staff_id: int) -> str:
    return f"winback:{run_id}:{staff_id}"


async def winback_job(ctx: JobContext, slot: datetime) -> None:
    settings = ctx.settings
    async with ctx.db.uow() as uow:
        ready = await runs_to_evaluate(uow.session, slot)
        managers = await manager_ids(uow.session)
        targets = await chat_targets(uow.session, managers, configured_platforms(ctx.channels))
    tally = Tally()
    alerts = 0
    for campaign, run in ready:
        if below_alert_line(run.arms.treatment.winback_rate, campaign.alert_below_rate):
            alerts += 1
            alert = render_winback_alert(campaign, run, settings.tz, settings.locale)
            failed_before = len(tally.failures)
            for staff_id in managers:
                key = alert_key(run.run_id, staff_id)
                await notify(ctx.channels, targets.get(staff_id), [alert], key, tally)
            if len(tally.failures) > failed_before:
                continue
        async with ctx.db.uow() as uow:
            await mark_evaluated(uow.session, run.run_id, ctx.clock())
            await uow.commit()
    log.info(
        "win-back check: %d runs judged, %d below their alert line; %d alerts sent, "
        "%d managers not reachable in chat, %d not sent",
        len(ready),
        alerts,
        tally.sent,
        tally.unreachable,
        len(tally.failures),
    )
    tally.raise_if_failed("winback")
