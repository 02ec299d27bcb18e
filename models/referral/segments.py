"""Which program a customer is eligible for: the first live one whose segment they match.

The facts about one customer come from one query; this runs for a single customer at a time
(when they ask for their code), never over all customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import Segment
from models.activity import Order
from models.customer import Customer, CustomerTag
from models.referral.programs import live_programs, program_rules
from models.referral.tables import ReferralProgram
from models.stages import CustomerGrade, StageAssignment


@dataclass(frozen=True)
class CustomerFacts:
    stage: str | None
    grade: str | None
    region: str | None
    industry: str | None
    tags: frozenset[str]
    first_paid_at: datetime | None
    last_paid_at: datetime | None


async def customer_facts(
    session: AsyncSession, customer_id: int, now: datetime
) -> CustomerFacts | None:
    paid = (Order.customer_id == customer_id, Order.status == "paid", Order.paid_at <= now)
    stmt = (
        select(
            Customer.region,
            Customer.industry,
            StageAssignment.stage,
            CustomerGrade.grade,
            select(func.min(Order.paid_at)).where(*paid).scalar_subquery().label("first_paid"),
            select(func.max(Order.paid_at)).where(*paid).scalar_subquery().label("last_paid"),
        )
        .select_from(Customer)
        .outerjoin(StageAssignment, StageAssignment.customer_id == Customer.id)
        .outerjoin(CustomerGrade, CustomerGrade.customer_id == Customer.id)
        .where(Customer.id == customer_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    tags = (
        await session.execute(select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id))
    ).scalars()
    return CustomerFacts(
        stage=row.stage,
        grade=row.grade,
        region=row.region,
        industry=row.industry,
        tags=frozenset(tags),
        first_paid_at=row.first_paid,
        last_paid_at=row.last_paid,
    )


def segment_matches(segment: Segment, facts: CustomerFacts, now: datetime) -> bool:
    """Every field the segment sets must hold (DESIGN.md §2.2)."""
    checks = [
        not segment.stages or facts.stage in segment.stages,
        not segment.grades or facts.grade in segment.grades,
        not segment.regions or facts.region in segment.regions,
        not segment.industries or facts.industry in segment.industries,
        not segment.tags or bool(facts.tags & set(segment.tags)),
    ]
    if segment.value is not None:
        high = facts.grade in ("A", "B")
        low = facts.grade == "C"
        checks.append(high if segment.value == "high" else low)
    if segment.customer_type is not None:
        is_new = facts.first_paid_at is None or facts.first_paid_at >= now - timedelta(
            days=segment.new_within_days
        )
        checks.append(is_new if segment.customer_type == "new" else not is_new)
    if segment.activity is not None:
        active = facts.last_paid_at is not None and facts.last_paid_at >= now - timedelta(
            days=segment.active_within_days
        )
        checks.append(active if segment.activity == "active" else not active)
    return all(checks)


async def eligible_program(
    session: AsyncSession,
    *,
    customer_id: int,
    now: datetime,
    programs: Sequence[ReferralProgram] | None = None,
) -> ReferralProgram | None:
    """The first of `programs` (default: the live ones, by priority) whose segment the
    customer matches."""
    if programs is None:
        programs = await live_programs(session, now)
    if not programs:
        return None
    facts = await customer_facts(session, customer_id, now)
    if facts is None:
        return None
    for program in programs:
        if segment_matches(program_rules(program).segment, facts, now):
            return program
    return None
