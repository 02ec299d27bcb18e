"""A/B/C grades (DESIGN.md §2.2) on small populations worked out by hand.

Percentile rank of a value = share of graded customers with a value ≤ it; score = mean of the
three ranks; A when fewer than 20% of N score strictly higher, B when fewer than 50%, else C.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from lifecycle_world import T, World
from sqlalchemy import update

from config.rules import GradingRules
from models.activity import Order
from models.db import Database

# name: [(age, amount_fen), ...]
POPULATION: dict[str, list[tuple[int, int]]] = {
    "g1": [(age, 10_000) for age in range(0, 360, 30)],  # 12 in a year, AOV 10,000, LTV 120,000
    "g2": [(10, 50_000), (400, 50_000)],  # 1 in a year, AOV 50,000, LTV 100,000
    "g3": [(5, 2000), (50, 2000), (300, 2000)],  # 3, 2,000, 6,000
    "g4": [(20, 2000)],  # 1, 2,000, 2,000
    "g5": [(364, 2000)],  # same as g4 (age 364 is still inside the year)
}


async def build(world: World) -> None:
    for name in (*POPULATION, "refunded", "nothing", "future"):
        await world.customer(name)
    for name, orders in POPULATION.items():
        await world.add(*(world.order(name, age, amount) for age, amount in orders))
    await world.add(
        world.order("refunded", 5, 90_000, status="refunded"),
        world.order("future", -1, 90_000),
    )


async def test_percentile_grades(db: Database) -> None:
    world = World(db)
    await build(world)
    summary = await world.run()
    # ranks (count of values <= mine, of 5):  frequency  AOV  LTV  → score
    #   g1  12 / 10,000 / 120,000               5        4    5    14/15
    #   g2   1 / 50,000 / 100,000               3        5    4    12/15
    #   g3   3 /  2,000 /   6,000               4        3    3    10/15
    #   g4   1 /  2,000 /   2,000               3        3    2     8/15
    #   g5   (same as g4)                                           8/15
    # ahead: g1 0 (< 1 → A), g2 1, g3 2 (< 2.5 → B), g4 and g5 3 (C)
    got = await world.grades()
    table = {
        name: (g.grade, round(g.score, 4), g.orders_365d, g.aov_fen, g.ltv_fen)
        for name, g in got.items()
    }
    assert table == {
        "g1": ("A", round(14 / 15, 4), 12, 10_000, 120_000),
        "g2": ("B", round(12 / 15, 4), 1, 50_000, 100_000),
        "g3": ("B", round(10 / 15, 4), 3, 2000, 6000),
        "g4": ("C", round(8 / 15, 4), 1, 2000, 2000),
        "g5": ("C", round(8 / 15, 4), 1, 2000, 2000),
    }
    assert summary.grades == {"A": 1, "B": 2, "C": 2}


async def test_ties_share_the_better_grade(db: Database) -> None:
    """Ten customers with 10, 9, 9, 7, 6, 5, 4, 3, 2, 1 orders of 1,000 fen: the two with 9
    tie for second place, so three are A (fewer than 2 ahead of each), then 2 B, 5 C."""
    world = World(db)
    counts = [10, 9, 9, 7, 6, 5, 4, 3, 2, 1]
    for index, n in enumerate(counts):
        name = f"c{index}"
        await world.customer(name)
        await world.add(*(world.order(name, day, 1000) for day in range(n)))
    summary = await world.run()
    got = await world.grades()
    assert [got[f"c{i}"].grade for i in range(10)] == list("AAABBCCCCC")
    assert summary.grades == {"A": 3, "B": 2, "C": 5}
    # equal AOV for all: rank 10/10; frequency and LTV rank alike
    assert got["c0"].score == pytest.approx(1.0)
    assert got["c1"].score == got["c2"].score == pytest.approx(28 / 30)
    assert got["c9"].score == pytest.approx(12 / 30)


async def test_a_lone_customer_and_identical_customers(db: Database) -> None:
    world = World(db)
    await world.customer("solo")
    await world.add(world.order("solo", 3, 500))
    assert (await world.run()).grades == {"A": 1, "B": 0, "C": 0}
    assert (await world.grades())["solo"].score == pytest.approx(1.0)
    for name in ("twin1", "twin2", "twin3", "twin4"):
        await world.customer(name)
        await world.add(world.order(name, 3, 500))
    # five identical customers: nobody is ahead of anybody
    assert (await world.run()).grades == {"A": 5, "B": 0, "C": 0}


async def test_weights_are_configurable(db: Database) -> None:
    world = World(db)
    await build(world)
    # frequency only: g1 5/5, g3 4/5, g2 g4 g5 3/5 → ahead 0, 1, 2 → A, B, B B B
    summary = await world.run(grading=GradingRules(weight_aov=0, weight_ltv=0))
    got = await world.grades()
    assert {name: g.grade for name, g in got.items()} == {
        "g1": "A",
        "g3": "B",
        "g2": "B",
        "g4": "B",
        "g5": "B",
    }
    assert got["g2"].score == pytest.approx(0.6)
    assert summary.grades == {"A": 1, "B": 4, "C": 0}
    # AOV counts twice as much as LTV, frequency not at all: g2 (5,4) = 14/15, g1 (4,5) 13/15
    await world.run(grading=GradingRules(weight_frequency=0, weight_aov=1, weight_ltv=0.5))
    got = await world.grades()
    assert got["g2"].grade == "A"
    assert got["g2"].score == pytest.approx(14 / 15)
    assert got["g1"].score == pytest.approx(13 / 15)


async def test_fixed_thresholds(db: Database) -> None:
    world = World(db)
    await build(world)
    rules = GradingRules(mode="thresholds", a_min_orders=12, b_min_orders=3, b_min_ltv_fen=5000)
    summary = await world.run(grading=rules)
    got = await world.grades()
    assert {name: g.grade for name, g in got.items()} == {
        "g1": "A",  # 12 orders
        "g2": "C",  # 1 order a year, whatever it is worth
        "g3": "B",  # 3 orders, 6,000 fen
        "g4": "C",
        "g5": "C",
    }
    assert summary.grades == {"A": 1, "B": 1, "C": 3}
    # the percentile score is kept for reference
    assert got["g1"].score == pytest.approx(14 / 15)

    stricter = rules.model_copy(update={"a_min_aov_fen": 10_001})
    await world.run(grading=stricter)
    assert (await world.grades())["g1"].grade == "B"


async def test_no_paid_order_no_grade_and_stale_grades_go(db: Database) -> None:
    world = World(db)
    await build(world)
    await world.run()
    assert set(await world.grades()) == {"g1", "g2", "g3", "g4", "g5"}
    # 320 days earlier only g1 (its order at age 330), g2 (age 400) and g5 (age 364) had
    # bought: that date grades those three, and the stored grades stay the latest date's
    summary = await world.run(T - timedelta(days=320))
    assert sum(summary.grades.values()) == 3
    assert set(await world.grades()) == {"g1", "g2", "g3", "g4", "g5"}
    # every order of g3 and g4 refunded: their grades are removed
    async with db.uow() as uow:
        refunded = [world.ids["g3"], world.ids["g4"]]
        await uow.session.execute(
            update(Order).where(Order.customer_id.in_(refunded)).values(status="refunded")
        )
        await uow.commit()
    summary = await world.run()
    assert set(await world.grades()) == {"g1", "g2", "g5"}
    assert sum(summary.grades.values()) == 3
