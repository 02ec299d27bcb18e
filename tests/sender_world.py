"""Campaign deliveries for the platform sender tests, and a tiny stand-in for the delivery worker.

`SenderWorld` writes a run of the seeded `winback_declining` campaign and its delivery rows
straight into the tables (what a campaign run leaves behind). `drain` does what the worker
does around a sender, in the smallest form: claim due rows, hand them to the sender, write the
outcomes back. `record=False` is a worker killed between the send and recording it: the rows
stay claimed until their lease passes, then the next `drain` claims them again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from fakes.feishu import FakeFeishu
from fakes.harness import FEISHU_APP, FEISHU_BOT, WECHAT_APP, WECOM_CORP, Clock, settings_for
from fakes.wechat import FakeWeChat
from fakes.wecom import FakeWeCom
from sqlalchemy import insert, or_, select, update

from bot.channels.apis import PlatformApis, outbound_apis
from bot.channels.outbound.http import HttpTransport
from config import Settings
from models import Campaign, CampaignRun, Customer, CustomerIdentity, Delivery
from models.campaigns.outcomes import (
    ClaimedDelivery,
    Dead,
    Outcome,
    RenderedMessage,
    Retry,
    RouteSender,
    Sent,
    Skipped,
    WaitingStaff,
)
from models.db import Database
from models.reach import ADDRESS_KINDS

LEASE = timedelta(minutes=5)
_numbers = count(1)


@dataclass
class Platforms:
    """The three fake platform APIs on one clock, and our clients of them."""

    settings: Settings
    apis: PlatformApis
    clock: Clock
    wecom: FakeWeCom
    wechat: FakeWeChat
    feishu: FakeFeishu

    def advance(self, **kwargs: float) -> None:
        self.clock.advance(**kwargs)


@asynccontextmanager
async def platforms(db: Database, clock: Clock, **settings: Any) -> AsyncIterator[Platforms]:
    wecom = FakeWeCom(WECOM_CORP, "wecom-secret")
    wechat = FakeWeChat(WECHAT_APP, "wechat-secret")
    feishu = FakeFeishu(FEISHU_APP, "feishu-secret", FEISHU_BOT)
    fakes = (wecom, wechat, feishu)
    for fake in fakes:
        fake.clock = clock
    bases = {"wecom": await wecom.start(), "wechat": await wechat.start()}
    bases["feishu"] = await feishu.start()
    try:
        config = settings_for(db, bases, **settings)
        http = HttpTransport(timeout=3.0, retry_delays=(0.01, 0.01))
        async with outbound_apis(config, db, clock=clock, http=http) as apis:
            yield Platforms(config, apis, clock, wecom, wechat, feishu)
    finally:
        for fake in fakes:
            await fake.close()


@asynccontextmanager
async def scene(
    db: Database, now: datetime, **settings: Any
) -> AsyncIterator[tuple[Platforms, SenderWorld]]:
    """The fake platforms on a clock stopped at `now`, and a campaign run to queue into."""
    async with platforms(db, Clock(now), **settings) as p:
        yield p, await SenderWorld.start(db, now)


@dataclass
class SenderWorld:
    db: Database
    run_id: int
    campaign_id: int
    message: str  # the campaign's message template

    @classmethod
    async def start(cls, db: Database, now: datetime) -> SenderWorld:
        async with db.uow() as uow:
            campaign = await uow.session.scalar(
                select(Campaign).where(Campaign.key == "winback_declining")
            )
            assert campaign is not None
            campaign_id, message = campaign.id, campaign.message
            run = CampaignRun(campaign_id=campaign_id, slot=now, status="done", excluded={})
            uow.session.add(run)
            await uow.session.flush()
            run_id = run.id
            await uow.commit()
        return cls(db, run_id, campaign_id, message)

    async def delivery(
        self,
        *,
        platform: str,
        app_id: str,
        route: str,
        recipient: str,
        now: datetime,
        name: str = "王小明",
        text: str | None = None,
        sender: str | None = None,
        last_seen_at: datetime | None = None,
        variables: dict[str, str] | None = None,
    ) -> int:
        """A customer reachable as `recipient`, and one queued message to them."""
        values = variables if variables is not None else self.variables(name)
        body: dict[str, Any] = {
            "text": text if text is not None else self.message.format(**values),
            "variables": values,
        }
        async with self.db.uow() as uow:
            customer = Customer(external_id=f"SW{next(_numbers)}", name=name, created_at=now)
            uow.session.add(customer)
            await uow.session.flush()
            uow.session.add(
                CustomerIdentity(
                    customer_id=customer.id,
                    platform=platform,
                    app_id=app_id,
                    kind=ADDRESS_KINDS[platform],
                    value=recipient,
                    created_at=now,
                    last_seen_at=last_seen_at,
                )
            )
            row = Delivery(
                run_id=self.run_id,
                campaign_id=self.campaign_id,
                customer_id=customer.id,
                platform=platform,
                app_id=app_id,
                route=route,
                recipient=recipient,
                sender=sender,
                body=body,
                status="queued",
                next_attempt_at=now,
                deadline_at=now + timedelta(hours=48),
                created_at=now,
                updated_at=now,
            )
            uow.session.add(row)
            await uow.session.flush()
            delivery_id = row.id
            await uow.commit()
        return delivery_id

    async def many(
        self,
        count: int,
        *,
        platform: str,
        app_id: str,
        route: str,
        now: datetime,
        sender: str | None = None,
        prefix: str = "wm",
    ) -> list[str]:
        """`count` customers queued at once (set-based inserts); their recipients."""
        values = self.variables("")
        body = {"text": self.message.format(**values), "variables": values}
        first = next(_numbers)
        recipients = [f"{prefix}{first}-{n}" for n in range(count)]
        async with self.db.uow() as uow:
            session = uow.session
            await session.execute(
                insert(Customer),
                [{"external_id": f"SW{r}", "created_at": now} for r in recipients],
            )
            ids = dict(
                (
                    await session.execute(
                        select(Customer.external_id, Customer.id).where(
                            Customer.external_id.in_([f"SW{r}" for r in recipients])
                        )
                    )
                ).all()
            )
            await session.execute(
                insert(CustomerIdentity),
                [
                    {
                        "customer_id": ids[f"SW{r}"],
                        "platform": platform,
                        "app_id": app_id,
                        "kind": ADDRESS_KINDS[platform],
                        "value": r,
                        "created_at": now,
                    }
                    for r in recipients
                ],
            )
            await session.execute(
                insert(Delivery),
                [
                    {
                        "run_id": self.run_id,
                        "campaign_id": self.campaign_id,
                        "customer_id": ids[f"SW{r}"],
                        "platform": platform,
                        "app_id": app_id,
                        "route": route,
                        "recipient": r,
                        "sender": sender,
                        "body": body,
                        "status": "queued",
                        "next_attempt_at": now,
                        "deadline_at": now + timedelta(hours=48),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for r in recipients
                ],
            )
            await uow.commit()
        return recipients

    @staticmethod
    def variables(name: str) -> dict[str, str]:
        return {
            "name": name,
            "coupon": "30元回归券",
            "expiry": "6月30日",
            "link": "https://shop.example.com/c/winback",
            "shop": "示例小店",
        }


async def drain(
    db: Database,
    sender: RouteSender,
    now: datetime,
    *,
    record: bool = True,
    batch_size: int = 100,
) -> dict[int, Outcome]:
    """Claim the due deliveries of the sender's routes, send them, record the outcomes."""
    async with db.uow() as uow:
        due = (
            Delivery.route.in_(sender.routes),
            Delivery.next_attempt_at <= now,
            or_(
                Delivery.status.in_(("queued", "failed")),
                (Delivery.status == "sending") & (Delivery.lease_until < now),
            ),
        )
        ids = list(
            await uow.session.scalars(
                select(Delivery.id).where(*due).order_by(Delivery.id).limit(batch_size)
            )
        )
        rows = (
            await uow.session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status="sending",
                    attempts=Delivery.attempts + 1,
                    lease_until=now + LEASE,
                    claimed_by="test-loop",
                )
                .returning(Delivery)
            )
        ).all()
        batch = [(_claimed(row), _rendered(row)) for row in sorted(rows, key=lambda r: r.id)]
        await uow.commit()
    if not batch:
        return {}
    outcomes = await sender.send(batch)
    assert len(outcomes) == len(batch), "one outcome per delivery"
    if record:
        await _record(db, [(d.id, o) for (d, _), o in zip(batch, outcomes, strict=True)], now)
    return {d.id: o for (d, _), o in zip(batch, outcomes, strict=True)}


