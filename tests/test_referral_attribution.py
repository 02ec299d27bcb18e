"""Clicks, joins and conversion: every accepted path and every rejection reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from referral_world import World, local

from models.db import Database
from models.referral import (
    Balances,
    balances,
    code_stats,
    on_order_paid,
    record_click,
    record_join,
)

NOW = local(6, 1)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with db.uow() as uow:
        yield World(uow.session)


async def test_a_click_counts_once_per_visitor_per_local_day(world: World) -> None:
    program = await world.program()
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    s = world.session

    first = await record_click(s, code=code, visitor_hash="v1", now=local(6, 1, 9))
    again = await record_click(s, code=code, visitor_hash="v1", now=local(6, 1, 23, 59))
    # 00:30 in Shanghai is still 16:30 UTC of the day before: a new *local* day all the same.
    next_day = await record_click(s, code=code, visitor_hash="v1", now=local(6, 2, 0, 30))
    other = await record_click(s, code=code, visitor_hash="v2", now=local(6, 1, 9))

    assert first is not None and first.counted
    assert again is not None and not again.counted
    assert next_day is not None and next_day.counted
    assert other is not None and other.counted
    stats = await code_stats(s, code)
    assert stats is not None
    assert (stats.clicks, stats.joins, stats.conversions) == (3, 0, 0)
    # One anonymous "clicked" invitation per visitor, not per visit.
    clicked = await world.invitations(status="clicked")
    assert sorted(i.visitor_hash or "" for i in clicked) == ["v1", "v2"]


async def test_unknown_or_ended_codes_record_nothing(world: World) -> None:
    ended = await world.program("old", ends_at=local(5, 1))
    alice = await world.customer("alice")
    live = await world.program("live")
    live_code = await world.code(alice, live, local(4, 1))
    ended_code = await world.code(alice, ended, local(4, 1))

    assert await record_click(world.session, code="ZZZZZZZZ", visitor_hash="v", now=NOW) is None
    assert await record_click(world.session, code="bad_code", visitor_hash="v", now=NOW) is None
    assert await record_click(world.session, code=ended_code, visitor_hash="v", now=NOW) is None
    # Codes are read case-insensitively: what a user types from a poster still works.
    assert await record_click(world.session, code=live_code.lower(), visitor_hash="v", now=NOW)


async def test_join_continues_the_visitors_click_and_repeats_are_idempotent(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    await record_click(world.session, code=code, visitor_hash="v-bob", now=local(6, 1, 9))

    joined = await record_join(
        world.session,
        invitee_customer_id=bob,
        code=code,
        channel="link",
        now=local(6, 1, 9, 5),
        visitor_hash="v-bob",
    )
    retried = await record_join(
        world.session, invitee_customer_id=bob, code=code, channel="link", now=local(6, 1, 9, 6)
    )

    assert joined.outcome == "joined" and joined.invitation is not None
    assert joined.invitation.clicked_at == local(6, 1, 9)
    assert joined.invitation.joined_at == local(6, 1, 9, 5)
    assert retried.outcome == "already_joined"
    assert retried.invitation is not None and retried.invitation.id == joined.invitation.id
    assert [i.status for i in await world.invitations()] == ["joined"]


async def test_unknown_code_on_join(world: World) -> None:
    bob = await world.customer("bob")
    result = await record_join(
        world.session, invitee_customer_id=bob, code="NOPE2345", channel="api", now=NOW
    )
    assert result.outcome == "unknown_code" and result.invitation is None


@pytest.mark.parametrize(
    ("bob_phone", "bob_union"),
    [("+86 138-1234-8888", None), (None, "o6_union")],
    ids=["same-phone", "same-unionid"],
)
async def test_self_referral_by_phone_or_union_id(
    world: World, bob_phone: str | None, bob_union: str | None
) -> None:
    program = await world.program()
    alice = await world.customer("alice", phone="13812348888", union_id="o6_union")
    # The same WeChat user seen through WeCom: another customer record, the same unionid.
    bob = await world.customer("bob", phone=bob_phone, union_id=bob_union, union_platform="wecom")
    code = await world.code(alice, program, NOW)

    result = await record_join(
        world.session, invitee_customer_id=bob, code=code, channel="wecom_contact", now=NOW
    )

    assert (result.outcome, result.reason) == ("rejected", "self_referral")
    stored = await world.invitations(invitee_customer_id=bob)
    assert [(i.status, i.reject_reason) for i in stored] == [("rejected", "self_referral")]


async def test_inviting_yourself_is_self_referral(world: World) -> None:
    program = await world.program()
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    result = await record_join(
        world.session, invitee_customer_id=alice, code=code, channel="api", now=NOW
    )
    assert result.reason == "self_referral"


async def test_existing_customer_is_rejected(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    await world.order(bob, local(3, 1))
    code = await world.code(alice, program, NOW)

    result = await record_join(
        world.session, invitee_customer_id=bob, code=code, channel="api", now=NOW
    )

    assert (result.outcome, result.reason) == ("rejected", "existing_customer")


async def test_a_refunded_order_alone_does_not_make_an_existing_customer(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    await world.order(bob, local(3, 1), status="refunded")
    code = await world.code(alice, program, NOW)
    result = await record_join(
        world.session, invitee_customer_id=bob, code=code, channel="api", now=NOW
    )
    assert result.outcome == "joined"


async def test_first_touch_wins_and_later_touches_are_kept_as_rejected(world: World) -> None:
    program = await world.program()
    alice, carol, bob = await world.customers("alice", "carol", "bob")
    alice_code = await world.code(alice, program, NOW)
    carol_code = await world.code(carol, program, NOW)
    s = world.session

    first = await record_join(s, invitee_customer_id=bob, code=alice_code, channel="api", now=NOW)
    later = await record_join(
        s, invitee_customer_id=bob, code=carol_code, channel="api", now=NOW + timedelta(days=3)
    )
    repeated = await record_join(
        s, invitee_customer_id=bob, code=carol_code, channel="api", now=NOW + timedelta(days=4)
    )

    assert first.outcome == "joined"
    assert (later.outcome, later.reason) == ("rejected", "already_attributed")
    assert repeated.invitation is not None and later.invitation is not None
    assert repeated.invitation.id == later.invitation.id  # a retried callback adds no row
    rows = await world.invitations(invitee_customer_id=bob)
    assert [(r.inviter_customer_id, r.status, r.reject_reason) for r in rows] == [
        (alice, "joined", None),
        (carol, "rejected", "already_attributed"),
    ]


async def test_a_lapsed_attribution_gives_way_to_the_next_touch(world: World) -> None:
    program = await world.program(attribution_window_days=30)
    alice, carol, bob = await world.customers("alice", "carol", "bob")
    alice_code = await world.code(alice, program, NOW)
    carol_code = await world.code(carol, program, NOW)
    s = world.session
    await record_join(s, invitee_customer_id=bob, code=alice_code, channel="api", now=NOW)

    later = await record_join(
        s, invitee_customer_id=bob, code=carol_code, channel="api", now=NOW + timedelta(days=31)
    )

    assert later.outcome == "joined"
    rows = await world.invitations(invitee_customer_id=bob)
    assert [(r.inviter_customer_id, r.status, r.reject_reason) for r in rows] == [
        (alice, "rejected", "expired"),
        (carol, "joined", None),
    ]


async def test_joining_again_after_the_window_restarts_it(world: World) -> None:
    program = await world.program(attribution_window_days=30)
    alice, bob = await world.customers("alice", "bob")
    code = await world.code(alice, program, NOW)
    s = world.session
    await record_join(s, invitee_customer_id=bob, code=code, channel="api", now=NOW)
    again = await record_join(
        s, invitee_customer_id=bob, code=code, channel="api", now=NOW + timedelta(days=40)
    )
    order = await world.order(bob, NOW + timedelta(days=45))

    converted = await on_order_paid(s, order=order, now=order.paid_at)

    assert again.outcome == "joined" and converted.outcome == "converted"
    rows = await world.invitations(invitee_customer_id=bob)
    assert [(r.status, r.reject_reason) for r in rows] == [
        ("rejected", "expired"),
        ("converted", None),
    ]


async def test_a_join_outside_the_program_dates_is_expired(world: World) -> None:
    program = await world.program(ends_at=local(6, 30))
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    result = await record_join(
        world.session, invitee_customer_id=bob, code=code, channel="api", now=local(7, 1)
    )
    assert (result.outcome, result.reason) == ("rejected", "expired")


async def test_first_paid_order_converts_and_grants_both_sides(world: World) -> None:
    program = await world.program()  # inviter 100 points, invitee ¥5 cash, hold 7 days
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    s = world.session
    await record_join(s, invitee_customer_id=bob, code=code, channel="api", now=NOW)
    order = await world.order(bob, local(6, 3, 15))

    result = await on_order_paid(s, order=order, now=local(6, 3, 15, 1))

    assert result.outcome == "converted"
    invitation = result.invitation
    assert invitation is not None
    assert invitation.status == "converted"
    assert invitation.converted_at == local(6, 3, 15)
    assert invitation.hold_until == local(6, 10, 15)
    assert invitation.converting_order_id == order.id
    got = sorted((r.side, r.customer_id, r.kind, r.points, r.amount_fen) for r in result.rewards)
    assert got == [("invitee", bob, "cash", 0, 500), ("inviter", alice, "points", 100, 0)]
    assert all(r.status == "pending" and r.settle_after == local(6, 10, 15) for r in result.rewards)
    assert await balances(s, alice) == Balances(points_pending=100)
    assert (await balances(s, bob)).cash_pending_fen == 500


async def test_an_order_carrying_a_code_attributes_and_converts_at_once(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    order = await world.order(bob, local(6, 2))

    result = await on_order_paid(world.session, order=order, referral_code=code, now=local(6, 2))

    assert result.outcome == "converted"
    assert result.invitation is not None and result.invitation.joined_at == local(6, 2)


async def test_order_code_of_an_existing_customer_is_rejected(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    await world.order(bob, local(4, 1))
    second = await world.order(bob, local(6, 2))

    result = await on_order_paid(world.session, order=second, referral_code=code, now=local(6, 2))

    assert (result.outcome, result.reason) == ("rejected", "existing_customer")
    assert await world.rewards() == []


async def test_the_same_order_twice_converts_once(world: World) -> None:
    program = await world.program()
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    order = await world.order(bob, local(6, 2))

    first = await on_order_paid(world.session, order=order, referral_code=code, now=local(6, 2))
    again = await on_order_paid(world.session, order=order, referral_code=code, now=local(6, 2))
    later_order = await world.order(bob, local(6, 5))
    repeat_buyer = await on_order_paid(world.session, order=later_order, now=local(6, 5))

    assert first.outcome == "converted"
    assert again.outcome == "already_converted" and repeat_buyer.outcome == "already_converted"
    assert len(await world.rewards()) == 2
    assert len(await world.ledger(entry="grant")) == 2


async def test_orders_of_unattributed_customers_change_nothing(world: World) -> None:
    bob = await world.customer("bob")
    order = await world.order(bob, local(6, 2))
    result = await on_order_paid(world.session, order=order, now=local(6, 2))
    assert result.outcome == "not_attributed"
    refunded = await world.order(bob, local(6, 2), status="refunded")
    assert (await on_order_paid(world.session, order=refunded, now=local(6, 3))).outcome == (
        "not_paid"
    )


async def test_a_first_order_after_the_window_is_expired(world: World) -> None:
    program = await world.program(attribution_window_days=30)
    alice, bob = await world.customer("alice"), await world.customer("bob")
    code = await world.code(alice, program, NOW)
    await record_join(world.session, invitee_customer_id=bob, code=code, channel="api", now=NOW)
    order = await world.order(bob, NOW + timedelta(days=30, minutes=1))

    result = await on_order_paid(world.session, order=order, now=order.paid_at)

    assert (result.outcome, result.reason) == ("rejected", "expired")
    assert await world.rewards() == []


async def test_inviter_cap_counts_conversions_per_local_calendar_month(world: World) -> None:
    program = await world.program(cap_per_inviter_month=2, attribution_window_days=60)
    alice = await world.customer("alice")
    code = await world.code(alice, program, local(5, 1))
    s = world.session
    # Three friends pay in June (Shanghai time); the first pays 00:30 on 1 June, which is
    # still 31 May in UTC; a fourth pays 00:10 on 1 July.
    paid = [local(6, 1, 0, 30), local(6, 15), local(6, 30, 23, 50), local(7, 1, 0, 10)]
    outcomes = []
    for n, paid_at in enumerate(paid):
        friend = await world.customer(f"friend{n}")
        await record_join(
            s, invitee_customer_id=friend, code=code, channel="api", now=local(5, 31, 12)
        )
        result = await on_order_paid(s, order=await world.order(friend, paid_at), now=paid_at)
        outcomes.append((result.outcome, result.reason))

    assert outcomes == [
        ("converted", None),
        ("converted", None),
        ("rejected", "inviter_cap"),
        ("converted", None),
    ]


async def test_budget_counts_cash_and_coupon_face_value(world: World) -> None:
    await world.template("t30", 3000)
    # Per conversion: ¥5 cash to the inviter + a ¥30 coupon to the invitee = 3500 fen.
    program = await world.program(
        budget_fen=7000,
        inviter_reward={"kind": "cash", "amount_fen": 500},
        invitee_reward={"kind": "coupon", "coupon_template": "t30"},
    )
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    outcomes = []
    for n in range(3):
        friend = await world.customer(f"friend{n}")
        order = await world.order(friend, NOW + timedelta(hours=n + 1))
        result = await on_order_paid(world.session, order=order, referral_code=code, now=NOW)
        outcomes.append((result.outcome, result.reason))

    assert outcomes == [
        ("converted", None),
        ("converted", None),
        ("rejected", "budget_exhausted"),
    ]
    assert sum(r.amount_fen for r in await world.rewards()) == 7000


async def test_joined_invitations_show_in_code_stats(world: World) -> None:
    program = await world.program()
    alice = await world.customer("alice")
    code = await world.code(alice, program, NOW)
    s = world.session
    names = ["b", "c", "d"]
    friends = [await world.customer(n) for n in names]
    for friend in friends:
        await record_join(s, invitee_customer_id=friend, code=code, channel="api", now=NOW)
    await on_order_paid(s, order=await world.order(friends[0], local(6, 2)), now=local(6, 2))
    await record_join(s, invitee_customer_id=alice, code=code, channel="api", now=NOW)

    stats = await code_stats(s, code)

    assert stats is not None
    assert (stats.joins, stats.conversions, stats.rewarded, stats.rejected) == (3, 1, 0, 1)
    assert stats.inviter_customer_id == alice and stats.program_key == "p"
    assert await code_stats(s, "UNKNOWN2") is None
