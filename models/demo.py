"""A demo database: synthetic customers, a year of orders and events, staff and follow-ups.

Everything is drawn from one `random.Random(seed)` and dated relative to `as_of`, so the same
seed and date give the same data. Rows go in with bulk inserts (one executemany per table), not
one ORM object at a time.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, MetaData, func, insert, select, text

from models.activity import ActivityEvent, Order
from models.clock import day_start
from models.customer import Customer
from models.db import Database
from models.demo_people import FOLLOW_UP_NOTES, STAFF, new_person
from models.demo_shapes import INTENDED_STAGE, Shape, allocate, draw_shape
from models.staff import FollowUp, Staff

OPT_OUT_SHARE = 0.03
BATCH = 5_000  # rows per executemany call, so no single statement grows without bound


class DemoDatabaseNotEmpty(Exception):
    """The target database already holds customers; the demo never mixes with real data."""

    def __init__(self, customers: int) -> None:
        super().__init__(f"database already has {customers} customers")
        self.customers = customers


@dataclass(frozen=True)
class DemoStats:
    customers: int
    orders: int
    refunded_orders: int
    events: int
    staff: int
    follow_ups: int
    archetypes: dict[str, int]


class _Clock:
    """Random local times on days counted back from `as_of`, as UTC instants.

    Each day's start is converted once (a few hundred days, not tens of thousands of events);
    the time of day is then added as seconds, which keeps the local date whatever the zone.
    """

    def __init__(self, as_of: date, tz: tzinfo, rng: random.Random) -> None:
        self._as_of, self._tz, self._rng = as_of, tz, rng
        self._starts: dict[int, datetime] = {}

    def at(self, age: int, hours: tuple[int, int]) -> datetime:
        """A random moment between `hours[0]`:00 and `hours[1]`:59 local, `age` days back."""
        start = self._starts.get(age)
        if start is None:
            start = self._starts[age] = day_start(self._as_of - timedelta(days=age), self._tz)
        seconds = self._rng.randrange(hours[0] * 3600, (hours[1] + 1) * 3600)
        return start + timedelta(seconds=seconds)


async def create_demo_data(
    db: Database, *, as_of: date, tz: tzinfo, customers: int = 3000, seed: int = 7
) -> DemoStats:
    """Fill an empty database with `customers` synthetic customers and their history.

    Raises `DemoDatabaseNotEmpty` if there are customers already (the caller decides whether to
    wipe). Does not classify: run the lifecycle afterwards.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    rng = random.Random(seed)
    async with db.uow() as uow:
        session = uow.session
        existing = await session.scalar(select(func.count()).select_from(Customer))
        if existing:
            raise DemoDatabaseNotEmpty(int(existing))

        staff_rows = [{"name": name, "role": role, "active": True} for name, role in STAFF]
        await session.execute(insert(Staff), staff_rows)
        staff_ids: dict[str, int] = dict(
            (await session.execute(select(Staff.name, Staff.id))).all()
        )
        agents = [staff_ids[name] for name, role in STAFF if role == "agent"]

        clock = _Clock(as_of, tz, rng)
        labels = allocate(customers)
        rng.shuffle(labels)
        shapes = [draw_shape(rng, label) for label in labels]
        phones: set[str] = set()
        customer_rows: list[dict[str, Any]] = []
        owners: list[int | None] = []
        for index, shape in enumerate(shapes, start=1):
            person = new_person(rng, phones)
            owner = rng.choice(agents) if rng.random() < (0.85 if shape.orders else 0.4) else None
            owners.append(owner)
            opted_out = rng.random() < OPT_OUT_SHARE
            created_at = clock.at(shape.created_age, (7, 7))
            customer_rows.append(
                {
                    "external_id": f"C{index:06d}",
                    "name": person.name,
                    "phone": person.phone,
                    "region": person.region,
                    "industry": person.industry,
                    "status": "closed" if shape.closed_age is not None else "open",
                    "source": "demo",
                    "created_at": created_at,
                    "updated_at": created_at,
                    "closed_at": (
                        clock.at(shape.closed_age, (9, 18))
                        if shape.closed_age is not None
                        else None
                    ),
                    "marketing_opt_out": opted_out,
                    "opted_out_at": (
                        clock.at(rng.randint(0, shape.created_age), (9, 21)) if opted_out else None
                    ),
                    "owner_staff_id": owner,
                }
            )
        await _insert(session, Customer, customer_rows)
        ids: dict[str, int] = dict(
            (await session.execute(select(Customer.external_id, Customer.id))).all()
        )
        customer_ids = [ids[row["external_id"]] for row in customer_rows]

        orders, events = _history_rows(shapes, customer_ids, clock, as_of, rng)
        follow_ups = _follow_up_rows(shapes, customer_ids, owners, clock, as_of, rng)
        await _insert(session, Order, orders)
        await _insert(session, ActivityEvent, events)
        await _insert(session, FollowUp, follow_ups)
        await uow.commit()
    return DemoStats(
        customers=len(customer_rows),
        orders=len(orders),
        refunded_orders=sum(1 for row in orders if row["status"] == "refunded"),
        events=len(events),
        staff=len(staff_rows),
        follow_ups=len(follow_ups),
        archetypes=dict(Counter(labels)),
    )


