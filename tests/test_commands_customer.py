"""Customer chat commands on both backends: invite link and poster, a friend joining through
it, points, coupons, my invitations, the marketing opt-out, and role-filtered help."""

from __future__ import annotations

import re
from datetime import timedelta

from chatkit import NOW, as_text, make_ctx, say, seed_people
from sqlalchemy import select

from handlers.dispatch import dispatch_join
from handlers.events import HandlerContext, ImageReply, JoinEvent, TextReply
from models.activity import Order
from models.customer import Customer
from models.db import Database
from models.referral import on_order_paid, settle_due_rewards
from models.referral.tables import Invitation, ReferralCode


async def _invite(ctx: HandlerContext, user: str = "cust-zhang") -> tuple[str, list[object]]:
    replies = await say(ctx, "邀请", user=user)
    text = as_text(replies)
    match = re.search(r"/r/([A-Za-z0-9]+)", text)
    assert match is not None, text
    return match[1], list(replies)


async def test_invite_gives_a_link_and_a_poster(db: Database) -> None:
    people = await seed_people(db)
    ctx = make_ctx(db, public_base_url="https://fission.example.com")
    code, replies = await _invite(ctx)
    assert isinstance(replies[0], TextReply)
    assert f"https://fission.example.com/r/{code}" in replies[0].text
    assert "邀请好友，双方各得¥20券" in replies[0].text  # the default program's title
    assert isinstance(replies[1], ImageReply)
    assert replies[1].png.startswith(b"\x89PNG")
    assert replies[1].caption == "长按保存海报，分享给好友"
    async with db.uow() as uow:
        stored = await uow.session.scalar(
            select(ReferralCode.code).where(ReferralCode.customer_id == people.zhang)
        )
    assert stored == code
    again, _ = await _invite(ctx)
    assert again == code  # one stable personal code


async def test_closed_customer_gets_no_invite(db: Database) -> None:
    people = await seed_people(db)
    async with db.uow() as uow:
        zhang = await uow.session.get(Customer, people.zhang)
        assert zhang is not None
        zhang.status = "closed"
        await uow.commit()
    text = as_text(await say(make_ctx(db), "/invite", user="cust-zhang"))
    assert text == "现在没有适合你的邀请活动，有新活动时会第一时间通知你。"


async def test_a_new_visitor_can_invite_at_once(db: Database) -> None:
    ctx = make_ctx(db)
    code, replies = await _invite(ctx, user="brand-new")
    assert len(replies) == 2 and len(code) >= 6


async def _friend_joins_and_orders(db: Database, ctx: HandlerContext, code: str) -> int:
    """A friend joins through `code` and pays an order an hour later; returns their id."""
    event = JoinEvent(
        platform="console",
        app_id="",
        event_id="join-1",
        user_id="friend-1",
        channel="console",
        occurred_at=NOW,
        referral_code=code,
        display_name="小明",
    )
    welcome = as_text(await dispatch_join(ctx, event))
    assert welcome.startswith("欢迎！你是 张* 邀请来的好友。好友通过你的专属邀请码加入并完成首单")
    async with db.uow() as uow:
        friend = await uow.session.scalar(
            select(Customer).where(Customer.external_id == "console:friend-1")
        )
        assert friend is not None and friend.name == "小明"
        order = Order(
            order_no="F-1",
            customer_id=friend.id,
            amount_fen=30_000,
            paid_at=NOW + timedelta(hours=1),
        )
        uow.session.add(order)
        await uow.session.flush()
        result = await on_order_paid(uow.session, order=order, now=NOW + timedelta(hours=1))
        assert result.outcome == "converted"
        await uow.commit()
        return friend.id


