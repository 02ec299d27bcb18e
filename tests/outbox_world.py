"""What the outbox tests start from: a run of the seeded 衰退客户挽回 campaign whose treated
customers each hold a coupon and a queued delivery — the rows a campaign run leaves behind
(written here directly: the run itself is tested with the campaign core)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fakes.harness import Clock
from fakes.inbox import FakeInbox, InboxSender
from sqlalchemy import select

from config import Settings, load_settings
from jobs.delivery import DeliveryWorkers
from jobs.senders import SenderRegistry
from models import (
    Campaign,
    CampaignMember,
    CampaignRun,
    Coupon,
    CouponTemplate,
    Customer,
    Delivery,
)
from models.db import Database

TZ = ZoneInfo("Asia/Shanghai")
# A Tuesday, 10:00 in Shanghai: outside the default quiet hours (21:00–09:00).
RUN_AT = datetime(2024, 7, 2, 10, 0, tzinfo=TZ)
FEISHU_APP = "cli_outbox_test"


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until `condition` holds (the state of a fake or a child process: nothing to await)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 7, day, hour, minute, tzinfo=TZ)


def outbox_settings(db_url: str, *, api_base: str = "http://127.0.0.1:9", **extra: Any) -> Settings:
    """Settings for the workers: no rate limits and no quiet hours unless a test sets them."""
    marketing = {"rate_per_second": {}, "quiet_hours": None, **extra.pop("marketing", {})}
    outbox = {"lease_seconds": 60, "poll_seconds": 0.2, **extra.pop("outbox", {})}
    return load_settings(
        database_url=db_url,
        timezone="Asia/Shanghai",
        public_base_url="https://fission.example.com",
        feishu_api_base=api_base,
        marketing=marketing,
        outbox=outbox,
        **extra,
    )


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Seeded:
    run_id: int
    campaign_id: int
    delivery_ids: list[int]
    customer_ids: list[int]


async def seed_run(
    db: Database,
    names: list[str | None],
    *,
    at: datetime = RUN_AT,
    route: str = "feishu",
    platform: str = "feishu",
    deadline: timedelta = timedelta(hours=48),
    prefix: str = "C",
) -> Seeded:
    """One run of `winback_declining` at `at`: a customer per name, each with the campaign's
    coupon (老客回馈券 ¥30, 14 days) and a delivery queued for `at`."""
    async with db.uow() as uow:
        s = uow.session
        campaign = (
            await s.execute(select(Campaign).where(Campaign.key == "winback_declining"))
        ).scalar_one()
        template = await s.get(CouponTemplate, campaign.coupon_template_id)
        assert template is not None
        run = CampaignRun(campaign_id=campaign.id, slot=at, excluded={}, started_at=at)
        s.add(run)
        customers = [
            Customer(external_id=f"{prefix}{i}", name=name, source="import")
            for i, name in enumerate(names, 1)
        ]
        s.add_all(customers)
        await s.flush()
        coupons = [
            Coupon(
                code=f"{prefix}{run.id}X{c.id}"[:16],
                template_id=template.id,
                customer_id=c.id,
                source="campaign",
                name=template.name,
                value_fen=template.value_fen,
                min_spend_fen=template.min_spend_fen,
                issued_at=at,
                expires_at=at + timedelta(days=template.validity_days),
            )
            for c in customers
        ]
        s.add_all(coupons)
        await s.flush()
        s.add_all(
            CampaignMember(run_id=run.id, customer_id=c.id, arm="treatment", coupon_id=k.id)
            for c, k in zip(customers, coupons, strict=True)
        )
        deliveries = [
            Delivery(
                run_id=run.id,
                campaign_id=campaign.id,
                customer_id=c.id,
                platform=platform,
                app_id=FEISHU_APP,
                route=route,
                recipient=f"ou_{c.external_id}",
                body={},
                next_attempt_at=at,
                deadline_at=at + deadline,
                created_at=at,
            )
            for c in customers
        ]
        s.add_all(deliveries)
        await uow.commit()
        return Seeded(run.id, campaign.id, [d.id for d in deliveries], [c.id for c in customers])


async def drain_into(
    inbox: FakeInbox, db: Database, *, clock: Callable[[], datetime] | None = None, **settings: Any
) -> InboxSender:
    """Drain what is due through a stand-in sender to `inbox`; the sender, for its batches."""
    sender = InboxSender(inbox.url)
    registry = SenderRegistry([sender])
    workers = DeliveryWorkers(
        db, outbox_settings(url_of(db), **settings), registry, clock=clock or Clock(RUN_AT)
    )
    try:
        await workers.drain()
    finally:
        await sender.close()
    return sender


async def deliveries(db: Database) -> list[Delivery]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(Delivery).order_by(Delivery.id)))


async def statuses(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in await deliveries(db):
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
