"""After the demo data is written: classify it month by month, then pick customers to show.

Running the lifecycle on the first of each of the last months before the reference date gives
every card a believable history ("2024-03-01 新客户 → 2024-04-01 成长客户 …"); the classifier
ignores orders and events after each date, so the past runs see only the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import func, select

from config.rules import GradingRules, LifecycleRules
from models.customer import Customer
from models.db import Database
from models.lifecycle import LifecycleSummary, run_lifecycle
from models.stages import StageAssignment, StageTransition


def history_dates(as_of: date, months: int = 6) -> list[date]:
    """The first day of each of the last `months` months up to `as_of`'s month, then `as_of`:
    the dates the demo classifies on, so cards show a monthly transition history."""
    dates: list[date] = []
    year, month = as_of.year, as_of.month
    for back in range(months - 1, -1, -1):
        index = year * 12 + (month - 1) - back
        dates.append(date(index // 12, index % 12 + 1, 1))
    return [day for day in dates if day < as_of] + [as_of]


async def classify_history(
    db: Database,
    *,
    as_of: date,
    tz: tzinfo,
    rules: LifecycleRules,
    grading: GradingRules,
    months: int = 6,
) -> LifecycleSummary:
    """Run the lifecycle on each of `history_dates`, oldest first; the summary of `as_of`."""
    summary: LifecycleSummary | None = None
    for day in history_dates(as_of, months):
        summary = await run_lifecycle(db, as_of=day, tz=tz, rules=rules, grading=grading)
    assert summary is not None  # history_dates always ends with as_of
    return summary


@dataclass(frozen=True)
class DemoExamples:
    """Customers worth looking at after the demo, by external id, and a surname to search."""

    most_history: str | None
    declining: str | None
    surname: str | None


async def pick_examples(db: Database) -> DemoExamples:
    async with db.uow() as uow:
        session = uow.session
        # A customer who is doing well now, with the longest way behind them: the most
        # readable history ("潜在客户 → 新客户 → 成长客户 → 成熟客户").
        most_history = await session.scalar(
            select(Customer.external_id)
            .join(StageTransition, StageTransition.customer_id == Customer.id)
            .join(StageAssignment, StageAssignment.customer_id == Customer.id)
            .where(StageAssignment.stage.in_(("mature", "growing")))
            .group_by(Customer.id, Customer.external_id, StageAssignment.stage)
            .order_by(
                func.count(func.distinct(StageTransition.to_stage)).desc(),
                func.count().desc(),
                StageAssignment.stage.desc(),  # mature before growing
                Customer.id,
            )
            .limit(1)
        )
        declining = await session.scalar(
            select(Customer.external_id)
            .join(StageAssignment, StageAssignment.customer_id == Customer.id)
            .where(
                StageAssignment.stage == "declining",
                StageAssignment.rule != "declining.inactive",  # a reason more telling than time
            )
            .order_by(Customer.id)
            .limit(1)
        )
        initials = (
            select(func.substr(Customer.name, 1, 1).label("surname"))
            .where(Customer.name.is_not(None))
            .subquery()
        )
        surname = await session.scalar(
            select(initials.c.surname)
            .group_by(initials.c.surname)
            .order_by(func.count().desc(), initials.c.surname)
            .limit(1)
        )
    return DemoExamples(most_history=most_history, declining=declining, surname=surname)
