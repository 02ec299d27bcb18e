"""Claiming and recording job slots in `job_runs` (models/job_runs.py).

`run_slot` is the one way a job runs: claim the slot by inserting its row (INSERT … ON CONFLICT
DO NOTHING, committed on its own, before any work), do the work, record the outcome. Whoever
loses the insert skips the slot, so a slot runs once however many processes or restarts try it.
A job's failure is recorded and logged, never raised: the scheduler and the server go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Table, select, update

from models.db import Database
from models.error_text import error_text
from models.job_runs import ERROR_MAX, JobRun
from models.upsert import dialect_insert

log = logging.getLogger(__name__)

Outcome = Literal["succeeded", "failed", "skipped"]
INTERRUPTED = "interrupted: the process stopped before the job finished"


@dataclass(frozen=True)
class RunResult:
    job: str
    slot: datetime
    outcome: Outcome
    error: str | None = None


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


async def claim(db: Database, job: str, slot: datetime, now: datetime) -> int | None:
    """Insert the slot's row and commit it; its id, or None if the slot is already taken."""
    table = JobRun.__table__
    assert isinstance(table, Table)
    stmt = (
        dialect_insert(db.dialect, table)
        .values(job=job, scheduled_for=slot, status="running", runner=runner_name(), started_at=now)
        .on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
        .returning(table.c.id)
    )
    async with db.uow() as uow:
        run_id: int | None = (await uow.session.execute(stmt)).scalar_one_or_none()
        await uow.commit()
    return run_id


async def finish(
    db: Database, run_id: int, status: str, now: datetime, error: str | None = None
) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, finished_at=now, error=error)
            .execution_options(synchronize_session=False)
        )
        await uow.commit()


async def run_slot(
    db: Database,
    job: str,
    slot: datetime,
    work: Callable[[], Awaitable[None]],
    clock: Callable[[], datetime],
) -> RunResult:
    """Run `work` for `job`'s `slot` unless some process already claimed that slot."""
    run_id = await claim(db, job, slot, clock())
    if run_id is None:
        log.info("job %s slot %s: already taken, skipped", job, slot.isoformat())
        return RunResult(job, slot, "skipped")
    try:
        await work()
    except asyncio.CancelledError:
        # Shutdown cut the job short: its own transaction rolled back; say so in the row.
        await asyncio.shield(finish(db, run_id, "failed", clock(), INTERRUPTED))
        raise
    except Exception as exc:  # a failing job is recorded, it never takes the server down
        error = error_text(exc, limit=ERROR_MAX)
        log.exception("job %s slot %s failed", job, slot.isoformat())
        await finish(db, run_id, "failed", clock(), error)
        return RunResult(job, slot, "failed", error)
    await finish(db, run_id, "succeeded", clock())
    log.info("job %s slot %s succeeded", job, slot.isoformat())
    return RunResult(job, slot, "succeeded")


async def mark_interrupted(db: Database, now: datetime) -> int:
    """Rows still `running` when a process becomes the leader belong to a leader that died."""
    async with db.uow() as uow:
        result = await uow.session.execute(
            update(JobRun)
            .where(JobRun.status == "running")
            .values(status="failed", finished_at=now, error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def has_run(db: Database, job: str, slot: datetime) -> bool:
    async with db.uow() as uow:
        found = await uow.session.scalar(
            select(JobRun.id).where(JobRun.job == job, JobRun.scheduled_for == slot)
        )
    return found is not None


async def recent_runs(db: Database, limit: int = 20) -> list[JobRun]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        )
        return list(rows)
