"""Reading a program row: is it running, and what its JSON columns say (validated)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import FraudRules, MilestoneTier, RewardSpec, Segment
from models.referral.tables import ReferralProgram


@dataclass(frozen=True)
class ProgramRules:
    """A program's rewards, milestones, segment and fraud rules, parsed from its row."""

    inviter_reward: RewardSpec | None
    invitee_reward: RewardSpec | None
    milestones: tuple[MilestoneTier, ...]
    segment: Segment
    fraud: FraudRules
    tz: ZoneInfo


def program_rules(program: ReferralProgram) -> ProgramRules:
    tiers = (program.milestones or {}).get("tiers", [])
    return ProgramRules(
        inviter_reward=_reward(program.inviter_reward),
        invitee_reward=_reward(program.invitee_reward),
        milestones=tuple(
            sorted((MilestoneTier.model_validate(t) for t in tiers), key=lambda t: t.at)
        ),
        segment=Segment.model_validate(program.segment or {}),
        fraud=FraudRules.model_validate(program.fraud_rules or {}),
        tz=ZoneInfo(program.timezone or "Asia/Shanghai"),
    )


def _reward(raw: dict[str, Any] | None) -> RewardSpec | None:
    return RewardSpec.model_validate(raw) if raw else None


def is_live(program: ReferralProgram, now: datetime) -> bool:
    """Active, and `now` within [starts_at, ends_at)."""
    if not program.active:
        return False
    if program.starts_at is not None and now < program.starts_at:
        return False
    return program.ends_at is None or now < program.ends_at


async def program_by_key(session: AsyncSession, key: str) -> ReferralProgram | None:
    stmt = select(ReferralProgram).where(ReferralProgram.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def live_programs(session: AsyncSession, now: datetime) -> list[ReferralProgram]:
    """Running programs, first by priority (lower first), then by age."""
    stmt = (
        select(ReferralProgram)
        .where(
            ReferralProgram.active.is_(True),
            or_(ReferralProgram.starts_at.is_(None), ReferralProgram.starts_at <= now),
            or_(ReferralProgram.ends_at.is_(None), ReferralProgram.ends_at > now),
        )
        .order_by(ReferralProgram.priority, ReferralProgram.id)
    )
    return list((await session.execute(stmt)).scalars())
