"""Loading benchmark data on PostgreSQL the way bulk loads are done: indexes and constraints
built once at the end instead of maintained row by row.

`generate_bench_data` inserts 10M orders in random customer order; with the unique order
number, the (customer_id, paid_at) index and the foreign key kept up per row, that alone took
~39 s per million orders here (~7 minutes for the full size). Dropping the secondary indexes,
unique and foreign-key constraints of the tables it fills, and re-creating them afterwards
(`models.bulkload.IndexSet`: from their own definitions, so the schema ends up exactly as
migrated), builds each index with one sort and checks each foreign key with one join. Primary
keys stay. SQLite cannot drop constraints; there the data is generated as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from models.bulkload import IndexSet
from models.db import Database


@asynccontextmanager
async def indexes_built_after(db: Database, tables: tuple[str, ...]) -> AsyncIterator[None]:
    if db.dialect != "postgresql":
        yield
        return
    async with db.engine.begin() as conn:
        taken = await IndexSet.take_off(conn, tables, kinds="uf")
    yield
    async with db.engine.begin() as conn:
        await conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        await taken.put_back(conn)
