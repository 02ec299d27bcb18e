"""One date's verdicts and grades, computed into the scratch tables: the part of a run that is
the same whether the date follows the stored one or is part of a recomputed history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import FromClause
from sqlalchemy.ext.asyncio import AsyncConnection

from config.rules import GradingRules, LifecycleRules
from models.lifecycle.classify import write_verdicts
from models.lifecycle.grading import grade, grade_counts
from models.lifecycle.metrics import (
    fill_first_amounts,
    gather_events,
    gather_orders,
    gather_referrals,
)
from models.lifecycle.store import stage_counts
from models.lifecycle.windows import Windows


@dataclass(frozen=True)
class LifecycleSummary:
    as_of: date
    counts: dict[str, int]  # every stage, zeros included, in STAGES order
    grades: dict[str, int]  # A, B, C
    transitions: int  # history rows added by this run for this date
    # The stored dates after `as_of` that were recomputed after it, oldest first (a run for a
    # date earlier than the latest stored one; see history.py).
    recomputed: tuple[date, ...] = ()


async def classify_date(
    conn: AsyncConnection,
    windows: Windows,
    rules: LifecycleRules,
    grading: GradingRules,
    tz: tzinfo,
    *,
    same_day_rerun: bool,
    previous: FromClause,
) -> tuple[dict[str, int], dict[str, int]]:
    """Metrics, verdicts (beside the previous ones in `previous`) and grades as of
    `windows.as_of` into the scratch tables; the stage and grade counts."""
    await gather_orders(conn, windows)
    await fill_first_amounts(conn, windows, rules)
    await gather_events(conn, windows)
    await gather_referrals(conn, windows)
    await write_verdicts(conn, windows, rules, tz, same_day_rerun=same_day_rerun, previous=previous)
    await grade(conn, grading)
    return await stage_counts(conn), await grade_counts(conn)
