"""The rule checks of attribution that reject an invitation outright (DESIGN.md §2.3)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.activity import Order
from models.customer import Customer, CustomerIdentity

# Identity kinds holding a cross-app platform identity (WeChat unionid, Feishu union_id).
UNION_ID_KINDS = ("unionid", "union_id")
_NON_DIGITS = re.compile(r"\D")


def _phone_key(phone: str | None) -> str | None:
    """Digits only, without a +86/0086 prefix: `+86 138-1234-8888` → `13812348888`."""
    if not phone:
        return None
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) > 11 and digits[-11] == "1":
        digits = digits[-11:]
    return digits or None


async def is_self_referral(session: AsyncSession, inviter_id: int, invitee_id: int) -> bool:
    """Same customer, the same phone number, or a shared union id on any platform."""
    if inviter_id == invitee_id:
        return True
    phones = dict(
        (
            await session.execute(
                select(Customer.id, Customer.phone).where(Customer.id.in_([inviter_id, invitee_id]))
            )
        ).all()
    )
    inviter_phone = _phone_key(phones.get(inviter_id))
    if inviter_phone is not None and inviter_phone == _phone_key(phones.get(invitee_id)):
        return True
    mine, theirs = aliased(CustomerIdentity), aliased(CustomerIdentity)
    shared = (
        select(func.count())
        .select_from(mine)
        .join(
            theirs,
            and_(theirs.value == mine.value, theirs.kind.in_(UNION_ID_KINDS)),
        )
        .where(
            mine.customer_id == inviter_id,
            mine.kind.in_(UNION_ID_KINDS),
            theirs.customer_id == invitee_id,
        )
    )
    return int((await session.execute(shared)).scalar_one()) > 0


async def had_paid_order_before(
    session: AsyncSession, customer_id: int, moment: datetime, exclude_order_id: int | None = None
) -> bool:
    """A paid (not refunded) order strictly before `moment`: the invitee was already a
    customer when the invitation reached them."""
    stmt = select(Order.id).where(
        Order.customer_id == customer_id, Order.status == "paid", Order.paid_at < moment
    )
    if exclude_order_id is not None:
        stmt = stmt.where(Order.id != exclude_order_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def first_paid_order_since(
    session: AsyncSession, customer_id: int, moment: datetime, min_fen: int = 0
) -> Order | None:
    """The invitee's first paid order of at least `min_fen` at or after `moment` (the join):
    the converting one. Read afresh, so a change made in this transaction is seen."""
    stmt = (
        select(Order)
        .where(
            Order.customer_id == customer_id,
            Order.status == "paid",
            Order.paid_at >= moment,
            Order.amount_fen >= min_fen,
        )
        .order_by(Order.paid_at, Order.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
