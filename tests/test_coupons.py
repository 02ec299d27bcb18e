"""Coupons: issue, redeem idempotently with every outcome, expire, revoke."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from referral_world import World, local

from models.db import Database
from models.referral import expire_coupons, issue_coupon, redeem_coupon, revoke_coupon
from models.referral.codes import CODE_ALPHABET

NOW = local(6, 1)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with db.uow() as uow:
        yield World(uow.session)


async def test_issued_coupons_copy_the_template_and_have_unique_codes(world: World) -> None:
    template = await world.template("t20", 2000, min_spend_fen=10000, validity_days=14)
    bob = await world.customer("bob")
    coupons = [
        await issue_coupon(world.session, template=template, customer_id=bob, now=NOW)
        for _ in range(30)
    ]
    # Editing the template later does not change coupons already issued.
    template.value_fen = 9900

    assert len({c.code for c in coupons}) == 30
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{12}}", c.code) for c in coupons)
    first = (await world.coupons(code=coupons[0].code))[0]
    assert (first.status, first.value_fen, first.min_spend_fen) == ("issued", 2000, 10000)
    assert first.expires_at == NOW + timedelta(days=14)


async def test_a_colliding_coupon_code_is_drawn_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = await world.template("t20", 2000)
    bob = await world.customer("bob")
    # `secrets.choice` (the randomness boundary) replays: A×12, then A×12 again, then B×12.
    symbols = list("A" * 24 + "B" * 12)
    original = secrets.choice
    monkeypatch.setattr(secrets, "choice", lambda seq: symbols.pop(0) if symbols else original(seq))

    first = await issue_coupon(world.session, template=template, customer_id=bob, now=NOW)
    second = await issue_coupon(world.session, template=template, customer_id=bob, now=NOW)

    assert (first.code, second.code) == ("A" * 12, "B" * 12)


async def test_redeem_outcomes(world: World) -> None:
    template = await world.template("t20", 2000, min_spend_fen=10000)
    bob = await world.customer("bob")
    big = await world.order(bob, NOW, 15000, order_no="BIG")
    small = await world.order(bob, NOW, 5000, order_no="SMALL")
    coupon = await issue_coupon(world.session, template=template, customer_id=bob, now=NOW)
    s = world.session

    too_small = await redeem_coupon(s, code=coupon.code, order_no=small.order_no, now=NOW)
    redeemed = await redeem_coupon(s, code=coupon.code.lower(), order_no=big.order_no, now=NOW)
    same = await redeem_coupon(s, code=coupon.code, order_no=big.order_no, now=NOW)
    elsewhere = await redeem_coupon(s, code=coupon.code, order_no="OTHER", now=NOW)
    unknown = await redeem_coupon(s, code="NOSUCHCOUPON", order_no="BIG", now=NOW)
    garbage = await redeem_coupon(s, code="券!", order_no="BIG", now=NOW)

    assert (too_small.outcome, too_small.ok) == ("below_min_spend", False)
    assert (redeemed.outcome, redeemed.discount_fen, redeemed.ok) == ("redeemed", 2000, True)
    assert (same.outcome, same.ok) == ("already_redeemed_same_order", True)
    assert elsewhere.outcome == "redeemed_elsewhere"
    assert unknown.outcome == "unknown" and garbage.outcome == "unknown"
    stored = (await world.coupons())[0]
    assert (stored.status, stored.redeemed_order_no, stored.discount_fen) == (
        "redeemed",
        "BIG",
        2000,
    )
    assert [(e.entry, e.coupon_id) for e in await world.ledger()] == [("redeem", coupon.id)]


async def test_an_unknown_order_can_still_redeem_without_a_discount_figure(world: World) -> None:
    template = await world.template("t20", 2000, min_spend_fen=10000)
    bob = await world.customer("bob")
    coupon = await issue_coupon(world.session, template=template, customer_id=bob, now=NOW)
    result = await redeem_coupon(world.session, code=coupon.code, order_no="POS-1", now=NOW)
    assert (result.outcome, result.discount_fen) == ("redeemed", None)


async def test_percent_coupons_are_capped(world: World) -> None:
    template = await world.template("p15", None, percent_off=15, max_discount_fen=3000)
    bob = await world.customer("bob")
    await world.order(bob, NOW, 10000, order_no="A")  # 15% of ¥100 = ¥15
    await world.order(bob, NOW, 50000, order_no="B")  # 15% of ¥500 = ¥75, capped at ¥30
    s = world.session
    first = await issue_coupon(s, template=template, customer_id=bob, now=NOW)
    second = await issue_coupon(s, template=template, customer_id=bob, now=NOW)

    assert (await redeem_coupon(s, code=first.code, order_no="A", now=NOW)).discount_fen == 1500
    assert (await redeem_coupon(s, code=second.code, order_no="B", now=NOW)).discount_fen == 3000


async def test_expired_and_revoked_coupons_cannot_be_redeemed(world: World) -> None:
    template = await world.template("t20", 2000, validity_days=7)
    bob = await world.customer("bob")
    s = world.session
    old = await issue_coupon(s, template=template, customer_id=bob, now=NOW)
    withdrawn = await issue_coupon(s, template=template, customer_id=bob, now=NOW)
    fresh = await issue_coupon(s, template=template, customer_id=bob, now=NOW + timedelta(days=5))
    revoked = await revoke_coupon(s, code=withdrawn.code, reason="发放错误", now=NOW)
    assert revoked is not None and revoked.status == "revoked"

    expired = await redeem_coupon(s, code=old.code, order_no="X", now=NOW + timedelta(days=7))
    refused = await redeem_coupon(s, code=withdrawn.code, order_no="X", now=NOW)
    swept = await expire_coupons(s, NOW + timedelta(days=12))

    assert expired.outcome == "expired" and refused.outcome == "revoked"
    assert swept == 1  # `fresh` expires on day 12; `old` was already marked expired
    statuses = {c.code: c.status for c in await world.coupons()}
    assert statuses == {old.code: "expired", withdrawn.code: "revoked", fresh.code: "expired"}
    assert await revoke_coupon(s, code="NOSUCHCOUPON", reason="x", now=NOW) is None
