"""Deciding one touch — a join through a code, or an order carrying one — for one invitee.

The caller holds the invitee's lock (models/referral/locks.py). Checks, in order: the program
is running (`expired`), not a self-referral, the invitee's current attribution is not live
(`already_attributed`; a joined one whose window passed lapses as `expired` and gives way),
and the invitee was not already a paying customer (`existing_customer`). Rejected touches are
kept as rows, once per (code, invitee, reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.referral.checks import had_paid_order_before, is_self_referral
from models.referral.programs import is_live
from models.referral.results import JoinResult
from models.referral.tables import (
    ATTRIBUTED_STATUSES,
    Invitation,
    ReferralCode,
    ReferralProgram,
)


async def attributed_invitation(session: AsyncSession, invitee_id: int) -> Invitation | None:
    """The invitation holding the invitee's attribution (joined, converted or rewarded)."""
    return await invitation_where(
        session,
        Invitation.invitee_customer_id == invitee_id,
        Invitation.status.in_(ATTRIBUTED_STATUSES),
    )


async def attribute(
    session: AsyncSession,
    referral_code: ReferralCode,
    invitee_id: int,
    *,
    channel: str,
    joined_at: datetime,
    now: datetime,
    visitor_hash: str | None,
    exclude_order_id: int | None,
) -> JoinResult:
    """Decide one touch. The caller holds the invitee's lock."""
    program = await session.get(ReferralProgram, referral_code.program_id)
    assert program is not None
    current = await attributed_invitation(session, invitee_id)
    lapsed = current is not None and await _lapsed(session, current, now)
    if current is not None and not lapsed and current.code_id == referral_code.id:
        return JoinResult("already_joined", current)  # a retried callback, or a second scan

    def reject(reason: str) -> _Rejection:
        return _Rejection(referral_code, invitee_id, channel, reason, now, visitor_hash)

    if not is_live(program, joined_at):
        return await reject("expired").store(session)
    if await is_self_referral(session, referral_code.customer_id, invitee_id):
        return await reject("self_referral").store(session)
    if current is not None:
        if not lapsed:
            return await reject("already_attributed").store(session)
        current.status, current.reject_reason, current.rejected_at = "rejected", "expired", now
        current.updated_at = now
        await session.flush()
    if await had_paid_order_before(session, invitee_id, joined_at, exclude_order_id):
        return await reject("existing_customer").store(session)

    invitation = None
    if visitor_hash is not None:
        invitation = await invitation_where(
            session,
            Invitation.code_id == referral_code.id,
            Invitation.visitor_hash == visitor_hash,
            Invitation.status == "clicked",
            Invitation.invitee_customer_id.is_(None),
        )
    if invitation is None:
        invitation = Invitation(
            program_id=program.id,
            code_id=referral_code.id,
            inviter_customer_id=referral_code.customer_id,
            visitor_hash=visitor_hash,
            created_at=now,
        )
    try:
        # Changes inside the savepoint: begin_nested() flushes what is pending before it.
        async with session.begin_nested():
            invitation.invitee_customer_id = invitee_id
            invitation.channel = channel
            invitation.status = "joined"
            invitation.joined_at = joined_at
            invitation.updated_at = now
            session.add(invitation)
    except IntegrityError:
        # Only reachable by a writer that skipped the invitee lock: the index decided.
        return await reject("already_attributed").store(session)
    return JoinResult("joined", invitation)


async def _lapsed(session: AsyncSession, invitation: Invitation, now: datetime) -> bool:
    """A joined invitation whose attribution window passed without a conversion."""
    if invitation.status != "joined" or invitation.joined_at is None:
        return False
    program = await session.get(ReferralProgram, invitation.program_id)
    assert program is not None
    return invitation.joined_at + timedelta(days=program.attribution_window_days) < now


@dataclass(frozen=True)
class _Rejection:
    referral_code: ReferralCode
    invitee_id: int
    channel: str
    reason: str
    now: datetime
    visitor_hash: str | None

    async def store(self, session: AsyncSession) -> JoinResult:
        """Keep the rejected touch (once per code, invitee and reason, so retried callbacks do
        not pile up rows)."""
        existing = await invitation_where(
            session,
            Invitation.code_id == self.referral_code.id,
            Invitation.invitee_customer_id == self.invitee_id,
            Invitation.status == "rejected",
            Invitation.reject_reason == self.reason,
        )
        if existing is None:
            existing = Invitation(
                program_id=self.referral_code.program_id,
                code_id=self.referral_code.id,
                inviter_customer_id=self.referral_code.customer_id,
                invitee_customer_id=self.invitee_id,
                channel=self.channel,
                status="rejected",
                reject_reason=self.reason,
                visitor_hash=self.visitor_hash,
                rejected_at=self.now,
                created_at=self.now,
                updated_at=self.now,
            )
            session.add(existing)
            await session.flush()
        return JoinResult("rejected", existing, self.reason)


async def invitation_where(session: AsyncSession, *where: object) -> Invitation | None:
    stmt = (
        select(Invitation)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Invitation.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
