"""Every stage rule of DESIGN.md §2.1 and its boundaries, one customer per row of the table.

T = 2024-06-30 in Asia/Shanghai; ages are whole local days before T. All customers live in one
database and are classified by one run per backend; none of them can reach "mature" (no one has
orders in all three windows or a referral), so their verdicts do not depend on each other. The
mature rule, whose revenue signal ranks customers against each other, has its own population in
test_lifecycle_mature.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import pytest
from lifecycle_world import TZ, T, World, local

from config.rules import GradingRules, LifecycleRules
from models.db import Database
from models.lifecycle import run_lifecycle

# (age, amount_fen) or (age, amount_fen, {"status": "refunded", "hour": 23, ...})
OrderSpec = tuple[int, int] | tuple[int, int, dict[str, Any]]
# (kind, age, detail)
EventSpec = tuple[str, int, str]


@dataclass
class Case:
    name: str
    stage: str
    rule: str
    orders: list[OrderSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    closed: bool = False
    closed_age: int | None = None  # closed at noon this many days before T (None: undated)
    previous: str | None = None  # stage stored by yesterday's run
    metrics: dict[str, Any] = field(default_factory=dict)  # expected subset of the receipt
    qualified: bool = False


def usage(previous: int, recent: int, kind: str = "feature_use") -> list[EventSpec]:
    """`previous` events at ages 30.., `recent` at ages 0..; distinct details don't matter."""
    return [(kind, 30 + i, "export") for i in range(previous)] + [
        (kind, i, "export") for i in range(recent)
    ]


def day(age: int) -> str:
    """The local date `age` days before T, as a receipt stores it."""
    return (T - timedelta(days=age)).isoformat()


def views(*ages: int) -> list[EventSpec]:
    return [("view", age, "") for age in ages]


