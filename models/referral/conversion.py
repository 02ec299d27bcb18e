"""Converting a joined invitation on the invitee's first paid order since the join.

Checks, in order (Friendbuy's order: rules, then fraud): the join was not preceded by a paid
order (`existing_customer`, for order history that arrived late), the first paid order since
the join of at least the program's `min_order_fen` is the converting one, it falls within the
attribution window (`expired`), the inviter's monthly cap (`inviter_cap`), the program budget
(`budget_exhausted`); then fraud signals hold the conversion for review; otherwise both
sides' rewards and any milestone are granted, pending until the hold is over.

`order_verdict` is the order-dependent part of these checks on its own: the order service
asks it again when a converted order's date, amount or status changes (models/orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.referral.checks import first_paid_order_since, had_paid_order_before
from models.referral.fraud import fraud_signals, signal_names
from models.referral.locks import lock_rows
from models.referral.programs import program_rules
from models.referral.results import ConversionResult
from models.referral.rewards import (
    CONVERTED,
    budget_allows,
    conversion_cost_fen,
    grant_conversion_rewards,
)
from models.referral.tables import Invitation, ReferralCode, ReferralProgram


@dataclass(frozen=True)
class OrderVerdict:
    """Which order converts a joined invitation now, or why none does: `reason` set means
    the invitation is to be rejected; neither set means no qualifying order yet."""

    order: Order | None
    reason: str | None = None


async def order_verdict(
    session: AsyncSession, invitation: Invitation, program: ReferralProgram
) -> OrderVerdict:
    """The order-dependent checks of a conversion, from the orders as they are now."""
    assert invitation.invitee_customer_id is not None and invitation.joined_at is not None
    invitee_id = invitation.invitee_customer_id
    if await had_paid_order_before(session, invitee_id, invitation.joined_at):
        return OrderVerdict(None, "existing_customer")
    order = await first_paid_order_since(
        session, invitee_id, invitation.joined_at, program.min_order_fen
    )
    if order is None:
        return OrderVerdict(None)
    window_end = invitation.joined_at + timedelta(days=program.attribution_window_days)
    if order.paid_at > window_end:
        return OrderVerdict(order, "expired")
    return OrderVerdict(order)


async def convert_invitation(
    session: AsyncSession,
    invitation: Invitation,
    *,
    now: datetime,
    hold_from: datetime | None = None,
) -> ConversionResult:
    """Convert `invitation` (status joined). The caller holds the invitee's lock.

    The hold runs from the order's payment, or from `hold_from` when that is later (a
    conversion restored by a correction gets a full hold from the correction)."""
    program = await session.get(ReferralProgram, invitation.program_id)
    assert program is not None
    rules = program_rules(program)

    verdict = await order_verdict(session, invitation, program)
    if verdict.reason is not None:
        return await _reject(session, invitation, verdict.reason, now)
    order = verdict.order
    if order is None:
        return ConversionResult("not_attributed", invitation)

    await lock_rows(session, ReferralCode, [invitation.code_id])
    if program.budget_fen is not None:
        await lock_rows(session, ReferralProgram, [program.id])
    if program.cap_per_inviter_month is not None:
        done = await conversions_in_month(
            session, program.id, invitation.inviter_customer_id, order.paid_at, rules.tz
        )
        if done >= program.cap_per_inviter_month:
            return await _reject(session, invitation, "inviter_cap", now)
    if not await budget_allows(session, program, await conversion_cost_fen(session, rules)):
        return await _reject(session, invitation, "budget_exhausted", now)

    signals = await fraud_signals(session, invitation=invitation, rules=rules.fraud)
    try:
        # Changes inside the savepoint: begin_nested() flushes what is pending before it.
        async with session.begin_nested():
            invitation.status = "converted"
            invitation.converted_at = order.paid_at
            invitation.converting_order_id = order.id
            held_from = max(order.paid_at, hold_from) if hold_from else order.paid_at
            invitation.hold_until = held_from + timedelta(days=program.hold_days)
            invitation.updated_at = now
            if signals:
                invitation.review_status = "pending"
                invitation.fraud_signals = {"signals": signals}
            session.add(invitation)
    except IntegrityError:
        # The order already converted another invitation: impossible while one invitee holds
        # one attribution, but the unique index is the authority.
        await session.refresh(invitation)
        return ConversionResult("already_converted", invitation)
    if signals:
        return ConversionResult(
            "under_review", invitation, signals=signal_names(invitation.fraud_signals)
        )
    rewards = await grant_conversion_rewards(
        session, program=program, rules=rules, invitation=invitation, now=now
    )
    return ConversionResult("converted", invitation, rewards=tuple(rewards))


async def conversions_in_month(
    session: AsyncSession, program_id: int, inviter_id: int, moment: datetime, tz: ZoneInfo
) -> int:
    """The inviter's conversions in the program during the calendar month (in `tz`) of
    `moment`, including those held for review."""
    local = moment.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    stmt = select(func.count()).where(
        Invitation.program_id == program_id,
        Invitation.inviter_customer_id == inviter_id,
        Invitation.status.in_(CONVERTED),
        Invitation.converted_at >= start,
        Invitation.converted_at < end,
    )
    return int((await session.execute(stmt)).scalar_one())


async def _reject(
    session: AsyncSession, invitation: Invitation, reason: str, now: datetime
) -> ConversionResult:
    invitation.status = "rejected"
    invitation.reject_reason = reason
    invitation.rejected_at = now
    invitation.updated_at = now
    await session.flush()
    return ConversionResult("rejected", invitation, reason)
