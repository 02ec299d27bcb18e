"""A crash mid-import leaves no half-written row: the import's writes are one transaction.

The failure is injected by a real database object — a trigger that refuses one order number —
so the import fails inside its last statement, after the bare customers were inserted and an
existing order was updated by earlier statements of the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from models import Customer, Order
from models.db import Database
from models.importing import UnusableInput, import_csv

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "order_no,customer_external_id,amount,paid_at,status\n"

_SQLITE_TRIGGER = """
CREATE TRIGGER refuse_boom BEFORE INSERT ON orders WHEN NEW.order_no = 'BOOM'
BEGIN SELECT RAISE(ABORT, 'injected failure'); END
"""
_PG_FUNCTION = """
CREATE FUNCTION refuse_boom() RETURNS trigger AS $$
BEGIN
  IF NEW.order_no = 'BOOM' THEN RAISE EXCEPTION 'injected failure'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
_PG_TRIGGER = (
    "CREATE TRIGGER refuse_boom BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
)


async def _add_failing_trigger(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            await conn.exec_driver_sql(_SQLITE_TRIGGER)
        else:
            await conn.exec_driver_sql(_PG_FUNCTION)
            await conn.exec_driver_sql(_PG_TRIGGER)


async def _drop_failing_trigger(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            await conn.exec_driver_sql("DROP TRIGGER refuse_boom")
        else:
            await conn.exec_driver_sql("DROP TRIGGER refuse_boom ON orders")


async def _seed_paid_order(db: Database) -> None:
    async with db.uow() as uow:
        customer = Customer(external_id="C1", name="张三")
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            Order(
                order_no="O1",
                customer_id=customer.id,
                amount_fen=10000,
                paid_at=datetime(2024, 6, 1, 2, 0, tzinfo=UTC),
            )
        )
        await uow.commit()


async def _state(db: Database) -> tuple[list[str], list[tuple[str, str, datetime | None]]]:
    async with db.uow() as uow:
        customers = (await uow.session.execute(select(Customer.external_id))).scalars().all()
        orders = (
            await uow.session.execute(select(Order.order_no, Order.status, Order.refunded_at))
        ).all()
    return sorted(customers), [tuple(row) for row in orders]  # type: ignore[misc]


async def test_a_database_failure_mid_import_stores_nothing(db: Database, tmp_path: Path) -> None:
    await _seed_paid_order(db)
    await _add_failing_trigger(db)
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + "O1,C1,100.00,2024-06-01 10:00,refunded\n"  # an update of a stored order
        + "O2,NEW,5,2024-06-02,\n"  # a new order for a customer who must be created first
        + "BOOM,C1,1,2024-06-03,\n"  # refused by the trigger, in the last statement
        + "bad,C1,-1,2024-06-03,\n",  # and a rejected row, whose rejects file must not appear
        encoding="utf-8",
    )

    with pytest.raises(DBAPIError, match="injected failure"):
        await import_csv(db, "orders", path, tz=SHANGHAI, batch_rows=1)

    customers, orders = await _state(db)
    assert customers == ["C1"]  # no bare customer NEW
    assert orders == [("O1", "paid", None)]  # neither the refund nor O2
    assert not (tmp_path / "orders.rejects.csv").exists()

    # The same database takes the file once the obstacle is gone (no leftovers in the way).
    await _drop_failing_trigger(db)
    path.write_text(path.read_text(encoding="utf-8").replace("BOOM", "O3"), encoding="utf-8")
    result = await import_csv(db, "orders", path, tz=SHANGHAI, batch_rows=1)
    assert (result.imported, result.updated, result.rejected, result.bare_customers) == (2, 1, 1, 1)
    customers, orders = await _state(db)
    assert customers == ["C1", "NEW"]
    assert sorted(order[:2] for order in orders) == [
        ("O1", "refunded"),
        ("O2", "paid"),
        ("O3", "paid"),
    ]


async def test_a_file_that_turns_undecodable_half_way_stores_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    good = "".join(f"A{i},C1,1,2024-06-01,\n" for i in range(20))
    path.write_bytes((HEADER + good).encode("utf-8") + "A99,张三,1,2024-06-01,\n".encode("gbk"))

    with pytest.raises(UnusableInput) as caught:
        await import_csv(db, "orders", path, tz=SHANGHAI, encoding="utf-8", batch_rows=5)

    assert caught.value.key == "undecodable"
    async with db.uow() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(Order))).scalar() == 0
        assert (await uow.session.execute(select(func.count()).select_from(Customer))).scalar() == 0
