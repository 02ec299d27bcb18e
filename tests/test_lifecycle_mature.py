"""Mature = at least 2 of 3 signals: no lapse (an order in each of the three 30-day windows),
revenue in the last 90 days in the top 20% of customers who ordered then, ≥ 1 converted
referral as inviter.

Ten customers order within the last 90 days, so the top 20% are those with fewer than
2 customers strictly ahead of them in 90-day revenue:
  big        1,000,000 fen → 0 ahead  (top)
  top_*        500,000 fen → 1 ahead  (top; the two tie)
  third        400,000 fen → 3 ahead  (not top: the cut does not reach it)
  everyone else   ≤ 15,000 fen         (not top)
(old_whale's 9,000,000 fen order is older than 90 days and does not count.)
"""

from __future__ import annotations

import pytest
from lifecycle_world import World

from models.db import Database

NO_LAPSE = [(65, 5000), (35, 5000), (5, 5000)]  # one order in each window: 15,000 fen


@pytest.fixture
async def world(db: Database) -> World:
    world = World(db)
    spec: dict[str, list[tuple[int, int]]] = {
        "big": [(65, 500_000), (35, 250_000), (5, 250_000)],  # no lapse + top
        "top_ref": [(10, 500_000)],  # top + referral
        "top_alone": [(10, 500_000)],  # top only
        "lapse_ref": NO_LAPSE,  # no lapse + referral
        "lapse_alone": NO_LAPSE,  # no lapse only
        "third_ref": [(40, 400_000)],  # referral only: third place is not top 20%
        "ref_joined": NO_LAPSE,  # no lapse; the friend joined but never bought
        "ref_later": NO_LAPSE,  # no lapse; the friend converted after T
        "ref_rewarded": NO_LAPSE,  # no lapse + a rewarded (converted earlier) referral
        "old_whale": [(95, 9_000_000), (15, 1000)],  # the whale order is outside 90 days
    }
    for name in spec:
        await world.customer(name)
    for name, orders in spec.items():
        await world.add(*(world.order(name, age, amount) for age, amount in orders))
    await world.referral("top_ref")
    await world.referral("lapse_ref")
    await world.referral("third_ref", converted_age=0)
    await world.referral("ref_joined", status="joined", converted_age=None)
    await world.referral("ref_later", converted_age=-1)
    await world.referral("ref_rewarded", status="rewarded", converted_age=30)
    return world


async def test_two_of_three_signals(world: World) -> None:
    await world.run()
    got = await world.assignments()
    verdicts = {name: (row.stage, row.rule) for name, row in got.items() if "friend" not in name}
    assert verdicts == {
        "big": ("mature", "mature.signals"),
        "top_ref": ("mature", "mature.signals"),
        "top_alone": ("new", "new.first_order"),
        "lapse_ref": ("mature", "mature.signals"),
        "lapse_alone": ("growing", "default.growing"),
        "third_ref": ("growing", "default.growing"),
        "ref_joined": ("growing", "default.growing"),
        "ref_later": ("growing", "default.growing"),
        "ref_rewarded": ("mature", "mature.signals"),
        "old_whale": ("growing", "default.growing"),
    }
    # friends never ordered: prospects
    assert {row.stage for name, row in got.items() if "friend" in name} == {"prospect"}


async def test_receipt_names_the_signals(world: World) -> None:
    await world.run()
    got = await world.assignments()
    assert got["big"].metrics == {
        "signals": ["no_lapse", "top_revenue"],
        "revenue_90d_fen": 1_000_000,
        "referrals": 0,
    }
    assert got["top_ref"].metrics == {
        "signals": ["top_revenue", "referrals"],
        "revenue_90d_fen": 500_000,
        "referrals": 1,
    }
    assert got["lapse_ref"].metrics["signals"] == ["no_lapse", "referrals"]
    # 5th of 10 by 90-day revenue: not in the top 20%
    assert "top_revenue" not in got["lapse_ref"].metrics["signals"]


async def test_all_three_signals_and_a_stricter_threshold(world: World) -> None:
    from config.rules import LifecycleRules

    await world.referral("big")
    await world.run(rules=LifecycleRules(mature_min_signals=3))
    got = await world.assignments()
    assert got["big"].rule == "mature.signals"
    assert got["big"].metrics["signals"] == ["no_lapse", "top_revenue", "referrals"]
    assert got["top_ref"].rule == "new.first_order"
    assert got["lapse_ref"].rule == "default.growing"
