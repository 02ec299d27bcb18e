"""Keeping an invitee's conversion true to their orders after the orders change.

The order service (models/orders) calls `recheck_invitee` for every customer whose orders it
created or changed — one order through the API, or the set of customers a whole import touched.
The caller holds the invitee's lock (models/referral/locks.py). What it does, by the state of the
invitation that holds the invitee's attribution:

- **joined**: a paid order may convert it now (`convert_invitation`).
- **converted** (inside the hold, or held for fraud review — both unsettled):
  - the converting order was refunded → the conversion is void (`order_refunded`): rejected,
    its pending rewards revoked, milestones the inviter no longer reaches revoked and those they
    still reach granted again on their latest conversion;
  - the order's date or amount changed and the checks of a conversion (existing customer,
    minimum order, attribution window, first qualifying order) now pick a different answer →
    its pending rewards are revoked (`order_changed`) and the invitation is decided again from
    the orders as they are: rejected with the reason that now holds (`expired`,
    `existing_customer`), left joined, or converted on the order that now qualifies, with fresh
    pending rewards and milestones re-checked;
  - the same order still converts it → nothing changes but the dates that follow the order
    (converted_at, the hold and the pending rewards' settle time, never shortened).
- **rewarded**: settled rewards are final (clawing back a spent coupon or a paid red packet is
  a finance decision, not something to do silently); nothing changes.
- **no attribution**, but an invitation rejected `order_refunded` whose order is paid again (a
  refund corrected, refunded → paid): the conversion is restored if the invitee's attribution
  is still free — decided again like a fresh conversion (window, cap, budget, fraud), with a full
  hold from the correction. The rewards revoked by the refund stay revoked (their ledger rows
  stand); fresh ones are granted. At most one live reward exists per invitation side (a unique
  index), and coupons are issued only at settlement, so a refund flipping back and forth never
  pays or issues twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.referral.conversion import convert_invitation, order_verdict
from models.referral.locks import lock_rows
from models.referral.results import ConversionResult
from models.referral.reward_tables import Reward
from models.referral.rewards import (
    regrant_milestones,
    revoke_invitation_rewards,
    revoke_unmet_milestones,
)
from models.referral.tables import Invitation, ReferralCode, ReferralProgram
from models.referral.touches import attributed_invitation, invitation_where

RecheckOutcome = Literal[
    "unchanged", "converted", "under_review", "rejected", "voided", "restored", "settled", "none"
]


@dataclass(frozen=True)
class RecheckResult:
    outcome: RecheckOutcome
    invitation: Invitation | None = None
    reason: str | None = None
    revoked_reward_ids: tuple[int, ...] = ()


async def recheck_invitee(session: AsyncSession, invitee_id: int, now: datetime) -> RecheckResult:
    """Bring the invitee's attribution in line with their orders as stored now."""
    current = await attributed_invitation(session, invitee_id)
    if current is None:
        return await _restore_corrected(session, invitee_id, now)
    if current.status == "rewarded":
        return RecheckResult("settled", current)
    if current.status == "joined":
        return _from_conversion(await convert_invitation(session, current, now=now))
    return await _recheck_converted(session, current, now)


async def void_conversion(
    session: AsyncSession, invitation: Invitation, reason: str, now: datetime
) -> tuple[int, ...] | None:
    """Reject a converted (unsettled) invitation with `reason` and revoke what it earned: its
    pending rewards, milestones the inviter no longer reaches; tiers still reached are granted
    again on the inviter's latest conversion. None when a settle run got there first."""
    await lock_rows(session, ReferralCode, [invitation.code_id])
    stmt = (
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status == "converted")
        .values(
            status="rejected",
            reject_reason=reason,
            rejected_at=now,
            review_status=(
                "void" if invitation.review_status == "pending" else invitation.review_status
            ),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(stmt)).rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(invitation)
        return None
    revoked = await revoke_invitation_rewards(
        session, invitation_id=invitation.id, reason=reason, now=now
    )
    revoked += await revoke_unmet_milestones(
        session,
        program_id=invitation.program_id,
        inviter_id=invitation.inviter_customer_id,
        now=now,
    )
    await regrant_milestones(session, invitation, now)
    await session.refresh(invitation)
    return tuple(revoked)


