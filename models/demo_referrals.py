"""Referral activity for the demo database, played through the referral services.

After `create_demo_data` and before the lifecycle history runs (the "mature" signal counts
converted referrals as inviter), `create_demo_referrals` adds a VIP programme next to the
seeded default one (models/demo_programs.py), then plays the script of
models/demo_referral_plan.py in time order: codes, landing-page clicks, joins over every chat
channel, first orders that convert, the natural rejections, two fraud-review clusters, one
refund inside the hold — each step a call of the service the live system would make at that
moment (`now` = the step's time). Finally one settle run as of the start of `as_of` settles
what is past its hold, so pending and settled points, coupons and cash all exist.

Deterministic for a seed, except the referral codes themselves: those are drawn from
`secrets` by design (unguessable), so only their strings differ between two runs.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.clock import day_start
from models.customer import Customer
from models.db import Database
from models.demo_programs import ensure_demo_programs
from models.demo_referral_plan import PROGRAM_DAYS, CustomerFact, Step, plan_referrals
from models.referral import (
    approve_review,
    deny_review,
    get_or_create_code,
    on_order_paid,
    on_order_refunded,
    record_click,
    record_join,
    settle_due_rewards,
)
from models.referral.tables import Invitation, ReferralProgram

DEMO_REVIEWER = "周静"  # the demo team's manager (models/demo_people.STAFF) reviews fraud flags


@dataclass(frozen=True)
class DemoReferralStats:
    codes: int
    clicks: int
    joins: int
    conversions: int
    rejected: dict[str, int]
    under_review: int
    refunds: int
    rewards_settled: int


async def create_demo_referrals(
    db: Database, *, as_of: date, tz: tzinfo, seed: int = 7
) -> DemoReferralStats:
    """Run six months of referral activity on the demo customers (one transaction)."""
    rng = random.Random(f"referrals/{seed}")
    end = day_start(as_of, tz)
    start = end - timedelta(days=PROGRAM_DAYS)
    async with db.uow() as uow:
        session = uow.session
        programs = await ensure_demo_programs(
            session, timezone=getattr(tz, "key", "Asia/Shanghai"), now=start
        )
        plan = plan_referrals(await _facts(session, end), start=start, end=end, rng=rng)
        player = _Player(session, programs)
        # Held for the whole run: the session's identity map keeps only weak references, and
        # the services look programmes (and a code's owner) up by primary key.
        player.held = [
            *(await session.execute(select(ReferralProgram))).scalars(),
            *(
                await session.execute(select(Customer).where(Customer.id.in_(plan.inviters)))
            ).scalars(),
        ]
        await player.load_orders({s.invitee for s in plan.steps if s.kind == "pay" and s.invitee})
        for step in plan.ordered():
            await player.play(step)
        settled = await settle_due_rewards(session, end)
        await uow.commit()
    counts = player.counts
    return DemoReferralStats(
        codes=counts["code"],
        clicks=counts["click"],
        joins=counts["joined"],
        conversions=counts["converted"] + counts["under_review"],
        rejected=dict(sorted(player.rejected.items())),
        under_review=counts["under_review"] - counts["review_approved"] - counts["review_denied"],
        refunds=counts["revoked"],
        rewards_settled=settled.rewards_settled,
    )


async def _facts(session: AsyncSession, end: datetime) -> list[CustomerFact]:
    """One grouped query: per open customer, the order facts the script picks people by."""
    paid = and_(Order.status == "paid", Order.paid_at < end)
    recent = and_(paid, Order.paid_at >= end - timedelta(days=90))
    stmt = (
        select(
            Customer.id,
            Customer.created_at,
            func.min(case((paid, Order.paid_at))).label("first_paid"),
            func.count(case((paid, Order.id))).label("paid_orders"),
            func.count(case((recent, Order.id))).label("recent_orders"),
            func.coalesce(func.sum(case((paid, Order.amount_fen))), 0).label("lifetime"),
            func.count(case((Order.status == "refunded", Order.id))).label("refunded"),
        )
        .outerjoin(Order, Order.customer_id == Customer.id)
        .where(Customer.status == "open", Customer.created_at < end)
        .group_by(Customer.id, Customer.created_at)
        .order_by(Customer.id)
    )
    return [
        CustomerFact(
            id=row.id,
            created_at=row.created_at,
            first_paid_at=row.first_paid,
            paid_orders=int(row.paid_orders),
            recent_orders=int(row.recent_orders),
            lifetime_fen=int(row.lifetime),
            refunded_orders=int(row.refunded),
        )
        for row in (await session.execute(stmt)).all()
    ]


class _Player:
    """Plays steps through the services and counts what they answered."""

    def __init__(self, session: AsyncSession, programs: dict[str, int]) -> None:
        self.session = session
        self.programs = programs
        self.codes: dict[int, str] = {}
        self.first_orders: dict[int, Order] = {}
        self.counts: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.held: list[ReferralProgram | Customer] = []

    async def load_orders(self, customer_ids: set[int]) -> None:
        """Each converting invitee's first paid order, in one query."""
        stmt = (
            select(Order)
            .where(Order.customer_id.in_(customer_ids), Order.status == "paid")
            .order_by(Order.customer_id, Order.paid_at, Order.id)
        )
        for order in (await self.session.execute(stmt)).scalars():
            self.first_orders.setdefault(order.customer_id, order)

    async def play(self, step: Step) -> None:
        session, at = self.session, step.at
        if step.kind == "code":
            key = "vip_referrer" if step.vip else "default"
            code = await get_or_create_code(
                session, customer_id=step.inviter, now=at, program_id=self.programs[key]
            )
            if code is not None:
                self.codes[step.inviter] = code.code
                self.counts["code"] += 1
            return
        code_text = self.codes.get(step.inviter)
        if code_text is None:
            return
        if step.kind == "click":
            assert step.visitor is not None
            clicked = await record_click(session, code=code_text, visitor_hash=step.visitor, now=at)
            self.counts["click"] += bool(clicked and clicked.counted)
            return
        assert step.invitee is not None
        if step.kind == "join":
            joined = await record_join(
                session,
                invitee_customer_id=step.invitee,
                code=code_text,
                channel=step.channel,
                now=at,
                visitor_hash=step.visitor,
            )
            self.counts[joined.outcome] += 1
            if joined.reason:
                self.rejected[joined.reason] += 1
        elif step.kind == "pay":
            order = self.first_orders[step.invitee]
            converted = await on_order_paid(session, order=order, now=at)
            self.counts[converted.outcome] += 1
            if converted.reason:
                self.rejected[converted.reason] += 1
        elif step.kind == "refund":
            await self._refund(self.first_orders[step.invitee], at)
        elif step.kind == "review":
            await self._review(step.invitee, step.approve, at)

    async def _refund(self, order: Order, at: datetime) -> None:
        """The shop refunds the order (as the orders API would record it), then the engine
        hears of it."""
        await self.session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(status="refunded", refunded_at=at, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(order)
        refunded = await on_order_refunded(self.session, order=order, now=at)
        self.counts[refunded.outcome] += 1

    async def _review(self, invitee: int, approve: bool, at: datetime) -> None:
        invitation_id = await self.session.scalar(
            select(Invitation.id).where(
                Invitation.invitee_customer_id == invitee, Invitation.review_status == "pending"
            )
        )
        if invitation_id is None:
            return
        decide = approve_review if approve else deny_review
        result = await decide(
            self.session,
            invitation_id=invitation_id,
            reviewer=DEMO_REVIEWER,
            now=at,
            note="同一设备邀请多位好友，已电话核实" if approve else "同一设备批量注册，判定作弊",
        )
        self.counts[f"review_{result.outcome}"] += 1
