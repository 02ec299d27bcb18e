"""For the PostgreSQL tests of one transaction meeting another: waiting until a session of the
test database is blocked on a lock."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from models.db import Database


async def until_a_lock_wait(
    db: Database, never: str, *, tries: int = 400, pause: float = 0.01
) -> None:
    """Returns once a session of `db`'s database waits on a lock; fails with `never` if none
    does within `tries` looks `pause` seconds apart."""
    async with db.engine.connect() as conn:
        # Autocommit: within one transaction pg_stat_activity would show the same snapshot.
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(tries):
            waiting = await auto.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return
            await asyncio.sleep(pause)
    raise AssertionError(never)
