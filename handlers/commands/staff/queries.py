"""Read queries behind the staff commands that no domain module answers yet: one customer's
referral facts for the card. Personal data is masked before it leaves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import case

from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.tables import ATTRIBUTED_STATUSES, Invitation

CONVERTED = ("converted", "rewarded")


@dataclass(frozen=True)
class ReferralFacts:
    invited_by: str | None  # the inviter who holds this customer's attribution, masked
    joins: int  # friends this customer brought (attributed invitations)
    conversions: int
    rewarded: int


async def referral_facts(session: AsyncSession, customer_id: int) -> ReferralFacts:
    def count_of(statuses: tuple[str, ...]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((Invitation.status.in_(statuses), 1), else_=0)), 0)

    counts = (
        await session.execute(
            select(
                count_of(ATTRIBUTED_STATUSES),
                count_of(CONVERTED),
                count_of(("rewarded",)),
            ).where(
                Invitation.inviter_customer_id == customer_id,
                Invitation.invitee_customer_id.is_not(None),
            )
        )
    ).one()
    inviter = (
        await session.execute(
            select(Customer.name, Customer.phone, Customer.external_id)
            .join(Invitation, Invitation.inviter_customer_id == Customer.id)
            .where(
                Invitation.invitee_customer_id == customer_id,
                Invitation.status.in_(ATTRIBUTED_STATUSES),
            )
            .limit(1)
        )
    ).first()
    invited_by = None
    if inviter is not None:
        invited_by = mask_name(inviter.name) or mask_phone(inviter.phone) or inviter.external_id
    return ReferralFacts(
        invited_by=invited_by,
        joins=int(counts[0]),
        conversions=int(counts[1]),
        rewarded=int(counts[2]),
    )
