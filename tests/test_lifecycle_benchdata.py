"""The benchmark data generator: right counts, the same data on both backends, every stage."""

from __future__ import annotations

from lifecycle_world import TZ, T, World
from sqlalchemy import func, select

from models import ActivityEvent, Customer, Order
from models.db import Database
from models.lifecycle.benchdata import generate_bench_data

P = 2_147_483_647


def h(n: int, salt: int, seed: int = 3) -> int:
    """benchdata._hash, in Python."""
    a = 1_103_515_245 + 2 * salt
    b = (seed * 2_654_435_761 + salt * 97_531) % P
    h0 = (n * a + b) % P
    h1 = ((h0 * h0) % P * 48271 + salt) % P
    return (h1 * h1) % P


async def test_generated_data_exercises_every_stage(db: Database) -> None:
    await generate_bench_data(
        db, customers=2000, orders=20_000, as_of=T, tz=TZ, seed=3, events=3000
    )
    async with db.uow() as uow:
        s = uow.session
        customers = (await s.execute(select(func.count()).select_from(Customer))).scalar_one()
        orders = (await s.execute(select(func.count(), func.sum(Order.amount_fen)))).one()
        events = (await s.execute(select(func.count()).select_from(ActivityEvent))).scalar_one()
        refunded = (
            await s.execute(select(func.count()).where(Order.status == "refunded"))
        ).scalar_one()
    assert customers == 2000
    assert orders[0] == 20_000
    # The SQL's integer hashing, worked in Python: the same amounts on both backends.
    assert orders[1] == sum(500 + (h(n, 9) % 200) * (h(n, 10) % 200) for n in range(1, 20_001))
    assert 0 < events <= 3000  # duplicates of the natural key are skipped
    assert 400 < refunded < 800  # ~3%

    summary = await World(db).run()
    assert sum(summary.counts.values()) == 2000
    assert all(n > 0 for n in summary.counts.values()), summary.counts
    assert all(n > 0 for n in summary.grades.values()), summary.grades
