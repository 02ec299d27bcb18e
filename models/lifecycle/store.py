"""Writing a run's verdicts: history rows for changed stages, current stages, counts.

Rows whose content is unchanged are not rewritten, so running the same T twice touches nothing,
`updated_at` included.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Select, Table, func, insert, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import Base, UTCDateTime, utcnow
from models.bulkload import IndexSet, unindexed_if_empty
from models.lifecycle import scratch
from models.stages import (
    STAGES,
    CustomerGrade,
    LifecycleRun,
    StageAssignment,
    StageTransition,
    latest_run_as_of,
)


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def previous_run_as_of(conn: AsyncConnection) -> date | None:
    """The T of the run whose verdicts are stored, if any."""
    return (await conn.execute(latest_run_as_of())).scalar_one_or_none()


async def stored_dates_after(conn: AsyncConnection, day: date) -> list[date]:
    """The dates of logged runs later than `day`, oldest first: those a run for `day` must
    recompute after it (history.py). Empty for the nightly run."""
    runs = LifecycleRun.__table__.c
    query = select(runs.as_of).where(runs.as_of > day).group_by(runs.as_of).order_by(runs.as_of)
    return list((await conn.execute(query)).scalars())


async def start_run(conn: AsyncConnection, as_of: date, started_at: datetime) -> int:
    """Log the run first: on SQLite this first write also opens the transaction, so every read
    after it sees one snapshot."""
    result = await conn.execute(
        insert(LifecycleRun)
        .values(as_of=as_of, started_at=started_at, counts={}, grades={}, transitions=0)
        .returning(LifecycleRun.id)
    )
    return int(result.scalar_one())


async def finish_run(
    conn: AsyncConnection,
    run_id: int,
    counts: dict[str, int],
    grades: dict[str, int],
    transitions: int,
) -> None:
    await conn.execute(
        update(LifecycleRun)
        .where(LifecycleRun.id == run_id)
        .values(counts=counts, grades=grades, transitions=transitions, finished_at=utcnow())
    )


def stage_changes(as_of: date) -> Select[tuple[int, str | None, str, str, date]]:
    """The verdicts in `lc_results` whose stage differs from the previous one (or that have
    none) as history rows dated `as_of`: customer, from, to, rule, date."""
    r = scratch.results.c
    return select(
        r.customer_id, r.prev_stage, r.stage, r.rule, literal(as_of, Date).label("as_of")
    ).where(or_(r.prev_stage.is_(None), r.prev_stage != r.stage))


async def append_transitions(conn: AsyncConnection, as_of: date, now: datetime) -> int:
    """One history row per customer whose stage differs from the stored one (or who had none)."""
    t = StageTransition.__table__.c
    source = stage_changes(as_of).add_columns(literal(now, UTCDateTime()))
    columns = [t.customer_id, t.from_stage, t.to_stage, t.rule, t.as_of, t.created_at]
    result = await conn.execute(insert(StageTransition).from_select(columns, source))
    return int(result.rowcount)


async def save_assignments(conn: AsyncConnection, now: datetime) -> int:
    """Bring `stage_assignments` up to date with the run's verdicts; the number of rows added."""
    return await save_changes(
        conn, table_of(StageAssignment), scratch.results, scratch.rewrites, "stage", now
    )


async def save_changes(
    conn: AsyncConnection,
    target: Table,
    verdicts: Table,
    rewrites: Table,
    key: str,
    now: datetime,
) -> int:
    """Write the rows of `verdicts` that differ from what `target` stores: UPDATE the stored
    rows that changed, INSERT the customers who had none (`prev_<key>` NULL). Returns the
    number inserted.

    `verdicts` carries the stored values beside the new ones (`prev_<name>`, read by the same
    join that computed the verdict), so finding what changed is a scan of one scratch table
    rather than another join of a million rows; the few changed rows go to `rewrites`, whose
    fresh statistics let the UPDATE find its rows through the primary key. Two statements
    rather than one upsert: an upsert goes through a conflicting insert for every existing
    row, several times slower for a whole customer base.
    """
    names = [column.name for column in rewrites.columns if column.name != "customer_id"]
    v = verdicts.c
    stored = v[f"prev_{key}"].is_not(None)
    differs = or_(*[v[name].is_distinct_from(v[f"prev_{name}"]) for name in names])
    changed = select(v.customer_id, *[v[name] for name in names]).where(stored, differs)
    await scratch.fill(conn, rewrites, changed, analyze=True)
    w = rewrites.c
    stamp = literal(now, UTCDateTime())
    await conn.execute(
        update(target)
        .where(target.c.customer_id == w.customer_id)
        .values(**{name: w[name] for name in names}, updated_at=stamp)
    )
    first_time = select(v.customer_id, *[v[name] for name in names], stamp).where(~stored)
    result = await conn.execute(
        insert(target).from_select(["customer_id", *names, "updated_at"], first_time)
    )
    return int(result.rowcount)


async def indexes_off_for_first_load(conn: AsyncConnection, customers: int) -> IndexSet | None:
    """The indexes of those of `stage_transitions`, `stage_assignments` and `customer_grades`
    that are empty, taken off for a run over `customers` (`unindexed_if_empty`).

    That is the first run over a customer base (or the first after the tables were emptied):
    with 1M customers its three inserts took ~8.5 s each with indexes, ~2 s each without plus
    ~0.5–1 s per table to build them (first run 53 s → 39 s). The tables stay exclusively
    locked until the run commits, a few seconds later: a reader waits that long and then finds
    them filled instead of empty. If one of them is being read when the run gets there, the run
    does not wait: it loads with the indexes in place."""
    models = (StageTransition, StageAssignment, CustomerGrade)
    return await unindexed_if_empty(conn, tuple(table_of(m).name for m in models), customers)


# Rows added by one run, beyond which the stage tables' planner statistics are refreshed.
_STALE_AFTER_ROWS = 10_000


async def refresh_statistics(conn: AsyncConnection, inserted: int) -> None:
    """PostgreSQL: after a run that added many rows (the first run, a large import), gather
    fresh statistics for the tables it filled.

    The next run joins and updates these tables; planned with statistics from when they were
    (nearly) empty, a join can become a nested loop that rescans a million rows per row.
    Autovacuum would catch up eventually, but not reliably before the next run (and not at all
    where it is switched off). ANALYZE inside the run's transaction sees the rows it added.
    """
    if conn.dialect.name != "postgresql" or inserted < _STALE_AFTER_ROWS:
        return
    await conn.execute(text("ANALYZE stage_assignments, customer_grades, stage_transitions"))


async def stage_counts(conn: AsyncConnection) -> dict[str, int]:
    r = scratch.results.c
    rows = await conn.execute(select(r.stage, func.count()).group_by(r.stage))
    found = {stage: int(n) for stage, n in rows.all()}
    return {stage: found.get(stage, 0) for stage in STAGES}
