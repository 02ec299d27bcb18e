"""The fraud review queue: staff approve or deny conversions held by a fraud signal.

An approval grants the rewards the conversion would have had (pending until the hold is over,
so an approval after the hold settles at the next settle run); a denial rejects the invitation
with reason `suspected_fraud`. A conversion under review is still inside its hold: a refund
meanwhile voids it (models/referral/recheck.py), and its approval is then refused. A review
left open longer than the program's `review_days` is decided by its `review_default` at the
next settle run (ReferralCandy's review deadline).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.customer import Customer
from models.referral.locks import lock_rows
from models.referral.programs import program_rules
from models.referral.recheck import void_conversion
from models.referral.results import ReviewResult
from models.referral.rewards import budget_allows, conversion_cost_fen, grant_conversion_rewards
from models.referral.tables import Invitation, ReferralCode, ReferralProgram

SYSTEM_REVIEWER = "system"
# Reject reasons of a conversion undone by its order; an approval cannot bring it back.
ORDER_VOIDED = ("order_refunded", "order_changed")


async def approve_review(
    session: AsyncSession,
    *,
    invitation_id: int,
    reviewer: str,
    now: datetime,
    note: str | None = None,
) -> ReviewResult:
    """Approve a held conversion. Refused (`refused`, with the reason) when its order was
    refunded or changed while it waited: a review is still inside the hold, so the refund
    voided it, and an approval must not bring its rewards back."""
    invitation = await _pending(session, invitation_id)
    if not isinstance(invitation, Invitation):
        voided = invitation.invitation
        if voided is not None and voided.reject_reason in ORDER_VOIDED:
            return ReviewResult("refused", voided, voided.reject_reason)
        return invitation
    order = await session.get(Order, invitation.converting_order_id)
    if order is None or order.status != "paid":
        # Stored before refunds voided reviews (or by a path that bypassed the order service).
        await void_conversion(session, invitation, "order_refunded", now)
        return ReviewResult("refused", invitation, "order_refunded")
    program = await session.get(ReferralProgram, invitation.program_id)
    assert program is not None
    rules = program_rules(program)
    await lock_rows(session, ReferralCode, [invitation.code_id])
    if program.budget_fen is not None:
        await lock_rows(session, ReferralProgram, [program.id])
    _mark_reviewed(invitation, "approved", reviewer, now, note)
    if not await budget_allows(session, program, await conversion_cost_fen(session, rules)):
        invitation.status = "rejected"
        invitation.reject_reason = "budget_exhausted"
        invitation.rejected_at = now
        await session.flush()
        return ReviewResult("rejected", invitation, "budget_exhausted")
    await session.flush()
    rewards = await grant_conversion_rewards(
        session, program=program, rules=rules, invitation=invitation, now=now
    )
    return ReviewResult("approved", invitation, rewards=tuple(rewards))


async def deny_review(
    session: AsyncSession,
    *,
    invitation_id: int,
    reviewer: str,
    now: datetime,
    note: str | None = None,
) -> ReviewResult:
    invitation = await _pending(session, invitation_id)
    if not isinstance(invitation, Invitation):
        return invitation
    _mark_reviewed(invitation, "denied", reviewer, now, note)
    invitation.status = "rejected"
    invitation.reject_reason = "suspected_fraud"
    invitation.rejected_at = now
    await session.flush()
    return ReviewResult("denied", invitation, "suspected_fraud")


async def decide_overdue_reviews(session: AsyncSession, now: datetime) -> int:
    """Apply each program's review default to reviews older than its `review_days`."""
    decided = 0
    for program in (await session.execute(select(ReferralProgram))).scalars().all():
        fraud = program_rules(program).fraud
        if fraud.review_days is None:
            continue
        cutoff = now - timedelta(days=fraud.review_days)
        stmt = select(Invitation.id).where(
            Invitation.program_id == program.id,
            Invitation.review_status == "pending",
            Invitation.converted_at <= cutoff,
        )
        decide = approve_review if fraud.review_default == "approve" else deny_review
        for invitation_id in (await session.execute(stmt)).scalars().all():
            result = await decide(
                session,
                invitation_id=invitation_id,
                reviewer=SYSTEM_REVIEWER,
                now=now,
                note=f"no review within {fraud.review_days} days",
            )
            decided += result.outcome != "not_pending"
    return decided


async def _pending(session: AsyncSession, invitation_id: int) -> Invitation | ReviewResult:
    found = await session.get(Invitation, invitation_id)
    if found is None or found.invitee_customer_id is None:
        return ReviewResult("unknown")
    await lock_rows(session, Customer, [found.invitee_customer_id])
    stmt = (
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .execution_options(populate_existing=True)
    )
    invitation = (await session.execute(stmt)).scalar_one()
    if invitation.review_status != "pending" or invitation.status != "converted":
        return ReviewResult("not_pending", invitation)
    return invitation


def _mark_reviewed(
    invitation: Invitation, status: str, reviewer: str, now: datetime, note: str | None
) -> None:
    invitation.review_status = status
    invitation.reviewed_at = now
    invitation.reviewed_by = reviewer[:64]
    invitation.review_note = note[:200] if note else None
    invitation.updated_at = now
