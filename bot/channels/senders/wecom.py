"""Campaign messages to WeCom customers (external contacts).

An app cannot message an external contact. For the deliveries of one run and one sending staff
member the sender makes a customer mass-message task (`add_msg_template`, chat_type single,
their external_userids, at most 10,000 a task); nothing reaches a customer until that staff
member sends it from the WeCom app. Each delivery answers `WaitingStaff(task)`, and the result
poller (wecom_poll.py) later records it delivered or dead. Customers the platform leaves out
(`fail_list`: not the sender's contact) are dead `not_contact`. The staff member gets an app
message saying what to send and where.

One text per task: a mass message cannot be personalised, so its text is the campaign's
message with the customer's name left out ("{name}您好，…" → "您好，…"); customers whose
texts still differ (another coupon, say) get separate tasks.

Exactly once: the task row and the deliveries it carries are stored before the platform is
asked (models/campaigns/wecom_tasks.py), so a delivery claimed again after its worker died
finds its task and answers `WaitingStaff` again — no second task. The window left is between
`add_msg_template` being carried out and its msgid being stored (an answer lost to a timeout,
a crash in that instant): the retry makes a second task for the same customers. WeCom then
lets each customer receive one of the two if both are sent on one day (one mass message per
staff member and customer a day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select

from bot.channels.outbound.errors import ApiError
from bot.channels.senders.failures import outcome_of_error
from bot.channels.senders.text import fill
from bot.channels.senders.wecom_notice import new_task_text, tell_staff
from bot.channels.wecom.api import WeComApi
from models.campaigns.outcomes import (
    ClaimedDelivery,
    Dead,
    Outcome,
    RenderedMessage,
    Skipped,
    WaitingStaff,
)
from models.campaigns.tables import Campaign
from models.campaigns.wecom_tasks import (
    EXPIRED,
    drop_task,
    open_task,
    task_created,
    tasks_of,
)
from models.db import Database

MAX_CUSTOMERS = 10_000  # external_userids in one add_msg_template
PERMANENT = {
    41048: "not_sendable",  # none of the customers can get it (not contacts, or limits reached)
    40096: "invalid_user",  # an external_userid the corp does not know
    60111: "invalid_sender",  # the sending staff member's userid does not exist
    41054: "invalid_sender",  # the staff member has not activated WeCom
    40058: "invalid_request",
}
INVALID_CUSTOMER = 40096
_PUNCTUATION = " ，,、。！!；;：:"


class WeComTaskSender:
    routes: tuple[str, ...] = ("wecom_task",)
    # A hint for the delivery worker: every call makes one task per staff member, which they
    # confirm one by one, so hand over as many deliveries of a run at once as it can.
    max_batch = MAX_CUSTOMERS

    def __init__(
        self,
        api: WeComApi,
        *,
        app_id: str,
        db: Database,
        clock: Callable[[], datetime],
        locale: str = "zh-CN",
        confirm_hours: int = 72,
    ) -> None:
        self._api = api
        self._app_id = app_id
        self._db = db
        self._clock = clock
        self._locale = locale
        self._confirm_hours = confirm_hours

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        usable: list[tuple[ClaimedDelivery, RenderedMessage]] = []
        for delivery, message in batch:
            if delivery.app_id != self._app_id:
                outcomes[delivery.id] = Skipped("unreachable")
            elif not delivery.sender:
                outcomes[delivery.id] = Skipped("no_sender")
            else:
                usable.append((delivery, message))
        async with self._db.uow() as uow:
            known = await tasks_of(uow.session, [d.id for d, _ in usable])
            campaigns = {
                row.id: (row.name, row.message)
                for row in await uow.session.execute(
                    select(Campaign.id, Campaign.name, Campaign.message).where(
                        Campaign.id.in_({d.campaign_id for d, _ in usable})
                    )
                )
            }
        groups: dict[tuple[int, str, str], list[ClaimedDelivery]] = {}
        for delivery, message in usable:
            task = known.get(delivery.id)
            if task is not None and task.msgid is not None:  # made before a crash
                expired = task.status == EXPIRED
                outcomes[delivery.id] = Dead("not_confirmed") if expired else WaitingStaff(task.id)
                continue
            template = campaigns.get(delivery.campaign_id, ("", ""))[1]
            key = (delivery.run_id, str(delivery.sender), shared_text(template, message))
            groups.setdefault(key, []).append(delivery)
        for (run_id, sender, text), members in groups.items():
            name = campaigns.get(members[0].campaign_id, ("", ""))[0]
            for start in range(0, len(members), MAX_CUSTOMERS):
                chunk = members[start : start + MAX_CUSTOMERS]
                outcomes.update(await self._task(run_id, sender, text, name, chunk))
        return [outcomes[delivery.id] for delivery, _ in batch]

    async def _task(
        self,
        run_id: int,
        sender: str,
        text: str,
        campaign: str,
        members: Sequence[ClaimedDelivery],
    ) -> dict[int, Outcome]:
        now = self._clock()
        async with self._db.uow() as uow:
            task_id = await open_task(
                uow.session,
                run_id=run_id,
                app_id=self._app_id,
                sender=sender,
                delivery_ids=[d.id for d in members],
                now=now,
            )
            await uow.commit()
        try:
            msgid, left_out = await self._api.add_msg_template(
                sender, [d.recipient for d in members], text
            )
        except ApiError as error:
            if error.code == INVALID_CUSTOMER and len(members) > 1:
                # Which customer is unknown: halve until the bad one stands alone.
                half = len(members) // 2
                first = await self._task(run_id, sender, text, campaign, members[:half])
                return first | await self._task(run_id, sender, text, campaign, members[half:])
            outcome = outcome_of_error(error, PERMANENT)
            if isinstance(outcome, Dead):  # nothing was made: forget the task
                async with self._db.uow() as uow:
                    await drop_task(uow.session, task_id)
                    await uow.commit()
            return {d.id: outcome for d in members}
        excluded = set(left_out)
        reached = [d for d in members if d.recipient not in excluded]
        async with self._db.uow() as uow:
            await task_created(
                uow.session, task_id, msgid=msgid, customers=len(reached), now=self._clock()
            )
            await uow.commit()
        if reached:
            notice = new_task_text(campaign, len(reached), self._confirm_hours, self._locale)
            await tell_staff(self._api, sender, notice)
        return {
            d.id: Dead("not_contact") if d.recipient in excluded else WaitingStaff(task_id)
            for d in members
        }


def shared_text(template: str, message: RenderedMessage) -> str:
    """The text one task sends to all its customers: the campaign's message with this
    customer's variables but no name; the rendered text when there is nothing to go on."""
    if not template or not message.variables or "{name}" not in template:
        return message.text
    return fill(template, {**message.variables, "name": ""}).lstrip(_PUNCTUATION)
