"""Granting and revoking rewards: double-sided rewards on conversion, milestone bonuses, the
program budget, and revocation when the converting order is refunded during the hold.

Callers hold the locks of models/referral/locks.py (invitee, then the inviter's code, then the
program when it has a budget), so counts read here are exact; the unique indexes on `rewards`
are the last word if a caller does not.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import RewardSpec
from models.referral import ledger
from models.referral.coupons import template_by_key
from models.referral.programs import ProgramRules, program_rules
from models.referral.reward_tables import Reward
from models.referral.tables import Invitation, ReferralProgram

log = logging.getLogger(__name__)

CONVERTED = ("converted", "rewarded")
# The columns a ledger row is built from, returned by UPDATE … RETURNING.
REWARD_ROW = (
    Reward.id,
    Reward.customer_id,
    Reward.program_id,
    Reward.kind,
    Reward.points,
    Reward.amount_fen,
    Reward.coupon_template_id,
)


async def face_value_fen(session: AsyncSession, spec: RewardSpec | None) -> int:
    """What a reward costs the program budget: cash, or a coupon's face value."""
    if spec is None:
        return 0
    if spec.kind == "cash":
        return spec.amount_fen or 0
    if spec.kind == "coupon" and spec.coupon_template:
        template = await template_by_key(session, spec.coupon_template)
        return template.face_value_fen if template is not None else 0
    return 0


async def budget_spent_fen(session: AsyncSession, program_id: int) -> int:
    """Granted, not revoked, cash and coupon face value of the program."""
    stmt = select(func.coalesce(func.sum(Reward.amount_fen), 0)).where(
        Reward.program_id == program_id, Reward.status != "revoked"
    )
    return int((await session.execute(stmt)).scalar_one())


async def budget_allows(session: AsyncSession, program: ReferralProgram, extra_fen: int) -> bool:
    if program.budget_fen is None or extra_fen == 0:
        return True
    return await budget_spent_fen(session, program.id) + extra_fen <= program.budget_fen


async def conversion_cost_fen(session: AsyncSession, rules: ProgramRules) -> int:
    return await face_value_fen(session, rules.inviter_reward) + await face_value_fen(
        session, rules.invitee_reward
    )


async def rewarded_conversions(session: AsyncSession, program_id: int, inviter_id: int) -> int:
    """Conversions that count toward milestones: converted or rewarded, and not held for (or
    refused by) review."""
    stmt = select(func.count()).where(
        Invitation.program_id == program_id,
        Invitation.inviter_customer_id == inviter_id,
        Invitation.status.in_(CONVERTED),
        (Invitation.review_status.is_(None)) | (Invitation.review_status == "approved"),
    )
    return int((await session.execute(stmt)).scalar_one())


async def grant_conversion_rewards(
    session: AsyncSession,
    *,
    program: ReferralProgram,
    rules: ProgramRules,
    invitation: Invitation,
    now: datetime,
) -> list[Reward]:
    """Both sides' rewards for a converted invitation, then any milestone it completes. All
    are pending until `invitation.hold_until`."""
    assert invitation.invitee_customer_id is not None
    granted: list[Reward] = []
    for side, spec, customer_id in (
        ("inviter", rules.inviter_reward, invitation.inviter_customer_id),
        ("invitee", rules.invitee_reward, invitation.invitee_customer_id),
    ):
        reward = await _new_reward(
            session,
            program=program,
            invitation=invitation,
            side=side,
            tier=None,
            spec=spec,
            customer_id=customer_id,
            now=now,
        )
        if reward is not None:
            session.add(reward)
            granted.append(reward)
    await session.flush()
    await _ledger_grants(session, granted, now)
    granted += await grant_due_milestones(
        session, program=program, rules=rules, invitation=invitation, now=now
    )
    return granted


async def grant_due_milestones(
    session: AsyncSession,
    *,
    program: ReferralProgram,
    rules: ProgramRules,
    invitation: Invitation,
    now: datetime,
) -> list[Reward]:
    """Every tier the inviter has reached and not yet been granted. A tier over the remaining
    budget is skipped (and logged). The partial unique index on (program, inviter, tier) makes
    a second grant of one tier impossible even when two conversions race."""
    if not rules.milestones:
        return []
    inviter_id = invitation.inviter_customer_id
    count = await rewarded_conversions(session, program.id, inviter_id)
    granted: list[Reward] = []
    for tier in rules.milestones:
        if tier.at > count or await _has_live_tier(session, program.id, inviter_id, tier.at):
            continue
        if not await budget_allows(session, program, await face_value_fen(session, tier.reward)):
            log.warning("program %s: milestone %s over budget, not granted", program.key, tier.at)
            continue
        reward = await _new_reward(
            session,
            program=program,
            invitation=invitation,
            side="milestone",
            tier=tier.at,
            spec=tier.reward,
            customer_id=inviter_id,
            now=now,
        )
        if reward is None:
            continue
        try:
            async with session.begin_nested():
                session.add(reward)
        except IntegrityError:
            continue  # granted by a concurrent conversion
        granted.append(reward)
    await _ledger_grants(session, granted, now)
    return granted


