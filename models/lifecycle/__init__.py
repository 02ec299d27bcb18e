"""Lifecycle stages (DESIGN.md §2.1) and A/B/C grades (§2.2) for every customer, as of a date.

`run_lifecycle` is the whole job, in one transaction and in set-based SQL whatever the number of
customers:

1. one pass over paid orders up to T gathers per-customer metrics into a scratch table
   (conditional aggregates: orders per 30-day window, revenue, first and last order), plus
   one pass each over activity events and converted referrals, and an indexed look-up of the
   first order's amount only where a rule needs it (metrics.py);
2. one statement puts every customer's verdict — stage, rule id, the numbers behind it —
   beside the stored one into another scratch table (classify.py), and one more ranks and
   grades every buyer, also beside the stored grade (grading.py);
3. stage changes are appended to `stage_transitions`, `stage_assignments` and
   `customer_grades` are brought up to date by UPDATE … FROM and INSERT … SELECT (only rows
   that differ are written — receipts hold dates, not day counts, and the run date is kept
   once, in `lifecycle_runs`, so an unchanged customer's rows are not touched), stale grades
   deleted, and the run logged in `lifecycle_runs` (store.py). On PostgreSQL a run that fills
   empty tables (the first run over a customer base) builds their indexes after its inserts
   instead of row by row (`indexes_off_for_first_load`).

On PostgreSQL runs take turns (a transaction-scoped advisory lock), and the scratch tables are
unlogged tables that parallel workers can read (scratch.py).

Customers are all customers in the table, whatever their `created_at` (a customer record made
by a late import may carry orders from before it). Re-running the same T on the same data
writes nothing but a new `lifecycle_runs` row.

Past dates (a business moving in). The stored stages, grades and history are always what running
every logged date in date order would store: the current stage and grade are those of the
latest date run, and the history reads in date order, its last entry the current stage. A T
earlier than the latest stored date is inserted into the history: T is computed from the stages
at the date before it, then every logged date after T again, in order (history.py), and the
current stage changes only if the latest date's verdict does. Runs in any order therefore end
as the same runs in date order would; `backfill_lifecycle` computes a series of past dates in
one such pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, tzinfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from config.rules import GradingRules, LifecycleRules
from models.base import utcnow
from models.db import Database
from models.lifecycle import scratch
from models.lifecycle.grading import save_grades
from models.lifecycle.history import recompute
from models.lifecycle.run_date import LifecycleSummary, classify_date
from models.lifecycle.store import (
    append_transitions,
    finish_run,
    indexes_off_for_first_load,
    previous_run_as_of,
    refresh_statistics,
    save_assignments,
    start_run,
    stored_dates_after,
    table_of,
)
from models.lifecycle.windows import Windows
from models.stages import StageAssignment

# PostgreSQL advisory lock key held by a lifecycle run for its transaction ("LIFE").
RUN_LOCK_KEY = 0x4C494645


async def _take_turn(conn: AsyncConnection, on_wait: Callable[[], None] | None) -> None:
    """PostgreSQL: wait for any other run to finish, and set the run's session limits."""
    if conn.dialect.name != "postgresql":
        return  # SQLite admits one writer at a time anyway
    # One run at a time (a CLI run beside the scheduled one): a second would read the same
    # stored stages, append the same transitions again, and collide on the scratch tables'
    # names. It waits here until the first commits, after saying so.
    key = {"key": RUN_LOCK_KEY}
    if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), key):
        if on_wait is not None:
            on_wait()
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
    # Sort and hash a million per-customer rows in memory rather than on disk; skip JIT, whose
    # compile time (~0.2 s per statement) these few large statements do not earn back.
    await conn.execute(text("SET LOCAL work_mem = '256MB'"))
    await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    await conn.execute(text("SET LOCAL jit = off"))


async def run_lifecycle(
    db: Database,
    *,
    as_of: date,
    tz: tzinfo,
    rules: LifecycleRules,
    grading: GradingRules,
    on_wait: Callable[[], None] | None = None,
    on_dates: Callable[[list[date]], None] | None = None,
) -> LifecycleSummary:
    """Classify and grade every customer as of local date `as_of` in zone `tz`: the current
    stages if `as_of` is the latest date run or later, else `as_of` inserted into the history
    (the module's docstring); the summary of `as_of`.

    `on_wait` is called when another run is under way and this one waits for it to finish;
    `on_dates` with the dates about to be computed when `as_of` is inserted (it, then the
    later dates already run)."""
    async with db.uow() as uow:
        conn = await uow.session.connection()
        now = utcnow()
        await _take_turn(conn, on_wait)
        later = await stored_dates_after(conn, as_of)
        if later:
            if on_dates is not None:
                on_dates([as_of, *later])
            first, *_ = await recompute(
                conn, [as_of, *later], tz=tz, rules=rules, grading=grading, now=now
            )
            await uow.commit()
            return replace(first, recomputed=tuple(later))
        previous = await previous_run_as_of(conn)
        run_id = await start_run(conn, as_of, now)
        await scratch.create_all(conn)

        windows = Windows.build(as_of, tz, rules, grading)
        counts, grades = await classify_date(
            conn,
            windows,
            rules,
            grading,
            tz,
            same_day_rerun=previous == as_of,
            previous=table_of(StageAssignment),
        )
        unindexed = await indexes_off_for_first_load(conn, sum(counts.values()))
        transitions = await append_transitions(conn, as_of, now)
        inserted = await save_assignments(conn, now)
        inserted += await save_grades(conn, now)
        if unindexed is not None:
            await unindexed.put_back(conn)
        await refresh_statistics(conn, inserted)
        await finish_run(conn, run_id, counts, grades, transitions)
        await scratch.drop_all(conn)
        await uow.commit()
    return LifecycleSummary(as_of=as_of, counts=counts, grades=grades, transitions=transitions)


async def backfill_lifecycle(
    db: Database,
    dates: Sequence[date],
    *,
    tz: tzinfo,
    rules: LifecycleRules,
    grading: GradingRules,
    on_wait: Callable[[], None] | None = None,
    on_dates: Callable[[list[date]], None] | None = None,
) -> list[LifecycleSummary]:
    """Classify every customer as of each of `dates` and of every logged date after the
    earliest of them, all in date order and in one transaction, as if each had been run in
    turn (the module's docstring); one summary per date computed, oldest first. `on_wait`: as
    for `run_lifecycle`; `on_dates` is called with every date about to be computed."""
    if not dates:
        return []
    async with db.uow() as uow:
        conn = await uow.session.connection()
        await _take_turn(conn, on_wait)
        first = min(dates)
        every = sorted({*dates, *await stored_dates_after(conn, first)})
        if on_dates is not None:
            on_dates(every)
        summaries = await recompute(conn, every, tz=tz, rules=rules, grading=grading, now=utcnow())
        await uow.commit()
    return summaries


__all__ = ["RUN_LOCK_KEY", "LifecycleSummary", "backfill_lifecycle", "run_lifecycle"]
