"""Seed 000 §6, the 客户裂变管理表格 — computed from data, not typed in.

One row per customer type (新客户, 老客户, 高价值客户, 低价值客户, 活跃客户, 沉睡客户) and a
全部客户 total; a customer counts once in each split, so the six rows are three views of the same
population, not a partition of it. Columns:
- 裂变目标: configuration (`[reports.goals]`), seed 000's phrasing by default;
- 裂变激励措施: the incentive categories of the program the type maps to (models/reports/programs);
- 裂变渠道: the channels its invitations actually came through, busiest first, with counts; the
  program's configured channels while there are no invitations yet;
- 参与人数 / 邀请数 / 转化数 / 成功率 (= 转化数 / 邀请数): see models/reports/facts;
- 客户反馈: what the data says about the invitations — joined but not yet ordering, rejections by
  reason, rewards held for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from config.reports import ReferralReportRules
from models.reports import facts
from models.reports.funnel import ratio
from models.reports.labels import (
    CHANNEL_LABELS,
    DEFAULT_GOALS,
    SEGMENT_LABELS,
    TEXT,
    label,
    pick,
    reject_label,
)
from models.reports.programs import (
    channel_labels,
    configured_channels,
    incentive_text,
    load_programs,
    program_for_segment,
)
from models.reports.segments import SEGMENT_ORDER, ReportPeriod, customer_segments

T = TypeVar("T")
# Before any invitation, the mapped program's channels are shown; a long list is cut short.
MAX_CONFIGURED_CHANNELS = 3


@dataclass(frozen=True)
class ReferralTableRow:
    segment: str  # "new", "returning", "high", "low", "active", "dormant" or "all"
    customer_type: str  # 客户类型
    customers: int  # customers of this type
    goal: str  # 裂变目标
    incentive: str  # 裂变激励措施
    program_key: str | None
    channels: str  # 裂变渠道
    participants: int  # 裂变活动参与人数
    invitations: int  # 邀请数
    conversions: int  # 转化数
    feedback: str  # 客户反馈
    joins: int
    rejected: int
    review_pending: int
    channel_counts: tuple[tuple[str, int], ...]  # busiest first
    reject_counts: tuple[tuple[str | None, int], ...]  # most frequent first

    @property
    def success_rate(self) -> Fraction | None:
        """裂变成功率 = conversions / invitations (None without invitations)."""
        return ratio(self.conversions, self.invitations)


@dataclass(frozen=True)
class ReferralTable:
    period: ReportPeriod
    rows: tuple[ReferralTableRow, ...]  # the six customer types in seed 000's order, then all

    def row(self, segment: str) -> ReferralTableRow:
        return next(r for r in self.rows if r.segment == segment)


def _ranked(counter: dict[T, int]) -> tuple[tuple[T, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0]))))


def _channels_text(
    channel_counts: tuple[tuple[str, int], ...], fallback: list[str], locale: str
) -> str:
    text = pick(TEXT, locale)
    if channel_counts:
        return text["list_sep"].join(
            f"{label(CHANNEL_LABELS, locale, c)} {n}" for c, n in channel_counts
        )
    if not fallback:
        return text["none"]
    shown = channel_labels(fallback[:MAX_CONFIGURED_CHANNELS], locale)
    if len(fallback) > MAX_CONFIGURED_CHANNELS:
        return text["more_channels"].format(channels=text["list_sep"].join(shown), n=len(fallback))
    return text["list_sep"].join(shown)


def _feedback_text(counts: facts.InvitationCounts, locale: str) -> str:
    text = pick(TEXT, locale)
    if not counts.invitations:
        return text["no_invitations"]
    parts = []
    waiting = counts.joins - counts.conversions
    if waiting:
        parts.append(text["waiting_order"].format(n=waiting))
    if counts.rejected:
        reasons = text["list_sep"].join(
            f"{reject_label(locale, reason)} {n}"
            for reason, n in _ranked(dict(counts.reject_reasons))
        )
        parts.append(text["rejected"].format(n=counts.rejected, reasons=reasons))
    else:
        parts.append(text["no_rejections"])
    if counts.review_pending:
        parts.append(text["review_pending"].format(n=counts.review_pending))
    return text["part_sep"].join(parts)


async def referral_table(
    session: AsyncSession,
    *,
    period: ReportPeriod,
    rules: ReferralReportRules,
    locale: str = "zh-CN",
) -> ReferralTable:
    segments = await facts.segment_facts(session, period, customer_segments(period, rules))
    programs = await load_programs(session, period)
    goals = {**pick(DEFAULT_GOALS, locale), **rules.goals}

    rows = []
    for key in SEGMENT_ORDER:
        customers, participants = segments.sizes.get(key, (0, 0))
        counts = segments.invitations.get(key) or facts.InvitationCounts()
        program = program_for_segment(programs, key)
        channel_counts = _ranked(dict(counts.channels))
        rows.append(
            ReferralTableRow(
                segment=key,
                customer_type=label(SEGMENT_LABELS, locale, key),
                customers=customers,
                goal=goals[key],
                incentive=incentive_text(program, locale),
                program_key=program.key if program else None,
                channels=_channels_text(channel_counts, configured_channels(program), locale),
                participants=participants,
                invitations=counts.invitations,
                conversions=counts.conversions,
                feedback=_feedback_text(counts, locale),
                joins=counts.joins,
                rejected=counts.rejected,
                review_pending=counts.review_pending,
                channel_counts=channel_counts,
                reject_counts=_ranked(dict(counts.reject_reasons)),
            )
        )
    return ReferralTable(period, tuple(rows))