CASES = [
    # new: age(first order) <= 30
    Case("new_age_29", "new", "new.first_order", [(29, 5000)], metrics={"first_order_on": day(29)}),
    Case("new_age_30", "new", "new.first_order", [(30, 5000)], metrics={"first_order_on": day(30)}),
    Case("new_age_31", "growing", "default.growing", [(31, 5000)]),
    Case("new_age_0", "new", "new.first_order", [(0, 5000)], metrics={"first_order_on": day(0)}),
    # declining: age(last) >= 60
    Case("declining_age_59", "growing", "default.growing", [(59, 5000)]),
    Case(
        "declining_age_60",
        "declining",
        "declining.inactive",
        [(60, 5000)],
        metrics={"last_order_on": day(60), "orders": 1},
    ),
    # churned: age(last) > 90
    Case(
        "churned_age_90",
        "declining",
        "declining.inactive",
        [(120, 5000), (90, 5000)],
        metrics={"last_order_on": day(90), "orders": 2},
    ),
    Case(
        "churned_age_91",
        "churned",
        "churned.inactive",
        [(91, 5000)],
        metrics={"last_order_on": day(91), "orders": 1},
    ),
    # account closed as of T, whatever the orders say
    Case("closed_buyer", "churned", "churned.closed", [(5, 5000)], closed=True, closed_age=2),
    Case("closed_undated", "churned", "churned.closed", [(5, 5000)], closed=True),
    Case("closed_prospect", "churned", "churned.closed", [], closed=True, closed_age=100),
    Case("closed_after_T", "new", "new.first_order", [(5, 5000)], closed=True, closed_age=-1),
    # prospects: no paid order up to T
    Case("prospect_nothing", "prospect", "prospect.no_order", metrics={"views_recent": 0}),
    Case("prospect_2_views", "prospect", "prospect.no_order", events=views(1, 2)),
    Case(
        "prospect_3_views",
        "prospect",
        "prospect.qualified",
        events=views(0, 10, 29),
        metrics={"reasons": ["views"], "views_recent": 3},
        qualified=True,
    ),
    Case("prospect_old_views", "prospect", "prospect.no_order", events=views(28, 29, 30)),
    Case(
        "prospect_campaign",
        "prospect",
        "prospect.qualified",
        events=[("campaign_join", 200, "spring")],
        metrics={"reasons": ["campaign_join"], "campaign_joins": 1},
        qualified=True,
    ),
    Case(
        "prospect_lead_form",
        "prospect",
        "prospect.qualified",
        events=[("lead_form", 45, "")],
        metrics={"reasons": ["lead_form"]},
        qualified=True,
    ),
    Case(
        "prospect_all_reasons",
        "prospect",
        "prospect.qualified",
        events=[*views(1, 2, 3), ("campaign_join", 3, "a"), ("lead_form", 3, "")],
        metrics={"reasons": ["views", "campaign_join", "lead_form"]},
        qualified=True,
    ),
    Case(
        "prospect_lead_form_after_T",
        "prospect",
        "prospect.no_order",
        events=[("lead_form", -1, "")],
    ),
    # only paid, non-refunded orders up to T count
    Case("refunded_only", "prospect", "prospect.no_order", [(5, 5000, {"status": "refunded"})]),
    Case(
        "refund_not_last_order",
        "churned",
        "churned.inactive",
        [(100, 5000), (5, 5000, {"status": "refunded"})],
        metrics={"last_order_on": day(100)},
    ),
    Case("order_after_T_only", "prospect", "prospect.no_order", [(-1, 5000)]),
    Case(
        "order_after_T_ignored",
        "churned",
        "churned.inactive",
        [(100, 5000), (-3, 5000)],
        metrics={"orders": 1},
    ),
    # local days, not UTC days: 23:30 on T-31 and 00:30 on T-30 are the same UTC date
    Case("tz_2330_age_31", "growing", "default.growing", [(31, 5000, {"hour": 23, "minute": 30})]),
    Case(
        "tz_0030_age_30",
        "new",
        "new.first_order",
        [(30, 5000, {"hour": 0, "minute": 30})],
        metrics={"first_order_on": day(30)},
    ),
    Case("tz_2330_on_T", "new", "new.first_order", [(0, 5000, {"hour": 23, "minute": 30})]),
    Case(
        "tz_0030_after_T", "prospect", "prospect.no_order", [(-1, 5000, {"hour": 0, "minute": 30})]
    ),
    # usage drop: recent <= 50% of previous, only when previous >= 4
    Case("usage_prev_3", "new", "new.first_order", [(10, 5000)], usage(3, 0)),
    Case(
        "usage_prev_4_half",
        "declining",
        "declining.usage_drop",
        [(10, 5000)],
        usage(4, 2),
        metrics={"usage_recent": 2, "usage_previous": 4},
    ),
    Case("usage_prev_4_three", "new", "new.first_order", [(10, 5000)], usage(4, 3)),
    Case("usage_prev_9_four", "declining", "declining.usage_drop", [(10, 5000)], usage(9, 4)),
    Case("usage_prev_9_five", "new", "new.first_order", [(10, 5000)], usage(9, 5)),
    # support contacts down >= 30%, only when previous >= 3
    Case("support_prev_2", "new", "new.first_order", [(10, 5000)], usage(2, 0, "support_contact")),
    Case(
        "support_prev_3",
        "declining",
        "declining.support_drop",
        [(10, 5000)],
        usage(3, 2, "support_contact"),
        metrics={"support_recent": 2, "support_previous": 3},
    ),
    Case(
        "support_exactly_30",
        "declining",
        "declining.support_drop",
        [(10, 5000)],
        usage(10, 7, "support_contact"),
    ),
    Case("support_20", "new", "new.first_order", [(10, 5000)], usage(10, 8, "support_contact")),
    Case("support_rises", "new", "new.first_order", [(10, 5000)], usage(3, 5, "support_contact")),
    # declining is checked before growing and new
    Case(
        "declining_beats_growing",
        "declining",
        "declining.usage_drop",
        [(50, 5000), (5, 5000), (3, 5000)],
        usage(4, 1),
    ),
    # growing: >= 2 repeat orders in the last 30 days
    Case(
        "growing_2_repeats",
        "growing",
        "growing.repeat_orders",
        [(50, 5000), (20, 5000), (3, 5000)],
        metrics={"repeat_orders_recent": 2},
    ),
    Case("growing_1_repeat", "growing", "default.growing", [(50, 5000), (3, 5000)]),
    Case(
        "growing_first_in_window",
        "growing",
        "growing.repeat_orders",
        [(25, 5000), (10, 5000), (3, 5000)],
    ),
    Case("first_in_window_1_repeat", "new", "new.first_order", [(25, 5000), (3, 5000)]),
    Case(
        "repeat_age_30_not_recent",
        "growing",
        "default.growing",
        [(50, 5000), (30, 5000), (29, 5000)],
    ),
    # growing: mean of repeat orders in the last 30 days >= 1.2 x the first order
    Case(
        "aov_exactly_1_2",
        "growing",
        "growing.repeat_aov",
        [(50, 10_000), (5, 12_000)],
        metrics={
            "repeat_orders_recent": 1,
            "repeat_revenue_recent_fen": 12_000,
            "first_order_fen": 10_000,
        },
    ),
    Case("aov_just_below", "growing", "default.growing", [(50, 10_000), (5, 11_999)]),
    Case("aov_first_in_window", "growing", "growing.repeat_aov", [(20, 10_000), (5, 12_000)]),
    Case(
        "aov_older_repeats_ignored",
        "growing",
        "default.growing",
        [(95, 10_000), (40, 50_000), (5, 11_000)],
    ),
    # the first order is the earliest; of two at the same instant, the one entered first
    Case(
        "aov_tie_first_by_id",
        "growing",
        "growing.repeat_aov",
        [(50, 10_000), (50, 20_000), (5, 12_000)],
        metrics={"first_order_fen": 10_000},
    ),
    Case(
        "aov_tie_other_way", "growing", "default.growing", [(50, 20_000), (50, 10_000), (5, 12_000)]
    ),
    # growing: >= 3 distinct core features used in the last 30 days
    Case(
        "features_3",
        "growing",
        "growing.core_features",
        [(40, 5000)],
        [("feature_use", 1, "export"), ("feature_use", 2, "report"), ("feature_use", 29, "api")],
        metrics={"core_features_recent": 3},
    ),
    Case(
        "features_2_distinct",
        "growing",
        "default.growing",
        [(40, 5000)],
        [("feature_use", 1, "export"), ("feature_use", 2, "export"), ("feature_use", 3, "api")],
    ),
    Case(
        "features_unnamed",
        "growing",
        "default.growing",
        [(40, 5000)],
        [("feature_use", 1, ""), ("feature_use", 2, ""), ("feature_use", 3, "")],
    ),
    Case(
        "features_one_old",
        "growing",
        "default.growing",
        [(40, 5000)],
        [("feature_use", 1, "export"), ("feature_use", 2, "report"), ("feature_use", 30, "api")],
    ),
    # otherwise: keep growing or mature from the previous run, else growing
    Case("grey_keeps_mature", "mature", "hold.grey_zone", [(40, 5000)], previous="mature"),
    Case("grey_keeps_growing", "growing", "hold.grey_zone", [(40, 5000)], previous="growing"),
    Case("grey_from_new", "growing", "default.growing", [(40, 5000)], previous="new"),
    Case("grey_from_declining", "growing", "default.growing", [(40, 5000)], previous="declining"),
    Case(
        "rule_beats_previous",
        "declining",
        "declining.inactive",
        [(70, 5000)],
        previous="mature",
    ),
]


