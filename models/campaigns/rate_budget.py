"""Send rates shared by every process: a token bucket per platform app in `rate_budgets`.

A bucket holds up to `burst` tokens and refills at `rate` per second of elapsed time; a send
takes one. Taking is one UPDATE that refills by the time since the bucket's last update, caps
at the burst and takes what is there (up to what was asked), so any number of processes share
one budget and no lock is held beyond that statement — never across a network call. A worker
that gets nothing waits until the next token is due (`Grant.wait`).

Time is the database server's on PostgreSQL (`clock_timestamp()`), so processes on machines
whose clocks disagree still share one bucket; `updated_at` only moves forward, so a statement
that waited for the row lock cannot hand out the same interval twice. SQLite has one writer at
a time (and one delivery worker): there the refill and the take are two statements in one
transaction, timed by this process's clock.

The burst is a fifth of a second's worth (at least one token): in any second at most 1.2 × the
rate goes out, and the long-run rate is the configured one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import UTCDateTime
from models.campaigns.tables import RateBudget
from models.db import Database
from models.upsert import dialect_insert

BURST_SECONDS = 0.2
_NOW = bindparam("now", type_=UTCDateTime())

_TAKE_PG = text(
    """
    WITH b AS (
        SELECT key, tokens, updated_at, GREATEST(updated_at, clock_timestamp()) AS t
        FROM rate_budgets WHERE key = :key FOR UPDATE
    ), f AS (
        SELECT key, t,
               LEAST(:burst, tokens + :rate * EXTRACT(EPOCH FROM (t - updated_at))::float8)
                   AS avail
        FROM b
    )
    UPDATE rate_budgets r
    SET tokens = f.avail - GREATEST(0, LEAST(:want, FLOOR(f.avail))), updated_at = f.t
    FROM f WHERE r.key = f.key
    RETURNING GREATEST(0, LEAST(:want, FLOOR(f.avail)))::int AS granted, r.tokens AS tokens
    """
)
_REFILL_SQLITE = text(
    """
    UPDATE rate_budgets
    SET tokens = min(:burst, tokens + :rate
                     * max(0.0, (julianday(:now) - julianday(updated_at)) * 86400.0)),
        updated_at = max(updated_at, :now)
    WHERE key = :key
    RETURNING tokens
    """
).bindparams(_NOW)
_TAKE_SQLITE = text("UPDATE rate_budgets SET tokens = tokens - :taken WHERE key = :key")
# After a rate-limit answer: the bucket goes `seconds` worth of tokens below zero.
_PAUSE_PG = text(
    "UPDATE rate_budgets SET tokens = LEAST(tokens, :tokens), "
    "updated_at = GREATEST(updated_at, clock_timestamp()) WHERE key = :key"
)
_PAUSE_SQLITE = text(
    "UPDATE rate_budgets SET tokens = min(tokens, :tokens), updated_at = max(updated_at, :now) "
    "WHERE key = :key"
).bindparams(_NOW)


@dataclass(frozen=True)
class Grant:
    granted: int
    # Seconds until the next token is due (0 when one is there now).
    wait: float


def budget_key(platform: str, app_id: str) -> str:
    return f"{platform}:{app_id}"[:100]


class RateBudgets:
    """The shared buckets of the platforms that have a rate (`[marketing] rate_per_second`);
    a platform without one is not limited here."""

    def __init__(self, db: Database, rates: Mapping[str, float]) -> None:
        self._db = db
        self._rates = dict(rates)
        self._known: set[str] = set()

    def rate(self, platform: str) -> float | None:
        return self._rates.get(platform)

    async def take(self, platform: str, app_id: str, want: int) -> Grant:
        """Up to `want` tokens of the platform app's bucket."""
        rate = self._rates.get(platform)
        if rate is None or want <= 0:
            return Grant(max(want, 0), 0.0)
        key = budget_key(platform, app_id)
        burst = max(1.0, rate * BURST_SECONDS)
        async with self._db.engine.begin() as conn:
            await self._ensure(conn, key, burst)
            if conn.dialect.name == "postgresql":
                row = (
                    await conn.execute(
                        _TAKE_PG, {"key": key, "burst": burst, "rate": rate, "want": want}
                    )
                ).one()
                granted, left = int(row.granted), float(row.tokens)
            else:
                granted, left = await self._take_sqlite(conn, key, burst, rate, want)
        return Grant(granted, max(0.0, (1.0 - left) / rate))

    async def pause(self, platform: str, app_id: str, seconds: float) -> None:
        """The platform said "too many requests, try again in `seconds`": every process
        holds off that long (the bucket goes that far below zero)."""
        rate = self._rates.get(platform)
        if rate is None or seconds <= 0:
            return
        key = budget_key(platform, app_id)
        async with self._db.engine.begin() as conn:
            await self._ensure(conn, key, max(1.0, rate * BURST_SECONDS))
            pause = _PAUSE_PG if conn.dialect.name == "postgresql" else _PAUSE_SQLITE
            await conn.execute(
                pause, {"key": key, "tokens": -rate * seconds, "now": datetime.now(UTC)}
            )

    async def _ensure(self, conn: AsyncConnection, key: str, burst: float) -> None:
        if key in self._known:
            return
        await conn.execute(
            dialect_insert(conn, RateBudget)
            .values(key=key, tokens=burst, updated_at=datetime.now(UTC))
            .on_conflict_do_nothing()
        )
        self._known.add(key)

    async def _take_sqlite(
        self, conn: AsyncConnection, key: str, burst: float, rate: float, want: int
    ) -> tuple[int, float]:
        avail = float(
            (
                await conn.execute(
                    _REFILL_SQLITE,
                    {"key": key, "burst": burst, "rate": rate, "now": datetime.now(UTC)},
                )
            ).scalar_one()
        )
        granted = min(want, int(avail)) if avail >= 1 else 0
        if granted:
            await conn.execute(_TAKE_SQLITE, {"key": key, "taken": granted})
        return granted, avail - granted
