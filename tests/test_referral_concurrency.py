"""Real concurrency: simultaneous attributions of one invitee, one order posted several times at
once, racing milestones, codes and redemptions — each in its own session and connection,
started together behind a barrier. PostgreSQL runs them truly in parallel; SQLite serialises
writers, and must reach the same outcome. The database constraints are checked on their own
too, with the application checks out of the way."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
from referral_world import World, local
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from models import Invitation, Order, Reward, RewardLedgerEntry
from models.db import Database
from models.referral import (
    get_or_create_code,
    issue_coupon,
    on_order_paid,
    record_join,
    redeem_coupon,
)
from models.referral.attribution import record_click

T = TypeVar("T")
NOW = local(6, 1)
RACERS = 8


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url, pool_size=RACERS + 2, max_overflow=0)
    yield database
    await database.dispose()


async def race(db: Database, n: int, body: Callable[[int, World], Awaitable[T]]) -> list[T]:
    """Run `body` n times at once, each in its own unit of work (own connection), all having
    opened their transaction before any of them goes on; each commits its own work."""
    barrier = asyncio.Barrier(n)

    async def one(i: int) -> T:
        async with db.uow() as uow:
            await uow.session.execute(text("SELECT 1"))
            await barrier.wait()
            result = await body(i, World(uow.session))
            await uow.commit()
            return result

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _scene(db: Database, inviters: int) -> tuple[list[str], int]:
    async with db.uow() as uow:
        world = World(uow.session)
        program = await world.program(
            milestones={"tiers": [{"at": 3, "reward": {"kind": "cash", "amount_fen": 3000}}]}
        )
        codes = []
        for n in range(inviters):
            inviter = await world.customer(f"inviter{n}")
            codes.append(await world.code(inviter, program, NOW))
        bob = await world.customer("bob")
        await uow.commit()
    return codes, bob


async def test_simultaneous_attributions_of_one_invitee_keep_one(db: Database) -> None:
    codes, bob = await _scene(db, RACERS)

    async def attribute(i: int, world: World) -> str:
        result = await record_join(
            world.session, invitee_customer_id=bob, code=codes[i], channel="link", now=NOW
        )
        return result.outcome if result.reason is None else result.reason

    outcomes = await race(db, RACERS, attribute)

    assert Counter(outcomes) == {"joined": 1, "already_attributed": RACERS - 1}
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(Invitation.status))).scalars().all()
    assert Counter(rows) == {"joined": 1, "rejected": RACERS - 1}


async def test_the_same_order_posted_at_once_converts_once(db: Database) -> None:
    codes, bob = await _scene(db, RACERS)
    async with db.uow() as uow:
        order = await World(uow.session).order(bob, local(6, 2))
        await uow.commit()

    # Every copy of the order carries a different inviter's code as well.
    async def post(i: int, world: World) -> str:
        mine = await world.session.get(Order, order.id)
        assert mine is not None
        result = await on_order_paid(
            world.session, order=mine, referral_code=codes[i], now=local(6, 2)
        )
        return result.outcome

    outcomes = await race(db, RACERS, post)

    assert outcomes.count("converted") == 1
    assert set(outcomes) <= {"converted", "already_converted"}
    async with db.uow() as uow:
        world = World(uow.session)
        converted = await world.invitations(status="converted")
        assert len(converted) == 1 and converted[0].converting_order_id == order.id
        assert sorted(r.side for r in await world.rewards()) == ["invitee", "inviter"]
        assert await world.count(RewardLedgerEntry) == 2


async def test_racing_conversions_grant_the_milestone_exactly_once(db: Database) -> None:
    codes, _ = await _scene(db, 1)
    async with db.uow() as uow:
        world = World(uow.session)
        friends = await world.customers(*(f"friend{n}" for n in range(6)))
        for friend in friends:
            await record_join(
                uow.session, invitee_customer_id=friend, code=codes[0], channel="api", now=NOW
            )
        orders = [await world.order(friend, local(6, 2)) for friend in friends]
        await uow.commit()

    async def pay(i: int, world: World) -> str:
        mine = await world.session.get(Order, orders[i].id)
        assert mine is not None
        return (await on_order_paid(world.session, order=mine, now=local(6, 2))).outcome

    outcomes = await race(db, len(orders), pay)

    assert outcomes == ["converted"] * 6
    async with db.uow() as uow:
        milestones = await World(uow.session).rewards(side="milestone")
    assert [(m.tier, m.status) for m in milestones] == [(3, "pending")]


async def test_racing_code_requests_and_clicks_give_one_code_one_click(db: Database) -> None:
    async with db.uow() as uow:
        alice = await World(uow.session).customer("alice")
        await uow.commit()

    async def ask(i: int, world: World) -> str:
        code = await get_or_create_code(world.session, customer_id=alice, now=NOW)
        assert code is not None
        return code.code

    codes = await race(db, RACERS, ask)
    assert len(set(codes)) == 1

    async def click(i: int, world: World) -> bool:
        result = await record_click(world.session, code=codes[0], visitor_hash="v", now=NOW)
        assert result is not None
        return result.counted

    counted = await race(db, RACERS, click)
    assert counted.count(True) == 1


async def test_racing_redemptions_of_one_coupon(db: Database) -> None:
    async with db.uow() as uow:
        world = World(uow.session)
        template = await world.template("t", 1000)
        bob = await world.customer("bob")
        coupon = await issue_coupon(uow.session, template=template, customer_id=bob, now=NOW)
        await uow.commit()

    async def redeem(i: int, world: World) -> str:
        order_no = "SAME" if i % 2 == 0 else f"OTHER{i}"
        result = await redeem_coupon(world.session, code=coupon.code, order_no=order_no, now=NOW)
        return result.outcome

    outcomes = Counter(await race(db, RACERS, redeem))

    assert outcomes["redeemed"] == 1
    async with db.uow() as uow:
        world = World(uow.session)
        (stored,) = await world.coupons()
        assert await world.count(RewardLedgerEntry, entry="redeem") == 1
    winner_same = stored.redeemed_order_no == "SAME"
    # The 3 other "SAME" posts are idempotent repeats or see another order's redemption.
    assert outcomes["already_redeemed_same_order"] == (3 if winner_same else 0)
    assert outcomes["redeemed_elsewhere"] == RACERS - 1 - outcomes["already_redeemed_same_order"]


async def test_the_constraints_hold_without_the_application_checks(db: Database) -> None:
    """Direct inserts that skip every service: the database itself refuses the duplicates."""
    codes, bob = await _scene(db, 2)
    async with db.uow() as uow:
        await record_join(
            uow.session, invitee_customer_id=bob, code=codes[0], channel="api", now=NOW
        )
        order = await World(uow.session).order(bob, local(6, 2))
        await on_order_paid(uow.session, order=order, now=local(6, 2))
        await uow.commit()
    async with db.uow() as uow:
        first = (await World(uow.session).invitations(status="converted"))[0]
        reward = (await World(uow.session).rewards(side="inviter"))[0]

    def copy_of_invitation(**changes: object) -> Invitation:
        values = {
            "program_id": first.program_id,
            "code_id": first.code_id,
            "inviter_customer_id": first.inviter_customer_id,
            "invitee_customer_id": bob,
            "channel": "api",
            "status": "joined",
        }
        values.update(changes)
        return Invitation(**values)

    duplicates: list[object] = [
        copy_of_invitation(),  # a second attributed invitation of bob
        copy_of_invitation(status="rejected", reject_reason="x", converting_order_id=order.id),
        Reward(  # the same side of the same invitation again
            program_id=reward.program_id,
            invitation_id=reward.invitation_id,
            customer_id=reward.customer_id,
            side="inviter",
            kind="points",
            points=1,
            granted_at=NOW,
            settle_after=NOW,
        ),
        RewardLedgerEntry(customer_id=reward.customer_id, entry="grant", reward_id=reward.id),
    ]
    for duplicate in duplicates:
        async with db.uow() as uow:
            uow.session.add(duplicate)
            with pytest.raises(IntegrityError):
                await uow.session.flush()
    async with db.uow() as uow:
        attributed = await uow.session.execute(
            select(func.count()).where(Invitation.invitee_customer_id == bob)
        )
        assert attributed.scalar_one() == 1
