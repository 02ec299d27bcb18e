"""Random small customer populations for the lifecycle property tests: orders, events and
referrals by age in days before T (lifecycle_world), drawn by hypothesis and written by `build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st
from lifecycle_world import World, local

AMOUNTS = [0, 1000, 1200, 2000, 5000]
DETAILS = ["", "export", "report", "api"]
KINDS = ["view", "feature_use", "feature_use", "support_contact", "campaign_join", "lead_form"]


@dataclass
class Spec:
    closed: bool = False
    closed_age: int | None = None
    orders: list[tuple[int, int, bool]] = field(default_factory=list)  # (age, fen, refunded)
    events: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, age, detail)
    referrals: list[tuple[str, int]] = field(default_factory=list)  # (status, converted age)


spec_strategy = st.builds(
    Spec,
    closed=st.sampled_from([False, False, False, False, False, True]),
    closed_age=st.none() | st.integers(-2, 100),
    orders=st.lists(
        st.tuples(
            st.integers(-3, 130),
            st.sampled_from(AMOUNTS),
            st.sampled_from([False, False, False, True]),
        ),
        max_size=6,
    ),
    events=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(-2, 70), st.sampled_from(DETAILS)),
        max_size=12,
    ),
    referrals=st.lists(
        st.tuples(st.sampled_from(["converted", "rewarded", "joined"]), st.integers(-2, 100)),
        max_size=2,
    ),
)


async def build(world: World, population: list[Spec]) -> dict[str, Spec]:
    specs = {f"p{i}": spec for i, spec in enumerate(population)}
    await world.customers(
        {
            name: (
                spec.closed,
                local(spec.closed_age) if spec.closed and spec.closed_age is not None else None,
            )
            for name, spec in specs.items()
        }
    )
    rows: list[object] = []
    for name, spec in specs.items():
        rows += [
            world.order(name, age, fen, status="refunded" if refunded else "paid")
            for age, fen, refunded in spec.orders
        ]
        rows += [
            world.event(name, kind, age, detail, minute=i)
            for i, (kind, age, detail) in enumerate(spec.events)
        ]
    if rows:
        await world.add(*rows)  # in list order: a customer's orders get increasing ids
    for name, spec in specs.items():
        for status, age in spec.referrals:
            converted = None if status == "joined" else age
            await world.referral(name, status=status, converted_age=converted)
    friends = {name: Spec() for name in world.ids if name not in specs}
    return {**specs, **friends}