async def test_friend_join_then_invites_coupons_and_points(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    code, _ = await _invite(ctx)
    await _friend_joins_and_orders(db, ctx, code)

    ctx.now = lambda: NOW + timedelta(days=1)
    invites = as_text(await say(ctx, "我的邀请", user="cust-zhang"))
    assert invites == (
        "你共邀请了 1 位好友，其中 1 位已下单：\n"
        "1. 小*　已下单，奖励待发放　奖励：邀请奖励券 ¥20（待到账）"
    )
    assert as_text(await say(ctx, "优惠券", user="cust-zhang")).startswith("你还没有优惠券")

    # The 7-day hold passes; settling issues the coupons.
    later = NOW + timedelta(days=9)
    async with db.uow() as uow:
        report = await settle_due_rewards(uow.session, later)
        await uow.commit()
    assert report.coupons_issued == 2  # inviter and invitee
    ctx.now = lambda: later
    coupons = as_text(await say(ctx, "/coupons", user="cust-zhang"))
    assert re.fullmatch(
        r"你的优惠券（1 张）：\n"
        r"邀请奖励券 ¥20　¥20\.00（满¥100\.00可用）　可用　有效期至 2024-07-12　券码 \w+",
        coupons,
    )
    invites = as_text(await say(ctx, "我的邀请", user="cust-zhang"))
    assert invites.endswith("1. 小*　已下单，奖励已发放　奖励：邀请奖励券 ¥20（已到账）")
    friend_coupons = as_text(await say(ctx, "优惠券", user="friend-1"))
    assert "好友专享券 ¥20　¥20.00" in friend_coupons
    points = as_text(await say(ctx, "积分", user="cust-zhang"))
    assert points.startswith("积分：可用 0，待到账 0\n")


async def test_join_without_code_or_with_unknown_code_is_a_plain_welcome(db: Database) -> None:
    ctx = make_ctx(db)
    plain = "欢迎加入！发送“帮助”看看我能做什么，发送“邀请”领取你的专属邀请链接。"
    for n, code in enumerate((None, "NOSUCHCODE")):
        event = JoinEvent(
            platform="wecom",
            app_id="corp",
            event_id=f"j{n}",
            user_id=f"wm-{n}",
            channel="wecom_contact",
            occurred_at=NOW,
            referral_code=code,
        )
        assert as_text(await dispatch_join(ctx, event)) == plain
    async with db.uow() as uow:
        ids = (await uow.session.scalars(select(Customer.external_id).order_by(Customer.id))).all()
        invitations = (await uow.session.scalars(select(Invitation.id))).all()
    assert list(ids) == ["wecom:wm-0", "wecom:wm-1"]
    assert list(invitations) == []


async def test_self_referral_join_reveals_nothing(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    code, _ = await _invite(ctx)
    event = JoinEvent(
        platform="console",
        app_id="",
        event_id="self",
        user_id="cust-zhang",
        channel="console",
        occurred_at=NOW,
        referral_code=code,
    )
    text = as_text(await dispatch_join(ctx, event))
    assert text.startswith("欢迎加入！")
    async with db.uow() as uow:
        statuses = await uow.session.execute(select(Invitation.status, Invitation.reject_reason))
        assert [tuple(row) for row in statuses] == [("rejected", "self_referral")]


async def test_unsubscribe_and_subscribe_take_effect_at_once(db: Database) -> None:
    people = await seed_people(db)
    ctx = make_ctx(db)

    async def opted_out() -> bool:
        async with db.uow() as uow:
            customer = await uow.session.get(Customer, people.zhang)
            assert customer is not None
            return customer.marketing_opt_out

    text = as_text(await say(ctx, "退订", user="cust-zhang"))
    assert text.startswith("已退订营销消息，立即生效。")
    assert await opted_out() is True
    assert as_text(await say(ctx, "TD", user="cust-zhang")).startswith("已退订")
    assert as_text(await say(ctx, "/subscribe", user="cust-zhang")).startswith("已重新订阅")
    assert await opted_out() is False


async def test_help_shows_only_what_the_caller_may_use(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)

    def commands(text: str) -> list[str]:
        return re.findall(r"^/(\w+)", text, flags=re.MULTILINE)

    customer = commands(as_text(await say(ctx, "帮助", user="cust-zhang")))
    agent = commands(as_text(await say(ctx, "帮助", user="agent-1")))
    manager = commands(as_text(await say(ctx, "帮助", user="manager-1")))
    admin = commands(as_text(await say(ctx, "帮助", user="admin-1")))
    mine = ["invite", "points", "coupons", "myinvites", "unsubscribe", "subscribe", "help"]
    assert customer == mine
    staff = [*mine, "customer", "stage", "grade", "top", "funnel", "followup"]
    assert agent == [*staff, "due"]
    assert manager == [*staff, "assign", "due", "export", "campaign"]
    assert admin == [*staff, "assign", "due", "export", "campaign", "staff"]
    details = as_text(await say(ctx, "帮助 邀请", user="cust-zhang"))
    assert details.startswith("/invite（邀请、邀请码、海报）\n用法：/invite")
    hidden = as_text(await say(ctx, "/help customer", user="cust-zhang"))
    assert hidden.startswith("我还不认识“customer”")
