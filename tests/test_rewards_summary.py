"""`rewards_summary`: what the customer card, chat and API show about a customer's rewards."""

from __future__ import annotations

from datetime import timedelta

from referral_world import World, local

from models.db import Database
from models.referral import (
    on_order_paid,
    record_join,
    redeem_coupon,
    rewards_summary,
    settle_due_rewards,
)

NOW = local(6, 1)


async def test_summary_of_an_inviter_and_an_invitee(db: Database) -> None:
    async with db.uow() as uow:
        world = World(uow.session)
        s = uow.session
        await world.template("t30", 3000, name="好友券 ¥30", min_spend_fen=0)
        program = await world.program(
            inviter_reward={"kind": "points", "points": 200},
            invitee_reward={"kind": "coupon", "coupon_template": "t30"},
            milestones={"tiers": [{"at": 2, "reward": {"kind": "cash", "amount_fen": 1888}}]},
        )
        alice = await world.customer("alice", name="张三丰")
        bob = await world.customer("bob", name="李四")
        carol = await world.customer("carol", phone="13912345678")
        dave = await world.customer("dave", name="王五")
        code = await world.code(alice, program, NOW)
        for friend, paid in ((bob, local(6, 2)), (carol, local(6, 20))):
            await record_join(s, invitee_customer_id=friend, code=code, channel="api", now=NOW)
            await on_order_paid(s, order=await world.order(friend, paid), now=paid)
        await world.order(dave, local(5, 1))  # already a customer
        await record_join(s, invitee_customer_id=dave, code=code, channel="api", now=NOW)
        await settle_due_rewards(s, local(6, 10))  # bob's conversion is past its hold
        await uow.commit()

    async with db.uow() as uow:
        mine = await rewards_summary(uow.session, alice, now=local(6, 21))
        bobs = await rewards_summary(uow.session, bob, now=local(6, 21))

    # Alice: 200 points settled (bob), 200 pending (carol), the ¥18.88 milestone pending.
    assert (mine.points_available, mine.points_pending) == (200, 200)
    assert (mine.cash_pending_fen, mine.cash_payable_fen) == (1888, 0)
    assert mine.invitations_total == 3
    assert [(i.invitee, i.status, i.reject_reason) for i in mine.invitations] == [
        ("王*", "rejected", "existing_customer"),
        ("139****5678", "converted", None),
        ("李*", "rewarded", None),
    ]
    by_invitee = {i.invitee: i for i in mine.invitations}
    assert [(r.kind, r.status, r.tier) for r in by_invitee["李*"].rewards] == [
        ("points", "settled", None)
    ]
    assert sorted((r.kind, r.status, r.tier) for r in by_invitee["139****5678"].rewards) == [
        ("cash", "pending", 2),
        ("points", "pending", None),
    ]
    # Bob: his friend coupon was issued at settlement and is usable until 30 days later.
    assert [(c.name, c.status, c.value_fen) for c in bobs.coupons] == [
        ("好友券 ¥30", "issued", 3000)
    ]
    assert bobs.coupons[0].expires_at == local(6, 10) + timedelta(days=30)
    assert bobs.invitations == () and bobs.points_available == 0
    assert [(r.side, r.kind, r.coupon_name) for r in bobs.own_rewards] == [
        ("invitee", "coupon", "好友券 ¥30")
    ]

    async with db.uow() as uow:
        await redeem_coupon(uow.session, code=bobs.coupons[0].code, order_no="B2", now=local(6, 22))
        await uow.commit()
    async with db.uow() as uow:
        later = await rewards_summary(uow.session, bob, now=local(8, 1))
    assert [c.status for c in later.coupons] == ["redeemed"]
