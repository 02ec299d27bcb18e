"""Converting a joined invitation on the invitee's first paid order since the join.

Checks, in order (Friendbuy's order: rules, then fraud): the join was not preceded by a paid
order (`existing_customer`, for order history that arrived late), the order falls within the
attribution window (`expired`), the inviter's monthly cap (`inviter_cap`), the program budget
(`budget_exhausted`); then fraud signals hold the conversion for review; otherwise both
sides' rewards and any milestone are granted, pending until the hold is over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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


async def convert_invitation(
    session: AsyncSession, invitation: Invitation, *, now: datetime
) -> ConversionResult:
    """Convert `invitation` (status joined). The caller holds the invitee's lock."""
    assert invitation.invitee_customer_id is not None and invitation.joined_at is not None
    invitee_id = invitation.invitee_customer_id
    program = await session.get(ReferralProgram, invitation.program_id)
    assert program is not None
    rules = program_rules(program)

    if await had_paid_order_before(session, invitee_id, invitation.joined_at):
        return await _reject(session, invitation, "existing_customer", now)
    order = await first_paid_order_since(session, invitee_id, invitation.joined_at)
    if order is None:
        return ConversionResult("not_attributed", invitation)
    window_end = invitation.joined_at + timedelta(days=program.attribution_window_days)
    if order.paid_at > window_end:
        return await _reject(session, invitation, "expired", now)

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
            invitation.hold_until = order.paid_at + timedelta(days=program.hold_days)
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
