"""Which process runs the scheduled jobs.

PostgreSQL: the process holding a session-level advisory lock, on a connection of its own kept
open while it leads; the lock goes when that connection does (crash, network loss), so another
process takes over at its next attempt. SQLite: one process by design, always the leader.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import Database

log = logging.getLogger(__name__)

# "FISS" — the advisory lock key every Fission process contends for.
LEADER_LOCK_KEY = 0x46495353
_HOLDING = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    "AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"
)


class Leadership:
    def __init__(self, db: Database, key: int = LEADER_LOCK_KEY) -> None:
        self._db = db
        self._key = key
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def is_leader(self) -> bool:
        return self._db.dialect != "postgresql" or self._conn is not None

    async def try_lead(self) -> bool:
        """Leader now? Takes the lock if free; checks a held lock is still held."""
        if self._db.dialect != "postgresql":
            return True
        async with self._lock:
            if self._conn is not None and not await self._still_held():
                log.warning("scheduler leadership lost (lock connection gone)")
                await self._drop()
            if self._conn is None:
                await self._acquire()
            return self._conn is not None

    async def release(self) -> None:
        async with self._lock:
            if self._conn is None:
                return
            try:
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
                await self._conn.commit()
            except Exception:  # the connection is going anyway; closing it frees the lock
                log.warning("could not unlock the scheduler lock; closing its connection")
            await self._drop()

    async def _acquire(self) -> None:
        conn = None
        try:
            conn = await self._db.engine.connect()
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            await conn.commit()  # the lock is session-level: it outlives this transaction
        except Exception as exc:
            log.warning("scheduler leadership: database unreachable (%s)", type(exc).__name__)
            if conn is not None:
                await self._discard(conn)
            return
        if got:
            self._conn = conn
            log.info("this process now runs the scheduled jobs")
        else:
            await conn.close()

    async def _still_held(self) -> bool:
        assert self._conn is not None
        try:
            held = await self._conn.scalar(_HOLDING, {"key": self._key})
            await self._conn.commit()
        except Exception:
            return False
        return bool(held)

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._discard(conn)

    @staticmethod
    async def _discard(conn: AsyncConnection) -> None:
        """Close the DBAPI connection itself, not back into the pool: a pooled connection
        would keep a session-level lock alive for whoever borrows it next."""
        try:
            await conn.invalidate()
            await conn.close()
        except Exception:
            log.debug("closing the scheduler lock connection failed", exc_info=True)
