"""The demo's referral programmes: the seeded default one (both sides get a coupon, a bonus
coupon at the 3rd friend) and a VIP programme paying cash and points, so the demo shows every
kind of reward. Both go in through `sync_programs`, the path `fission program sync` takes.

The default programme and its coupon templates are normally seeded by the first migration;
`fission demo --reset` on PostgreSQL empties every table, so they are put back here when
missing (with the migration's values), never overwritten when present.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import (
    CouponTemplateConfig,
    FraudRules,
    MilestoneTier,
    ProgramConfig,
    RewardSpec,
    Segment,
)
from models.referral import sync_programs
from models.referral.reward_tables import CouponTemplate
from models.referral.tables import ReferralProgram

VIP_PROGRAM = ProgramConfig(
    key="vip_referrer",
    name="VIP推荐官",
    title="推荐好友，赚现金红包",
    offer_text="好友通过你的专属邀请码加入并完成首单，你得¥10现金红包，好友得200积分；"
    "累计3位好友成交再得1000积分，5位再得¥88红包。",
    segment=Segment(value="high"),
    inviter_reward=RewardSpec(kind="cash", amount_fen=1000),
    invitee_reward=RewardSpec(kind="points", points=200),
    milestones=[
        MilestoneTier(at=3, reward=RewardSpec(kind="points", points=1000)),
        MilestoneTier(at=5, reward=RewardSpec(kind="cash", amount_fen=8800)),
    ],
    priority=10,
    fraud=FraudRules(),
)

# As seeded by models/migrations/versions/0002_referral.py.
DEFAULT_TEMPLATES = (
    CouponTemplateConfig(
        key="friend_20", name="好友专享券 ¥20", value_fen=2000, min_spend_fen=10000
    ),
    CouponTemplateConfig(
        key="inviter_20", name="邀请奖励券 ¥20", value_fen=2000, min_spend_fen=10000
    ),
    CouponTemplateConfig(
        key="milestone_3_50", name="3人达成奖 ¥50", value_fen=5000, min_spend_fen=20000
    ),
)
DEFAULT_PROGRAM = ProgramConfig(
    key="default",
    name="老带新默认活动",
    title="邀请好友，双方各得¥20券",
    offer_text=(
        "好友通过你的专属邀请码加入并完成首单，你和好友各得一张¥20优惠券；"
        "累计邀请3位好友成交，再得¥50奖励券。"
    ),
    inviter_reward=RewardSpec(kind="coupon", coupon_template="inviter_20"),
    invitee_reward=RewardSpec(kind="coupon", coupon_template="friend_20"),
    milestones=[
        MilestoneTier(at=3, reward=RewardSpec(kind="coupon", coupon_template="milestone_3_50"))
    ],
    priority=1000,
)


async def ensure_demo_programs(
    session: AsyncSession, *, timezone: str, now: datetime
) -> dict[str, int]:
    """The demo programmes by key → id (the VIP one added, the default one restored)."""
    programs = set((await session.execute(select(ReferralProgram.key))).scalars())
    templates = set((await session.execute(select(CouponTemplate.key))).scalars())
    await sync_programs(
        session,
        programs=[p for p in (DEFAULT_PROGRAM, VIP_PROGRAM) if p.key not in programs],
        templates=[t for t in DEFAULT_TEMPLATES if t.key not in templates],
        timezone=timezone,
        now=now,
    )
    rows = await session.execute(select(ReferralProgram.key, ReferralProgram.id))
    return {key: int(program_id) for key, program_id in rows.all()}
