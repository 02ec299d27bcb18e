"""Who is due for a follow-up, per owner (seed 004 step 5): the morning reminder's list.

A customer with an owner and a stage is due when:
- their latest follow-up named a next date (`next_due_on`) and that day has come — the date a
  staff member promised wins over the cadence;
- else their latest follow-up was logged at least the stage's cadence ago (playbook
  `cadence_days`: prospect and new weekly, growing and mature monthly, declining twice a week,
  churned monthly), counted in local calendar days — with the customer's current stage, so a
  customer who slipped from mature to declining is due three days after the last call, not 30;
- else, never followed up, since the day they entered their current stage.

One statement for every owner at once: the latest follow-up per customer, the days overdue,
and per owner the count and the first `limit` customers, most overdue first and, among those
equally overdue, the stage with the shortest cadence first (window functions,
so a million customers never come back to Python — only the lines that will be shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from config.playbook import STAGE_KEYS, Playbook
from models.customer import Customer
from models.lifecycle.localdays import age_days, local_date_text, sql_int
from models.masking import mask_name, mask_phone
from models.staff import FollowUp, Staff
from models.stages import StageAssignment
from models.upsert import dialect_name


@dataclass(frozen=True)
class DueCustomer:
    customer_id: int
    external_id: str
    masked_name: str
    masked_phone: str
    stage: str
    overdue_days: int  # 0: due today
    last_follow_up: date | None  # local date of the latest follow-up; None: never


@dataclass(frozen=True)
class OwnerDue:
    staff_id: int
    staff_name: str
    total: int  # every customer due, however many are listed
    customers: tuple[DueCustomer, ...]  # the most overdue first, at most `limit`


def cadence_days(playbook: Playbook, locale: str) -> dict[str, int]:
    """Days between follow-ups per stage, as configured (or the seed's defaults)."""
    cadence = {}
    for stage in STAGE_KEYS:
        play = playbook.play(stage, locale)
        if play is not None:
            cadence[stage] = play.cadence_days
    return cadence


def _days_since(
    day: ColumnElement[Any] | InstrumentedAttribute[date], today: date, dialect: str
) -> ColumnElement[int]:
    """`today - day` in whole days for a DATE column."""
    if dialect == "sqlite":  # dates are stored as YYYY-MM-DD text
        return cast(func.julianday(today.isoformat()) - func.julianday(day), Integer)
    return literal_column(f"DATE '{today.isoformat()}'") - day


async def due_follow_ups(
    session: AsyncSession,
    *,
    today: date,
    tz: tzinfo,
    cadence: Mapping[str, int],
    limit: int,
    owner_id: int | None = None,
) -> list[OwnerDue]:
    """Every active owner with at least one customer due on `today` (or only `owner_id`)."""
    dialect = dialect_name(session)
    ranked = select(
        FollowUp.customer_id,
        FollowUp.created_at,
        FollowUp.next_due_on,
        func.row_number()
        .over(
            partition_by=FollowUp.customer_id,
            order_by=(FollowUp.created_at.desc(), FollowUp.id.desc()),
        )
        .label("nth"),
    ).subquery("ranked")
    latest = select(ranked).where(ranked.c.nth == 1).subquery("latest")
    stage_cadence = case(
        {stage: sql_int(days) for stage, days in cadence.items()}, value=StageAssignment.stage
    )
    overdue = case(
        (latest.c.next_due_on.is_not(None), _days_since(latest.c.next_due_on, today, dialect)),
        (
            latest.c.created_at.is_not(None),
            age_days(latest.c.created_at, today, tz, dialect) - stage_cadence,
        ),
        else_=_days_since(StageAssignment.since, today, dialect),
    )
    conditions = [
        Staff.active.is_(True),
        StageAssignment.stage.in_(list(cadence)),
        overdue >= 0,
    ]
    if owner_id is not None:
        conditions.append(Customer.owner_staff_id == owner_id)
    due = (
        select(
            Customer.owner_staff_id.label("staff_id"),
            Staff.name.label("staff_name"),
            Customer.id.label("customer_id"),
            Customer.external_id,
            Customer.name,
            Customer.phone,
            StageAssignment.stage,
            overdue.label("overdue"),
            local_date_text(latest.c.created_at, today, tz, dialect).label("last_on"),
            func.row_number()
            .over(
                partition_by=Customer.owner_staff_id,
                # Equally overdue: the stage followed most often first (declining before
                # new before mature), as it has the shortest time to act.
                order_by=(overdue.desc(), stage_cadence, Customer.id),
            )
            .label("position"),
            func.count().over(partition_by=Customer.owner_staff_id).label("total"),
        )
        .join(Staff, Staff.id == Customer.owner_staff_id)
        .join(StageAssignment, StageAssignment.customer_id == Customer.id)
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .where(and_(*conditions))
        .subquery("due")
    )
    rows = await session.execute(
        select(due).where(due.c.position <= limit).order_by(due.c.staff_id, due.c.position)
    )
    owners: dict[int, OwnerDue] = {}
    listed: dict[int, list[DueCustomer]] = {}
    for row in rows:
        if row.staff_id not in owners:
            owners[row.staff_id] = OwnerDue(row.staff_id, row.staff_name, int(row.total), ())
            listed[row.staff_id] = []
        listed[row.staff_id].append(
            DueCustomer(
                customer_id=row.customer_id,
                external_id=row.external_id,
                masked_name=mask_name(row.name),
                masked_phone=mask_phone(row.phone),
                stage=row.stage,
                overdue_days=int(row.overdue),
                last_follow_up=date.fromisoformat(row.last_on) if row.last_on else None,
            )
        )
    return [
        OwnerDue(owner.staff_id, owner.staff_name, owner.total, tuple(listed[staff_id]))
        for staff_id, owner in owners.items()
    ]
