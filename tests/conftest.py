"""Test databases: every test that asks for `db` runs once on SQLite and once on PostgreSQL.

Each test run migrates one template per backend; every test then gets its own copy (a file copy
on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), so tests never see each other's rows and
the code under test may commit freely. With CI=true an unreachable PostgreSQL fails the run
instead of skipping its half.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from fakes.inbox import FakeInbox
from pg_pool import PgDatabasePool

from models.db import Database
from models.migrate import upgrade

PG_DSN = os.environ.get("FISSION_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
# pid, start time (hex seconds), a random tag: names its databases (fission_t_<RUN_ID>_<n>).
RUN_ID = f"{os.getpid()}_{int(time.time()):x}_{uuid.uuid4().hex[:6]}"
# A run's databases left behind are dropped by a later run once its process is gone and it
# started this long ago (no test run lasts that long; a live run in another PID namespace
# sharing this server is not touched).
LEFTOVER_AFTER_S = 6 * 3600
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_url(dbname: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


async def _drop_leftovers() -> list[str]:
    """Drop the test databases of earlier runs (killed before their clean-up): those whose
    process is gone and that started over LEFTOVER_AFTER_S ago. Returns the names dropped."""
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        names = [
            row[0]
            for row in await conn.fetch(
                "SELECT datname FROM pg_database "
                "WHERE datname ~ '^fission_(t|tpl)_[0-9]+_[0-9a-f]+_[0-9a-f]{6}(_[0-9]+)?$'"
            )
        ]
        old_before = time.time() - LEFTOVER_AFTER_S

        def left_over(name: str) -> bool:
            pid, started = name.split("_")[2:4]
            return int(started, 16) < old_before and not _alive(int(pid))

        gone = [name for name in names if left_over(name)]
        for name in gone:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return gone
    finally:
        await conn.close()


class _Templates:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        self.pg_error: str | None = None
        self.pg_databases: list[str] = []
        self.pg_pool: PgDatabasePool | None = None

    def sqlite(self) -> Path:
        if self.sqlite_template is None:
            path = self.tmp / "template.db"

            async def build() -> None:
                db = Database.from_url(f"sqlite+aiosqlite:///{path}")
                await upgrade(db)
                async with db.engine.begin() as conn:
                    await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                await db.dispose()

            asyncio.run(build())
            self.sqlite_template = path
        return self.sqlite_template

    def postgres(self) -> str:
        if self.pg_template is None and self.pg_error is None:
            name = f"fission_tpl_{RUN_ID}"

            async def build() -> None:
                await _drop_leftovers()
                await _pg_admin(f'CREATE DATABASE "{name}"')
                db = Database.from_url(_pg_url(name))
                await upgrade(db)
                await db.dispose()

            try:
                asyncio.run(build())
                self.pg_template = name
                self.pg_databases.append(name)
                self.pg_pool = PgDatabasePool(PG_DSN, name, f"fission_t_{RUN_ID}")
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                self.pg_error = f"PostgreSQL unreachable at {PG_DSN}: {exc!r}"
        if self.pg_template is None:
            assert self.pg_error is not None
            if IN_CI:
                pytest.fail(self.pg_error + " (CI=true: PostgreSQL is required)")
            pytest.skip(self.pg_error)
        return self.pg_template

    def drop_all(self) -> None:
        if self.pg_pool is not None:
            self.pg_pool.close()

        async def drop() -> None:
            for name in reversed(self.pg_databases):
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        if self.pg_databases:
            asyncio.run(drop())


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("db"))
    yield templates
    templates.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, _templates: _Templates, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "fission.db"
        shutil.copyfile(_templates.sqlite(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    _templates.postgres()
    assert _templates.pg_pool is not None
    name = _templates.pg_pool.take()
    try:
        yield _pg_url(name)
    finally:
        _templates.pg_pool.release(name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def inbox() -> AsyncIterator[FakeInbox]:
    """A local fake message API and the outbox tests' stand-in sender's platform."""
    fake = FakeInbox()
    await fake.start()
    yield fake
    await fake.close()
