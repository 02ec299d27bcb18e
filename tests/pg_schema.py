"""Helpers for the PostgreSQL bulk-load tests: a snapshot of what a migration made of some tables
(their indexes and constraints), the statements a database is sent while a block runs, and the
ones among them that drop or re-create an index or a constraint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import Database

Schema = tuple[list[tuple[str, str]], list[tuple[str, str, str]]]


async def schema_of(db: Database, tables: tuple[str, ...]) -> Schema:
    """Every index (name, definition) and every constraint (table, name, definition) of
    `tables`, sorted: what a migration made of them."""
    async with db.engine.connect() as conn:
        return await schema_of_in(conn, tables)


async def schema_of_in(conn: AsyncConnection, tables: tuple[str, ...]) -> Schema:
    """`schema_of` as seen inside `conn`'s transaction."""
    indexes = await conn.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename = ANY(:tables)"
        ),
        {"tables": list(tables)},
    )
    constraints = await conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid IN (SELECT oid FROM pg_class "
            "WHERE relname = ANY(:tables) AND relnamespace = 'public'::regnamespace)"
        ),
        {"tables": list(tables)},
    )
    return (
        sorted((str(n), str(d)) for n, d in indexes.all()),
        sorted((str(t), str(n), str(d)) for t, n, d in constraints.all()),
    )


@contextmanager
def executed_sql(db: Database) -> Iterator[list[str]]:
    """The statements `db` sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def index_drops(statements: list[str]) -> list[str]:
    """The statements that drop an index or a constraint."""
    return [s for s in statements if "DROP INDEX" in s or "DROP CONSTRAINT" in s]


def index_creates(statements: list[str]) -> list[str]:
    """The statements that create an index or add a constraint."""
    return [s for s in statements if "CREATE INDEX" in s or "ADD CONSTRAINT" in s]
