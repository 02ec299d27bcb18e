"""The referral leaderboard: who brought the most paying customers in a period, masked."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import case

from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.tables import Invitation
from models.reports.facts import CONVERTED, JOINED, in_period
from models.reports.funnel import ratio
from models.reports.segments import ReportPeriod


@dataclass(frozen=True)
class InviterRow:
    rank: int
    customer_id: int
    external_id: str
    masked_name: str
    masked_phone: str
    invitations: int
    joins: int
    conversions: int
    rewarded: int

    @property
    def success_rate(self) -> Fraction | None:
        return ratio(self.conversions, self.invitations)


async def top_inviters(
    session: AsyncSession, *, period: ReportPeriod, limit: int = 20
) -> list[InviterRow]:
    """Inviters by conversions, then invitations (ties: the earlier customer first)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")

    def count_of(statuses: tuple[str, ...]) -> ColumnElement[int]:
        return func.sum(case((Invitation.status.in_(statuses), 1), else_=0))

    per_inviter = (
        select(
            Invitation.inviter_customer_id.label("customer_id"),
            func.count().label("invitations"),
            count_of(JOINED).label("joins"),
            count_of(CONVERTED).label("conversions"),
            count_of(("rewarded",)).label("rewarded"),
        )
        .where(
            Invitation.invitee_customer_id.is_not(None),
            *in_period(Invitation.created_at, period),
        )
        .group_by(Invitation.inviter_customer_id)
        .subquery("per_inviter")
    )
    stmt = (
        select(per_inviter, Customer.external_id, Customer.name, Customer.phone)
        .join(Customer, Customer.id == per_inviter.c.customer_id)
        .order_by(
            per_inviter.c.conversions.desc(),
            per_inviter.c.invitations.desc(),
            per_inviter.c.customer_id,
        )
        .limit(limit)
    )
    return [
        InviterRow(
            rank=rank,
            customer_id=row.customer_id,
            external_id=row.external_id,
            masked_name=mask_name(row.name),
            masked_phone=mask_phone(row.phone),
            invitations=int(row.invitations),
            joins=int(row.joins or 0),
            conversions=int(row.conversions or 0),
            rewarded=int(row.rewarded or 0),
        )
        for rank, row in enumerate(await session.execute(stmt), 1)
    ]
