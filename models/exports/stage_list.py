"""A stage's customers a page at a time (`/stage 衰退 2`): the lifecycle export's rows of that
stage, in its order, with what a chat line shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customer import Customer
from models.exports.lifecycle import most_valuable_first, paid_totals
from models.masking import mask_name, mask_phone
from models.stages import CustomerGrade, StageAssignment


@dataclass(frozen=True)
class StageEntry:
    external_id: str
    masked_name: str
    masked_phone: str
    total_fen: int  # paid, non-refunded orders, all time
    orders: int
    last_paid_at: datetime | None
    grade: str | None
    since: date


async def stage_page(
    session: AsyncSession, stage: str, *, offset: int, limit: int
) -> tuple[int, list[StageEntry]]:
    """How many customers are in `stage`, and `limit` of them from `offset` on, most valuable
    first."""
    total = await session.scalar(
        select(func.count()).select_from(StageAssignment).where(StageAssignment.stage == stage)
    )
    paid = paid_totals()
    stmt = (
        select(
            Customer.external_id,
            Customer.name,
            Customer.phone,
            func.coalesce(paid.c.total_fen, 0).label("total_fen"),
            func.coalesce(paid.c.orders, 0).label("orders"),
            paid.c.last_paid_at,
            CustomerGrade.grade,
            StageAssignment.since,
        )
        .join(Customer, Customer.id == StageAssignment.customer_id)
        .outerjoin(paid, paid.c.customer_id == StageAssignment.customer_id)
        .outerjoin(CustomerGrade, CustomerGrade.customer_id == StageAssignment.customer_id)
        .where(StageAssignment.stage == stage)
        .order_by(*most_valuable_first(paid))
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    entries = [
        StageEntry(
            external_id=row.external_id,
            masked_name=mask_name(row.name),
            masked_phone=mask_phone(row.phone),
            total_fen=int(row.total_fen),
            orders=int(row.orders),
            last_paid_at=row.last_paid_at,
            grade=row.grade,
            since=row.since,
        )
        for row in rows
    ]
    return int(total or 0), entries