async def regrant_milestones(
    session: AsyncSession, voided: Invitation, now: datetime
) -> list[Reward]:
    """After `voided` lost its conversion: a milestone it had triggered was revoked with it,
    but the inviter may still reach that tier through their other conversions. Grant such tiers
    again, attached to the inviter's latest counted conversion (whose hold they then share)."""
    program = await session.get(ReferralProgram, voided.program_id)
    assert program is not None
    stmt = (
        select(Invitation)
        .where(
            Invitation.program_id == voided.program_id,
            Invitation.inviter_customer_id == voided.inviter_customer_id,
            Invitation.status.in_(CONVERTED),
            (Invitation.review_status.is_(None)) | (Invitation.review_status == "approved"),
        )
        .order_by(Invitation.converted_at.desc(), Invitation.id.desc())
        .limit(1)
    )
    latest = (await session.execute(stmt)).scalar_one_or_none()
    if latest is None:
        return []
    return await grant_due_milestones(
        session, program=program, rules=program_rules(program), invitation=latest, now=now
    )


async def revoke_invitation_rewards(
    session: AsyncSession, *, invitation_id: int, reason: str, now: datetime
) -> list[int]:
    """Revoke the invitation's pending rewards (both sides and a milestone it triggered)."""
    return await _revoke(session, [Reward.invitation_id == invitation_id], reason, now)


async def revoke_unmet_milestones(
    session: AsyncSession, *, program_id: int, inviter_id: int, now: datetime
) -> list[int]:
    """After a conversion is voided: pending milestone bonuses the inviter no longer reaches."""
    count = await rewarded_conversions(session, program_id, inviter_id)
    return await _revoke(
        session,
        [
            Reward.program_id == program_id,
            Reward.customer_id == inviter_id,
            Reward.side == "milestone",
            Reward.tier > count,
        ],
        "milestone_unmet",
        now,
    )


async def _revoke(session: AsyncSession, where: list[Any], reason: str, now: datetime) -> list[int]:
    stmt = (
        update(Reward)
        .where(*where, Reward.status == "pending")
        .values(status="revoked", revoke_reason=reason, revoked_at=now, updated_at=now)
        .returning(*REWARD_ROW)
        .execution_options(synchronize_session=False)
    )
    rows = [row._asdict() for row in (await session.execute(stmt)).all()]
    await ledger.append(session, (ledger.reward_entry("revoke", row, now, reason) for row in rows))
    return [int(row["id"]) for row in rows]


async def _has_live_tier(
    session: AsyncSession, program_id: int, inviter_id: int, tier: int
) -> bool:
    stmt = select(Reward.id).where(
        Reward.program_id == program_id,
        Reward.customer_id == inviter_id,
        Reward.tier == tier,
        Reward.status != "revoked",
    )
    return (await session.execute(stmt)).first() is not None


async def _new_reward(
    session: AsyncSession,
    *,
    program: ReferralProgram,
    invitation: Invitation,
    side: str,
    tier: int | None,
    spec: RewardSpec | None,
    customer_id: int,
    now: datetime,
) -> Reward | None:
    if spec is None:
        return None
    assert invitation.hold_until is not None
    reward = Reward(
        program_id=program.id,
        invitation_id=invitation.id,
        customer_id=customer_id,
        side=side,
        tier=tier,
        kind=spec.kind,
        points=spec.points or 0,
        amount_fen=spec.amount_fen or 0,
        privilege=spec.privilege,
        status="pending",
        granted_at=now,
        settle_after=invitation.hold_until,
        created_at=now,
        updated_at=now,
    )
    if spec.kind == "coupon":
        template = await template_by_key(session, spec.coupon_template or "")
        if template is None:
            log.error(
                "program %s: coupon template %r does not exist; %s reward not granted",
                program.key,
                spec.coupon_template,
                side,
            )
            return None
        reward.coupon_template_id = template.id
        reward.amount_fen = template.face_value_fen
    return reward


async def _ledger_grants(session: AsyncSession, rewards: list[Reward], now: datetime) -> None:
    await session.flush()
    await ledger.append(
        session,
        (
            ledger.reward_entry(
                "grant",
                {
                    "id": reward.id,
                    "customer_id": reward.customer_id,
                    "program_id": reward.program_id,
                    "kind": reward.kind,
                    "points": reward.points,
                    "amount_fen": reward.amount_fen,
                },
                now,
                reward.side if reward.tier is None else f"milestone {reward.tier}",
            )
            for reward in rewards
        ),
    )
