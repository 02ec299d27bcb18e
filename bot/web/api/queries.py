"""The read endpoints and coupon redemption: domain read models (models/customer_card.py,
models/referral) turned into response bodies, and redemption outcomes into statuses."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import Container
from bot.web.api.outputs import (
    CardOut,
    CashOut,
    CodeOut,
    CouponOut,
    GradeOut,
    InviteOut,
    InviterOut,
    OrdersOut,
    PointsOut,
    ProgramOut,
    RedeemOut,
    ReferralStatsOut,
    RewardOut,
    StageOut,
)
from bot.web.api.problems import ApiError, not_found
from models.customer import Customer
from models.customer_card import CustomerNotFound, build_card
from models.masking import mask_name
from models.referral.codes import referral_link
from models.referral.coupons import CouponView, find_coupon, redeem_coupon
from models.referral.queries import RewardView, code_stats, rewards_summary
from models.referral.tables import ReferralProgram


def coupon_out(view: CouponView, tz: tzinfo) -> CouponOut:
    return CouponOut(
        code=view.code,
        name=view.name,
        status=view.status,
        value_fen=view.value_fen,
        percent_off=view.percent_off,
        max_discount_fen=view.max_discount_fen,
        min_spend_fen=view.min_spend_fen,
        issued_at=view.issued_at.astimezone(tz),
        expires_at=view.expires_at.astimezone(tz),
        redeemed_at=view.redeemed_at.astimezone(tz) if view.redeemed_at else None,
        redeemed_order_no=view.redeemed_order_no,
    )


def _reward_out(view: RewardView, tz: tzinfo) -> RewardOut:
    return RewardOut(
        side=view.side,
        tier=view.tier,
        kind=view.kind,
        status=view.status,
        points=view.points,
        amount_fen=view.amount_fen,
        coupon_name=view.coupon_name,
        privilege=view.privilege,
        settle_after=view.settle_after.astimezone(tz),
        revoke_reason=view.revoke_reason,
    )


async def customer_card(container: Container, external_id: str) -> CardOut | None:
    settings, tz, now = container.settings, container.settings.tz, container.clock()
    async with container.db.uow() as uow:
        customer_id = await uow.session.scalar(
            select(Customer.id).where(Customer.external_id == external_id)
        )
    if customer_id is None:
        return None
    try:
        card = await build_card(container.db, customer_id, tz=tz, grading=settings.grading)
    except CustomerNotFound:
        return None
    async with container.db.uow() as uow:
        summary = await rewards_summary(uow.session, customer_id, now=now)
    stage, grade, orders = card.stage, card.grade, card.orders
    return CardOut(
        external_id=card.external_id,
        name=card.masked_name,
        phone=card.masked_phone,
        region=card.region,
        industry=card.industry,
        status=card.status,
        created_on=card.created_on,
        closed_on=card.closed_on,
        marketing_opt_out=card.marketing_opt_out,
        owner=card.owner_name,
        stage=None
        if stage is None
        else StageOut(
            stage=stage.stage,
            since=stage.since,
            as_of=stage.as_of,
            rule=stage.rule,
            qualified=stage.qualified,
        ),
        grade=None
        if grade is None
        else GradeOut(
            grade=grade.grade,
            score=grade.score,
            orders_365d=grade.orders_365d,
            aov_fen=grade.aov_fen,
            ltv_fen=grade.ltv_fen,
            as_of=grade.as_of,
        ),
        orders=OrdersOut(
            as_of=orders.as_of,
            count=orders.count,
            total_fen=orders.total_fen,
            aov_fen=orders.aov_fen,
            first_on=orders.first_on,
            last_on=orders.last_on,
            refunded_count=orders.refunded_count,
            later_count=orders.later_count,
        ),
        points=PointsOut(available=summary.points_available, pending=summary.points_pending),
        cash=CashOut(payable_fen=summary.cash_payable_fen, pending_fen=summary.cash_pending_fen),
        coupons=[coupon_out(view, tz) for view in summary.coupons],
        privileges=list(summary.privileges),
        referral_codes=[
            CodeOut(
                code=entry.code,
                program=entry.program_key,
                link=referral_link(settings.public_base_url, entry.code),
            )
            for entry in card.referral_codes
        ],
        invites=[
            InviteOut(
                invitee=invite.invitee,
                status=invite.status,
                reject_reason=invite.reject_reason,
                review_status=invite.review_status,
                joined_at=invite.joined_at.astimezone(tz) if invite.joined_at else None,
                converted_at=invite.converted_at.astimezone(tz) if invite.converted_at else None,
                rewards=[_reward_out(reward, tz) for reward in invite.rewards],
            )
            for invite in summary.invitations
        ],
        invites_total=summary.invitations_total,
    )


async def referral_stats(container: Container, code: str) -> ReferralStatsOut | None:
    tz = container.settings.tz
    async with container.db.uow() as uow:
        stats = await code_stats(uow.session, code)
        if stats is None:
            return None
        program = await uow.session.get_one(ReferralProgram, stats.program_id)
        inviter = await uow.session.get_one(Customer, stats.inviter_customer_id)
    return ReferralStatsOut(
        code=stats.code,
        link=referral_link(container.settings.public_base_url, stats.code),
        program=ProgramOut(
            key=program.key,
            name=program.name,
            title=program.title,
            offer_text=program.offer_text or "",
            active=program.active,
            starts_at=program.starts_at.astimezone(tz) if program.starts_at else None,
            ends_at=program.ends_at.astimezone(tz) if program.ends_at else None,
        ),
        inviter=InviterOut(external_id=inviter.external_id, name=mask_name(inviter.name)),
        clicks=stats.clicks,
        joins=stats.joins,
        conversions=stats.conversions,
        rewarded=stats.rewarded,
        rejected=stats.rejected,
        under_review=stats.under_review,
    )


# Refusals of a redemption: (status, error code, Chinese, English).
_REFUSALS = {
    "redeemed_elsewhere": (409, "coupon_redeemed", "优惠券已在其他订单核销", "already redeemed"),
    "expired": (409, "coupon_expired", "优惠券已过期", "the coupon has expired"),
    "revoked": (409, "coupon_revoked", "优惠券已作废", "the coupon was revoked"),
}


async def redeem(
    session: AsyncSession, code: str, order_no: str, now: datetime, *, tz: tzinfo
) -> tuple[RedeemOut, bool]:
    """The coupon as redeemed by `order_no`, and whether this call was a replay. The body is
    the coupon's state, so a replay answers exactly what the first call did."""
    result = await redeem_coupon(session, code=code, order_no=order_no, now=now)
    if result.outcome == "unknown":
        raise not_found("优惠券", "coupon", code)
    if result.outcome == "below_min_spend":
        assert result.coupon is not None
        message = f"订单金额未达到最低消费 {result.coupon.min_spend_fen} 分"
        raise ApiError(
            422,
            "validation_failed",
            "字段有误：order_no / invalid fields: order_no (below the minimum spend)",
            [{"field": "order_no", "code": "below_min_spend", "message": message}],
        )
    if result.outcome in _REFUSALS:
        status, error, zh, en = _REFUSALS[result.outcome]
        raise ApiError(status, error, f"{zh}：{code} / {en}: {code}")
    coupon = await find_coupon(session, code)
    assert coupon is not None and result.coupon is not None
    return (
        RedeemOut(coupon=coupon_out(result.coupon, tz), discount_fen=coupon.discount_fen),
        result.outcome == "already_redeemed_same_order",
    )
