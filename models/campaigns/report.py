"""Did a campaign work? Per run and over all of a campaign's runs: the conversion of each arm,
the uplift over the holdout and over the global control group with a 95% interval, coupon
redemption, revenue per member and the win-back rate (seed 004 step 5).

Definitions, as a reader of the report needs them:
- **Conversion**: a paid order (refunded ones never count) within `conversion_days` of the
  start of the member's window — for the treatment arm the time their message was sent
  (`deliveries.sent_at`, for WeCom the time the staff member's confirmed send went out), for
  the holdout and the global control group the run's start.
- **The treatment arm is everyone the run chose to message**, reached or not (intent to treat):
  a member whose message was skipped, failed or never confirmed by staff keeps the run's start
  as their window. The holdout was drawn from the same audience before anything was sent, so
  comparing only the customers a message reached with the whole holdout would credit the
  campaign with the reachable customers' own higher buying rate. How many were reached is
  shown beside it.
- **Uplift**: treatment rate − holdout rate, and treatment rate − control rate, with Newcombe's
  interval (models/campaigns/uplift.py); an interval holding zero is "not yet significant".
- **Revenue per member**: the paid amount in the members' windows over the arm's size, in fen.
- **Coupon redemption**: redeemed coupons among those the run issued to its treatment arm.
- **Win-back rate**: treatment members who were declining or churned when the run chose them
  and converted, over all such members.
- A run's windows close `conversion_days` after the latest of its start, its last send and
  the deadline of a message still pending; until then its figures can still grow.

Everything is computed by two grouped queries over all the runs asked for (members ⟕ their
delivery ⟕ their paid orders in the window), never customer by customer in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from models.activity import Order
from models.campaigns.tables import Campaign, CampaignMember, CampaignRun, Delivery
from models.campaigns.uplift import Uplift, newcombe_uplift
from models.referral.reward_tables import Coupon
from models.upsert import dialect_name

COMPARED_ARMS = ("treatment", "holdout", "control")
WINBACK_STAGES = ("declining", "churned")
# Deliveries that may still be sent, so their conversion window may still open.
_PENDING = ("queued", "sending", "waiting_staff", "failed")


@dataclass(frozen=True)
class ArmFigures:
    members: int = 0
    converted: int = 0
    revenue_fen: int = 0
    reached: int = 0  # messages sent (the treatment arm only)
    coupons: int = 0  # coupons the run issued to these members
    redeemed: int = 0
    winback_members: int = 0  # declining or churned when the run chose them
    winback_converted: int = 0

    def __add__(self, other: ArmFigures) -> ArmFigures:
        return ArmFigures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def conversion(self) -> Fraction | None:
        return _ratio(self.converted, self.members)

    @property
    def revenue_per_member_fen(self) -> int | None:
        """Rounded half up to a whole fen; None for an empty arm."""
        if self.members == 0:
            return None
        return (2 * self.revenue_fen + self.members) // (2 * self.members)

    @property
    def redemption(self) -> Fraction | None:
        return _ratio(self.redeemed, self.coupons)

    @property
    def winback_rate(self) -> Fraction | None:
        return _ratio(self.winback_converted, self.winback_members)


@dataclass(frozen=True)
class Comparison:
    treatment: ArmFigures = ArmFigures()
    holdout: ArmFigures = ArmFigures()
    control: ArmFigures = ArmFigures()

    def __add__(self, other: Comparison) -> Comparison:
        return Comparison(
            self.treatment + other.treatment,
            self.holdout + other.holdout,
            self.control + other.control,
        )

    def arm(self, name: str) -> ArmFigures:
        figures: ArmFigures = getattr(self, name)
        return figures

    @property
    def vs_holdout(self) -> Uplift | None:
        return _uplift(self.treatment, self.holdout)

    @property
    def vs_control(self) -> Uplift | None:
        return _uplift(self.treatment, self.control)


@dataclass(frozen=True)
class RunFigures:
    run_id: int
    campaign_id: int
    slot: datetime
    started_at: datetime
    closes_at: datetime  # when the last conversion window of the run closes
    arms: Comparison

    def is_final(self, now: datetime) -> bool:
        return now >= self.closes_at


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: int
    key: str
    name: str
    conversion_days: int
    alert_below_rate: float
    runs: tuple[RunFigures, ...]  # newest first

    @property
    def total(self) -> Comparison:
        """All runs together (a customer in two runs counts once in each)."""
        total = Comparison()
        for run in self.runs:
            total += run.arms
        return total


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _uplift(treated: ArmFigures, baseline: ArmFigures) -> Uplift | None:
    return newcombe_uplift(treated.converted, treated.members, baseline.converted, baseline.members)


def _before_window_end(
    moment: ColumnElement[datetime] | InstrumentedAttribute[datetime],
    start: ColumnElement[Any],
    days: ColumnElement[int],
    dialect: str,
) -> ColumnElement[bool]:
    """`moment < start + days` (whole days of 24 h), per row, on either backend."""
    if dialect == "sqlite":
        # Stored as naive UTC text; julianday() reads it exactly enough (to the millisecond).
        return func.julianday(moment) < func.julianday(start) + days
    return moment < start + days * literal_column("INTERVAL '1 day'")


async def run_figures(
    session: AsyncSession, run_ids: Sequence[int], *, final_by: datetime | None = None
) -> list[RunFigures]:
    """The figures of the given runs (finished ones only), newest first; with `final_by`, only
    of those whose conversion windows have all closed by then."""
    if not run_ids:
        return []
    windows = await _windows(session, run_ids)
    if final_by is not None:
        windows = {i: w for i, w in windows.items() if w.closes_at <= final_by}
    arms = await _arm_figures(session, list(windows))
    return [
        RunFigures(
            run_id=run_id,
            campaign_id=window.campaign_id,
            slot=window.slot,
            started_at=window.started_at,
            closes_at=window.closes_at,
            arms=Comparison(
                **{arm: arms.get((run_id, arm), ArmFigures()) for arm in COMPARED_ARMS}
            ),
        )
        for run_id, window in sorted(
            windows.items(), key=lambda item: (item[1].started_at, item[0]), reverse=True
        )
    ]


async def campaign_report(session: AsyncSession, campaign: Campaign) -> CampaignReport:
    run_ids = (
        await session.scalars(
            select(CampaignRun.id).where(
                CampaignRun.campaign_id == campaign.id, CampaignRun.status == "done"
            )
        )
    ).all()
    return CampaignReport(
        campaign_id=campaign.id,
        key=campaign.key,
        name=campaign.name,
        conversion_days=campaign.conversion_days,
        alert_below_rate=campaign.alert_below_rate,
        runs=tuple(await run_figures(session, list(run_ids))),
    )


async def find_campaign(session: AsyncSession, query: str) -> Campaign | None:
    """A campaign by its key (any case) or its exact name."""
    text = query.strip()
    return (
        await session.scalars(
            select(Campaign)
            .where(or_(func.lower(Campaign.key) == text.lower(), Campaign.name == text))
            .order_by(Campaign.id)
            .limit(1)
        )
    ).first()


async def all_campaigns(session: AsyncSession) -> list[tuple[str, str]]:
    """(key, name) of every campaign, to say what there is to choose from."""
    rows = await session.execute(select(Campaign.key, Campaign.name).order_by(Campaign.id))
    return [(key, name) for key, name in rows]


@dataclass(frozen=True)
class _Window:
    campaign_id: int
    slot: datetime
    started_at: datetime
    closes_at: datetime


async def _windows(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, _Window]:
    r, c, d = CampaignRun, Campaign, Delivery
    pending_deadline = case((d.status.in_(_PENDING), d.deadline_at))
    rows = await session.execute(
        select(
            r.id,
            r.campaign_id,
            r.slot,
            r.started_at,
            c.conversion_days,
            func.max(d.sent_at).label("last_sent"),
            func.max(pending_deadline).label("pending_until"),
        )
        .join(c, c.id == r.campaign_id)
        .outerjoin(d, d.run_id == r.id)
        .where(r.id.in_(run_ids), r.status == "done")
        .group_by(r.id, r.campaign_id, r.slot, r.started_at, c.conversion_days)
    )
    windows = {}
    for row in rows:
        latest = max(t for t in (row.started_at, row.last_sent, row.pending_until) if t is not None)
        windows[row.id] = _Window(
            campaign_id=row.campaign_id,
            slot=row.slot,
            started_at=row.started_at,
            closes_at=latest + timedelta(days=row.conversion_days),
        )
    return windows


async def _arm_figures(
    session: AsyncSession, run_ids: Sequence[int]
) -> dict[tuple[int, str], ArmFigures]:
    if not run_ids:
        return {}
    m, r, c, d, cp, o = CampaignMember, CampaignRun, Campaign, Delivery, Coupon, Order
    start = case((m.arm == "treatment", func.coalesce(d.sent_at, r.started_at)), else_=r.started_at)
    members = (
        select(
            m.run_id,
            m.customer_id,
            m.arm,
            m.stage,
            m.coupon_id,
            start.label("start"),
            c.conversion_days.label("days"),
            case((d.sent_at.is_not(None), 1), else_=0).label("reached"),
            case((cp.status == "redeemed", 1), else_=0).label("redeemed"),
        )
        .join(r, r.id == m.run_id)
        .join(c, c.id == r.campaign_id)
        .outerjoin(d, and_(d.run_id == m.run_id, d.customer_id == m.customer_id))
        .outerjoin(cp, cp.id == m.coupon_id)
        .where(m.run_id.in_(run_ids), m.arm.in_(COMPARED_ARMS))
        .subquery("members")
    )
    in_window = and_(
        o.customer_id == members.c.customer_id,
        o.status == "paid",
        o.paid_at >= members.c.start,
        _before_window_end(o.paid_at, members.c.start, members.c.days, dialect_name(session)),
    )
    per_member = (
        select(
            members.c.run_id,
            members.c.arm,
            members.c.stage,
            members.c.coupon_id,
            members.c.reached,
            members.c.redeemed,
            func.count(o.id).label("orders"),
            func.coalesce(func.sum(o.amount_fen), 0).label("revenue"),
        )
        .select_from(members)
        .outerjoin(o, in_window)
        .group_by(
            members.c.run_id,
            members.c.customer_id,
            members.c.arm,
            members.c.stage,
            members.c.coupon_id,
            members.c.reached,
            members.c.redeemed,
        )
        .subquery("per_member")
    )
    pm = per_member.c
    bought = pm.orders > 0
    winback = pm.stage.in_(WINBACK_STAGES)

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = await session.execute(
        select(
            pm.run_id,
            pm.arm,
            func.count().label("members"),
            total(bought).label("converted"),
            func.coalesce(func.sum(pm.revenue), 0).cast(BigInteger).label("revenue_fen"),
            func.coalesce(func.sum(pm.reached), 0).cast(Integer).label("reached"),
            func.count(pm.coupon_id).label("coupons"),
            func.coalesce(func.sum(pm.redeemed), 0).cast(Integer).label("redeemed"),
            total(winback).label("winback_members"),
            total(and_(winback, bought)).label("winback_converted"),
        ).group_by(pm.run_id, pm.arm)
    )
    # Each figure is labelled with its ArmFigures field's name.
    return {
        (row.run_id, row.arm): ArmFigures(
            **{f.name: int(row._mapping[f.name]) for f in fields(ArmFigures)}
        )
        for row in rows
    }