async def deliveries(db: Database, ids: Sequence[int] | None = None) -> list[Delivery]:
    async with db.uow() as uow:
        query = select(Delivery).order_by(Delivery.id)
        if ids is not None:
            query = query.where(Delivery.id.in_(ids))
        return list(await uow.session.scalars(query))


def _claimed(row: Delivery) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row.id,
        run_id=row.run_id,
        campaign_id=row.campaign_id,
        customer_id=row.customer_id,
        platform=row.platform,
        app_id=row.app_id,
        route=row.route,
        recipient=row.recipient,
        sender=row.sender,
        attempts=row.attempts,
        deadline_at=row.deadline_at,
    )


def _rendered(row: Delivery) -> RenderedMessage:
    return RenderedMessage(text=row.body["text"], variables=dict(row.body.get("variables") or {}))


async def _record(db: Database, results: list[tuple[int, Outcome]], now: datetime) -> None:
    async with db.uow() as uow:
        for delivery_id, outcome in results:
            values: dict[str, Any] = {"lease_until": None, "claimed_by": None, "updated_at": now}
            match outcome:
                case Sent(message_id=message_id, route=route):
                    values |= {"status": "sent", "platform_message_id": message_id}
                    values |= {"sent_at": now, "finished_at": now}
                    if route is not None:
                        values["route"] = route
                case WaitingStaff(task_id=task_id):
                    values |= {"status": "waiting_staff", "task_id": task_id}
                case Retry(code=code, error=error, retry_after=after):
                    values |= {"status": "failed", "error_code": code, "last_error": error}
                    values["next_attempt_at"] = now + timedelta(seconds=after or 60)
                case Dead(reason=reason, code=code, error=error):
                    values |= {"status": "dead", "reason": reason, "error_code": code}
                    values |= {"last_error": error or None, "finished_at": now}
                case Skipped(reason=reason):
                    values |= {"status": "skipped", "reason": reason, "finished_at": now}
            await uow.session.execute(
                update(Delivery).where(Delivery.id == delivery_id).values(**values)
            )
        await uow.commit()
