"""Somebody arrived through a referral hook (a WeCom contact `state`, a customer-group join, an
Official Account parametric QR, a Feishu group join): record the join through the referral
domain and welcome them.

The newcomer becomes (or already is) a customer through the same identity mapping as chat
messages. A join without a code but with the person who added the newcomer (a Feishu group's
operator) is attributed to that person's personal code when they are a known customer; an
unknown operator, a staff member, or the newcomer adding themselves is a plain join.

The welcome never tells them why an invitation did not count (self-referral, already a
customer, …): that is for staff; they simply get the plain welcome.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import HandlerContext, JoinEvent, Reply, TextReply
from handlers.i18n import L, tr
from handlers.identities import find_customer, find_staff, resolve_customer
from handlers.rewards_text import coupon_face
from models.customer import Customer
from models.masking import mask_name
from models.referral import get_or_create_code, record_join, rewards_summary
from models.referral.tables import ReferralProgram

TEXT = {
    "welcome": L(
        "欢迎加入！发送“帮助”看看我能做什么，发送“邀请”领取你的专属邀请链接。",
        "Welcome! Send /help to see what I can do, or /invite for your own invite link.",
    ),
    "invited": L(
        "欢迎！你是 {inviter} 邀请来的好友。{offer}",
        "Welcome! {inviter} invited you. {offer}",
    ),
    "coupon": L(
        "送你的{name}（{face}）已放入账户，发送“优惠券”查看。",
        "Your {name} ({face}) is in your account: send /coupons to see it.",
    ),
    "next": L(
        "发送“优惠券”查看你的券，发送“邀请”也来邀请好友。",
        "Send /coupons to see your coupons, or /invite to invite friends too.",
    ),
    "friend": L("你的好友", "a friend"),
}


async def welcome_join(session: AsyncSession, ctx: HandlerContext, event: JoinEvent) -> list[Reply]:
    locale = ctx.settings.locale
    customer_id = await resolve_customer(
        session,
        platform=event.platform,
        app_id=event.app_id,
        user_id=event.user_id,
        union_id=event.union_id,
        display_name=event.display_name,
        now=event.occurred_at,
        seen_at=event.occurred_at,
    )
    code = event.referral_code or await _code_of_adder(session, event, customer_id)
    if not code:
        return [TextReply(tr(TEXT, "welcome", locale))]
    result = await record_join(
        session,
        invitee_customer_id=customer_id,
        code=code,
        channel=event.channel,
        now=event.occurred_at,
    )
    invitation = result.invitation
    if result.outcome not in ("joined", "already_joined") or invitation is None:
        return [TextReply(tr(TEXT, "welcome", locale))]
    inviter = await session.scalar(
        select(Customer.name).where(Customer.id == invitation.inviter_customer_id)
    )
    program = await session.get(ReferralProgram, invitation.program_id)
    lines = [
        tr(
            TEXT,
            "invited",
            locale,
            inviter=mask_name(inviter) or tr(TEXT, "friend", locale),
            offer=program.offer_text if program is not None else "",
        ).rstrip()
    ]
    summary = await rewards_summary(session, customer_id, now=event.occurred_at)
    usable = [c for c in summary.coupons if c.status == "issued"]
    if usable:
        coupon = usable[0]
        lines.append(tr(TEXT, "coupon", locale, name=coupon.name, face=coupon_face(coupon, locale)))
    else:
        lines.append(tr(TEXT, "next", locale))
    return [TextReply("\n".join(lines))]


async def _code_of_adder(session: AsyncSession, event: JoinEvent, newcomer_id: int) -> str | None:
    """The personal code of the customer who added the newcomer, or None (no such person, not
    a customer, staff, or the newcomer themselves). Looking up never creates a customer; the
    code is created if the inviter has none yet (their eligible program decides)."""
    if not event.added_by_user_id or event.added_by_user_id == event.user_id:
        return None
    staff = await find_staff(session, platform=event.platform, user_id=event.added_by_user_id)
    if staff is not None:
        return None
    inviter_id = await find_customer(
        session,
        platform=event.platform,
        app_id=event.app_id,
        user_id=event.added_by_user_id,
        union_id=event.added_by_union_id,
    )
    if inviter_id is None or inviter_id == newcomer_id:
        return None
    code = await get_or_create_code(session, customer_id=inviter_id, now=event.occurred_at)
    return code.code if code is not None else None
