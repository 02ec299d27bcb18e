"""Stored results of the lifecycle and grading runs: current stage, history, grade, run log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Index,
    Integer,
    Select,
    String,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

STAGES = ("prospect", "new", "growing", "mature", "declining", "churned")
GRADES = ("A", "B", "C")
_STAGE_CHECK = "stage IN ('prospect', 'new', 'growing', 'mature', 'declining', 'churned')"


class StageAssignment(Base):
    """A customer's current stage, the date it began, and the rule and metrics that put them
    there — the receipt a staff member sees when they ask "why".

    The date these verdicts describe is the latest run's (`latest_run_as_of`): a row is only
    rewritten when its content changes, so `updated_at` is when the verdict last changed."""

    __tablename__ = "stage_assignments"
    __table_args__ = (
        CheckConstraint(_STAGE_CHECK, name="stage"),
        Index("ix_stage_assignments_stage", "stage"),
    )

    # A customer's id. No foreign key: only the lifecycle run writes these rows, for customers
    # it has just read, and a trigger on `customers` deletes them with their customer
    # (migration 0007: per-row key checks were a third of the first run over 1M customers).
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(String(10))
    since: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(40))
    metrics: Mapped[dict[str, Any]]
    qualified: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StageTransition(Base):
    """Append-only history: a row only when the stage changed."""

    __tablename__ = "stage_transitions"
    __table_args__ = (
        CheckConstraint(
            "to_stage IN ('prospect', 'new', 'growing', 'mature', 'declining', 'churned')",
            name="to_stage",
        ),
        Index("ix_stage_transitions_customer_as_of", "customer_id", "as_of"),
        Index("ix_stage_transitions_as_of", "as_of"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId)  # no foreign key: see StageAssignment
    from_stage: Mapped[str | None] = mapped_column(String(10))
    to_stage: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerGrade(Base):
    """Current A/B/C grade with the metrics behind it, as of the latest run. Customers without
    orders have no row. The percentile score is not stored: it moves for everyone every day;
    `models.lifecycle.grading.percentile_score` computes it from these rows."""

    __tablename__ = "customer_grades"
    __table_args__ = (
        CheckConstraint("grade IN ('A', 'B', 'C')", name="grade"),
        Index("ix_customer_grades_grade", "grade"),
    )

    # No foreign key: see StageAssignment.
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    grade: Mapped[str] = mapped_column(String(1))
    orders_365d: Mapped[int] = mapped_column(Integer)
    aov_fen: Mapped[int] = mapped_column(BigInteger)
    ltv_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LifecycleRun(Base):
    """One classification run: what it counted and how long it took."""

    __tablename__ = "lifecycle_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]]
    grades: Mapped[dict[str, Any]]
    transitions: Mapped[int] = mapped_column(Integer, default=0)


def latest_run_as_of() -> Select[date]:
    """The date the stored stages and grades describe: that of the last lifecycle run (each
    run rewrites every customer's verdict in one transaction)."""
    return select(LifecycleRun.as_of).order_by(LifecycleRun.id.desc()).limit(1)
