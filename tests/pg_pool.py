"""Per-test PostgreSQL databases without waiting for them.

Cloning the template (`CREATE DATABASE … TEMPLATE`) costs a second or more on a busy machine, and
a suite of hundreds of database tests would spend most of its time there. So a used database is
recycled instead: in a background thread it is checked against the template's schema fingerprint
(tables, columns, indexes, constraints, triggers, functions), emptied, and given back the template's
seed rows (e.g. the default referral program) and sequence positions. A test that changed
the schema (a trigger it created to simulate a crash, say) fails the fingerprint check and its
database is dropped rather than reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

import asyncpg

_FINGERPRINT_SQL = """
SELECT md5(string_agg(item, '|' ORDER BY item)) FROM (
    SELECT 'col:' || table_name || '.' || column_name || ':' || data_type AS item
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'idx:' || indexname || ':' || indexdef
      FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'trg:' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'con:' || conrelid::regclass::text || '.' || conname || ':'
           || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'fn:' || p.proname FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
) AS parts
"""
_TABLES_SQL = """
SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'
"""
_SERIALS_SQL = """
SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name)
  FROM information_schema.columns c
 WHERE c.table_schema = 'public'
   AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL
"""


class _Template:
    """What a clean copy looks like: schema fingerprint, seed rows, sequences."""

    def __init__(self) -> None:
        self.fingerprint = ""
        self.tables: list[str] = []
        self.seed: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        self.serials: list[tuple[str, str, str]] = []

    async def read(self, conn: asyncpg.Connection) -> None:
        self.fingerprint = await conn.fetchval(_FINGERPRINT_SQL)
        self.tables = [row[0] for row in await conn.fetch(_TABLES_SQL)]
        for table in self.tables:
            rows = await conn.fetch(f'SELECT * FROM "{table}"')
            if rows:
                self.seed[table] = (list(rows[0].keys()), [tuple(r.values()) for r in rows])
        self.serials = [(r[0], r[1], r[2]) for r in await conn.fetch(_SERIALS_SQL)]


class PgDatabasePool:
    def __init__(self, admin_dsn: str, template: str, prefix: str, *, ahead: int = 2) -> None:
        self._dsn = admin_dsn
        self._template_name = template
        self._prefix = prefix
        self._counter = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._admin: asyncpg.Connection | None = None
        self._template = _Template()
        self._ready: deque[Future[str]] = deque()
        self._pending: list[Future[Any]] = []
        # Every database this pool created and has not dropped: `close` drops them all, even
        # one whose recycling failed half-way (its future then holds an error, not its name).
        self._created: set[str] = set()
        self._run(self._read_template()).result(timeout=120)
        for _ in range(ahead):
            self._ready.append(self._run(self._create()))

    def take(self) -> str:
        """The name of a clean database (blocks only if none is ready yet)."""
        future = self._ready.popleft()
        return future.result(timeout=180)

    def release(self, name: str) -> None:
        """Recycle a used database in the background; it becomes the next ready one."""
        self._ready.append(self._run(self._recycle(name)))

    def close(self) -> None:
        for future in list(self._ready):
            with contextlib.suppress(Exception):  # settled either way; what is left is below
                future.result(timeout=180)
        self._ready.clear()
        for name in sorted(self._created):
            with contextlib.suppress(Exception):
                self._run(self._drop(name)).result(timeout=120)
        self._run(self._close_admin()).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def _run(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _connection(self) -> asyncpg.Connection:
        if self._admin is None or self._admin.is_closed():
            self._admin = await asyncpg.connect(self._dsn, timeout=10)
        return self._admin

    def _dsn_for(self, name: str) -> str:
        return f"{self._dsn.rsplit('/', 1)[0]}/{name}"

    async def _read_template(self) -> None:
        conn = await asyncpg.connect(self._dsn_for(self._template_name), timeout=10)
        try:
            await self._template.read(conn)
        finally:
            await conn.close()

    async def _create(self) -> str:
        self._counter += 1
        name = f"{self._prefix}_{self._counter}"
        admin = await self._connection()
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template_name}"')
        self._created.add(name)
        return name

    async def _drop(self, name: str) -> None:
        admin = await self._connection()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.discard(name)

    async def _recycle(self, name: str) -> str:
        try:
            conn = await asyncpg.connect(self._dsn_for(name), timeout=10)
        except (OSError, asyncpg.PostgresError):
            await self._drop(name)
            return await self._create()
        try:
            # Sessions a test left open (or a lock it left behind) must not hold up the reset.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if await conn.fetchval(_FINGERPRINT_SQL) != self._template.fingerprint:
                raise _SchemaChanged
            await self._reset(conn)
        except (_SchemaChanged, asyncpg.PostgresError):
            await conn.close()
            await self._drop(name)
            return await self._create()
        await conn.close()
        return name

    async def _reset(self, conn: asyncpg.Connection) -> None:
        tpl = self._template
        async with conn.transaction():
            # DELETE on a few small tables is far cheaper than TRUNCATE (no new files to sync).
            # The replica role skips triggers — foreign keys and the append-only ledger's guard —
            # which is safe because every table is emptied.
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in tpl.tables:
                await conn.execute(f'DELETE FROM "{table}"')
            for table, (columns, rows) in tpl.seed.items():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            for table, column, sequence in tpl.serials:
                await conn.execute(
                    f"SELECT setval('{sequence}', COALESCE(MAX(\"{column}\"), 1), "
                    f'MAX("{column}") IS NOT NULL) FROM "{table}"'
                )

    async def _close_admin(self) -> None:
        if self._admin is not None and not self._admin.is_closed():
            await self._admin.close()


class _SchemaChanged(Exception):
    pass
