"""Campaign runs written straight into the tables of models/campaigns/tables.py — members by
arm, their deliveries, coupons and orders — so the report and the win-back alert can be tested
with counts chosen by hand, whatever builds runs in the product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.campaigns.tables import Campaign, CampaignMember, CampaignRun, Delivery
from models.customer import Customer
from models.referral.reward_tables import Coupon

# Tuesday 7 May 2024, 10:00 in Shanghai: when the default win-back campaign would run.
T0 = datetime(2024, 5, 7, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_numbers = count(1)


@dataclass(frozen=True)
class Member:
    """One customer of a run. Times are counted from the run's start."""

    arm: str  # treatment | holdout | control | excluded
    stage: str = "declining"
    sent_after: timedelta | None = None  # treatment: when the message went out; None: never
    orders: tuple[tuple[timedelta, int, str], ...] = ()  # (after the start, fen, status)
    coupon: str | None = None  # status of the coupon the run issued (treatment)
    reason: str | None = None  # why excluded


def bought(
    after: timedelta, fen: int = 10_000, status: str = "paid"
) -> tuple[tuple[timedelta, int, str]]:
    return ((after, fen, status),)


def arm(kind: str, total: int, converted: int, *, after: timedelta = 2 * DAY) -> list[Member]:
    """`total` members of an arm, the first `converted` of whom paid 100 yuan `after` the start
    (treatment members' messages went out an hour after the start)."""
    sent = HOUR if kind == "treatment" else None
    return [
        Member(kind, sent_after=sent, orders=bought(after) if n < converted else ())
        for n in range(total)
    ]


async def campaign_id(session: AsyncSession, key: str = "winback_declining") -> int:
    found = await session.scalar(select(Campaign.id).where(Campaign.key == key))
    assert found is not None, key
    return found


async def add_run(
    session: AsyncSession,
    members: list[Member],
    *,
    key: str = "winback_declining",
    started_at: datetime = T0,
    status: str = "done",
) -> int:
    """A run of campaign `key` with these members; returns the run's id (not committed)."""
    campaign = await session.scalar(select(Campaign).where(Campaign.key == key))
    assert campaign is not None, key
    by_arm = {a: sum(1 for m in members if m.arm == a) for a in ("treatment", "holdout", "control")}
    run = CampaignRun(
        campaign_id=campaign.id,
        slot=started_at,
        status=status,
        audience=len(members),
        excluded={},
        started_at=started_at,
        finished_at=started_at + timedelta(seconds=5),
        **by_arm,
    )
    session.add(run)
    await session.flush()
    for member in members:
        n = next(_numbers)
        customer = Customer(external_id=f"K{n:05d}", name=f"客户{n}", phone=f"139{n:08d}")
        session.add(customer)
        await session.flush()
        coupon_id = None
        if member.coupon is not None:
            assert campaign.coupon_template_id is not None
            redeemed = member.coupon == "redeemed"
            coupon = Coupon(
                code=f"CP{n:08d}",
                template_id=campaign.coupon_template_id,
                customer_id=customer.id,
                source="campaign",
                status=member.coupon,
                name="老客回馈券 ¥30",
                value_fen=3000,
                min_spend_fen=10_000,
                issued_at=started_at,
                expires_at=started_at + 14 * DAY,
                redeemed_at=started_at + 3 * DAY if redeemed else None,
                redeemed_order_no=f"R{n:05d}" if redeemed else None,
                discount_fen=3000 if redeemed else None,
            )
            session.add(coupon)
            await session.flush()
            coupon_id = coupon.id
        session.add(
            CampaignMember(
                run_id=run.id,
                customer_id=customer.id,
                arm=member.arm,
                reason=member.reason,
                stage=member.stage,
                coupon_id=coupon_id,
            )
        )
        if member.arm == "treatment":
            sent_at = None if member.sent_after is None else started_at + member.sent_after
            session.add(
                Delivery(
                    run_id=run.id,
                    campaign_id=campaign.id,
                    customer_id=customer.id,
                    platform="feishu",
                    app_id="cli_test",
                    route="feishu",
                    recipient=f"ou_{n}",
                    body={"text": "…"},
                    status="sent" if sent_at is not None else "skipped",
                    reason=None if sent_at is not None else "unreachable",
                    next_attempt_at=started_at,
                    deadline_at=started_at + 48 * HOUR,
                    sent_at=sent_at,
                    finished_at=sent_at or started_at,
                )
            )
        for index, (after, fen, order_status) in enumerate(member.orders):
            session.add(
                Order(
                    order_no=f"O{n:05d}-{index}",
                    customer_id=customer.id,
                    amount_fen=fen,
                    paid_at=started_at + after,
                    status=order_status,
                    refunded_at=started_at + after + DAY if order_status == "refunded" else None,
                )
            )
    await session.flush()
    return run.id
