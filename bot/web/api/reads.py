"""Response bodies read back from the database, so a replayed request gets the same body: what
an endpoint answers is the state of the rows, never a record of what this call happened to do."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.web.api.outputs import CustomerOut, EventOut, OrderOut, ReferralOutcome
from models.activity import ActivityEvent, Order
from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.tables import Invitation, ReferralCode, ReferralProgram


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def _outcome_query() -> Select[Invitation, str, str, str]:
    inviter = aliased(Customer)
    return (
        select(Invitation, ReferralCode.code, ReferralProgram.key, inviter.external_id)
        .join(ReferralCode, ReferralCode.id == Invitation.code_id)
        .join(ReferralProgram, ReferralProgram.id == Invitation.program_id)
        .join(inviter, inviter.id == Invitation.inviter_customer_id)
    )


async def referral_outcome(
    session: AsyncSession,
    *,
    invitee_id: int,
    converting_order_id: int | None = None,
    code: str | None = None,
) -> ReferralOutcome | None:
    """The invitation an order converted; else the newest one of this invitee through `code`;
    else (no code given) the invitation that holds the invitee's attribution, if any."""
    query = _outcome_query()
    candidates = []
    if converting_order_id is not None:
        candidates.append(query.where(Invitation.converting_order_id == converting_order_id))
    if code is not None:
        candidates.append(
            query.where(Invitation.invitee_customer_id == invitee_id, ReferralCode.code == code)
        )
    elif converting_order_id is None:
        candidates.append(
            query.where(
                Invitation.invitee_customer_id == invitee_id,
                Invitation.status.in_(("joined", "converted", "rewarded")),
            )
        )
    for candidate in candidates:
        row = (await session.execute(candidate.order_by(Invitation.id.desc()).limit(1))).first()
        if row is not None:
            invitation, found_code, program_key, inviter_external_id = row
            return ReferralOutcome(
                code=found_code,
                program=program_key,
                status=invitation.status,
                reject_reason=invitation.reject_reason,
                review_status=invitation.review_status,
                inviter_external_id=inviter_external_id,
            )
    return None


async def order_out(
    session: AsyncSession, order_id: int, *, code: str | None, tz: tzinfo
) -> OrderOut:
    order, external_id = (
        await session.execute(
            select(Order, Customer.external_id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.id == order_id)
        )
    ).one()
    return OrderOut(
        order_no=order.order_no,
        customer_external_id=external_id,
        amount_fen=order.amount_fen,
        paid_at=order.paid_at.astimezone(tz),
        status=order.status,
        refunded_at=_local(order.refunded_at, tz),
        referral=await referral_outcome(
            session, invitee_id=order.customer_id, converting_order_id=order.id, code=code
        ),
    )


async def customer_out(
    session: AsyncSession, customer_id: int, *, code: str | None, tz: tzinfo
) -> CustomerOut:
    customer = await session.get_one(Customer, customer_id, populate_existing=True)
    return CustomerOut(
        external_id=customer.external_id,
        name=mask_name(customer.name),
        phone=mask_phone(customer.phone),
        region=customer.region,
        industry=customer.industry,
        status=customer.status,
        created_at=customer.created_at.astimezone(tz),
        closed_at=_local(customer.closed_at, tz),
        referral=await referral_outcome(session, invitee_id=customer.id, code=code),
    )


async def events_out(session: AsyncSession, ids: list[int], tz: tzinfo) -> list[EventOut]:
    rows = (
        await session.execute(
            select(ActivityEvent, Customer.external_id)
            .join(Customer, Customer.id == ActivityEvent.customer_id)
            .where(ActivityEvent.id.in_(set(ids)))
        )
    ).all()
    by_id = {event.id: (event, external_id) for event, external_id in rows}
    return [
        EventOut(
            id=event.id,
            customer_external_id=external_id,
            kind=event.kind,
            occurred_at=event.occurred_at.astimezone(tz),
            detail=event.detail,
        )
        for event, external_id in (by_id[event_id] for event_id in ids)
    ]
