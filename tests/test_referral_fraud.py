"""Fraud signals hold a conversion for review; staff approve or deny; deadlines decide."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from referral_world import QUIET_FRAUD, World, local

from models import Order
from models.db import Database
from models.referral import (
    ConversionResult,
    approve_review,
    deny_review,
    on_order_paid,
    on_order_refunded,
    record_join,
    review_queue,
    settle_due_rewards,
)

NOW = local(6, 1)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with db.uow() as uow:
        yield World(uow.session)


async def _join_and_pay(
    world: World, code: str, invitee: int, *, at: datetime = NOW, visitor: str | None = None
) -> ConversionResult:
    """The invitee joins at `at` and pays an hour later."""
    await record_join(
        world.session,
        invitee_customer_id=invitee,
        code=code,
        channel="link",
        now=at,
        visitor_hash=visitor,
    )
    order = await world.order(invitee, at + timedelta(hours=1))
    return await on_order_paid(world.session, order=order, now=order.paid_at)


async def test_many_invitees_from_one_visitor_hash_are_held_for_review(world: World) -> None:
    program = await world.program(
        fraud_rules={**QUIET_FRAUD, "max_invitees_per_visitor": 3, "visitor_window_minutes": 60}
    )
    alice = await world.customer("alice", name="王小明")
    code = await world.code(alice, program, NOW)
    friends = await world.customers("b", "c", "d")
    # Three "friends" join from the same phone within 40 minutes.
    results = [
        await _join_and_pay(world, code, f, at=NOW + timedelta(minutes=20 * n), visitor="dev1")
        for n, f in enumerate(friends)
    ]

    # Each friend converts before the next one joins: b sees 1 invitee on that hash, c sees 2,
    # d sees 3 — the threshold.
    assert [r.outcome for r in results] == ["converted", "converted", "under_review"]
    held = results[2]
    assert held.signals == ("shared_visitor",)
    assert held.rewards == ()
    invitation = held.invitation
    assert invitation is not None
    assert invitation.status == "converted" and invitation.review_status == "pending"
    assert invitation.fraud_signals == {
        "signals": [{"signal": "shared_visitor", "invitees": 3, "minutes": 60}]
    }
    queue = await review_queue(world.session)
    assert [(q.invitation_id, q.inviter, q.signals) for q in queue] == [
        (invitation.id, "王**", ("shared_visitor",))
    ]


async def test_refunded_orders_account_chains_and_bursts_are_signals(world: World) -> None:
    program = await world.program(
        fraud_rules={
            **QUIET_FRAUD,
            "min_refunded_orders": 1,
            "account_chain_minutes": 10,
            "burst_joins": 3,
            "burst_minutes": 30,
        }
    )
    grandpa = await world.customer("grandpa", created_at=NOW - timedelta(days=300))
    alice = await world.customer("alice", created_at=NOW - timedelta(minutes=5))
    old_alice = await world.customer("old", created_at=NOW - timedelta(days=300))
    # Alice was invited by grandpa: a fresh account that now invites a fresher one.
    await record_join(
        world.session,
        invitee_customer_id=alice,
        code=await world.code(grandpa, program, NOW),
        channel="link",
        now=NOW - timedelta(minutes=5),
    )
    code = await world.code(alice, program, NOW)
    old_code = await world.code(old_alice, program, NOW)
    refunder = await world.customer("refunder", created_at=NOW - timedelta(days=100))
    await world.order(refunder, NOW - timedelta(days=50), status="refunded")
    chained = await world.customer("chained", created_at=NOW)  # 5 minutes after alice
    # Created at the same moment as old_alice, but nobody invited old_alice: no chain.
    twin = await world.customer("twin", created_at=NOW - timedelta(days=300))
    s = world.session

    refund_signal = await _join_and_pay(world, old_code, refunder)
    chain_signal = await _join_and_pay(world, code, chained)
    twin_result = await _join_and_pay(world, old_code, twin, at=NOW + timedelta(hours=3))
    assert refund_signal.signals == ("refunded_orders",)
    assert chain_signal.signals == ("account_chain",)
    assert twin_result.outcome == "converted"

    # A burst: three joins to old_alice's code within half an hour (refunder was the first).
    burst = await world.customers("x", "y")
    for n, friend in enumerate(burst):
        await record_join(
            s,
            invitee_customer_id=friend,
            code=old_code,
            channel="link",
            now=NOW + timedelta(minutes=10 * (n + 1)),
        )
    result = await on_order_paid(s, order=await world.order(burst[1], local(6, 2)), now=local(6, 2))
    assert result.outcome == "under_review" and result.signals == ("burst",)


async def test_approval_grants_the_held_rewards_and_denial_rejects(world: World) -> None:
    program = await world.program(fraud_rules={**QUIET_FRAUD, "min_refunded_orders": 1})
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    bob, carol = await world.customers("bob", "carol")
    for friend in (bob, carol):
        await world.order(friend, NOW - timedelta(days=30), status="refunded")
    held_bob = await _join_and_pay(world, code, bob)
    held_carol = await _join_and_pay(world, code, carol)
    bob_inv, carol_inv = held_bob.invitation, held_carol.invitation
    assert bob_inv is not None and carol_inv is not None
    s = world.session

    approved = await approve_review(
        s, invitation_id=bob_inv.id, reviewer="店长", now=local(6, 3), note="熟人"
    )
    denied = await deny_review(s, invitation_id=carol_inv.id, reviewer="店长", now=local(6, 3))
    twice = await approve_review(s, invitation_id=carol_inv.id, reviewer="店长", now=local(6, 3))
    missing = await approve_review(s, invitation_id=999999, reviewer="店长", now=local(6, 3))

    assert approved.outcome == "approved"
    assert sorted((r.side, r.status) for r in approved.rewards) == [
        ("invitee", "pending"),
        ("inviter", "pending"),
    ]
    assert approved.invitation is not None
    assert (approved.invitation.review_status, approved.invitation.reviewed_by) == (
        "approved",
        "店长",
    )
    assert (denied.outcome, denied.reason) == ("denied", "suspected_fraud")
    assert denied.invitation is not None
    assert (denied.invitation.status, denied.invitation.reject_reason) == (
        "rejected",
        "suspected_fraud",
    )
    assert twice.outcome == "not_pending" and missing.outcome == "unknown"
    assert await review_queue(s) == []
    assert {r.invitation_id for r in await world.rewards()} == {bob_inv.id}


async def test_a_refund_while_held_voids_the_review(world: World) -> None:
    program = await world.program(fraud_rules={**QUIET_FRAUD, "min_refunded_orders": 1})
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    await world.order(bob, NOW - timedelta(days=30), status="refunded")
    held = await _join_and_pay(world, code, bob)
    assert held.invitation is not None
    order = await world.session.get(Order, held.invitation.converting_order_id)
    assert order is not None

    result = await on_order_refunded(
        world.session, order=await world.refund(order, local(6, 2)), now=local(6, 2)
    )

    assert result.outcome == "revoked" and result.revoked_reward_ids == ()
    assert result.invitation is not None
    assert (result.invitation.status, result.invitation.reject_reason) == (
        "rejected",
        "order_refunded",
    )
    assert result.invitation.review_status == "void"
    assert await review_queue(world.session) == []
    late = await approve_review(
        world.session, invitation_id=held.invitation.id, reviewer="店长", now=local(6, 3)
    )
    # Refused, saying why: the refund voided the conversion while it waited.
    assert (late.outcome, late.reason) == ("refused", "order_refunded")


async def test_a_held_conversion_never_settles_until_reviewed(world: World) -> None:
    program = await world.program(
        fraud_rules={**QUIET_FRAUD, "min_refunded_orders": 1, "review_days": None}
    )
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    await world.order(bob, NOW - timedelta(days=30), status="refunded")
    held = await _join_and_pay(world, code, bob)

    report = await settle_due_rewards(world.session, NOW + timedelta(days=60))

    assert report.invitations_rewarded == 0 and report.reviews_decided == 0
    assert held.invitation is not None
    assert (await world.invitations(id=held.invitation.id))[0].status == "converted"


@pytest.mark.parametrize("default", ["approve", "deny"])
async def test_an_overdue_review_gets_the_program_default(world: World, default: str) -> None:
    program = await world.program(
        fraud_rules={
            **QUIET_FRAUD,
            "min_refunded_orders": 1,
            "review_days": 3,
            "review_default": default,
        }
    )
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    await world.order(bob, NOW - timedelta(days=30), status="refunded")
    held = await _join_and_pay(world, code, bob)
    assert held.invitation is not None and held.invitation.converted_at is not None
    converted_at = held.invitation.converted_at

    early = await settle_due_rewards(world.session, converted_at + timedelta(days=2))
    late = await settle_due_rewards(world.session, converted_at + timedelta(days=3))

    assert (early.reviews_decided, late.reviews_decided) == (0, 1)
    invitation = (await world.invitations(invitee_customer_id=bob))[0]
    assert invitation.reviewed_by == "system"
    if default == "approve":
        assert invitation.review_status == "approved"
        assert len(await world.rewards(invitation_id=invitation.id)) == 2
    else:
        assert (invitation.status, invitation.reject_reason) == ("rejected", "suspected_fraud")
        assert await world.rewards() == []
