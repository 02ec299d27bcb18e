"""PostgreSQL only: the run's scratch tables under a role that may not create tables, and two
runs started at once.

SQLite needs neither: its scratch tables are always temporary, and it admits one writer at a
time.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from lifecycle_world import TZ, T, World, local
from pg_roles import data_privileges_only

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


async def _run(db: Database) -> LifecycleSummary:
    return await run_lifecycle(db, as_of=T, tz=TZ, rules=LifecycleRules(), grading=GradingRules())


async def test_a_role_that_may_not_create_tables_still_classifies(db: Database) -> None:
    _postgresql_only(db)
    world = await _small_world(db)
    async with data_privileges_only(db, may_create_tables=False) as limited:
        summary = await _run(limited)

    assert summary.counts["growing"] + summary.counts["new"] == 1  # alice
    assert summary.counts["prospect"] == 1  # bob
    assert summary.transitions == 2
    stored = await world.assignments()
    assert {name: row.stage for name, row in stored.items()}["bob"] == "prospect"


async def test_a_role_that_may_not_create_tables_inserts_an_earlier_date(db: Database) -> None:
    """The recomputed history's scratch tables are temporary ones there too."""
    _postgresql_only(db)
    world = await _small_world(db)
    await _run(db)
    earlier = T - timedelta(days=20)
    async with data_privileges_only(db, may_create_tables=False) as limited:
        summary = await run_lifecycle(
            limited, as_of=earlier, tz=TZ, rules=LifecycleRules(), grading=GradingRules()
        )

    assert summary.recomputed == (T,)
    assert [(name, to, day) for name, _, to, day, _ in await world.transitions()] == [
        ("alice", "new", earlier),  # her first order 20 days before, the second 3 days after
        ("bob", "prospect", earlier),
        ("alice", "growing", T),
    ]


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
            else await stack.enter_async_context(data_privileges_only(db, may_create_tables=False))
        )
        first, second = await asyncio.gather(_run(runner), _run(runner))

    # Whichever ran second found the first one's verdicts stored: nothing left to change.
    assert sorted([first.transitions, second.transitions]) == [0, 2]
    assert len(await world.transitions()) == 2
    assert first.counts == second.counts
