"""Random small populations, checked against a plain-Python reading of DESIGN.md §2.1–2.2.

The reference below walks each customer's orders and events by local day, the way the rule
table is written; the SQL classifier works on windows, instants and aggregates. Agreement on
random data — refunds, orders after T, same-day orders, closed accounts, referrals, a run on an
earlier date first — is the evidence that the set-based version says what the table says. Every
example also checks that a re-run is a no-op and that counts sum to the number of customers
and grades to the customers with a paid order.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifecycle_population import Spec, build, spec_strategy
from lifecycle_world import T, World

from models.db import Database

GREY = ("hold.grey_zone", "default.growing")
FIRST_RUN = T - timedelta(days=10)


def _day(age: int) -> date:
    return T - timedelta(days=age)


def _paid(spec: Spec, as_of: date) -> list[tuple[date, int, int]]:
    """(day, entry order, fen) of counted orders, first order first."""
    return sorted(
        (_day(age), i, fen)
        for i, (age, fen, refunded) in enumerate(spec.orders)
        if not refunded and _day(age) <= as_of
    )


def top_revenue(specs: dict[str, Spec], as_of: date) -> set[str]:
    revenue = {}
    for name, spec in specs.items():
        recent = [fen for day, _, fen in _paid(spec, as_of) if (as_of - day).days <= 89]
        if recent:
            revenue[name] = sum(recent)
    n = len(revenue)
    return {
        name
        for name, mine in revenue.items()
        if 5 * sum(1 for other in revenue.values() if other > mine) < n  # fewer than 20% ahead
    }


def reference_stage(
    spec: Spec, as_of: date, top: bool, prev: tuple[str, str, date] | None
) -> tuple[str, str]:
    """(stage, rule) of one customer, straight from the rule table."""

    def age(day: date) -> int:
        return (as_of - day).days

    paid = _paid(spec, as_of)
    events = [(kind, _day(a), detail) for kind, a, detail in spec.events if _day(a) <= as_of]

    def count(kind: str, lo: int, hi: int) -> int:
        return sum(1 for k, day, _ in events if k == kind and lo <= age(day) <= hi)

    if spec.closed and (spec.closed_age is None or _day(spec.closed_age) <= as_of):
        return "churned", "churned.closed"
    if paid and age(paid[-1][0]) > 90:
        return "churned", "churned.inactive"
    if not paid:
        kinds = {kind for kind, _, _ in events}
        if count("view", 0, 29) >= 3 or {"campaign_join", "lead_form"} & kinds:
            return "prospect", "prospect.qualified"
        return "prospect", "prospect.no_order"
    if age(paid[-1][0]) >= 60:
        return "declining", "declining.inactive"
    used, used_before = count("feature_use", 0, 29), count("feature_use", 30, 59)
    if used_before >= 4 and Fraction(used, used_before) <= Fraction(1, 2):
        return "declining", "declining.usage_drop"
    asked, asked_before = count("support_contact", 0, 29), count("support_contact", 30, 59)
    if asked_before >= 3 and Fraction(asked_before - asked, asked_before) >= Fraction(3, 10):
        return "declining", "declining.support_drop"
    ages = [age(day) for day, _, _ in paid]
    no_lapse = all(any(lo <= a <= lo + 29 for a in ages) for lo in (0, 30, 60))
    referrals = sum(
        1
        for status, a in spec.referrals
        if status in ("converted", "rewarded") and _day(a) <= as_of
    )
    if int(no_lapse) + int(top) + int(referrals >= 1) >= 2:
        return "mature", "mature.signals"
    first_fen = paid[0][2]
    repeats = [fen for day, _, fen in paid[1:] if age(day) <= 29]
    if len(repeats) >= 2:
        return "growing", "growing.repeat_orders"
    if repeats and Fraction(sum(repeats), len(repeats)) >= Fraction(6, 5) * first_fen:
        return "growing", "growing.repeat_aov"
    features = {d for k, day, d in events if k == "feature_use" and d and age(day) <= 29}
    if len(features) >= 3:
        return "growing", "growing.core_features"
    if age(paid[0][0]) <= 30:
        return "new", "new.first_order"
    if prev is not None and prev[2] == as_of and prev[1] in GREY:
        return prev[0], prev[1]
    if prev is not None and prev[0] in ("growing", "mature"):
        return prev[0], "hold.grey_zone"
    return "growing", "default.growing"


def reference_grades(specs: dict[str, Spec], as_of: date) -> dict[str, str]:
    metrics = {}
    for name, spec in specs.items():
        paid = _paid(spec, as_of)
        if paid:
            ltv = sum(fen for _, _, fen in paid)
            yearly = sum(1 for day, _, _ in paid if (as_of - day).days <= 364)
            metrics[name] = (yearly, (2 * ltv + len(paid)) // (2 * len(paid)), ltv)
    n = len(metrics)

    def at_or_below(i: int, value: int) -> int:
        return sum(1 for m in metrics.values() if m[i] <= value)

    score = {name: sum(at_or_below(i, m[i]) for i in range(3)) for name, m in metrics.items()}
    grades = {}
    for name, mine in score.items():
        ahead = sum(1 for other in score.values() if other > mine)
        grades[name] = "A" if 5 * ahead < n else "B" if 2 * ahead < n else "C"
    return grades


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(population=st.lists(spec_strategy, max_size=5))
async def test_random_populations_follow_the_rules(db: Database, population: list[Spec]) -> None:
    world = World(db)
    await world.clear()
    specs = await build(world, population)

    prev: dict[str, tuple[str, str, date]] = {}
    for as_of in (FIRST_RUN, T, T):
        summary = await world.run(as_of)
        top = top_revenue(specs, as_of)
        expected = {
            name: reference_stage(spec, as_of, name in top, prev.get(name))
            for name, spec in specs.items()
        }
        got = await world.assignments()
        assert {name: (row.stage, row.rule) for name, row in got.items()} == expected
        assert sum(summary.counts.values()) == len(specs)
        changed = sum(
            1 for name, (stage, _) in expected.items() if prev.get(name, ("",))[0] != stage
        )
        assert summary.transitions == changed
        grades = reference_grades(specs, as_of)
        assert {name: g.grade for name, g in (await world.grades()).items()} == grades
        assert sum(summary.grades.values()) == len(grades)
        prev = {name: (stage, rule, as_of) for name, (stage, rule) in expected.items()}
    assert summary.transitions == 0  # the second run on T
