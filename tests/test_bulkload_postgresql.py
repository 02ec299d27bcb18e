"""PostgreSQL only: a lifecycle run's first load into empty stage tables with their indexes
built after the inserts (`models/bulkload.py`, `indexes_off_for_first_load`).

`BULK_LOAD_MIN_ROWS` is patched down to 1 so that a world of a few customers takes the path a
first run over a large customer base takes. What a user would notice is checked: the verdicts
stored are those of a run that kept its indexes, the schema afterwards is exactly the migrated
one (after a commit and after a rollback), a run never waits long behind a reader, and a role
that does not own the tables still runs. SQLite has no such path.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from lifecycle_world import T, World, local
from pg_locks import until_a_lock_wait
from pg_roles import data_privileges_only
from pg_schema import executed_sql, index_creates, index_drops, schema_of, schema_of_in
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

import models.lifecycle
from models import bulkload
from models.bulkload import IndexSet
from models.db import Database
from models.lifecycle import LifecycleSummary

STAGE_TABLES = ("stage_transitions", "stage_assignments", "customer_grades")


def _postgresql_only(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: indexes dropped and re-created around a bulk load")


async def _build(db: Database) -> World:
    """Customers in several stages and grades: a repeat buyer, a never-buyer, a first-time
    buyer, a lapsed one, a closed one, and a frequent buyer who brought a friend."""
    world = World(db)
    for name in ("alice", "bob", "carol", "dave", "frank"):
        await world.customer(name)
    await world.customer("erin", closed=True, closed_at=local(10))
    await world.add(
        world.order("alice", 3, 10_000),
        world.order("alice", 40, 12_000),
        world.order("carol", 5, 8_800),
        world.order("dave", 200, 50_000),
        world.order("dave", 230, 20_000),
        world.order("erin", 20, 3_000),
        *(world.order("frank", age, 30_000 + age) for age in (1, 15, 35, 50, 70, 95, 130)),
        world.order("frank", 8, 9_900, status="refunded"),
    )
    await world.referral("frank", converted_age=12)
    return world


async def _outcome(world: World) -> dict[str, Any]:
    """What a run leaves for staff to see, by customer name (ids and times aside)."""
    return {
        "assignments": {
            name: (row.stage, row.since, row.rule, row.metrics, row.qualified)
            for name, row in (await world.assignments()).items()
        },
        "grades": await world.grades(),
        # One date: the order of the rows among themselves is the insert's, not a result.
        "transitions": sorted(await world.transitions(), key=repr),
    }


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            name: int(await conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
            for name in STAGE_TABLES
        }


async def _reference(db: Database) -> tuple[LifecycleSummary, dict[str, Any]]:
    """A run of `_build`'s world with the indexes maintained row by row: its summary and what
    it leaves for staff to see. The world is cleared after it."""
    world = await _build(db)
    summary = await world.run()
    expected = await _outcome(world)
    await world.clear()
    return summary, expected


@pytest.mark.parametrize("bulk", [True, False], ids=["threshold_1", "threshold_default"])
async def test_a_first_run_stores_the_same_verdicts_and_leaves_the_schema_as_migrated(
    db: Database, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, STAGE_TABLES)

    # The reference: the same world, run with the indexes maintained row by row.
    reference, expected = await _reference(db)
    assert await _row_counts(db) == dict.fromkeys(STAGE_TABLES, 0)

    if bulk:
        monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    world = await _build(db)
    with executed_sql(db) as statements:
        summary = await world.run()

    if bulk:
        dropped = " ".join(index_drops(statements))
        for name in (
            "pk_stage_transitions",
            "pk_stage_assignments",
            "pk_customer_grades",
            "ix_stage_transitions_as_of",
            "ix_stage_transitions_customer_as_of",
            "ix_stage_assignments_stage",
            "ix_customer_grades_grade",
        ):
            assert name in dropped
        assert len(index_creates(statements)) == 7
    else:
        assert index_drops(statements) == [] and index_creates(statements) == []

    assert summary == reference
    assert await _outcome(world) == expected
    # The world is varied enough for the comparison to mean something.
    assert len({stage for stage, *_ in expected["assignments"].values()}) >= 4
    assert {g.grade for g in expected["grades"].values()} >= {"A", "C"}
    assert summary.transitions == len(expected["transitions"]) == 7  # six and a friend
    assert await schema_of(db, STAGE_TABLES) == schema


async def test_after_a_bulk_first_run_the_next_run_works_and_keys_are_enforced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    world = await _build(db)
    first = await world.run()
    assert first.counts["prospect"] >= 1  # bob

    # T+1: bob buys for the first time. The tables are no longer empty: indexes stay.
    await world.add(world.order("bob", 0, 5_000, at=local(0, as_of=T + timedelta(days=1))))
    with executed_sql(db) as statements:
        second = await world.run(T + timedelta(days=1))

    assert index_drops(statements) == []
    assert second.transitions == 1
    assert second.counts["prospect"] == first.counts["prospect"] - 1
    stored = await world.assignments()
    assert stored["bob"].stage == "new"
    assert (await world.transitions())[-1][:3] == ("bob", "prospect", "new")
    assert "bob" in await world.grades()

    # The primary keys put back are real ones: a second row for a customer is refused.
    async with db.engine.connect() as conn:
        for table in ("stage_assignments", "customer_grades"):
            with pytest.raises(IntegrityError, match=f"pk_{table}"):
                await conn.execute(text(f"INSERT INTO {table} SELECT * FROM {table} LIMIT 1"))
            await conn.rollback()


async def test_a_run_that_fails_after_taking_the_indexes_off_leaves_them_in_place(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, STAGE_TABLES)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)

    async def failing_save_grades(conn: AsyncConnection, now: Any) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(models.lifecycle, "save_grades", failing_save_grades)
    world = await _build(db)
    with executed_sql(db) as statements, pytest.raises(RuntimeError, match="went away"):
        await world.run()

    assert index_drops(statements)  # the indexes were off when it failed
    assert await schema_of(db, STAGE_TABLES) == schema
    assert await _row_counts(db) == dict.fromkeys(STAGE_TABLES, 0)

    # Once the fault is gone, the run goes through.
    monkeypatch.undo()
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    summary = await world.run()
    assert summary.transitions == 7
    assert await schema_of(db, STAGE_TABLES) == schema


async def test_a_run_does_not_wait_behind_a_reader_of_an_empty_stage_table(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, STAGE_TABLES)
    reference, expected = await _reference(db)
    world = await _build(db)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)

    async with db.engine.connect() as reader:
        # An open transaction that has read the (empty) table: it holds a share lock on it.
        assert (await reader.execute(text("SELECT 1 FROM stage_assignments LIMIT 1"))).all() == []
        started = time.monotonic()
        with executed_sql(db) as statements:
            summary = await asyncio.wait_for(world.run(), 30)
        elapsed = time.monotonic() - started
        # The reader was not cut off: its transaction (read committed) sees the run's rows.
        assert (await reader.scalar(text("SELECT count(*) FROM stage_assignments"))) == 7
        await reader.rollback()

    assert elapsed < 20
    assert any("DROP CONSTRAINT" in s for s in statements)  # it tried, then gave up
    assert summary == reference
    assert len(await world.assignments()) == 7  # six customers and frank's friend
    assert await _outcome(world) == expected
    assert await schema_of(db, STAGE_TABLES) == schema


async def test_a_role_that_does_not_own_the_tables_keeps_the_indexes_and_still_runs(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(db)
    schema = await schema_of(db, STAGE_TABLES)
    reference, expected = await _reference(db)
    world = await _build(db)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)

    async with data_privileges_only(db) as limited:
        async with limited.engine.connect() as conn:
            with executed_sql(limited) as statements:
                taken = await IndexSet.take_off_if_free(conn, STAGE_TABLES)
                # Nothing changed, and the transaction is still usable.
                assert await conn.scalar(text("SELECT count(*) FROM stage_assignments")) == 0
            assert taken is None
            assert index_drops(statements) == []
            await conn.rollback()

        with executed_sql(limited) as statements:
            summary = await asyncio.wait_for(World(limited).run(), 30)
        assert index_drops(statements) == []

    assert summary == reference
    assert await _outcome(world) == expected
    assert await schema_of(db, STAGE_TABLES) == schema


async def test_take_off_keeps_a_key_that_another_tables_foreign_key_relies_on(
    db: Database,
) -> None:
    _postgresql_only(db)
    tables = ("customers", "orders")
    schema = await schema_of(db, tables)
    constraints = {name for _, name, _ in schema[1]}

    async with db.engine.connect() as conn:
        taken = await IndexSet.take_off(conn, ("customers",), kinds="pu")
        during = await schema_of_in(conn, ("customers",))
        # orders (and others) reference customers.id: its primary key stays; the unique
        # external number and the secondary indexes go.
        assert [c.name for c in taken.constraints] == ["uq_customers_external_id"]
        assert sorted(d.split()[2] for d in taken.indexes) == [
            "ix_customers_owner_staff_id",
            "ix_customers_phone",
        ]
        assert {name for name, _ in during[0]} == {"pk_customers"}
        assert {name for _, name, _ in during[1]} == {
            "pk_customers",
            "ck_customers_status",
            "fk_customers_owner_staff_id_staff",  # kinds="pu": foreign keys stay
        }
        await taken.put_back(conn)
        assert await schema_of_in(conn, tables) == schema
        await conn.rollback()

    async with db.engine.connect() as conn:
        taken = await IndexSet.take_off(conn, ("customers",), kinds="pu")
        await conn.rollback()  # without put_back: the rollback restores everything
    assert await schema_of(db, tables) == schema
    assert {"pk_customers", "uq_customers_external_id"} <= constraints

    # A foreign key dropped with its table set frees the key it relies on; put_back re-adds
    # the key before the foreign key that uses it.
    both = ("rewards", "reward_ledger")
    before = await schema_of(db, both)
    async with db.engine.connect() as conn:
        taken = await IndexSet.take_off(conn, both)
        names = {c.name for c in taken.constraints}
        assert {"pk_rewards", "fk_reward_ledger_reward_id_rewards"} <= names
        # only the partial unique indexes stay (see the next test)
        assert {name for name, _ in (await schema_of_in(conn, both))[0]} == {
            "uq_rewards_invitation_side",
            "uq_rewards_milestone_tier",
            "uq_reward_ledger_coupon_redeem",
            "uq_reward_ledger_reward_entry",
        }
        await taken.put_back(conn)
        await conn.commit()
    assert await schema_of(db, both) == before


async def test_a_partial_unique_index_stays_in_place_and_keeps_its_definition(
    db: Database,
) -> None:
    """Re-created from `pg_get_indexdef`, a partial index's condition comes back spelled
    differently (`varchar = ANY (ARRAY[...]::text[])`): it is left in place instead."""
    _postgresql_only(db)
    before = await schema_of(db, ("invitations",))
    async with db.engine.connect() as conn:
        taken = await IndexSet.take_off(conn, ("invitations",))
        assert taken.indexes, "the invitations table's other indexes are taken off"
        assert not any("uq_invitations_attributed_invitee" in d for d in taken.indexes)
        kept = await conn.scalar(
            text("SELECT count(*) FROM pg_indexes WHERE indexname = :name"),
            {"name": "uq_invitations_attributed_invitee"},
        )
        assert kept == 1
        await taken.put_back(conn)
        after = await schema_of_in(conn, ("invitations",))
        await conn.rollback()
    assert after == before


@pytest.mark.parametrize("deadlock_timeout", ["1s", "200ms"])
async def test_a_reader_of_two_stage_tables_does_not_make_the_run_fail(
    db: Database, monkeypatch: pytest.MonkeyPatch, deadlock_timeout: str
) -> None:
    """The run takes the tables' locks one after another; a reader holding one of them that
    then reads another (a card showing a stage and a grade in one transaction) waits for the
    run while the run waits for it. The run should give up its bulk load, as it does behind a
    plain reader, not fail — whatever the server's deadlock_timeout (1s is PostgreSQL's
    default; below `take_off_if_free`'s wait_ms the deadlock is detected before the lock
    wait times out)."""
    _postgresql_only(db)
    schema = await schema_of(db, STAGE_TABLES)
    world = await _build(db)
    monkeypatch.setattr(bulkload, "BULK_LOAD_MIN_ROWS", 1)
    url = db.engine.url.render_as_string(hide_password=False)
    runner = Database.from_url(
        url, connect_args={"server_settings": {"deadlock_timeout": deadlock_timeout}}
    )
    try:
        async with db.engine.connect() as reader:
            assert (await reader.execute(text("SELECT 1 FROM stage_assignments"))).all() == []
            running = asyncio.create_task(World(runner).run())
            # The run holds customer_grades, and waits for the reader.
            await until_a_lock_wait(db, "the run never waited for the reader")
            grades = await asyncio.wait_for(
                reader.scalar(text("SELECT count(*) FROM customer_grades")), 30
            )
            await reader.rollback()
            summary = await asyncio.wait_for(running, 30)
    finally:
        await runner.dispose()

    assert grades == 0
    assert summary.transitions == 7
    assert len(await world.assignments()) == 7
    assert await schema_of(db, STAGE_TABLES) == schema
