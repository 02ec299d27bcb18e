"""The year of history behind each synthetic customer, drawn per archetype.

Ages are whole days before the reference date (0 = that day), the unit the lifecycle rules use:
window 0 is age 0–29, window 1 is 30–59, window 2 is 60–89. Each archetype is shaped to land
clearly inside one rule of DESIGN.md §2.1 at the reference date (away from the boundaries), while
its earlier history makes the monthly re-runs produce believable transitions. The archetype is
only the intention; the lifecycle classifier decides the stage.

Money: non-mature customers stay under 480 yuan an order and a handful of orders per 90 days;
mature customers order 900–3,000 yuan at least every 20 days, so they are the top revenue group
the mature rule looks for.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from models.demo_people import CAMPAIGNS, CORE_FEATURES, LEAD_SOURCES

HISTORY_DAYS = 364  # a year of orders, oldest age

# (archetype, share in percent). Sums to 100.
ARCHETYPES: tuple[tuple[str, int], ...] = (
    ("prospect_warm", 7),
    ("prospect_cold", 7),
    ("new", 9),
    ("growing_repeat", 8),
    ("growing_aov", 6),
    ("growing_features", 8),
    ("steady", 6),
    ("mature", 8),
    ("declining_quiet", 8),
    ("declining_usage", 5),
    ("declining_support", 3),
    ("churned_quiet", 21),
    ("churned_closed", 4),
)

# The stage each archetype is shaped for (follow-up notes are picked by it).
INTENDED_STAGE = {
    "prospect_warm": "prospect",
    "prospect_cold": "prospect",
    "new": "new",
    "growing_repeat": "growing",
    "growing_aov": "growing",
    "growing_features": "growing",
    "steady": "growing",
    "mature": "mature",
    "declining_quiet": "declining",
    "declining_usage": "declining",
    "declining_support": "declining",
    "churned_quiet": "churned",
    "churned_closed": "churned",
}


@dataclass
class Shape:
    """One customer's synthetic history, in ages; amounts in fen."""

    archetype: str
    created_age: int
    orders: list[tuple[int, int]] = field(default_factory=list)  # paid: (age, fen)
    refunded: list[tuple[int, int]] = field(default_factory=list)
    events: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, age, detail)
    closed_age: int | None = None


def allocate(total: int) -> list[str]:
    """`total` archetype labels in the ARCHETYPES proportions (largest remainder), so even a
    small demo has every archetype."""
    exact = [(name, total * share / 100) for name, share in ARCHETYPES]
    counts = {name: int(value) for name, value in exact}
    left = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)
    for name, _ in by_remainder[:left]:
        counts[name] += 1
    # A demo smaller than about 30 customers would leave rare kinds out: lend them one each
    # from the largest group.
    for name, _ in ARCHETYPES:
        if counts[name] == 0 and total >= len(ARCHETYPES):
            counts[max(counts, key=lambda key: counts[key])] -= 1
            counts[name] = 1
    return [name for name, _ in ARCHETYPES for _ in range(counts[name])]


def amount_fen(rng: random.Random, low_yuan: float, high_yuan: float) -> int:
    """Log-uniform price below `high_yuan`, priced like shop goods (129.90, 58.00, 75.50)."""
    yuan = math.exp(rng.uniform(math.log(low_yuan), math.log(high_yuan)))
    return max(int(yuan) * 100 + rng.choice((0, 0, 50, 80, 90)) - 100, 100)


def cadence(rng: random.Random, first: int, last: int, gap: tuple[int, int]) -> list[int]:
    """Order ages from `first` (oldest) down to `last`, `gap` days apart; both ends included."""
    ages = [first]
    age = first - rng.randint(*gap)
    while age > last:
        ages.append(age)
        age -= rng.randint(*gap)
    if last != first:
        ages.append(last)
    return ages


