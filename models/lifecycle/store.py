"""Writing a run's verdicts: history rows for changed stages, current stages, counts.

Rows whose content is unchanged are not rewritten, so running the same T twice touches nothing,
`updated_at` included.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Table, func, insert, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import Base, UTCDateTime, utcnow
from models.lifecycle import scratch
from models.stages import (
    STAGES,
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


async def append_transitions(conn: AsyncConnection, as_of: date, now: datetime) -> int:
    """One history row per customer whose stage differs from the stored one (or who had none)."""
    r = scratch.results.c
    t = StageTransition.__table__.c
    source = select(
        r.customer_id,
        r.prev_stage,
        r.stage,
        r.rule,
        literal(as_of, Date),
        literal(now, UTCDateTime()),
    ).where(or_(r.prev_stage.is_(None), r.prev_stage != r.stage))
    columns = [t.customer_id, t.from_stage, t.to_stage, t.rule, t.as_of, t.created_at]
    result = await conn.execute(insert(StageTransition).from_select(columns, source))
    return int(result.rowcount)


async def save_assignments(conn: AsyncConnection, now: datetime) -> int:
    """Rewrite the rows whose verdict differs, then add customers who had none; returns the
    number added.

    Two set-based statements (UPDATE … FROM, INSERT … SELECT) rather than one upsert: an
    upsert goes through a conflicting insert for every existing row, several times slower for
    a whole customer base.
    """
    r = scratch.results.c
    s = table_of(StageAssignment)
    values = {
        "stage": r.stage,
        "since": r.since,
        "rule": r.rule,
        "metrics": r.metrics,
        "qualified": r.qualified,
    }
    await conn.execute(
        update(s)
        .where(
            s.c.customer_id == r.customer_id,
            or_(*[s.c[name].is_distinct_from(value) for name, value in values.items()]),
        )
        .values(**values, updated_at=literal(now, UTCDateTime()))
    )
    first_time = select(r.customer_id, *values.values(), literal(now, UTCDateTime())).where(
        r.prev_stage.is_(None)
    )
    result = await conn.execute(
        insert(s).from_select(["customer_id", *values, "updated_at"], first_time)
    )
    return int(result.rowcount)


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
