"""Attribution: clicks, joins, conversion on the invitee's first paid order, refunds.

Every function works inside the caller's unit of work (`AsyncSession`) and never commits.
Decisions about one invitee are serialised by a lock on the invitee's customer row
(models/referral/locks.py), so two simultaneous attributions of the same friend, or the same
order posted twice at once, are decided one after the other: one wins, the other is stored as
a rejected row or answered idempotently. The partial unique indexes on `invitations` (one
attributed invitation per invitee, one invitation per converting order) back this up.

First valid touch wins: a later touch by another inviter is stored as `already_attributed`
while the first attribution is live (joined within the program's attribution window, or
converted). A joined invitation whose window passed without a conversion lapses (`expired`)
and the new touch takes over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.clock import local_date
from models.customer import Customer
from models.referral.codes import find_code, insert_ignoring_conflicts
from models.referral.conversion import convert_invitation
from models.referral.locks import lock_rows
from models.referral.programs import is_live, program_rules
from models.referral.recheck import void_conversion
from models.referral.results import ClickResult, ConversionResult, JoinResult, RefundResult
from models.referral.tables import Invitation, ReferralClick, ReferralProgram
from models.referral.touches import attribute, attributed_invitation, invitation_where


async def record_click(
    session: AsyncSession, *, code: str, visitor_hash: str, now: datetime
) -> ClickResult | None:
    """A landing-page visit. Counted once per visitor per local day; the visitor's first visit
    also opens an anonymous `clicked` invitation that a later join from the same visitor
    continues. None for an unknown code or a program that is not running."""
    referral_code = await find_code(session, code)
    if referral_code is None:
        return None
    program = await session.get(ReferralProgram, referral_code.program_id)
    if program is None or not is_live(program, now):
        return None
    dialect = session.get_bind().dialect.name
    day = local_date(now, program_rules(program).tz)
    click = insert_ignoring_conflicts(dialect, ReferralClick.__table__).values(
        code_id=referral_code.id, visitor_hash=visitor_hash, day=day, created_at=now
    )
    counted = (await session.execute(click.returning(ReferralClick.__table__.c.id))).first()
    opened = insert_ignoring_conflicts(dialect, Invitation.__table__).values(
        program_id=program.id,
        code_id=referral_code.id,
        inviter_customer_id=referral_code.customer_id,
        channel="link",
        status="clicked",
        visitor_hash=visitor_hash,
        clicked_at=now,
        created_at=now,
        updated_at=now,
    )
    await session.execute(opened)
    return ClickResult(code=referral_code, program=program, counted=counted is not None)


async def record_join(
    session: AsyncSession,
    *,
    invitee_customer_id: int,
    code: str,
    channel: str,
    now: datetime,
    visitor_hash: str | None = None,
) -> JoinResult:
    """The invitee was identified through `code` (a WeCom contact `state`, a group join, an OA
    parametric QR, or an API registration). Accepted → `joined`; otherwise a rejected row with
    its reason. Repeating the same join (a retried callback) answers `already_joined`."""
    referral_code = await find_code(session, code)
    if referral_code is None:
        return JoinResult("unknown_code")
    await lock_rows(session, Customer, [invitee_customer_id])
    return await attribute(
        session,
        referral_code,
        invitee_customer_id,
        channel=channel,
        joined_at=now,
        now=now,
        visitor_hash=visitor_hash,
        exclude_order_id=None,
    )


async def on_order_paid(
    session: AsyncSession,
    *,
    order: Order,
    referral_code: str | None = None,
    now: datetime,
    channel: str = "api",
) -> ConversionResult:
    """A paid order. With `referral_code` the order also attributes its customer (a touch at
    the moment of payment). If the customer holds a joined invitation, this converts it on
    their first paid order since the join — rewards pending, or held for review on a fraud
    signal. Posting the same order again changes nothing."""
    if order.status != "paid":
        return ConversionResult("not_paid")
    invitee_id = order.customer_id
    await lock_rows(session, Customer, [invitee_id])
    done = await invitation_where(session, Invitation.converting_order_id == order.id)
    if done is not None:
        return ConversionResult("already_converted", done, done.reject_reason)
    touch: JoinResult | None = None
    referral = await find_code(session, referral_code) if referral_code else None
    if referral is not None:
        touch = await attribute(
            session,
            referral,
            invitee_id,
            channel=channel,
            joined_at=min(order.paid_at, now),
            now=now,
            visitor_hash=None,
            exclude_order_id=order.id,
        )
    current = await attributed_invitation(session, invitee_id)
    if current is None:
        if touch is not None and touch.outcome == "rejected":
            return ConversionResult("rejected", touch.invitation, touch.reason)
        return ConversionResult("not_attributed")
    if current.status != "joined":
        return ConversionResult("already_converted", current)
    return await convert_invitation(session, current, now=now)


async def on_order_refunded(session: AsyncSession, *, order: Order, now: datetime) -> RefundResult:
    """The order was refunded. If it converted an invitation that has not been settled yet —
    inside its hold, past the hold but before the settle run, or held for fraud review — the
    conversion is void: both sides' pending rewards (and a milestone bonus it made reachable)
    are revoked with reason `order_refunded` and the invitation is rejected the same way.

    A settled conversion is final: clawing back a spent coupon or a paid red packet is a
    finance decision, not something to do silently. The refunded order still counts against
    the invitee as a fraud signal for any later conversion."""
    await lock_rows(session, Customer, [order.customer_id])
    invitation = await invitation_where(session, Invitation.converting_order_id == order.id)
    if invitation is None:
        return RefundResult("not_converting")
    if invitation.status == "rejected":
        return RefundResult("already_revoked", invitation)
    if invitation.status != "converted":
        return RefundResult("settled", invitation)
    revoked = await void_conversion(session, invitation, "order_refunded", now)
    if revoked is None:  # a settle run got there first
        return RefundResult("settled", invitation)
    return RefundResult("revoked", invitation, revoked)


__all__ = [
    "ClickResult",
    "ConversionResult",
    "JoinResult",
    "RefundResult",
    "attributed_invitation",
    "on_order_paid",
    "on_order_refunded",
    "record_click",
    "record_join",
]
