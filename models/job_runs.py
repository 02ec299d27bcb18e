"""`job_runs`: one row per scheduled job slot, the guarantee that a slot never runs twice.

The row for (job, scheduled_for) is inserted — and committed — before the job's work starts;
a process whose insert finds the row already there knows another process (or an earlier life of
this one) has that slot, and skips it. `status` goes running → succeeded | failed; a row left
`running` by a process that died is marked failed by the next leader (jobs/runs.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

JOB_STATUSES = ("running", "succeeded", "failed")
ERROR_MAX = 1000


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "scheduled_for"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
        Index("ix_job_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    # The slot: the trigger's fire time (UTC), or the moment of a manual run.
    scheduled_for: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="running")
    # Who ran it: host and process id, so an operator can tell processes apart.
    runner: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