async def build(world: World, cases: list[Case]) -> None:
    yesterday = T - timedelta(days=1)
    for case in cases:
        closed_at = local(case.closed_age) if case.closed_age is not None else None
        await world.customer(case.name, closed=case.closed, closed_at=closed_at)
    objects: list[Any] = []
    for case in cases:
        for spec in case.orders:
            age, amount = spec[0], spec[1]
            extra: dict[str, Any] = spec[2] if len(spec) == 3 else {}  # type: ignore[misc]
            objects.append(world.order(case.name, age, amount, **extra))
        for minute, (kind, age, detail) in enumerate(case.events):
            objects.append(world.event(case.name, kind, age, detail, minute=minute % 60))
        if case.previous:
            objects.append(
                world.stored_stage(case.name, case.previous, as_of=yesterday, rule="x.previous")
            )
    # one at a time, so orders entered first get the lower id (the first-order tie-break)
    for obj in objects:
        await world.add(obj)


async def test_every_rule_and_boundary(db: Database) -> None:
    world = World(db)
    await build(world, CASES)
    summary = await world.run()

    got = await world.assignments()
    mismatches = [
        f"{c.name}: expected {c.stage}/{c.rule}, got {got[c.name].stage}/{got[c.name].rule}"
        for c in CASES
        if (got[c.name].stage, got[c.name].rule) != (c.stage, c.rule)
    ]
    assert mismatches == []
    for case in CASES:
        row = got[case.name]
        assert {k: row.metrics.get(k) for k in case.metrics} == case.metrics, case.name
        assert row.qualified is case.qualified, case.name
        expected_since = T if case.previous != case.stage else T - timedelta(days=21)
        assert row.since == expected_since, case.name

    expected_counts = {stage: 0 for stage in summary.counts}
    for case in CASES:
        expected_counts[case.stage] += 1
    assert summary.counts == expected_counts
    changed = [c for c in CASES if c.previous != c.stage]
    assert summary.transitions == len(changed)


async def test_days_follow_the_configured_zone(db: Database) -> None:
    """23:30 UTC on T-31 is 00:30 on T-30 in Shanghai: age 30 there (new), 31 in UTC."""
    world = World(db)
    await world.customer("late")
    await world.add(world.order("late", 0, 5000, at=local(30, 0, 30)))
    rules, grading = LifecycleRules(), GradingRules()
    shanghai = await run_lifecycle(db, as_of=T, tz=TZ, rules=rules, grading=grading)
    assert shanghai.counts["new"] == 1
    assert (await world.assignments())["late"].metrics == {"first_order_on": day(30)}
    utc = await run_lifecycle(db, as_of=T, tz=UTC, rules=rules, grading=grading)
    assert utc.counts["new"] == 0
    assert (await world.assignments())["late"].rule == "default.growing"


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({}, "growing.repeat_orders"),
        ({"window_days": 5}, "default.growing"),
        ({"window_days": 5, "new_within_days": 40}, "new.first_order"),
        ({"growing_min_repeat_orders": 3}, "default.growing"),
        ({"declining_after_days": 8}, "declining.inactive"),
        ({"declining_after_days": 5, "churned_after_days": 7}, "churned.inactive"),
    ],
)
async def test_thresholds_come_from_configuration(
    db: Database, overrides: dict[str, int], rule: str
) -> None:
    """First order at age 40, repeats at ages 8 and 9."""
    world = World(db)
    await world.customer("buyer")
    await world.add(world.order("buyer", 40, 5000))
    await world.add(world.order("buyer", 9, 5000), world.order("buyer", 8, 5000))
    await world.run(rules=LifecycleRules(**overrides))
    assert (await world.assignments())["buyer"].rule == rule