async def _insert(session: Any, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    table = model.__table__
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table), rows[start : start + BATCH])


def _history_rows(
    shapes: Sequence[Shape],
    customer_ids: Sequence[int],
    clock: _Clock,
    as_of: date,
    rng: random.Random,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    orders: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    seen_events: set[tuple[int, str, datetime, str]] = set()
    for shape, customer_id in zip(shapes, customer_ids, strict=True):
        paid = [(age, fen, "paid") for age, fen in shape.orders]
        refunded = [(age, fen, "refunded") for age, fen in shape.refunded]
        for age, fen, status in sorted(paid + refunded, key=lambda item: -item[0]):
            paid_at = clock.at(age, (8, 22))
            day = as_of - timedelta(days=age)
            orders.append(
                {
                    "order_no": f"SO{day:%Y%m%d}{len(orders) + 1:06d}",
                    "customer_id": customer_id,
                    "amount_fen": fen,
                    "paid_at": paid_at,
                    "status": status,
                    "refunded_at": (
                        paid_at + timedelta(days=rng.randint(1, 5))
                        if status == "refunded"
                        else None
                    ),
                    "created_at": paid_at,
                    "updated_at": paid_at,
                }
            )
        for kind, age, detail in shape.events:
            occurred_at = clock.at(age, (8, 22))
            key = (customer_id, kind, occurred_at, detail)
            if key in seen_events:
                continue
            seen_events.add(key)
            events.append(
                {
                    "customer_id": customer_id,
                    "kind": kind,
                    "occurred_at": occurred_at,
                    "detail": detail,
                    "created_at": occurred_at,
                }
            )
    return orders, events


def _follow_up_rows(
    shapes: Sequence[Shape],
    customer_ids: Sequence[int],
    owners: Sequence[int | None],
    clock: _Clock,
    as_of: date,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """A few logged contacts, mostly with customers worth a call (declining, mature)."""
    chance = {"declining": 0.25, "mature": 0.15}
    rows: list[dict[str, Any]] = []
    for shape, customer_id, owner in zip(shapes, customer_ids, owners, strict=True):
        stage = INTENDED_STAGE[shape.archetype]
        if owner is None or rng.random() >= chance.get(stage, 0.04):
            continue
        ages = sorted(
            {rng.randint(0, min(45, shape.created_age)) for _ in range(rng.randint(1, 3))},
            reverse=True,
        )
        for age in ages:
            at = clock.at(age, (9, 18))
            due = rng.choice((7, 14, 30, None))
            rows.append(
                {
                    "customer_id": customer_id,
                    "staff_id": owner,
                    "note": rng.choice(FOLLOW_UP_NOTES[stage]),
                    "created_at": at,
                    "next_due_on": (as_of - timedelta(days=age - due)) if due else None,
                }
            )
    return rows


async def wipe_all_data(db: Database) -> None:
    """Empty every table except the migration bookkeeping (used by `fission demo --reset` on
    PostgreSQL; on SQLite the CLI recreates the file instead)."""

    def table_names(connection: Connection) -> list[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        return [t.name for t in reversed(metadata.sorted_tables) if t.name != "alembic_version"]

    async with db.engine.begin() as conn:
        names = await conn.run_sync(table_names)
        if not names:
            return
        if db.dialect == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await conn.execute(text(f'DELETE FROM "{name}"'))
