"""Read queries behind the staff commands that no domain module answers yet: a page of a
stage's customers, and one customer's referral facts for the card. Set-based; personal data masked
before it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import case

from models.activity import Order
from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.tables import ATTRIBUTED_STATUSES, Invitation
from models.stages import CustomerGrade, StageAssignment

CONVERTED = ("converted", "rewarded")


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


async def stage_top(
    session: AsyncSession, stage: str, *, limit: int, offset: int = 0
) -> tuple[int, list[StageEntry]]:
    """How many customers are in `stage`, and `limit` of them from `offset` on, most valuable
    first (by total paid, then most recent order, then customer id — the order of the
    lifecycle export, models/exports/lifecycle.py)."""
    total = await session.scalar(
        select(func.count()).select_from(StageAssignment).where(StageAssignment.stage == stage)
    )
    paid = (
        select(
            Order.customer_id.label("customer_id"),
            func.sum(Order.amount_fen).label("total_fen"),
            func.count().label("orders"),
            func.max(Order.paid_at).label("last_paid_at"),
        )
        .where(Order.status == "paid")
        .group_by(Order.customer_id)
        .subquery("paid")
    )
    total_fen = func.coalesce(paid.c.total_fen, 0)
    stmt = (
        select(
            Customer.external_id,
            Customer.name,
            Customer.phone,
            total_fen.label("total_fen"),
            func.coalesce(paid.c.orders, 0).label("orders"),
            paid.c.last_paid_at,
            CustomerGrade.grade,
            StageAssignment.since,
        )
        .join(Customer, Customer.id == StageAssignment.customer_id)
        .outerjoin(paid, paid.c.customer_id == StageAssignment.customer_id)
        .outerjoin(CustomerGrade, CustomerGrade.customer_id == StageAssignment.customer_id)
        .where(StageAssignment.stage == stage)
        .order_by(
            total_fen.desc(),
            case((paid.c.last_paid_at.is_(None), 1), else_=0),
            paid.c.last_paid_at.desc(),
            Customer.id,
        )
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
