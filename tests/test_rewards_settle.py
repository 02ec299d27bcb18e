"""Rewards from conversion to settlement: the hold, refunds, milestones, every reward kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from referral_world import World, local
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models import Order, RewardLedgerEntry
from models.db import Database
from models.referral import (
    Balances,
    ConversionResult,
    balances,
    on_order_paid,
    on_order_refunded,
    record_join,
    settle_due_rewards,
)
from models.referral.tables import ReferralProgram

NOW = local(6, 1)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with db.uow() as uow:
        yield World(uow.session)


async def _convert(
    world: World, code: str, invitee: int, paid_at: datetime = local(6, 2)
) -> ConversionResult:
    """The invitee joins at NOW (1 June) and pays at `paid_at`."""
    await record_join(world.session, invitee_customer_id=invitee, code=code, channel="api", now=NOW)
    order = await world.order(invitee, paid_at)
    return await on_order_paid(world.session, order=order, now=order.paid_at)


async def test_rewards_settle_only_after_the_hold(world: World) -> None:
    program = await world.program(  # inviter 100 points, invitee ¥5 cash, hold 7 days
        inviter_reward={"kind": "points", "points": 100},
        invitee_reward={"kind": "cash", "amount_fen": 500},
    )
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    converted = await _convert(world, code, bob, local(6, 2, 12))
    assert converted.invitation is not None
    s = world.session

    early = await settle_due_rewards(s, local(6, 9, 11, 59))
    assert early.rewards_settled == 0
    assert await balances(s, alice) == Balances(points_pending=100)

    due = await settle_due_rewards(s, local(6, 9, 12))
    again = await settle_due_rewards(s, local(6, 20))

    assert (due.invitations_rewarded, due.rewards_settled) == (1, 2)
    assert (due.points_settled, due.cash_settled_fen) == (100, 500)
    assert (again.invitations_rewarded, again.rewards_settled) == (0, 0)
    assert await balances(s, alice) == Balances(points_available=100)
    assert await balances(s, bob) == Balances(cash_payable_fen=500)
    invitation = (await world.invitations(id=converted.invitation.id))[0]
    assert (invitation.status, invitation.rewarded_at) == ("rewarded", local(6, 9, 12))
    assert [
        (e.entry, e.points_pending, e.points_available)
        for e in await world.ledger(customer_id=alice)
    ] == [("grant", 100, 0), ("settle", -100, 100)]


async def test_coupon_rewards_issue_their_coupon_at_settlement(world: World) -> None:
    default = await world.default_program()  # seeded: ¥20 coupons to both sides
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, default, NOW)
    await _convert(world, code, bob, local(6, 2))
    assert await world.coupons() == []  # nothing usable during the hold

    report = await settle_due_rewards(world.session, local(6, 9))

    assert report.coupons_issued == 2
    coupons = {c.customer_id: c for c in await world.coupons()}
    assert (coupons[alice].name, coupons[alice].value_fen) == ("邀请奖励券 ¥20", 2000)
    assert (coupons[bob].name, coupons[bob].min_spend_fen) == ("好友专享券 ¥20", 10000)
    assert coupons[bob].expires_at == local(6, 9) + timedelta(days=30)
    rewards = {r.customer_id: r for r in await world.rewards()}
    assert rewards[alice].coupon_id == coupons[alice].id
    assert [e.coupon_id for e in await world.ledger(customer_id=bob, entry="settle")] == [
        coupons[bob].id
    ]


async def test_a_refund_during_the_hold_revokes_both_sides(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    converted = await _convert(world, code, bob, local(6, 2))
    assert converted.invitation is not None and converted.invitation.converting_order_id
    order = await world.session.get(Order, converted.invitation.converting_order_id)
    assert order is not None
    s = world.session

    refunded = await on_order_refunded(
        s, order=await world.refund(order, local(6, 5)), now=local(6, 5)
    )
    repeated = await on_order_refunded(s, order=order, now=local(6, 6))
    report = await settle_due_rewards(s, local(6, 30))

    assert refunded.outcome == "revoked" and len(refunded.revoked_reward_ids) == 2
    assert repeated.outcome == "already_revoked"
    assert report.rewards_settled == 0
    assert {(r.status, r.revoke_reason) for r in await world.rewards()} == {
        ("revoked", "order_refunded")
    }
    invitation = (await world.invitations(id=converted.invitation.id))[0]
    assert (invitation.status, invitation.reject_reason) == ("rejected", "order_refunded")
    assert await balances(s, alice) == Balances() and await balances(s, bob) == Balances()
    assert [e.entry for e in await world.ledger(customer_id=alice)] == ["grant", "revoke"]


async def test_a_refund_after_the_hold_but_before_settling_revokes(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    converted = await _convert(world, code, bob, local(6, 2))
    assert converted.invitation is not None
    order = await world.session.get(Order, converted.invitation.converting_order_id)
    assert order is not None
    s = world.session

    # Refunded on day 8, before anyone ran the settle step: a reward is paid only if its
    # order is still paid when it settles, so the refund still takes it back.
    late = await on_order_refunded(
        s, order=await world.refund(order, local(6, 10)), now=local(6, 10)
    )
    report = await settle_due_rewards(s, local(6, 11))

    assert late.outcome == "revoked" and len(late.revoked_reward_ids) == 2
    assert report.rewards_settled == 0
    assert await balances(s, alice) == Balances()


async def test_a_refund_after_settling_is_final(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    converted = await _convert(world, code, bob, local(6, 2))
    assert converted.invitation is not None
    order = await world.session.get(Order, converted.invitation.converting_order_id)
    assert order is not None
    s = world.session
    await settle_due_rewards(s, local(6, 10))

    late = await on_order_refunded(
        s, order=await world.refund(order, local(6, 11)), now=local(6, 11)
    )

    assert late.outcome == "settled"
    assert await balances(s, alice) == Balances(points_available=100)


async def test_an_unconverting_order_refund_is_ignored(world: World) -> None:
    bob = await world.customer("bob")
    order = await world.order(bob, local(6, 2))
    result = await on_order_refunded(
        world.session, order=await world.refund(order, local(6, 3)), now=local(6, 3)
    )
    assert result.outcome == "not_converting"


async def _milestone_program(world: World) -> ReferralProgram:
    return await world.program(
        inviter_reward={"kind": "points", "points": 10},
        invitee_reward={},
        milestones={
            "tiers": [
                {"at": 3, "reward": {"kind": "cash", "amount_fen": 1000}},
                {"at": 5, "reward": {"kind": "privilege", "privilege": "VIP专属客服"}},
            ]
        },
    )


async def test_milestones_are_granted_once_at_the_nth_conversion(world: World) -> None:
    program = await _milestone_program(world)
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    friends = await world.customers(*(f"f{n}" for n in range(6)))
    milestone_after = []
    for n, friend in enumerate(friends):
        result = await _convert(world, code, friend, local(6, 2, 10 + n))
        milestone_after.append(sorted(r.tier for r in result.rewards if r.tier))

    assert milestone_after == [[], [], [3], [], [5], []]
    await settle_due_rewards(world.session, local(6, 30))
    # 6 × 10 points, plus the ¥10 red packet at the 3rd conversion.
    assert await balances(world.session, alice) == Balances(
        points_available=60, cash_payable_fen=1000
    )
    summary_privileges = [
        r.privilege for r in await world.rewards(customer_id=alice, kind="privilege")
    ]
    assert summary_privileges == ["VIP专属客服"]


async def test_a_refund_that_undoes_the_third_conversion_revokes_the_milestone(
    world: World,
) -> None:
    program = await _milestone_program(world)
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    friends = await world.customers("f0", "f1", "f2", "f3")
    results = [
        await _convert(world, code, friend, local(6, 2, 10 + n))
        for n, friend in enumerate(friends[:3])
    ]
    first = results[0].invitation
    assert first is not None
    s = world.session

    # The first friend's order is refunded during its hold: only 2 conversions remain, so the
    # pending ¥10 bonus for reaching 3 is revoked too.
    order = await s.get(Order, first.converting_order_id)
    assert order is not None
    refund = await on_order_refunded(
        s, order=await world.refund(order, local(6, 4)), now=local(6, 4)
    )
    milestone = await world.rewards(side="milestone")
    assert len(refund.revoked_reward_ids) == 2  # f0's 10 points and the milestone
    assert [(m.tier, m.status, m.revoke_reason) for m in milestone] == [
        (3, "revoked", "milestone_unmet")
    ]
    # The next conversion reaches 3 again and earns the bonus again — once.
    again = await _convert(world, code, friends[3], local(6, 5))
    assert [r.tier for r in again.rewards if r.tier] == [3]
    assert [(m.tier, m.status) for m in await world.rewards(side="milestone")] == [
        (3, "revoked"),
        (3, "pending"),
    ]
    assert (await balances(s, alice)).cash_pending_fen == 1000


async def test_refunding_the_milestone_conversion_moves_the_bonus_to_the_latest(
    world: World,
) -> None:
    program = await _milestone_program(world)
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    friends = await world.customers("f0", "f1", "f2", "f3")
    results = [
        await _convert(world, code, friend, local(6, 2, 10 + n)) for n, friend in enumerate(friends)
    ]
    third, fourth = results[2].invitation, results[3].invitation
    assert third is not None and fourth is not None
    order = await world.session.get(Order, third.converting_order_id)
    assert order is not None

    # The 3rd friend refunds: the bonus it triggered goes with it, but f0, f1 and f3 still make
    # three conversions, so the bonus is granted again on f3's conversion and shares its hold.
    await on_order_refunded(
        world.session, order=await world.refund(order, local(6, 4)), now=local(6, 4)
    )

    milestones = await world.rewards(side="milestone")
    assert [(m.tier, m.status, m.revoke_reason, m.invitation_id) for m in milestones] == [
        (3, "revoked", "order_refunded", third.id),
        (3, "pending", None, fourth.id),
    ]
    assert milestones[1].settle_after == fourth.hold_until
    await settle_due_rewards(world.session, local(6, 30))
    assert (await balances(world.session, alice)).cash_payable_fen == 1000


async def test_the_ledger_refuses_updates_and_deletes(db: Database) -> None:
    async with db.uow() as uow:
        world = World(uow.session)
        program = await world.program()
        alice, bob = await world.customers("alice", "bob")
        await _convert(world, await world.code(alice, program, NOW), bob)
        await uow.commit()
    for statement in (
        "UPDATE reward_ledger SET points_pending = 0",
        "DELETE FROM reward_ledger",
    ):
        async with db.uow() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                await uow.session.execute(text(statement))
    async with db.uow() as uow:
        assert await World(uow.session).count(RewardLedgerEntry) == 2
