"""WeCom customer mass-message tasks (`wecom_mass_tasks`) from creation to their last result, and
the one place where their results reach `deliveries` (the result poller runs outside the
delivery worker, so it writes through here, set-based, by task and external_userid).

A task goes creating → waiting → sent → done, or ends expired:
- creating: the row and the deliveries it carries are stored, `add_msg_template` has not
  answered yet. A delivery claimed again later finds it without a msgid and goes into a new
  task (whether the platform made the first one is unknown; see the WeCom sender).
- waiting: the platform made it (msgid); the staff member has not sent it yet.
- sent: confirmed in the WeCom app; the per-customer results are being read.
- done: every delivery of the task is settled.
- expired: not confirmed in time: cancelled, its deliveries dead `not_confirmed`.
A task the platform refuses as a whole is dropped (its deliveries are dead with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.tables import Campaign, CampaignRun, Delivery, WecomMassTask
from models.campaigns.wecom_tables import WecomTaskDelivery

CREATING, WAITING, SENT, DONE, EXPIRED = ("creating", "waiting", "sent", "done", "expired")
# A delivery of a task that is not settled yet (`failed` is retried until its deadline).
UNSETTLED = ("queued", "sending", "waiting_staff", "failed")


@dataclass(frozen=True)
class KnownTask:
    id: int
    msgid: str | None
    status: str


@dataclass(frozen=True)
class OpenTask:
    id: int
    msgid: str
    sender: str
    status: str
    customers: int
    reminders: int
    created_at: datetime
    last_reminded_at: datetime | None
    campaign_name: str


async def tasks_of(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, KnownTask]:
    """The task each of these deliveries was put into, if any."""
    if not delivery_ids:
        return {}
    rows = await session.execute(
        select(
            WecomTaskDelivery.delivery_id,
            WecomMassTask.id,
            WecomMassTask.msgid,
            WecomMassTask.status,
        )
        .join(WecomMassTask, WecomMassTask.id == WecomTaskDelivery.task_id)
        .where(WecomTaskDelivery.delivery_id.in_(delivery_ids))
    )
    return {row[0]: KnownTask(row[1], row[2], row[3]) for row in rows.all()}


async def open_task(
    session: AsyncSession,
    *,
    run_id: int,
    app_id: str,
    sender: str,
    delivery_ids: Sequence[int],
    now: datetime,
) -> int:
    """A new task row carrying these deliveries, before the platform is asked to make it.
    Deliveries left in a `creating` task by an earlier attempt move to this one; a creating
    task left with no delivery is dropped."""
    earlier = select(WecomTaskDelivery.task_id).where(
        WecomTaskDelivery.delivery_id.in_(delivery_ids)
    )
    stale = list(await session.scalars(earlier))
    await session.execute(
        delete(WecomTaskDelivery).where(WecomTaskDelivery.delivery_id.in_(delivery_ids))
    )
    if stale:
        await session.execute(
            delete(WecomMassTask).where(
                WecomMassTask.id.in_(stale),
                WecomMassTask.status == CREATING,
                ~exists().where(WecomTaskDelivery.task_id == WecomMassTask.id),
            )
        )
    task_id = await session.scalar(
        insert(WecomMassTask)
        .values(
            run_id=run_id,
            app_id=app_id,
            sender=sender,
            status=CREATING,
            customers=len(delivery_ids),
            reminders=0,
            created_at=now,
            updated_at=now,
        )
        .returning(WecomMassTask.id)
    )
    assert task_id is not None
    await session.execute(
        insert(WecomTaskDelivery),
        [{"delivery_id": delivery_id, "task_id": task_id} for delivery_id in delivery_ids],
    )
    return int(task_id)


async def drop_task(session: AsyncSession, task_id: int) -> None:
    """Forget a task the platform refused to make (its deliveries' rows go with it)."""
    await session.execute(delete(WecomMassTask).where(WecomMassTask.id == task_id))


async def task_created(
    session: AsyncSession, task_id: int, *, msgid: str, customers: int, now: datetime
) -> None:
    await session.execute(
        update(WecomMassTask)
        .where(WecomMassTask.id == task_id)
        .values(msgid=msgid, status=WAITING, customers=customers, updated_at=now)
    )


async def set_task_status(session: AsyncSession, task_id: int, status: str, now: datetime) -> None:
    await session.execute(
        update(WecomMassTask)
        .where(WecomMassTask.id == task_id)
        .values(status=status, updated_at=now)
    )


async def task_reminded(
    session: AsyncSession, task_id: int, now: datetime, *, counted: bool = True
) -> None:
    """The staff member was reminded (`counted`: through `remind_groupmsg_send`, which WeCom
    allows three times in 24 hours; the notice sent when the task is made does not count)."""
    await session.execute(
        update(WecomMassTask)
        .where(WecomMassTask.id == task_id)
        .values(
            reminders=WecomMassTask.reminders + (1 if counted else 0),
            last_reminded_at=now,
            updated_at=now,
        )
    )


async def open_tasks(session: AsyncSession, app_id: str) -> list[OpenTask]:
    """Tasks the platform made whose results are not all in yet, oldest first."""
    rows = await session.execute(
        select(
            WecomMassTask.id,
            WecomMassTask.msgid,
            WecomMassTask.sender,
            WecomMassTask.status,
            WecomMassTask.customers,
            WecomMassTask.reminders,
            WecomMassTask.created_at,
            WecomMassTask.last_reminded_at,
            Campaign.name,
        )
        .join(CampaignRun, CampaignRun.id == WecomMassTask.run_id)
        .join(Campaign, Campaign.id == CampaignRun.campaign_id)
        .where(
            WecomMassTask.app_id == app_id,
            WecomMassTask.status.in_((WAITING, SENT)),
            WecomMassTask.msgid.is_not(None),
        )
        .order_by(WecomMassTask.id)
    )
    return [
        OpenTask(
            id=row.id,
            msgid=str(row.msgid),
            sender=row.sender,
            status=row.status,
            customers=row.customers,
            reminders=row.reminders,
            created_at=row.created_at,
            last_reminded_at=row.last_reminded_at,
            campaign_name=row.name,
        )
        for row in rows.all()
    ]


async def record_results(
    session: AsyncSession,
    task_id: int,
    *,
    msgid: str,
    delivered: Sequence[str],
    not_contact: Sequence[str],
    over_limit: Sequence[str],
    sent_at: datetime,
    now: datetime,
) -> int:
    """One page of `get_groupmsg_send_result` into the task's deliveries still waiting for the
    staff member, by external_userid: sent (status 1) → delivered; 2 → dead `not_contact`
    (no longer the staff member's contact); 3 → dead `monthly_limit` (the customer already
    got their corp mass messages for the month, or one from this staff member today).
    Returns how many deliveries changed."""
    changed = 0
    waiting = (Delivery.task_id == task_id, Delivery.status == "waiting_staff")
    if delivered:
        result = await session.execute(
            update(Delivery)
            .where(*waiting, Delivery.recipient.in_(delivered))
            .values(
                status="delivered",
                platform_message_id=msgid,
                sent_at=func.coalesce(Delivery.sent_at, sent_at),
                finished_at=now,
                updated_at=now,
            )
        )
        changed += _count(result)
    for reason, externals in (("not_contact", not_contact), ("monthly_limit", over_limit)):
        if externals:
            result = await session.execute(
                update(Delivery)
                .where(*waiting, Delivery.recipient.in_(externals))
                .values(status="dead", reason=reason, finished_at=now, updated_at=now)
            )
            changed += _count(result)
    return changed


async def expire_unconfirmed(session: AsyncSession, task_id: int, now: datetime) -> int:
    """The task's deliveries still waiting when the confirmation time ran out: dead
    `not_confirmed`. Returns how many."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.task_id == task_id, Delivery.status == "waiting_staff")
        .values(status="dead", reason="not_confirmed", finished_at=now, updated_at=now)
    )
    return _count(result)


async def settle_task(session: AsyncSession, task_id: int, now: datetime) -> bool:
    """The task is done once none of its deliveries is unsettled; True if it is."""
    unsettled = await session.scalar(
        select(func.count())
        .select_from(WecomTaskDelivery)
        .join(Delivery, Delivery.id == WecomTaskDelivery.delivery_id)
        .where(WecomTaskDelivery.task_id == task_id, Delivery.status.in_(UNSETTLED))
    )
    if unsettled:
        return False
    await session.execute(
        update(WecomMassTask)
        .where(WecomMassTask.id == task_id, WecomMassTask.status.in_((WAITING, SENT)))
        .values(status=DONE, updated_at=now)
    )
    return True


async def task_polled(session: AsyncSession, task_id: int, now: datetime) -> None:
    await session.execute(
        update(WecomMassTask).where(WecomMassTask.id == task_id).values(polled_at=now)
    )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
