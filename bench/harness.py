"""Shared benchmark plumbing: throw-away databases per backend, timing, reporting."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event

from models.db import Database
from models.migrate import upgrade

PG_DSN = os.environ.get("FISSION_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
OUT_DIR = Path(__file__).parent / "out"
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Options:
    scale: float = 1.0
    # PostgreSQL: print EXPLAIN ANALYZE plans of measured statements slower than this.
    explain_s: float | None = None
    # Import: also time orders for customers not imported yet, in a fresh database.
    bare_customers: bool = False


@dataclass
class Result:
    bench: str
    backend: str
    figures: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        parts = [f"{k}={v}" for k, v in self.figures.items()]
        return f"[{self.bench}/{self.backend}] " + "  ".join(parts)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = await fn()
    return time.perf_counter() - start, value


async def best_of(
    times: int, fn: Callable[[], Awaitable[Any]], before: Callable[[], Awaitable[None]] | None
) -> tuple[float, list[float], Any]:
    """Run `fn` `times` times (each after `before`, untimed); the best time, all times, and
    the value of the best run."""
    durations: list[float] = []
    best_value: Any = None
    for _ in range(times):
        if before is not None:
            await before()
        seconds, value = await timed(fn)
        if not durations or seconds < min(durations):
            best_value = value
        durations.append(seconds)
    return min(durations), durations, best_value


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}/{five:.2f}/{fifteen:.2f}"


def peak_rss_mib() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def seconds(value: float) -> float:
    return round(value, 2)


def print_plans(plans: list[str]) -> None:
    for plan in plans:
        print("    " + plan.replace("\n", "\n    "), flush=True)


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def bench_database(backend: str, workdir: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database that is dropped afterwards."""
    if backend == "sqlite":
        path = workdir / f"bench_{uuid.uuid4().hex[:6]}.db"
        db = Database.from_url(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        try:
            yield db
        finally:
            await db.dispose()
            await asyncio.to_thread(_remove_sqlite_files, path)
        return
    name = f"fission_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    db = Database.from_url(f"{base}/{name}")
    await upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()
        admin = await asyncpg.connect(PG_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def postgres_reachable() -> str | None:
    """None when the benchmark PostgreSQL answers, else why not."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_DSN), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@dataclass
class StatementTimes:
    """Wall time per SQL statement sent through SQLAlchemy (COPY through the raw driver is
    not seen). Shows where a run spends its time without touching the code under test."""

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


def save(results: list[Result]) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    return path


@asynccontextmanager
async def explain_slow(db: Database, min_seconds: float | None) -> AsyncIterator[list[str]]:
    """PostgreSQL only: collect `EXPLAIN ANALYZE` plans of statements slower than
    `min_seconds` (auto_explain, reported to the client as notices) — where a slow run spends
    its time, node by node. Does nothing when `min_seconds` is None or on SQLite."""
    plans: list[str] = []
    if min_seconds is None or db.dialect != "postgresql":
        yield plans
        return

    def listen(_conn: Any, message: Any) -> None:
        plans.append(str(message.message))

    def setup(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for statement in (
            "LOAD 'auto_explain'",
            f"SET auto_explain.log_min_duration = {int(min_seconds * 1000)}",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_buffers = on",
            "SET auto_explain.log_triggers = on",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_level = 'notice'",
        ):
            cursor.execute(statement)
        cursor.close()
        dbapi_conn.driver_connection.add_log_listener(listen)

    engine = db.engine.sync_engine
    await db.engine.dispose()  # pooled connections would miss the setup
    event.listen(engine, "connect", setup)
    try:
        yield plans
    finally:
        event.remove(engine, "connect", setup)
        await db.engine.dispose()
