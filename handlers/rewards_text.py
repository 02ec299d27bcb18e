"""How a customer's own rewards read in chat: coupons, rewards, invitations (already masked by
the referral read models). Customer-facing wording — softer than the staff reports."""

from __future__ import annotations

from datetime import tzinfo

from handlers.i18n import L, paren, tr
from models.clock import local_date
from models.money import format_fen, zhe
from models.referral import CouponView, InvitationView, RewardView

TEXT = {
    "coupon_line": L(
        "{name}　{face}{min_spend}　{status}　{until}",
        "{name}  {face}{min_spend}  {status}  {until}",
    ),
    "coupon_until": L("有效期至 {day}", "valid until {day}"),
    "coupon_used": L("{day} 已使用", "used on {day}"),
    "coupon_code": L("　券码 {code}", "  code {code}"),
    "min_spend": L("（满{amount}可用）", " (min. spend {amount})"),
    "percent_off": L("{discount}折", "{percent}% off"),
    "max_discount": L("，最多减{amount}", ", up to {amount}"),
    "points": L("{points} 积分", "{points} points"),
    "cash": L("{amount} 现金红包", "{amount} cash"),
    "invite_line": L("{n}. {who}　{status}{rewards}", "{n}. {who}  {status}{rewards}"),
    "rewards_sep": L("　奖励：", "  reward: "),
}
COUPON_STATUS = {
    "issued": L("可用", "available"),
    "redeemed": L("已使用", "used"),
    "expired": L("已过期", "expired"),
    "revoked": L("已作废", "cancelled"),
}
REWARD_STATUS = {
    "pending": L("待到账", "pending"),
    "settled": L("已到账", "received"),
    "revoked": L("已撤销", "withdrawn"),
}
INVITE_STATUS = {
    "clicked": L("看过邀请", "opened your link"),
    "joined": L("已加入，等待首单", "joined, no order yet"),
    "converted": L("已下单，奖励待发放", "ordered, reward on its way"),
    "rewarded": L("已下单，奖励已发放", "ordered, reward given"),
    "rejected": L("未计入", "not counted"),
    "review": L("已下单，奖励审核中", "ordered, reward under review"),
}
# Why an invitation did not count, in words for the inviter (no accusations).
REJECT_REASON = {
    "self_referral": L("不能邀请自己", "you cannot invite yourself"),
    "existing_customer": L("对方已经是老客户", "already a customer"),
    "already_attributed": L("对方已接受了其他好友的邀请", "invited by someone else first"),
    "inviter_cap": L("本月邀请奖励已达上限", "monthly invitation limit reached"),
    "budget_exhausted": L("活动名额已满", "the campaign is fully booked"),
    "expired": L("邀请已过期", "the invitation expired"),
    "suspected_fraud": L("审核未通过", "did not pass review"),
    "order_refunded": L("订单已退款", "the order was refunded"),
    "order_changed": L("订单信息有变，不再符合条件", "the order changed and no longer qualifies"),
}


def coupon_face(coupon: CouponView, locale: str) -> str:
    if coupon.value_fen is not None:
        return format_fen(coupon.value_fen)
    percent = coupon.percent_off or 0
    face = tr(TEXT, "percent_off", locale, discount=zhe(percent), percent=percent)
    if coupon.max_discount_fen:
        face += tr(TEXT, "max_discount", locale, amount=format_fen(coupon.max_discount_fen))
    return face


def coupon_line(coupon: CouponView, locale: str, tz: tzinfo) -> str:
    min_spend = (
        tr(TEXT, "min_spend", locale, amount=format_fen(coupon.min_spend_fen))
        if coupon.min_spend_fen
        else ""
    )
    if coupon.status == "redeemed" and coupon.redeemed_at is not None:
        until = tr(TEXT, "coupon_used", locale, day=local_date(coupon.redeemed_at, tz))
    else:
        until = tr(TEXT, "coupon_until", locale, day=local_date(coupon.expires_at, tz))
    line = tr(
        TEXT,
        "coupon_line",
        locale,
        name=coupon.name,
        face=coupon_face(coupon, locale),
        min_spend=min_spend,
        status=tr(COUPON_STATUS, coupon.status, locale),
        until=until,
    )
    if coupon.status == "issued":
        line += tr(TEXT, "coupon_code", locale, code=coupon.code)
    return line


def reward_text(reward: RewardView, locale: str) -> str:
    if reward.kind == "coupon":
        what = reward.coupon_name or format_fen(reward.amount_fen)
    elif reward.kind == "points":
        what = tr(TEXT, "points", locale, points=reward.points)
    elif reward.kind == "cash":
        what = tr(TEXT, "cash", locale, amount=format_fen(reward.amount_fen))
    else:
        what = reward.privilege or reward.kind
    if reward.status not in REWARD_STATUS:
        return what
    return what + paren(tr(REWARD_STATUS, reward.status, locale), locale)


def invitation_line(n: int, invitation: InvitationView, locale: str) -> str:
    if invitation.review_status == "pending":
        status = tr(INVITE_STATUS, "review", locale)
    else:
        status = tr(INVITE_STATUS, invitation.status, locale)
    if invitation.status == "rejected" and invitation.reject_reason in REJECT_REASON:
        status += paren(tr(REJECT_REASON, invitation.reject_reason, locale), locale)
    rewards = ""
    if invitation.rewards:
        sep = "、" if locale.startswith("zh") else ", "
        rewards = tr(TEXT, "rewards_sep", locale) + sep.join(
            reward_text(r, locale) for r in invitation.rewards
        )
    who = invitation.invitee
    return tr(TEXT, "invite_line", locale, n=n, who=who, status=status, rewards=rewards)
