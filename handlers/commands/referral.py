"""Customer commands: the invite link and poster, points, coupons, my invitations, and the
marketing opt-out (退订), which takes effect at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from handlers.commands.call import CommandCall
from handlers.commands.filters import no_args
from handlers.commands.registry import Router
from handlers.events import ImageReply, Reply, TextReply
from handlers.i18n import L
from handlers.rewards_text import coupon_line, invitation_line
from models.customer import Customer
from models.money import format_fen
from models.referral import IssuedCode, issue_code, rewards_summary
from models.referral.poster import PosterCache, poster_content

router = Router("referral")

MAX_LISTED = 10

TEXT = {
    "invite": L(
        "你的专属邀请链接：\n{link}\n\n{title}\n{offer}\n把链接或下面的海报发给好友或分享到群里吧。",
        "Your personal invite link:\n{link}\n\n{title}\n{offer}\nSend the link or the poster "
        "below to friends or share it in a group.",
    ),
    "poster_caption": L("长按保存海报，分享给好友", "Save the poster and share it"),
    "no_program": L(
        "现在没有适合你的邀请活动，有新活动时会第一时间通知你。",
        "There is no referral campaign for you right now; we will tell you when there is.",
    ),
    "points": L(
        "积分：可用 {available}，待到账 {pending}",
        "Points: {available} available, {pending} pending",
    ),
    "cash": L(
        "现金奖励：可提现 {payable}，待到账 {pending}",
        "Cash rewards: {payable} payable, {pending} pending",
    ),
    "privileges": L("专属权益：{names}", "Privileges: {names}"),
    "points_hint": L(
        "好友通过你的邀请完成首单后，奖励会先“待到账”，过了保护期自动到账。发送“邀请”获取邀请链接。",
        "Rewards from friends' first orders are pending for a short hold, then arrive "
        "automatically. Send /invite for your link.",
    ),
    "coupons_title": L("你的优惠券（{count} 张）：", "Your coupons ({count}):"),
    "no_coupons": L(
        "你还没有优惠券。发送“邀请”邀请好友，好友首单后你们都能得到奖励。",
        "You have no coupons yet. Send /invite: when a friend orders, you both get a reward.",
    ),
    "more": L("……另有 {count} 条未显示", "… and {count} more"),
    "invites_title": L(
        "你共邀请了 {total} 位好友，其中 {converted} 位已下单：",
        "You invited {total} friends; {converted} have ordered:",
    ),
    "no_invites": L(
        "你还没有邀请过好友。发送“邀请”获取你的专属链接和海报。",
        "You have not invited anyone yet. Send /invite for your link and poster.",
    ),
    "unsubscribed": L(
        "已退订营销消息，立即生效。之后不会再收到优惠推送；查询积分、优惠券等不受影响。"
        "想重新接收，发送“订阅”即可。",
        "You are unsubscribed from marketing messages, effective now. Points and coupons still "
        "work. Send /subscribe to opt back in.",
    ),
    "subscribed": L(
        "已重新订阅，之后会收到优惠和活动消息。不想接收时发送“退订”。",
        "You are subscribed again. Send /unsubscribe any time to stop.",
    ),
}


@router.command(
    "invite",
    "邀请",
    "邀请码",
    "海报",
    role="customer",
    summary=L("获取我的专属邀请链接和海报", "Get my personal invite link and poster"),
    args=no_args,
)
async def invite(call: CommandCall, _: None) -> list[Reply]:
    customer_id = await call.customer_id()
    issued = await issue_code(call.session, customer_id=customer_id, now=call.now)
    if not isinstance(issued, IssuedCode):
        return [TextReply(call.t(TEXT, "no_program"))]
    code, program = issued.code, issued.program
    customer = await call.session.get(Customer, customer_id)
    assert customer is not None
    settings = call.ctx.settings
    content = poster_content(
        public_base_url=settings.public_base_url,
        code=code.code,
        title=program.title,
        offer_text=program.offer_text or "",
        inviter_name=customer.name,
        mask_names=settings.mask_names,
        font=settings.poster_font,
    )
    posters = PosterCache.for_settings(settings)
    png = await asyncio.to_thread(posters.get_or_render, code.code, program.version, content)
    poster_file = posters.path_for(code.code, program.version, content)
    text = call.t(
        TEXT, "invite", link=content.link, title=program.title, offer=program.offer_text or ""
    )
    return [
        TextReply(text),
        ImageReply(
            png=png,
            caption=call.t(TEXT, "poster_caption"),
            cache_key=f"poster:{code.code}:{poster_file.stem}",
        ),
    ]


@router.command(
    "points",
    "积分",
    "奖励",
    role="customer",
    summary=L("查看我的积分和奖励", "See my points and rewards"),
    args=no_args,
)
async def points(call: CommandCall, _: None) -> list[Reply]:
    summary = await rewards_summary(call.session, await call.customer_id(), now=call.now)
    lines = [
        call.t(
            TEXT,
            "points",
            available=summary.points_available,
            pending=summary.points_pending,
        )
    ]
    if summary.cash_payable_fen or summary.cash_pending_fen:
        lines.append(
            call.t(
                TEXT,
                "cash",
                payable=format_fen(summary.cash_payable_fen),
                pending=format_fen(summary.cash_pending_fen),
            )
        )
    if summary.privileges:
        lines.append(call.t(TEXT, "privileges", names="、".join(summary.privileges)))
    lines.append(call.t(TEXT, "points_hint"))
    return [TextReply("\n".join(lines))]


@router.command(
    "coupons",
    "优惠券",
    "券",
    role="customer",
    summary=L("查看我的优惠券", "See my coupons"),
    args=no_args,
)
async def coupons(call: CommandCall, _: None) -> list[Reply]:
    summary = await rewards_summary(call.session, await call.customer_id(), now=call.now)
    if not summary.coupons:
        return [TextReply(call.t(TEXT, "no_coupons"))]
    # Usable coupons first, then the rest; each group newest first.
    ordered = sorted(summary.coupons, key=lambda c: c.status != "issued")
    tz = call.ctx.settings.tz
    lines = [call.t(TEXT, "coupons_title", count=len(ordered))]
    lines += [coupon_line(c, call.locale, tz) for c in ordered[:MAX_LISTED]]
    if len(ordered) > MAX_LISTED:
        lines.append(call.t(TEXT, "more", count=len(ordered) - MAX_LISTED))
    return [TextReply("\n".join(lines))]


@router.command(
    "myinvites",
    "我的邀请",
    role="customer",
    summary=L("查看我邀请的好友和奖励", "See the friends I invited and my rewards"),
    args=no_args,
)
async def my_invites(call: CommandCall, _: None) -> list[Reply]:
    summary = await rewards_summary(call.session, await call.customer_id(), now=call.now)
    if not summary.invitations_total:
        return [TextReply(call.t(TEXT, "no_invites"))]
    converted = sum(1 for i in summary.invitations if i.status in ("converted", "rewarded"))
    lines = [call.t(TEXT, "invites_title", total=summary.invitations_total, converted=converted)]
    shown = summary.invitations[:MAX_LISTED]
    lines += [invitation_line(n, inv, call.locale) for n, inv in enumerate(shown, 1)]
    if summary.invitations_total > len(shown):
        lines.append(call.t(TEXT, "more", count=summary.invitations_total - len(shown)))
    return [TextReply("\n".join(lines))]


@router.command(
    "unsubscribe",
    "退订",
    "TD",
    role="customer",
    summary=L("不再接收营销消息（立即生效）", "Stop marketing messages (effective at once)"),
    args=no_args,
)
async def unsubscribe(call: CommandCall, _: None) -> list[Reply]:
    customer_id = await call.customer_id()
    await call.session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(marketing_opt_out=True, opted_out_at=call.now, updated_at=call.now)
    )
    return [TextReply(call.t(TEXT, "unsubscribed"))]


@router.command(
    "subscribe",
    "订阅",
    role="customer",
    summary=L("重新接收优惠和活动消息", "Receive offers and news again"),
    args=no_args,
)
async def subscribe(call: CommandCall, _: None) -> list[Reply]:
    customer_id = await call.customer_id()
    await call.session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(marketing_opt_out=False, opted_out_at=None, updated_at=call.now)
    )
    return [TextReply(call.t(TEXT, "subscribed"))]
