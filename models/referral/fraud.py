"""Fraud signals checked when an invitation converts. Any signal holds the conversion for
staff review (`review_status = 'pending'`) instead of rewarding it; each signal is stored with
the numbers behind it so the reviewer sees why.

Signals (thresholds in config.referral.FraudRules, per program; 0 switches one off):
- `shared_visitor`: ≥ N invitees identified from one visitor hash (IP + user agent) within
  M minutes of this join — one phone or one network creating "friends";
- `refunded_orders`: the invitee already has refunded orders;
- `account_chain`: the inviter was brought in by somebody else, and the invitee's account was
  created within M minutes after the inviter's — a chain of fresh accounts inviting each other
  (an import that creates all customers at once is not a chain: nobody invited the inviter);
- `burst`: the inviter gathered ≥ N joins within M minutes around this one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import FraudRules
from models.activity import Order
from models.customer import Customer
from models.referral.tables import ATTRIBUTED_STATUSES, Invitation


async def fraud_signals(
    session: AsyncSession, *, invitation: Invitation, rules: FraudRules
) -> list[dict[str, Any]]:
    assert invitation.invitee_customer_id is not None and invitation.joined_at is not None
    signals: list[dict[str, Any]] = []
    joined = invitation.joined_at

    if rules.max_invitees_per_visitor and invitation.visitor_hash:
        window = timedelta(minutes=rules.visitor_window_minutes)
        stmt = select(func.count(func.distinct(Invitation.invitee_customer_id))).where(
            Invitation.visitor_hash == invitation.visitor_hash,
            Invitation.invitee_customer_id.is_not(None),
            Invitation.joined_at >= joined - window,
            Invitation.joined_at <= joined + window,
        )
        count = int((await session.execute(stmt)).scalar_one())
        if count >= rules.max_invitees_per_visitor:
            signals.append(
                {
                    "signal": "shared_visitor",
                    "invitees": count,
                    "minutes": rules.visitor_window_minutes,
                }
            )

    if rules.min_refunded_orders:
        stmt = select(func.count()).where(
            Order.customer_id == invitation.invitee_customer_id, Order.status == "refunded"
        )
        refunded = int((await session.execute(stmt)).scalar_one())
        if refunded >= rules.min_refunded_orders:
            signals.append({"signal": "refunded_orders", "refunded": refunded})

    if rules.account_chain_minutes and await _was_invited(session, invitation.inviter_customer_id):
        created = dict(
            (
                await session.execute(
                    select(Customer.id, Customer.created_at).where(
                        Customer.id.in_(
                            [invitation.inviter_customer_id, invitation.invitee_customer_id]
                        )
                    )
                )
            ).all()
        )
        gap = created[invitation.invitee_customer_id] - created[invitation.inviter_customer_id]
        if timedelta(0) <= gap <= timedelta(minutes=rules.account_chain_minutes):
            signals.append(
                {"signal": "account_chain", "minutes_apart": int(gap.total_seconds() // 60)}
            )

    if rules.burst_joins:
        window = timedelta(minutes=rules.burst_minutes)
        stmt = select(func.count()).where(
            Invitation.inviter_customer_id == invitation.inviter_customer_id,
            Invitation.joined_at.is_not(None),
            Invitation.joined_at >= joined - window,
            Invitation.joined_at <= joined + window,
        )
        joins = int((await session.execute(stmt)).scalar_one())
        if joins >= rules.burst_joins:
            signals.append({"signal": "burst", "joins": joins, "minutes": rules.burst_minutes})
    return signals


async def _was_invited(session: AsyncSession, customer_id: int) -> bool:
    stmt = select(Invitation.id).where(
        Invitation.invitee_customer_id == customer_id,
        Invitation.status.in_(ATTRIBUTED_STATUSES),
    )
    return (await session.execute(stmt.limit(1))).first() is not None


def signal_names(fraud_signals: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(s["signal"] for s in (fraud_signals or {}).get("signals", []))
