"""Loading benchmark data on PostgreSQL the way bulk loads are done: indexes and constraints
built once at the end instead of maintained row by row.

`generate_bench_data` inserts 10M orders in random customer order; with the unique order
number, the (customer_id, paid_at) index and the foreign key kept up per row, that alone took
~39 s per million orders here (~7 minutes for the full size). Dropping the secondary indexes,
unique and foreign-key constraints of the tables it fills, and re-creating them afterwards from
their own definitions (`pg_get_indexdef` / `pg_get_constraintdef`, so the schema ends up exactly
as migrated), builds each index with one sort and checks each foreign key with one join.
Primary keys stay. SQLite cannot drop constraints; there the data is generated as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from models.db import Database


def _tables_sql(tables: tuple[str, ...]) -> str:
    return ", ".join(f"'{name}'::regclass" for name in tables)


@asynccontextmanager
async def indexes_built_after(db: Database, tables: tuple[str, ...]) -> AsyncIterator[None]:
    if db.dialect != "postgresql":
        yield
        return
    among = _tables_sql(tables)
    async with db.engine.begin() as conn:
        constraints = (
            await conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, contype, "
                    "pg_get_constraintdef(oid) FROM pg_constraint "
                    f"WHERE conrelid IN ({among}) AND contype IN ('f', 'u') "
                    "ORDER BY contype, conname"  # foreign keys first
                )
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                    f"FROM pg_index i WHERE indrelid IN ({among}) AND NOT EXISTS ("
                    "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
                    "AND c.contype IN ('p', 'u', 'x'))"
                )
            )
        ).all()
        for table, name, _, _ in constraints:
            await conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _ in indexes:
            await conn.execute(text(f"DROP INDEX {name}"))
    yield
    async with db.engine.begin() as conn:
        await conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        for _, definition in indexes:
            await conn.execute(text(definition))
        for table, name, _, definition in reversed(constraints):  # unique before foreign keys
            await conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
