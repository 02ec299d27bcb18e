"""The settle step (`fission rewards settle`, later a scheduled job).

1. Reviews past their deadline get the program's default decision.
2. Conversions whose order is no longer paid are voided (`order_refunded`). The order service
   does this when the refund arrives; this step catches rows stored before it did, so that a
   reward is paid only if its converting order is still paid when it settles.
3. Joined invitations whose invitee already paid are converted now (a safety net: the order
   service converts them when the order arrives, by the API or an import).
4. Converted invitations past their hold (not held for review, their order still paid) become
   `rewarded`, and their pending rewards become `settled`: ledger rows move points from
   pending to available and cash from pending to payable; coupon rewards issue their coupon.
5. Issued coupons past expiry are marked expired.

Each state change is a conditional UPDATE … RETURNING, so a refund racing the settle run, or two
settle runs at once, cannot settle a reward twice or settle a revoked one; the ledger's unique
(reward, entry) index backs that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.customer import Customer
from models.referral import ledger
from models.referral.conversion import convert_invitation
from models.referral.coupons import expire_coupons, issue_coupons
from models.referral.locks import lock_rows
from models.referral.recheck import void_conversion
from models.referral.review import decide_overdue_reviews
from models.referral.reward_tables import CouponTemplate, Reward
from models.referral.rewards import REWARD_ROW
from models.referral.tables import Invitation


@dataclass(frozen=True)
class SettleReport:
    reviews_decided: int = 0
    refunds_voided: int = 0
    late_conversions: int = 0
    invitations_rewarded: int = 0
    rewards_settled: int = 0
    coupons_issued: int = 0
    points_settled: int = 0
    cash_settled_fen: int = 0
    coupons_expired: int = 0


async def settle_due_rewards(session: AsyncSession, now: datetime) -> SettleReport:
    reviews = await decide_overdue_reviews(session, now)
    voided = await void_unpaid_conversions(session, now)
    late = await convert_paid_joins(session, now)
    still_paid = select(Order.id).where(
        Order.id == Invitation.converting_order_id, Order.status == "paid"
    )
    rewarded = (
        await session.execute(
            update(Invitation)
            .where(
                Invitation.status == "converted",
                Invitation.hold_until <= now,
                Invitation.review_status.is_(None) | (Invitation.review_status == "approved"),
                still_paid.exists(),
            )
            .values(status="rewarded", rewarded_at=now, updated_at=now)
            .returning(Invitation.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    finished = select(Invitation.id).where(Invitation.status == "rewarded")
    settled = [
        row._asdict()
        for row in (
            await session.execute(
                update(Reward)
                .where(
                    Reward.status == "pending",
                    Reward.settle_after <= now,
                    Reward.invitation_id.is_(None) | Reward.invitation_id.in_(finished),
                )
                .values(status="settled", settled_at=now, updated_at=now)
                .returning(*REWARD_ROW)
                .execution_options(synchronize_session=False)
            )
        ).all()
    ]
    coupon_rows = [row for row in settled if row["kind"] == "coupon"]
    if coupon_rows:
        templates = {
            t.id: t
            for t in (
                await session.execute(
                    select(CouponTemplate).where(
                        CouponTemplate.id.in_({row["coupon_template_id"] for row in coupon_rows})
                    )
                )
            ).scalars()
        }
        coupon_ids = await issue_coupons(
            session,
            grants=[(templates[r["coupon_template_id"]], r["customer_id"]) for r in coupon_rows],
            now=now,
        )
        for row, coupon_id in zip(coupon_rows, coupon_ids, strict=True):
            row["coupon_id"] = coupon_id
        rewards = cast(Table, Reward.__table__)
        await session.execute(
            rewards.update()
            .where(rewards.c.id == bindparam("reward_id"))
            .values(coupon_id=bindparam("new_coupon_id")),
            [{"reward_id": r["id"], "new_coupon_id": r["coupon_id"]} for r in coupon_rows],
        )
    await ledger.append(session, (ledger.reward_entry("settle", row, now) for row in settled))
    return SettleReport(
        reviews_decided=reviews,
        refunds_voided=voided,
        late_conversions=late,
        invitations_rewarded=len(rewarded),
        rewards_settled=len(settled),
        coupons_issued=len(coupon_rows),
        points_settled=sum(r["points"] for r in settled if r["kind"] == "points"),
        cash_settled_fen=sum(r["amount_fen"] for r in settled if r["kind"] == "cash"),
        coupons_expired=await expire_coupons(session, now),
    )


async def void_unpaid_conversions(session: AsyncSession, now: datetime) -> int:
    """Void unsettled conversions whose converting order is refunded; how many."""
    stmt = (
        select(Invitation.id, Invitation.invitee_customer_id)
        .join(Order, Order.id == Invitation.converting_order_id)
        .where(Invitation.status == "converted", Order.status != "paid")
        .order_by(Invitation.id)
    )
    voided = 0
    for invitation_id, invitee_id in (await session.execute(stmt)).all():
        await lock_rows(session, Customer, [invitee_id] if invitee_id is not None else [])
        invitation = (
            await session.execute(
                select(Invitation)
                .where(Invitation.id == invitation_id, Invitation.status == "converted")
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if invitation is not None:
            voided += await void_conversion(session, invitation, "order_refunded", now) is not None
    return voided


async def convert_paid_joins(session: AsyncSession, now: datetime) -> int:
    """Convert joined invitations whose invitee has a paid order since the join but was never
    passed through `on_order_paid` (e.g. orders imported from CSV). Only those invitations are
    visited, found by one query."""
    stmt = (
        select(Invitation.id, Invitation.invitee_customer_id)
        .where(
            Invitation.status == "joined",
            select(Order.id)
            .where(
                Order.customer_id == Invitation.invitee_customer_id,
                Order.status == "paid",
                Order.paid_at >= Invitation.joined_at,
            )
            .exists(),
        )
        .order_by(Invitation.id)
    )
    converted = 0
    for invitation_id, invitee_id in (await session.execute(stmt)).all():
        if invitee_id is None:
            continue
        await lock_rows(session, Customer, [invitee_id])
        invitation = (
            await session.execute(
                select(Invitation)
                .where(Invitation.id == invitation_id, Invitation.status == "joined")
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if invitation is None:
            continue
        result = await convert_invitation(session, invitation, now=now)
        converted += result.outcome in ("converted", "under_review")
    return converted
