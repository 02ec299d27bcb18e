"""PostgreSQL only: the run's scratch tables under a role that may not create tables, and two
runs started at once.

SQLite needs neither: its scratch tables are always temporary, and it admits one writer at a
time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from lifecycle_world import TZ, T, World, local
from sqlalchemy import text

from config.rules import GradingRules, LifecycleRules
from models.db import Database
from models.lifecycle import LifecycleSummary, run_lifecycle


def _postgresql_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL roles and concurrent runs")


async def _small_world(db: Database) -> World:
    world = World(db)
    await world.customer("alice")
    await world.customer("bob")
    await world.add(
        world.order("alice", 0, 10_000, at=local(3)),
        world.order("alice", 0, 12_000, at=local(40)),
    )
    return world


@asynccontextmanager
async def _without_create_privilege(db: Database) -> AsyncIterator[Database]:
    """The same database through a role with data privileges only: it may not create a
    table in the schema (temporary tables it may)."""
    role = f"fission_reader_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        await auto.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        await auto.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        await auto.exec_driver_sql(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    limited = Database.from_url(db.engine.url.set(username=role).render_as_string(False))
    try:
        async with limited.engine.connect() as conn:
            may_create = await conn.scalar(
                text("SELECT has_schema_privilege(current_schema(), 'CREATE')")
            )
        assert may_create is False  # the premise
        yield limited
    finally:
        await limited.dispose()
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql(f"DROP OWNED BY {role}")
            await auto.exec_driver_sql(f"DROP ROLE {role}")


async def _run(db: Database) -> LifecycleSummary:
    return await run_lifecycle(db, as_of=T, tz=TZ, rules=LifecycleRules(), grading=GradingRules())


async def test_a_role_that_may_not_create_tables_still_classifies(db: Database) -> None:
    _postgresql_only(db)
    world = await _small_world(db)
    async with _without_create_privilege(db) as limited:
        summary = await _run(limited)

    assert summary.counts["growing"] + summary.counts["new"] == 1  # alice
    assert summary.counts["prospect"] == 1  # bob
    assert summary.transitions == 2
    stored = await world.assignments()
    assert {name: row.stage for name, row in stored.items()}["bob"] == "prospect"


@pytest.mark.parametrize("may_create_tables", [True, False])
async def test_two_runs_started_together_record_each_change_once(
    db: Database, may_create_tables: bool
) -> None:
    _postgresql_only(db)
    world = await _small_world(db)

    async with AsyncExitStack() as stack:
        runner = (
            db
            if may_create_tables
            else await stack.enter_async_context(_without_create_privilege(db))
        )
        first, second = await asyncio.gather(_run(runner), _run(runner))

    # Whichever ran second found the first one's verdicts stored: nothing left to change.
    assert sorted([first.transitions, second.transitions]) == [0, 2]
    assert len(await world.transitions()) == 2
    assert first.counts == second.counts
