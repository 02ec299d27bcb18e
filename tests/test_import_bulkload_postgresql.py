"""PostgreSQL only: the first import into an empty customers or orders table, with its unique and
secondary indexes built after the INSERT (`merge._indexes_off_for_first_load`).

`bulkload.BULK_LOAD_MIN_ROWS` is patched down to 1 so that a few rows take the path a file of
hundreds of thousands takes. What a user would notice is checked: the rows stored, the counts
reported, duplicates still refused, re-imports still no-ops, the schema afterwards exactly the
migrated one, and no long wait behind a reader. SQLite has no such path.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from import_support import stored_customers, stored_orders, write_csv
from pg_schema import executed_sql, index_creates, index_drops, schema_of
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models import bulkload
from models.bulkload import IndexSet
from models.db import Database
from models.importing import ImportResult, import_csv

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMERS_HEADER = "external_id,name,phone,region,industry,created_at,status\n"
ORDERS_HEADER = "order_no,customer_external_id,amount,paid_at,status\n"
TABLES = ("customers", "orders")


def _postgresql_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: indexes dropped and re-created around a bulk load")


async def _import(db: Database, kind: str, path: Path) -> ImportResult:
    return await asyncio.wait_for(import_csv(db, kind, path, tz=SHANGHAI), 60)


CUSTOMERS = (
    CUSTOMERS_HEADER
    + "K1,张三,13812345678,上海,零售,2024-01-15,\n"
    + "K2,李四,13900001111,北京,餐饮,2024-02-01 09:30,closed\n"
    + "K3,王五,,广州,,2024-03-01 10:00,open\n"
)
ORDERS = (
    ORDERS_HEADER
    + "A1,K1,199.00,2024-06-01 10:00,paid\n"
    + "A2,K2,0.29,2024-06-03,\n"
    + "A3,NEW1,1299.5,2024-06-02 08:00,\n"
    + "A4,K1,18,2024-06-05T00:00:00Z,refunded\n"
)
# ORDERS' amounts as stored, in fen.
ORDERS_FEN = {"A1": 19900, "A2": 29, "A3": 129950, "A4": 1800}


@pytest.mark.parametrize("bulk", [True, False], ids=["threshold_1", "threshold_default"])
async def test_first_imports_into_empty_tables_store_the_rows_and_leave_the_schema_as_migrated(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, TABLES)
    if bulk:
        monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)

    with executed_sql(db) as customer_sql:
        customers = await _import(db, "customers", write_csv(tmp_path, "customers.csv", CUSTOMERS))
    with executed_sql(db) as order_sql:
        orders = await _import(db, "orders", write_csv(tmp_path, "orders.csv", ORDERS))

    if bulk:
        dropped = " ".join(index_drops(customer_sql))
        for name in ("uq_customers_external_id", "ix_customers_phone", "ix_customers_owner_staff"):
            assert name in dropped
        assert "pk_customers" not in dropped and "fk_customers" not in dropped
        assert len(index_creates(customer_sql)) == 3
        # The orders import adds a bare customer to a table no longer empty: only orders'
        # indexes come off.
        dropped = " ".join(index_drops(order_sql))
        assert "uq_orders_order_no" in dropped and "ix_orders_customer_paid" in dropped
        assert "pk_orders" not in dropped and "fk_orders" not in dropped
        assert "customers" not in dropped
        assert len(index_creates(order_sql)) == 2
    else:
        assert index_drops(customer_sql + order_sql) == []
        assert index_creates(customer_sql + order_sql) == []

    assert (customers.imported, customers.updated, customers.rejected) == (3, 0, 0)
    assert (orders.imported, orders.updated, orders.rejected) == (4, 0, 0)
    assert orders.bare_customers == 1
    stored = await stored_customers(db)
    assert set(stored) == {"K1", "K2", "K3", "NEW1"}
    k1 = stored["K1"]
    assert (k1.name, k1.phone, k1.region, k1.industry, k1.status) == (
        "张三",
        "13812345678",
        "上海",
        "零售",
        "open",
    )
    assert k1.created_at == datetime(2024, 1, 14, 16, 0, tzinfo=UTC)
    assert stored["K2"].status == "closed" and stored["K2"].closed_at is not None
    assert (stored["K3"].phone, stored["K3"].industry) == (None, None)
    assert (stored["NEW1"].source, stored["NEW1"].name) == ("order", None)
    placed = await stored_orders(db)
    assert {no: row.amount_fen for no, row in placed.items()} == ORDERS_FEN
    assert {no: row.customer_id for no, row in placed.items()} == {
        "A1": k1.id,
        "A2": stored["K2"].id,
        "A3": stored["NEW1"].id,
        "A4": k1.id,
    }
    assert placed["A1"].paid_at == datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
    assert placed["A4"].status == "refunded" and placed["A4"].refunded_at is not None
    assert await schema_of(db, TABLES) == schema

    # The unique keys put back are enforced.
    async with db.engine.connect() as conn:
        for statement in (
            "INSERT INTO customers (external_id, status, source, created_at, updated_at) "
            "VALUES ('K1', 'open', 'import', now(), now())",
            "INSERT INTO orders (order_no, customer_id, amount_fen, paid_at, status, "
            f"created_at, updated_at) VALUES ('A1', {k1.id}, 1, now(), 'paid', now(), now())",
        ):
            with pytest.raises(IntegrityError, match="uq_"):
                await conn.execute(text(statement))
            await conn.rollback()

    # And a re-import finds every row by its key: nothing new, nothing changed.
    again = await _import(db, "customers", tmp_path / "customers.csv")
    assert (again.imported, again.updated) == (0, 0)
    again = await _import(db, "orders", tmp_path / "orders.csv")
    assert (again.imported, again.updated, again.bare_customers) == (0, 0, 0)
    assert len(await stored_orders(db)) == 4


async def test_a_duplicate_order_number_in_the_file_is_still_rejected(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, TABLES)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    path = write_csv(
        tmp_path,
        "orders.csv",
        ORDERS_HEADER
        + "D1,C1,10.00,2024-06-01 10:00,\n"
        + "D2,C2,20.00,2024-06-01 11:00,\n"
        + "D1,C2,99.00,2024-06-02 10:00,\n"
        + "D3,C1,30.00,2024-06-03 10:00,\n",
    )

    with executed_sql(db) as statements:
        first = await _import(db, "orders", path)

    assert any("uq_orders_order_no" in s for s in index_drops(statements))
    assert (first.imported, first.updated, first.rejected) == (3, 0, 1)
    assert [r.line for r in first.rejects] == [4]
    assert first.rejects[0].reason.startswith("与第 2 行重复")  # a duplicate of line 2
    placed = await stored_orders(db)
    assert {no: row.amount_fen for no, row in placed.items()} == {
        "D1": 1000,
        "D2": 2000,
        "D3": 3000,
    }
    customers = await stored_customers(db)
    assert placed["D1"].customer_id == customers["C1"].id  # the first line's, not the repeat's
    assert await schema_of(db, TABLES) == schema

    with executed_sql(db) as statements:
        again = await _import(db, "orders", path)
    assert index_drops(statements) == []  # the table is not empty any more
    assert (again.imported, again.updated, again.rejected) == (0, 0, 1)
    assert {no: row.amount_fen for no, row in (await stored_orders(db)).items()} == {
        "D1": 1000,
        "D2": 2000,
        "D3": 3000,
    }


async def test_an_import_into_a_non_empty_orders_table_keeps_its_indexes(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, TABLES)
    seeded = await _import(
        db, "orders", write_csv(tmp_path, "first.csv", ORDERS_HEADER + "E1,C1,5.00,2024-05-01,\n")
    )
    assert seeded.imported == 1
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    path = write_csv(
        tmp_path,
        "more.csv",
        ORDERS_HEADER
        + "E1,C1,6.00,2024-05-01,\n"  # a correction of the stored order
        + "E2,C1,7.50,2024-05-02,\n"
        + "E3,C2,8.00,2024-05-03,refunded\n",
    )

    with executed_sql(db) as statements:
        result = await _import(db, "orders", path)

    assert index_drops(statements) == [] and index_creates(statements) == []
    assert (result.imported, result.updated, result.rejected) == (2, 1, 0)
    placed = await stored_orders(db)
    assert {no: row.amount_fen for no, row in placed.items()} == {
        "E1": 600,
        "E2": 750,
        "E3": 800,
    }
    assert placed["E3"].status == "refunded"
    assert await schema_of(db, TABLES) == schema


async def test_an_import_does_not_wait_behind_a_reader_of_the_empty_orders_table(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, TABLES)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    path = write_csv(tmp_path, "orders.csv", ORDERS)

    async with db.engine.connect() as reader:
        # An open transaction that has read the (empty) table holds a share lock on it.
        assert (await reader.execute(text("SELECT 1 FROM orders LIMIT 1"))).all() == []
        with executed_sql(db) as statements:
            result = await asyncio.wait_for(import_csv(db, "orders", path, tz=SHANGHAI), 30)
        # The reader goes on, and sees the committed import.
        assert await reader.scalar(text("SELECT count(*) FROM orders")) == 4
        await reader.rollback()

    assert any("DROP CONSTRAINT" in s for s in statements)  # it tried, then gave up
    assert (result.imported, result.updated, result.rejected) == (4, 0, 0)
    assert {no: row.amount_fen for no, row in (await stored_orders(db)).items()} == ORDERS_FEN
    assert await schema_of(db, TABLES) == schema


async def test_an_import_failing_with_the_indexes_off_leaves_nothing_behind(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, TABLES)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)

    async def failing_put_back(self: IndexSet, conn: AsyncConnection) -> None:
        raise RuntimeError("out of disk space")

    monkeypatch.setattr(IndexSet, "put_back", failing_put_back)
    path = write_csv(tmp_path, "customers.csv", CUSTOMERS)
    with executed_sql(db) as statements, pytest.raises(RuntimeError, match="disk space"):
        await _import(db, "customers", path)

    assert any("uq_customers_external_id" in s for s in index_drops(statements))
    assert await stored_customers(db) == {}
    assert await schema_of(db, TABLES) == schema

    monkeypatch.undo()
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    with executed_sql(db) as statements:
        result = await _import(db, "customers", path)
    assert len(index_creates(statements)) == 3
    assert (result.imported, result.rejected) == (3, 0)
    assert await schema_of(db, TABLES) == schema
