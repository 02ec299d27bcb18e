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
writes nothing but a new `lifecycle_runs` row. A T earlier than the stored one is allowed (it
reproduces that day's stages) and, like any run, records its changes as transitions dated T.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import text

from config.rules import GradingRules, LifecycleRules
from models.base import utcnow
from models.db import Database
from models.lifecycle import scratch
from models.lifecycle.classify import write_verdicts
from models.lifecycle.grading import grade, grade_counts, save_grades
from models.lifecycle.metrics import (
    fill_first_amounts,
    gather_events,
    gather_orders,
    gather_referrals,
)
from models.lifecycle.store import (
    append_transitions,
    finish_run,
    indexes_off_for_first_load,
    previous_run_as_of,
    refresh_statistics,
    save_assignments,
    stage_counts,
    start_run,
)
from models.lifecycle.windows import Windows

# PostgreSQL advisory lock key held by a lifecycle run for its transaction ("LIFE").
RUN_LOCK_KEY = 0x4C494645


@dataclass(frozen=True)
class LifecycleSummary:
    as_of: date
    counts: dict[str, int]  # every stage, zeros included, in STAGES order
    grades: dict[str, int]  # A, B, C
    transitions: int  # history rows appended by this run


async def run_lifecycle(
    db: Database,
    *,
    as_of: date,
    tz: tzinfo,
    rules: LifecycleRules,
    grading: GradingRules,
    on_wait: Callable[[], None] | None = None,
) -> LifecycleSummary:
    """Classify and grade every customer as of local date `as_of` in zone `tz`.

    `on_wait` is called when another run is under way and this one waits for it to finish."""
    windows = Windows.build(as_of, tz, rules, grading)
    async with db.uow() as uow:
        conn = await uow.session.connection()
        now = utcnow()
        if conn.dialect.name == "postgresql":
            # One run at a time (a CLI run beside the scheduled one): a second would read the
            # same stored stages, append the same transitions again, and collide on the
            # scratch tables' names. It waits here until the first commits, after saying so.
            # (SQLite admits one writer at a time anyway.)
            key = {"key": RUN_LOCK_KEY}
            if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), key):
                if on_wait is not None:
                    on_wait()
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
            # Sort and hash a million per-customer rows in memory rather than on disk; skip
            # JIT, whose compile time (~0.2 s per statement) these few large statements do not
            # earn back.
            await conn.execute(text("SET LOCAL work_mem = '256MB'"))
            await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await conn.execute(text("SET LOCAL jit = off"))
        previous = await previous_run_as_of(conn)
        run_id = await start_run(conn, as_of, now)
        await scratch.create_all(conn)

        await gather_orders(conn, windows)
        await fill_first_amounts(conn, windows, rules)
        await gather_events(conn, windows)
        await gather_referrals(conn, windows)
        await write_verdicts(conn, windows, rules, tz, same_day_rerun=previous == as_of)
        await grade(conn, grading)

        counts = await stage_counts(conn)
        grades = await grade_counts(conn)
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


__all__ = ["RUN_LOCK_KEY", "LifecycleSummary", "run_lifecycle"]
