"""Read models for the card, the API and chat: a customer's rewards, a code's funnel, the review
queue. Personal data of invitees is masked here, so no caller can forget to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.codes import normalize_code
from models.referral.coupons import CouponView
from models.referral.fraud import signal_names
from models.referral.ledger import balances
from models.referral.reward_tables import Coupon, CouponTemplate, Reward
from models.referral.tables import Invitation, ReferralClick, ReferralCode, ReferralProgram


@dataclass(frozen=True)
class RewardView:
    id: int
    side: str  # inviter | invitee | milestone
    tier: int | None
    kind: str  # coupon | points | cash | privilege
    status: str  # pending | settled | revoked
    points: int
    amount_fen: int  # cash, or the coupon's face value
    coupon_name: str | None
    privilege: str | None
    settle_after: datetime
    revoke_reason: str | None


@dataclass(frozen=True)
class InvitationView:
    id: int
    invitee: str  # masked name, else masked phone
    status: str
    reject_reason: str | None
    review_status: str | None
    joined_at: datetime | None
    converted_at: datetime | None
    rewards: tuple[RewardView, ...]  # what the inviter earned from this invitation


@dataclass(frozen=True)
class RewardsSummary:
    customer_id: int
    points_available: int
    points_pending: int
    cash_payable_fen: int
    cash_pending_fen: int
    coupons: tuple[CouponView, ...]  # newest first
    privileges: tuple[str, ...]  # settled privilege rewards
    own_rewards: tuple[RewardView, ...]  # every reward to this customer, newest first
    invitations: tuple[InvitationView, ...]  # invitations this customer made, newest first
    invitations_total: int


@dataclass(frozen=True)
class CodeStats:
    code: str
    program_id: int
    program_key: str
    program_name: str
    program_title: str
    inviter_customer_id: int
    clicks: int  # landing-page visits, one per visitor per day
    joins: int  # invitations holding the invitee (joined, converted or rewarded)
    conversions: int  # converted or rewarded
    rewarded: int
    rejected: int
    under_review: int


@dataclass(frozen=True)
class ReviewItem:
    invitation_id: int
    program_key: str
    inviter_customer_id: int
    inviter: str  # masked
    invitee_customer_id: int
    invitee: str  # masked
    signals: tuple[str, ...]
    fraud_signals: dict[str, Any]
    converted_at: datetime | None


async def rewards_summary(
    session: AsyncSession,
    customer_id: int,
    *,
    now: datetime | None = None,
    invitations_limit: int = 50,
) -> RewardsSummary:
    """Balances (sums over the ledger), coupons with their status as of `now` (default: the
    current time), privileges, and the invitations the customer made, with masked invitees."""
    now = now or utcnow()
    money = await balances(session, customer_id)
    coupons = (
        await session.execute(
            select(Coupon)
            .where(Coupon.customer_id == customer_id)
            .order_by(Coupon.issued_at.desc(), Coupon.id.desc())
            .execution_options(populate_existing=True)
        )
    ).scalars()
    own = await _reward_views(session, Reward.customer_id == customer_id)
    invitations = (
        await session.execute(
            select(Invitation, Customer.name, Customer.phone, Customer.external_id)
            .join(Customer, Customer.id == Invitation.invitee_customer_id)
            .where(Invitation.inviter_customer_id == customer_id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(invitations_limit)
            .execution_options(populate_existing=True)
        )
    ).all()
    total = (
        await session.execute(
            select(func.count()).where(
                Invitation.inviter_customer_id == customer_id,
                Invitation.invitee_customer_id.is_not(None),
            )
        )
    ).scalar_one()
    earned: dict[int, list[RewardView]] = defaultdict(list)
    by_id = {row.id: row for row in own}
    for reward_id, invitation_id in (
        await session.execute(
            select(Reward.id, Reward.invitation_id).where(
                Reward.customer_id == customer_id,
                Reward.invitation_id.in_([row[0].id for row in invitations]),
            )
        )
    ).all():
        if invitation_id is not None:
            earned[invitation_id].append(by_id[reward_id])
    return RewardsSummary(
        customer_id=customer_id,
        points_available=money.points_available,
        points_pending=money.points_pending,
        cash_payable_fen=money.cash_payable_fen,
        cash_pending_fen=money.cash_pending_fen,
        coupons=tuple(CouponView.of(coupon, now) for coupon in coupons),
        privileges=tuple(
            r.privilege
            for r in own
            if r.kind == "privilege" and r.status == "settled" and r.privilege
        ),
        own_rewards=own,
        invitations=tuple(
            InvitationView(
                id=invitation.id,
                invitee=masked_person(name, phone, external_id),
                status=invitation.status,
                reject_reason=invitation.reject_reason,
                review_status=invitation.review_status,
                joined_at=invitation.joined_at,
                converted_at=invitation.converted_at,
                rewards=tuple(earned.get(invitation.id, ())),
            )
            for invitation, name, phone, external_id in invitations
        ),
        invitations_total=int(total),
    )


async def code_stats(session: AsyncSession, code: str) -> CodeStats | None:
    normalized = normalize_code(code)
    if normalized is None:
        return None
    found = (
        await session.execute(
            select(ReferralCode, ReferralProgram)
            .join(ReferralProgram, ReferralProgram.id == ReferralCode.program_id)
            .where(ReferralCode.code == normalized)
        )
    ).one_or_none()
    if found is None:
        return None
    referral_code, program = found
    clicks = (
        await session.execute(select(func.count()).where(ReferralClick.code_id == referral_code.id))
    ).scalar_one()
    by_status = dict(
        (
            await session.execute(
                select(Invitation.status, func.count())
                .where(
                    Invitation.code_id == referral_code.id,
                    Invitation.invitee_customer_id.is_not(None),
                )
                .group_by(Invitation.status)
            )
        ).all()
    )
    under_review = (
        await session.execute(
            select(func.count()).where(
                Invitation.code_id == referral_code.id, Invitation.review_status == "pending"
            )
        )
    ).scalar_one()
    converted = by_status.get("converted", 0) + by_status.get("rewarded", 0)
    return CodeStats(
        code=referral_code.code,
        program_id=program.id,
        program_key=program.key,
        program_name=program.name,
        program_title=program.title,
        inviter_customer_id=referral_code.customer_id,
        clicks=int(clicks),
        joins=int(by_status.get("joined", 0) + converted),
        conversions=int(converted),
        rewarded=int(by_status.get("rewarded", 0)),
        rejected=int(by_status.get("rejected", 0)),
        under_review=int(under_review),
    )


async def review_queue(session: AsyncSession, *, limit: int = 50) -> list[ReviewItem]:
    """Conversions waiting for staff review, oldest first."""
    inviter, invitee = Customer.__table__.alias("inviter"), Customer.__table__.alias("invitee")
    rows = (
        await session.execute(
            select(
                Invitation,
                ReferralProgram.key,
                inviter.c.name,
                inviter.c.phone,
                inviter.c.external_id,
                invitee.c.name,
                invitee.c.phone,
                invitee.c.external_id,
            )
            .join(ReferralProgram, ReferralProgram.id == Invitation.program_id)
            .join(inviter, inviter.c.id == Invitation.inviter_customer_id)
            .join(invitee, invitee.c.id == Invitation.invitee_customer_id)
            .where(Invitation.review_status == "pending")
            .order_by(Invitation.converted_at, Invitation.id)
            .limit(limit)
        )
    ).all()
    return [
        ReviewItem(
            invitation_id=row[0].id,
            program_key=row[1],
            inviter_customer_id=row[0].inviter_customer_id,
            inviter=masked_person(row[2], row[3], row[4]),
            invitee_customer_id=row[0].invitee_customer_id,
            invitee=masked_person(row[5], row[6], row[7]),
            signals=signal_names(row[0].fraud_signals),
            fraud_signals=row[0].fraud_signals or {},
            converted_at=row[0].converted_at,
        )
        for row in rows
    ]


def masked_person(name: str | None, phone: str | None, external_id: str | None) -> str:
    return mask_name(name) or mask_phone(phone) or mask_name(external_id)


async def _reward_views(session: AsyncSession, *where: Any) -> tuple[RewardView, ...]:
    rows = (
        await session.execute(
            select(Reward, CouponTemplate.name)
            .outerjoin(CouponTemplate, CouponTemplate.id == Reward.coupon_template_id)
            .where(*where)
            .order_by(Reward.granted_at.desc(), Reward.id.desc())
            .execution_options(populate_existing=True)
        )
    ).all()
    return tuple(
        RewardView(
            id=reward.id,
            side=reward.side,
            tier=reward.tier,
            kind=reward.kind,
            status=reward.status,
            points=reward.points,
            amount_fen=reward.amount_fen,
            coupon_name=coupon_name,
            privilege=reward.privilege,
            settle_after=reward.settle_after,
            revoke_reason=reward.revoke_reason,
        )
        for reward, coupon_name in rows
    )
