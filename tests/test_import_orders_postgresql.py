"""PostgreSQL only: the orders (and customers) merge against a planner that believes the table
is empty, and against another transaction storing the same order number while the import runs.

SQLite needs neither: its planner looks rows up by the unique index whatever the table's size,
and it admits one writer at a time, so nothing can slip in between the import's steps.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from import_support import stored_orders
from pg_locks import until_a_lock_wait
from sqlalchemy import select, text

from models import Customer
from models.db import Database
from models.importing import ImportResult, import_csv

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "order_no,customer_external_id,amount,paid_at,status\n"


def _postgresql_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner and concurrent writers")


async def _autocommit(db: Database, *statements: str) -> None:
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await auto.exec_driver_sql(statement)


async def _import_within_8s_per_statement(db: Database, kind: str, path: Path) -> ImportResult:
    """Each statement of a linear plan takes well under 1 s for these 50,000-row files; the
    quadratic one (a nested loop rescanning the table being filled, per row) took ~20 s."""
    url = db.engine.url.render_as_string(hide_password=False)
    limited = Database.from_url(url, connect_args={"server_settings": {"statement_timeout": "8s"}})
    try:
        return await import_csv(limited, kind, path, tz=SHANGHAI)
    finally:
        await limited.dispose()


ROWS = 50_000


async def test_a_big_file_into_an_orders_table_vacuumed_while_empty_imports_in_linear_time(
    db: Database, tmp_path: Path
) -> None:
    _postgresql_only(db)
    await _autocommit(
        db,
        "INSERT INTO customers (external_id, status, source, created_at, updated_at) "
        "SELECT 'C' || n, 'open', 'import', now(), now() FROM generate_series(0, 99) n",
        # Statistics now say `orders` has no rows (not "unknown"), as after clearing demo data.
        "VACUUM ANALYZE customers",
        "VACUUM ANALYZE orders",
    )
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "".join(f"V{n:06d},C{n % 100},1.00,2024-06-01 10:00:00,\n" for n in range(ROWS)),
        encoding="utf-8",
    )

    result = await _import_within_8s_per_statement(db, "orders", path)

    assert (result.imported, result.updated, result.rejected) == (ROWS, 0, 0)


async def test_a_big_customers_file_into_a_table_vacuumed_while_empty_imports_in_linear_time(
    db: Database, tmp_path: Path
) -> None:
    _postgresql_only(db)
    await _autocommit(db, "VACUUM ANALYZE customers")
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_id,name,phone,region,industry,created_at\n"
        + "".join(f"K{n:06d},张三,13812345678,上海,零售,2024-01-15\n" for n in range(ROWS)),
        encoding="utf-8",
    )

    # The same quadratic plan as for orders: 20,000 customers took 3.8 s instead of 0.5 s.
    result = await _import_within_8s_per_statement(db, "customers", path)

    assert (result.imported, result.updated, result.rejected) == (ROWS, 0, 0)


async def test_orders_for_many_unknown_customers_create_them_in_linear_time(
    db: Database, tmp_path: Path
) -> None:
    _postgresql_only(db)
    await _autocommit(db, "VACUUM ANALYZE customers", "VACUUM ANALYZE orders")
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "".join(f"V{n:06d},N{n},1.00,2024-06-01 10:00:00,\n" for n in range(ROWS)),
        encoding="utf-8",
    )

    result = await _import_within_8s_per_statement(db, "orders", path)

    assert (result.imported, result.updated, result.rejected) == (ROWS, 0, 0)
    assert result.bare_customers == ROWS


@pytest.mark.parametrize("other_ends_with", ["commit", "rollback"])
async def test_an_order_stored_meanwhile_by_another_transaction_is_left_to_it(
    db: Database, tmp_path: Path, other_ends_with: str
) -> None:
    _postgresql_only(db)
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="C1", name="张三"))
        await uow.commit()
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "R1,C1,1.00,2024-06-01,\nR2,C1,2.00,2024-06-01,\n", encoding="utf-8")

    async with db.engine.connect() as other:
        # Not committed yet: invisible to the import, which then waits on R2's index entry.
        await other.execute(
            text(
                "INSERT INTO orders (order_no, customer_id, amount_fen, paid_at, status, "
                "created_at, updated_at) SELECT 'R2', id, 999, now(), 'paid', now(), now() "
                "FROM customers WHERE external_id = 'C1'"
            )
        )
        importing = asyncio.create_task(import_csv(db, "orders", path, tz=SHANGHAI))
        await until_a_lock_wait(
            db, "the import never waited for the other transaction", tries=200, pause=0.05
        )
        if other_ends_with == "commit":
            await other.commit()
        else:
            await other.rollback()
        result = await importing

    orders = await stored_orders(db)
    assert orders["R1"].amount_fen == 100
    if other_ends_with == "commit":
        # Neither a failed import nor an overwrite: R2 is the other transaction's order.
        assert (result.imported, result.updated, result.rejected) == (1, 0, 0)
        assert orders["R2"].amount_fen == 999
    else:
        assert (result.imported, result.updated, result.rejected) == (2, 0, 0)
        assert orders["R2"].amount_fen == 200


async def test_times_are_exact_whatever_the_session_time_zone(db: Database, tmp_path: Path) -> None:
    # Staged times travel as naive UTC; the session's zone must not shift them on the way in.
    _postgresql_only(db)
    url = db.engine.url.render_as_string(hide_password=False)
    elsewhere = Database.from_url(
        url, connect_args={"server_settings": {"timezone": "America/Los_Angeles"}}
    )
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "T1,C1,1,2024-06-01 10:00:00,\nT2,C1,1,2024-06-01,\nT3,C2,1,2024-06-01T10:00Z,\n",
        encoding="utf-8",
    )
    try:
        first = await import_csv(elsewhere, "orders", path, tz=SHANGHAI)
        again = await import_csv(elsewhere, "orders", path, tz=SHANGHAI)
    finally:
        await elsewhere.dispose()

    assert (first.imported, again.imported, again.updated) == (3, 0, 0)
    orders = await stored_orders(db)
    assert {key: row.paid_at for key, row in orders.items()} == {
        "T1": datetime(2024, 6, 1, 2, 0, tzinfo=UTC),
        "T2": datetime(2024, 5, 31, 16, 0, tzinfo=UTC),
        "T3": datetime(2024, 6, 1, 10, 0, tzinfo=UTC),
    }
    async with db.uow() as uow:
        bare = await uow.session.scalar(select(Customer).where(Customer.external_id == "C1"))
    assert bare is not None and bare.created_at == datetime(2024, 5, 31, 16, 0, tzinfo=UTC)
