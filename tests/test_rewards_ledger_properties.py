"""Property: whatever happens — joins, orders (with or without a code), refunds, settle runs,
time passing — the ledger stays consistent with the rewards, and no invitee is ever
converted twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referral_world import World, local
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Invitation, Order, Reward, RewardLedgerEntry
from models.db import Database
from models.referral import (
    Balances,
    balances,
    on_order_paid,
    on_order_refunded,
    record_join,
    settle_due_rewards,
)

INVITERS, INVITEES = 3, 4

steps = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, INVITERS - 1), st.integers(0, INVITEES - 1)),
        st.tuples(st.just("order"), st.integers(0, INVITERS), st.integers(0, INVITEES - 1)),
        st.tuples(st.just("refund"), st.just(0), st.integers(0, INVITEES - 1)),
        st.tuples(st.just("wait"), st.integers(1, 9), st.just(0)),
        st.tuples(st.just("settle"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


async def play(db: Database, script: list[tuple[str, int, int]]) -> tuple[list[int], list[int]]:
    tag = uuid.uuid4().hex[:8]
    async with db.uow() as uow:
        world = World(uow.session)
        program = await world.program(
            f"prop-{tag}",
            inviter_reward={"kind": "points", "points": 10},
            invitee_reward={"kind": "cash", "amount_fen": 300},
            milestones={"tiers": [{"at": 2, "reward": {"kind": "cash", "amount_fen": 1000}}]},
            hold_days=7,
        )
        inviters = [await world.customer(f"{tag}-r{n}") for n in range(INVITERS)]
        invitees = [await world.customer(f"{tag}-e{n}") for n in range(INVITEES)]
        codes = [await world.code(c, program, local(6, 1)) for c in inviters]
        await uow.commit()

    now = local(6, 1)
    for action, a, b in script:
        now += timedelta(hours=1)
        async with db.uow() as uow:
            s = uow.session
            if action == "join":
                await record_join(
                    s, invitee_customer_id=invitees[b], code=codes[a], channel="api", now=now
                )
            elif action == "order":  # a == INVITERS: an order without a code
                order = await World(s).order(invitees[b], now, order_no=uuid.uuid4().hex)
                code = codes[a] if a < INVITERS else None
                await on_order_paid(s, order=order, referral_code=code, now=now)
            elif action == "refund":
                order = await _latest_paid(s, invitees[b])
                if order is not None:
                    order.status, order.refunded_at = "refunded", now
                    await s.flush()
                    await on_order_refunded(s, order=order, now=now)
            elif action == "wait":
                now += timedelta(days=a)
            else:
                await settle_due_rewards(s, now)
            await uow.commit()

    async with db.uow() as uow:
        await check_invariants(uow.session, [*inviters, *invitees])
    return inviters, invitees


async def _latest_paid(session: AsyncSession, customer_id: int) -> Order | None:
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id, Order.status == "paid")
        .order_by(Order.paid_at.desc(), Order.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def check_invariants(session: AsyncSession, customers: list[int]) -> None:
    s = session
    rewards = (
        (await s.execute(select(Reward).where(Reward.customer_id.in_(customers)))).scalars().all()
    )
    entries = (
        (
            await s.execute(
                select(RewardLedgerEntry).where(RewardLedgerEntry.customer_id.in_(customers))
            )
        )
        .scalars()
        .all()
    )
    # 1. Balances are the sums of the rows, and they agree with the rewards' states.
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rewards:
        points = r.points if r.kind == "points" else 0
        cash = r.amount_fen if r.kind == "cash" else 0
        slot = expected[r.customer_id]
        if r.status == "pending":
            slot[1] += points
            slot[2] += cash
        elif r.status == "settled":
            slot[0] += points
            slot[3] += cash
    for customer in customers:
        got = await balances(s, customer)
        mine = [e for e in entries if e.customer_id == customer]
        sums = [
            sum(e.points_available for e in mine),
            sum(e.points_pending for e in mine),
            sum(e.cash_pending_fen for e in mine),
            sum(e.cash_payable_fen for e in mine),
        ]
        as_list = [
            got.points_available,
            got.points_pending,
            got.cash_pending_fen,
            got.cash_payable_fen,
        ]
        assert as_list == sums == expected[customer], (customer, as_list, sums)
    # 2. Each reward: one grant; one settle or one revoke matching its state; never both.
    per_reward = Counter((e.reward_id, e.entry) for e in entries if e.reward_id is not None)
    for r in rewards:
        assert per_reward[(r.id, "grant")] == 1
        assert per_reward[(r.id, "settle")] == (r.status == "settled")
        assert per_reward[(r.id, "revoke")] == (r.status == "revoked")
    # 3. No invitee converted twice, no invitee attributed twice.
    rows = (
        await s.execute(
            select(Invitation.invitee_customer_id, Invitation.status, func.count())
            .where(Invitation.invitee_customer_id.in_(customers))
            .group_by(Invitation.invitee_customer_id, Invitation.status)
        )
    ).all()
    for _, status, count in rows:
        if status in ("joined", "converted", "rewarded"):
            assert count == 1
    held = Counter(i for i, status, _ in rows if status in ("joined", "converted", "rewarded"))
    assert all(n == 1 for n in held.values())
    # 4. A rewarded invitation has nothing pending; a refunded one kept nothing.
    invitations = {
        i.id: i
        for i in (
            await s.execute(select(Invitation).where(Invitation.inviter_customer_id.in_(customers)))
        ).scalars()
    }
    for r in rewards:
        invitation = invitations[r.invitation_id]
        if invitation.status == "rewarded":
            assert r.status == "settled" or r.side == "milestone"
        if invitation.reject_reason == "order_refunded":
            assert r.status == "revoked"
    # 5. A milestone tier is live at most once per inviter.
    live = Counter((r.customer_id, r.tier) for r in rewards if r.tier and r.status != "revoked")
    assert all(n == 1 for n in live.values())


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
def test_ledger_and_attribution_invariants(db_url: str, script: list[tuple[str, int, int]]) -> None:
    async def run() -> None:
        db = Database.from_url(db_url)
        try:
            await play(db, script)
        finally:
            await db.dispose()

    asyncio.run(run())


def test_a_refund_of_a_later_order_and_a_refund_after_settling_change_nothing(
    db_url: str,
) -> None:
    """Join, pay, pay again, refund the *second* order (not the converting one), wait 8 days,
    settle, then refund the converting order (settled rewards are final), settle again: both
    rewards stay settled. (A refund after the hold but *before* the settle run voids the
    conversion: a reward is paid only if its order is still paid — test_orders_service.py.)"""
    script = [
        ("join", 0, 0),
        ("order", 3, 0),
        ("order", 3, 0),
        ("refund", 0, 0),
        ("wait", 8, 0),
        ("settle", 0, 0),
        ("refund", 0, 0),
        ("settle", 0, 0),
    ]

    async def run() -> tuple[Balances, Balances]:
        db = Database.from_url(db_url)
        try:
            inviters, invitees = await play(db, script)
            async with db.uow() as uow:
                return (
                    await balances(uow.session, inviters[0]),
                    await balances(uow.session, invitees[0]),
                )
        finally:
            await db.dispose()

    inviter, invitee = asyncio.run(run())
    assert inviter == Balances(points_available=10)
    assert invitee == Balances(cash_payable_fen=300)
