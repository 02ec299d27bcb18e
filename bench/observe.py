"""Seeing where a measured run spends its time, without touching the code under test.

- `statement_times`: wall time of every SQL statement sent through SQLAlchemy (COPY through
  the raw driver is not seen), summed per statement text;
- `explain_slow` (PostgreSQL): `EXPLAIN ANALYZE` plans, trigger times included, of statements
  slower than a threshold, via auto_explain reporting to the client as notices;
- `statement_timeout` (PostgreSQL): a ceiling per statement, so a pathological plan (a
  nested loop that rescans the table it is inserting into) ends as a reported failure
  instead of a benchmark that never finishes.
All three hook the engine's events; the PostgreSQL ones apply to connections opened inside
the block (the pool is emptied on entry and exit).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.harness import seconds
from models.db import Database


@dataclass
class StatementTimes:
    entries: list[tuple[float, str]] = field(default_factory=list)

    def top(self, count: int) -> list[tuple[float, int, str]]:
        """The statements that took longest in total: (seconds, executions, SQL on one line)."""
        totals: dict[str, tuple[float, int]] = {}
        for spent, sql in self.entries:
            flat = " ".join(sql.split())
            total, runs = totals.get(flat, (0.0, 0))
            totals[flat] = (total + spent, runs + 1)
        ranked = sorted(((t, n, sql) for sql, (t, n) in totals.items()), reverse=True)
        return ranked[:count]

    def report(self, count: int = 5, width: int = 100) -> str:
        lines = ["    slowest statements (total seconds, executions):"]
        for spent, runs, sql in self.top(count):
            lines.append(f"    {spent:7.2f}s {runs:>3}x  {sql[:width]}")
        return "\n".join(lines)

    def figures(self, count: int = 6) -> list[dict[str, Any]]:
        return [
            {"seconds": seconds(spent), "executions": runs, "sql": sql[:300]}
            for spent, runs, sql in self.top(count)
        ]


@contextmanager
def statement_times(db: Database) -> Iterator[StatementTimes]:
    times = StatementTimes()
    engine = db.engine.sync_engine
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        begun = started.pop(id(cursor), None)
        if begun is not None:
            times.entries.append((time.perf_counter() - begun, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


@asynccontextmanager
async def _pg_session(
    db: Database, statements: list[str], on_connect: Callable[[Any], None] | None = None
) -> AsyncIterator[None]:
    """Run `statements` on every new PostgreSQL connection opened inside the block."""

    def setup(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        if on_connect is not None:
            on_connect(dbapi_conn.driver_connection)

    engine = db.engine.sync_engine
    await db.engine.dispose()  # pooled connections would miss the setup
    event.listen(engine, "connect", setup)
    try:
        yield
    finally:
        event.remove(engine, "connect", setup)
        await db.engine.dispose()


@asynccontextmanager
async def explain_slow(db: Database, min_seconds: float | None) -> AsyncIterator[list[str]]:
    """Plans of statements slower than `min_seconds`; nothing when None or on SQLite."""
    plans: list[str] = []
    if min_seconds is None or db.dialect != "postgresql":
        yield plans
        return

    def listen(driver: Any) -> None:
        driver.add_log_listener(lambda _conn, message: plans.append(str(message.message)))

    settings = [
        "LOAD 'auto_explain'",
        f"SET auto_explain.log_min_duration = {int(min_seconds * 1000)}",
        "SET auto_explain.log_analyze = on",
        "SET auto_explain.log_buffers = on",
        "SET auto_explain.log_triggers = on",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = 'notice'",
    ]
    async with _pg_session(db, settings, listen):
        yield plans


@asynccontextmanager
async def statement_timeout(db: Database, limit_s: float) -> AsyncIterator[None]:
    """No single statement may run longer than `limit_s` (PostgreSQL; SQLite: no limit)."""
    if db.dialect != "postgresql":
        yield
        return
    async with _pg_session(db, [f"SET statement_timeout = {int(limit_s * 1000)}"]):
        yield


def timed_out(exc: BaseException) -> bool:
    return "canceling statement due to statement timeout" in str(exc)


def print_plans(plans: list[str]) -> None:
    for plan in plans:
        print("    " + plan.replace("\n", "\n    "), flush=True)