async def _recheck_converted(
    session: AsyncSession, invitation: Invitation, now: datetime
) -> RecheckResult:
    order = (
        await session.execute(
            select(Order)
            .where(Order.id == invitation.converting_order_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    moved = order is None or order.customer_id != invitation.invitee_customer_id
    if moved or order is None or order.status != "paid":
        reason = "order_changed" if moved else "order_refunded"
        revoked = await void_conversion(session, invitation, reason, now)
        if revoked is None:
            return RecheckResult("settled", invitation)
        return RecheckResult("voided", invitation, reason, revoked)

    program = await session.get(ReferralProgram, invitation.program_id)
    assert program is not None
    verdict = await order_verdict(session, invitation, program)
    if verdict.reason is None and verdict.order is not None and verdict.order.id == order.id:
        await _follow_order_dates(session, invitation, order, program, now)
        return RecheckResult("unchanged", invitation)

    # The checks now answer differently: take back what the old answer earned, decide again.
    # Conditional on 'converted', so a settle run that got there first wins cleanly.
    await lock_rows(session, ReferralCode, [invitation.code_id])
    reopened = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status == "converted")
        .values(
            status="joined",
            converted_at=None,
            converting_order_id=None,
            hold_until=None,
            review_status=None,
            fraud_signals=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(invitation)
    if reopened.rowcount != 1:  # type: ignore[attr-defined]
        return RecheckResult("settled", invitation)
    taken_back = await revoke_invitation_rewards(
        session, invitation_id=invitation.id, reason="order_changed", now=now
    )
    taken_back += await revoke_unmet_milestones(
        session,
        program_id=invitation.program_id,
        inviter_id=invitation.inviter_customer_id,
        now=now,
    )
    result = await convert_invitation(session, invitation, now=now)
    if result.outcome not in ("converted", "under_review"):
        await regrant_milestones(session, invitation, now)
    decided = _from_conversion(result)
    return RecheckResult(decided.outcome, invitation, decided.reason, tuple(taken_back))


async def _follow_order_dates(
    session: AsyncSession,
    invitation: Invitation,
    order: Order,
    program: ReferralProgram,
    now: datetime,
) -> None:
    """Same conversion, possibly a corrected payment time: the conversion is dated by its
    order, and a hold moved later by the correction is followed (never shortened, so a reward
    due tomorrow is not suddenly due today)."""
    assert invitation.hold_until is not None
    hold_until = max(invitation.hold_until, order.paid_at + timedelta(days=program.hold_days))
    if invitation.converted_at == order.paid_at and invitation.hold_until == hold_until:
        return
    invitation.converted_at = order.paid_at
    invitation.hold_until = hold_until
    invitation.updated_at = now
    await session.flush()
    await session.execute(
        update(Reward)
        .where(Reward.invitation_id == invitation.id, Reward.status == "pending")
        .values(settle_after=hold_until, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def _restore_corrected(
    session: AsyncSession, invitee_id: int, now: datetime
) -> RecheckResult:
    """A conversion voided by a refund whose order is paid again: decided afresh."""
    voided = await invitation_where(
        session,
        Invitation.invitee_customer_id == invitee_id,
        Invitation.status == "rejected",
        Invitation.reject_reason == "order_refunded",
        Invitation.converting_order_id.in_(
            select(Order.id).where(Order.customer_id == invitee_id, Order.status == "paid")
        ),
    )
    if voided is None:
        return RecheckResult("none")
    voided.status = "joined"
    voided.reject_reason = None
    voided.rejected_at = None
    voided.converted_at = None
    voided.converting_order_id = None
    voided.hold_until = None
    voided.review_status = None
    voided.fraud_signals = None
    voided.updated_at = now
    await session.flush()
    result = await convert_invitation(session, voided, now=now, hold_from=now)
    decided = _from_conversion(result)
    if decided.outcome == "converted":
        return RecheckResult("restored", voided)
    return decided


def _from_conversion(result: ConversionResult) -> RecheckResult:
    outcome: RecheckOutcome
    if result.outcome in ("converted", "under_review", "rejected"):
        outcome = result.outcome
    else:
        outcome = "unchanged"
    return RecheckResult(outcome, result.invitation, result.reason)
