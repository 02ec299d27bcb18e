"""Shared benchmark plumbing: throw-away databases per backend, timing, reporting."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

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


def save(results: list[Result]) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    return path
