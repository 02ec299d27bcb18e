"""Reading WeCom mass-message results back (a scheduled job, every few minutes).

For each task the platform made and whose results are not all in:
- while the staff member has not sent it (`get_groupmsg_task`), remind them every
  `[marketing] wecom_remind_every_hours` outside quiet hours — an app message saying what to
  send, and `remind_groupmsg_send`. At least 8 hours apart, so never more than WeCom's 3
  reminders of a task in 24 hours;
- once sent, read every page of `get_groupmsg_send_result` and record per customer: status 1
  delivered, 2 dead `not_contact`, 3 dead `monthly_limit` (models/campaigns/wecom_tasks.py,
  set-based by task and external_userid);
- after `[marketing] wecom_confirm_hours` the task is cancelled if it was never sent (so a late
  tap cannot send what is recorded as not sent) and its customers still at status 0 are dead
  `not_confirmed`. Until then a delivery stays `waiting_staff`.
A platform error leaves the task for the next poll.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.channels.outbound.errors import ApiError
from bot.channels.senders.wecom_notice import reminder_text, tell_staff
from bot.channels.wecom.api import SendResult, WeComApi
from config import Settings
from models.campaigns.wecom_tasks import (
    EXPIRED,
    SENT,
    OpenTask,
    expire_unconfirmed,
    open_tasks,
    record_results,
    set_task_status,
    settle_task,
    task_polled,
    task_reminded,
)
from models.db import Database

log = logging.getLogger(__name__)

# get_groupmsg_task: 0 not sent, 1 confirmed, 2 sent. get_groupmsg_send_result: 0 not sent,
# 1 sent, 2 not the sender's contact, 3 over the customer's mass-message limits.
CONFIRMED = (1, 2)


@dataclass
class PollSummary:
    tasks: int = 0
    recorded: int = 0  # deliveries settled from results
    reminded: int = 0
    expired: int = 0  # deliveries dead because nobody sent them in time
    done: int = 0


class WeComPoller:
    def __init__(
        self,
        db: Database,
        api: WeComApi,
        *,
        app_id: str,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._api = api
        self._app_id = app_id
        self._settings = settings
        self._clock = clock
        marketing = settings.marketing
        self._confirm = timedelta(hours=marketing.wecom_confirm_hours)
        self._remind_every = timedelta(hours=marketing.wecom_remind_every_hours)

    async def poll(self) -> PollSummary:
        summary = PollSummary()
        async with self._db.uow() as uow:
            tasks = await open_tasks(uow.session, self._app_id)
        for task in tasks:
            summary.tasks += 1
            try:
                await self._poll(task, summary)
            except ApiError as error:
                log.warning("wecom task %s: %s; polled again next time", task.msgid, error)
        return summary

    async def _poll(self, task: OpenTask, summary: PollSummary) -> None:
        sent = task.status == SENT
        if not sent:
            status, _ = await self._api.groupmsg_task_status(task.msgid, task.sender)
            sent = status in CONFIRMED
            if sent:
                async with self._db.uow() as uow:
                    await set_task_status(uow.session, task.id, SENT, self._clock())
                    await uow.commit()
        if sent:
            async for page in self._api.groupmsg_send_results(task.msgid, task.sender):
                summary.recorded += await self._record(task, page)
        now = self._clock()
        deadline = task.created_at + self._confirm
        if now >= deadline:
            if not sent:
                await self._api.cancel_groupmsg_send(task.msgid)
            summary.expired += await self._expire(task, cancelled=not sent)
        elif not sent and self._remind_due(task, now):
            await self._remind(task, deadline - now)
            summary.reminded += 1
        async with self._db.uow() as uow:
            done = await settle_task(uow.session, task.id, self._clock())
            await task_polled(uow.session, task.id, self._clock())
            await uow.commit()
        summary.done += int(done)

    async def _record(self, task: OpenTask, page: list[SendResult]) -> int:
        by_status: dict[int, list[str]] = {1: [], 2: [], 3: []}
        times = [r.send_time for r in page if r.status == 1 and r.send_time]
        for result in page:
            by_status.get(result.status, []).append(result.external_userid)
        now = self._clock()
        sent_at = datetime.fromtimestamp(min(times), UTC) if times else now
        async with self._db.uow() as uow:
            changed = await record_results(
                uow.session,
                task.id,
                msgid=task.msgid,
                delivered=by_status[1],
                not_contact=by_status[2],
                over_limit=by_status[3],
                sent_at=sent_at,
                now=now,
            )
            await uow.commit()
        return changed

    async def _expire(self, task: OpenTask, *, cancelled: bool) -> int:
        async with self._db.uow() as uow:
            now = self._clock()
            count = await expire_unconfirmed(uow.session, task.id, now)
            if cancelled:
                await set_task_status(uow.session, task.id, EXPIRED, now)
            await uow.commit()
        return count

    def _remind_due(self, task: OpenTask, now: datetime) -> bool:
        last = task.last_reminded_at or task.created_at
        quiet = self._settings.marketing.is_quiet(now, self._settings.tz)
        # Strictly more than the spacing: four reminders never fit in 24 hours.
        return now - last > self._remind_every and not quiet

    async def _remind(self, task: OpenTask, left: timedelta) -> None:
        await self._api.remind_groupmsg_send(task.msgid)
        hours = math.ceil(left / timedelta(hours=1))
        text = reminder_text(task.campaign_name, task.customers, hours, self._settings.locale)
        await tell_staff(self._api, task.sender, text)
        async with self._db.uow() as uow:
            await task_reminded(uow.session, task.id, self._clock())
            await uow.commit()