def _ages(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    return [rng.randint(low, high) for _ in range(count)] if high >= low else []


def _usage(
    rng: random.Random,
    shape: Shape,
    oldest: int,
    newest: int = 0,
    *,
    features: int = 6,
    support: bool = True,
) -> None:
    """Steady use from age `oldest` down to `newest`: a feature use every `gap` days and a view
    now and then. With a fixed gap any two 30-day windows differ by at most one event, so
    no monthly run sees a usage drop (4 → 2 would need a gap near 10 and a wobble); a drop
    then only shows where a customer really stops. At most `features` distinct features, and
    too few support contacts to count."""
    used = rng.sample(CORE_FEATURES, min(features, len(CORE_FEATURES)))
    for kind, gap in (("feature_use", rng.randint(8, 24)), ("view", rng.randint(25, 60))):
        age = oldest - rng.randint(0, gap)
        while age >= newest:
            shape.events.append((kind, age, rng.choice(used) if kind == "feature_use" else ""))
            age -= gap
    for age in _ages(rng, rng.randint(0, 2) if support else 0, newest, oldest):
        shape.events.append(("support_contact", age, ""))


def _priced(rng: random.Random, ages: list[int], low: float, high: float) -> list[tuple[int, int]]:
    return [(age, amount_fen(rng, low, high)) for age in ages]


def _prospect_warm(rng: random.Random) -> Shape:
    shape = Shape("prospect_warm", created_age=rng.randint(1, 200))
    recent = min(29, shape.created_age)
    for age in _ages(rng, rng.randint(3, 8), 0, recent):
        shape.events.append(("view", age, ""))
    if rng.random() < 0.5:
        shape.events.append(("campaign_join", rng.randint(0, recent), rng.choice(CAMPAIGNS)))
    if rng.random() < 0.4:
        shape.events.append(("lead_form", rng.randint(0, recent), rng.choice(LEAD_SOURCES)))
    return shape


def _prospect_cold(rng: random.Random) -> Shape:
    shape = Shape("prospect_cold", created_age=rng.randint(30, HISTORY_DAYS))
    for age in _ages(rng, rng.randint(0, 2), 30, shape.created_age):
        shape.events.append(("view", age, ""))
    return shape


def _new(rng: random.Random) -> Shape:
    first = rng.randint(0, 28)
    shape = Shape("new", created_age=first + rng.randint(0, 20))
    price = amount_fen(rng, 60, 480)
    shape.orders.append((first, price))
    if first >= 1 and rng.random() < 0.4:  # one smaller repeat: not yet a growth signal
        shape.orders.append((rng.randint(0, first - 1), price * rng.randint(50, 110) // 100))
    _usage(rng, shape, first, features=2)
    return shape


def _ramp(rng: random.Random, first: int) -> list[int]:
    """Occasional orders from `first` until about 90 days ago, never more than 80 days apart
    (so earlier monthly runs see a customer who is buying, not a churned one)."""
    return cadence(rng, first, rng.randint(90, 100), (30, 80)) if first > 100 else [first]


def _growing_repeat(rng: random.Random) -> Shape:
    first = rng.randint(110, 330)
    shape = Shape("growing_repeat", created_age=first + rng.randint(0, 30))
    # nothing in window 2 (age 60–89): a lapse, so not mature; then 2–3 repeats in window 0
    ages = [*_ramp(rng, first), rng.randint(35, 55)]
    ages += sorted(_ages(rng, rng.randint(2, 3), 0, 27), reverse=True)
    shape.orders = _priced(rng, ages, 40, 480)
    _usage(rng, shape, first)
    return shape


def _growing_aov(rng: random.Random) -> Shape:
    first = rng.randint(110, 300)
    shape = Shape("growing_aov", created_age=first + rng.randint(0, 30))
    price = amount_fen(rng, 40, 200)
    ages = _ramp(rng, first)
    shape.orders = [(first, price), *_priced(rng, [*ages[1:], rng.randint(35, 55)], 40, 200)]
    # one repeat in window 0, 1.3–2.4 × the first order
    shape.orders.append((rng.randint(0, 25), price * rng.randint(130, 240) // 100))
    _usage(rng, shape, first)
    return shape


def _growing_features(rng: random.Random) -> Shape:
    first = rng.randint(110, 300)
    shape = Shape("growing_features", created_age=first + rng.randint(0, 30))
    shape.orders = _priced(rng, [*_ramp(rng, first), rng.randint(3, 45)], 40, 480)
    _usage(rng, shape, first, 60, features=2)
    # then 3–5 distinct core features in the last 30 days
    features = rng.sample(CORE_FEATURES, rng.randint(3, 5))
    for index in range(rng.randint(6, 12)):
        feature = features[index % len(features)]
        shape.events.append(("feature_use", rng.randint(0, 29), feature))
    for age in _ages(rng, rng.randint(0, 3), 30, 59):
        shape.events.append(("feature_use", age, rng.choice(features)))
    return shape


def _steady(rng: random.Random) -> Shape:
    first = rng.randint(150, HISTORY_DAYS)
    shape = Shape("steady", created_age=first + rng.randint(0, 30))
    base = rng.randint(80, 400)
    ages = cadence(rng, first, rng.randint(0, 25), (24, 36))
    shape.orders = [(age, amount_fen(rng, base * 0.85, base * 1.15)) for age in ages]
    _usage(rng, shape, first)
    return shape


def _mature(rng: random.Random) -> Shape:
    first = rng.randint(120, HISTORY_DAYS)
    shape = Shape("mature", created_age=first + rng.randint(0, 30))
    # Gaps of at most 20 days ending within the last 10: an order in each 30-day window.
    shape.orders = _priced(rng, cadence(rng, first, rng.randint(0, 10), (8, 20)), 900, 3000)
    _usage(rng, shape, first)
    return shape


def _declining_quiet(rng: random.Random) -> Shape:
    last = rng.randint(62, 88)
    first = rng.randint(last + 30, HISTORY_DAYS)
    shape = Shape("declining_quiet", created_age=first + rng.randint(0, 30))
    shape.orders = _priced(rng, cadence(rng, first, last, (15, 60)), 40, 480)
    _usage(rng, shape, first, last)
    return shape


def _recent_buyer(rng: random.Random, archetype: str) -> Shape:
    first = rng.randint(90, HISTORY_DAYS)
    shape = Shape(archetype, created_age=first + rng.randint(0, 30))
    shape.orders = _priced(rng, cadence(rng, first, rng.randint(3, 45), (25, 50)), 40, 480)
    return shape


def _declining_usage(rng: random.Random) -> Shape:
    shape = _recent_buyer(rng, "declining_usage")
    _usage(rng, shape, max(age for age, _ in shape.orders), 60)
    features = rng.sample(CORE_FEATURES, 3)
    for kind, before, recent in (("feature_use", (8, 14), (0, 3)), ("view", (4, 8), (0, 1))):
        for age in _ages(rng, rng.randint(*before), 30, 59):
            shape.events.append((kind, age, rng.choice(features) if kind == "feature_use" else ""))
        for age in _ages(rng, rng.randint(*recent), 0, 29):
            shape.events.append((kind, age, rng.choice(features) if kind == "feature_use" else ""))
    return shape


def _declining_support(rng: random.Random) -> Shape:
    shape = _recent_buyer(rng, "declining_support")
    _usage(rng, shape, max(age for age, _ in shape.orders), support=False)
    for age in _ages(rng, rng.randint(4, 7), 30, 59):
        shape.events.append(("support_contact", age, ""))
    for age in _ages(rng, rng.randint(0, 1), 0, 29):
        shape.events.append(("support_contact", age, ""))
    return shape


def _churned_quiet(rng: random.Random) -> Shape:
    last = rng.randint(95, 330)
    first = rng.randint(last, min(last + 250, HISTORY_DAYS))
    shape = Shape("churned_quiet", created_age=first + rng.randint(0, 30))
    shape.orders = _priced(rng, cadence(rng, first, last, (15, 60)), 40, 480)
    _usage(rng, shape, first, last)
    return shape


def _churned_closed(rng: random.Random) -> Shape:
    closed = rng.randint(3, 150)
    last = min(closed + rng.randint(0, 60), HISTORY_DAYS)
    first = rng.randint(last, min(last + 250, HISTORY_DAYS))
    shape = Shape("churned_closed", created_age=first + rng.randint(0, 30), closed_age=closed)
    shape.orders = _priced(rng, cadence(rng, first, last, (15, 60)), 40, 480)
    _usage(rng, shape, first, closed)
    return shape


SHAPERS: dict[str, Callable[[random.Random], Shape]] = {
    "prospect_warm": _prospect_warm,
    "prospect_cold": _prospect_cold,
    "new": _new,
    "growing_repeat": _growing_repeat,
    "growing_aov": _growing_aov,
    "growing_features": _growing_features,
    "steady": _steady,
    "mature": _mature,
    "declining_quiet": _declining_quiet,
    "declining_usage": _declining_usage,
    "declining_support": _declining_support,
    "churned_quiet": _churned_quiet,
    "churned_closed": _churned_closed,
}


def draw_shape(rng: random.Random, archetype: str) -> Shape:
    """The history of one customer of `archetype`, plus now and then a refunded order (which
    counts for nothing) between their first and last paid order."""
    shape = SHAPERS[archetype](rng)
    if shape.orders and rng.random() < 0.08:
        oldest = max(age for age, _ in shape.orders)
        newest = min(age for age, _ in shape.orders)
        age = rng.randint(max(newest, 6), max(oldest, 6))
        shape.refunded.append((age, amount_fen(rng, 40, 480)))
    return shape
