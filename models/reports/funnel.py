"""The referral funnel (clicks → joins → conversions → rewarded) and the K-factor, per program,
per channel and per customer type.

K-factor = invitations per participant × conversion rate (conversions / invitations), i.e. how
many paying customers each participant brings; above 1 the referral programme grows by itself.
Rates are exact fractions; rounding is the renderer's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from config.reports import ReferralReportRules
from models.referral.tables import CHANNELS
from models.reports import facts
from models.reports.labels import CHANNEL_LABELS, SEGMENT_LABELS, label
from models.reports.programs import load_programs
from models.reports.segments import SEGMENT_ORDER, ReportPeriod, customer_segments

DIMENSIONS = ("program", "channel", "segment")
# Landing-page visits are the only clicks recorded; they come through the shared link.
CLICK_CHANNEL = "link"


def ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class FunnelRow:
    dimension: str  # "program" | "channel" | "segment"
    key: str  # program key, channel code or segment key
    label: str
    participants: int
    clicks: int | None  # None: this channel has no click stage (QR codes, group joins, API)
    invitations: int
    joins: int
    conversions: int
    rewarded: int
    rejected: int

    @property
    def invitations_per_participant(self) -> Fraction | None:
        return ratio(self.invitations, self.participants)

    @property
    def conversion_rate(self) -> Fraction | None:
        """Conversions / invitations — seed 000's 裂变成功率."""
        return ratio(self.conversions, self.invitations)

    @property
    def k_factor(self) -> Fraction | None:
        per_participant = self.invitations_per_participant
        if per_participant is None:
            return None
        return per_participant * (self.conversion_rate or 0)


@dataclass(frozen=True)
class FunnelReport:
    period: ReportPeriod
    by_program: tuple[FunnelRow, ...]
    by_channel: tuple[FunnelRow, ...]
    by_segment: tuple[FunnelRow, ...]

    def rows(self, dimension: str | None = None) -> tuple[FunnelRow, ...]:
        if dimension is None:
            return self.by_program + self.by_channel + self.by_segment
        return {
            "program": self.by_program,
            "channel": self.by_channel,
            "segment": self.by_segment,
        }[dimension]


def _row(
    dimension: str,
    key: str,
    name: str,
    participants: int,
    clicks: int | None,
    counts: facts.InvitationCounts | None,
) -> FunnelRow:
    counts = counts or facts.InvitationCounts()
    return FunnelRow(
        dimension=dimension,
        key=key,
        label=name,
        participants=participants,
        clicks=clicks,
        invitations=counts.invitations,
        joins=counts.joins,
        conversions=counts.conversions,
        rewarded=counts.rewarded,
        rejected=counts.rejected,
    )


async def referral_funnel(
    session: AsyncSession,
    *,
    period: ReportPeriod,
    rules: ReferralReportRules,
    locale: str = "zh-CN",
) -> FunnelReport:
    """The funnel of every program (active ones always, others when they saw activity), every
    channel that saw activity, and the six customer types plus everyone."""
    per_program, per_channel = await facts.invitations_by_program_and_channel(session, period)
    program_clicks = await facts.clicks_by_program(session, period)
    program_participants = await facts.participants_by_program(session, period)
    channel_participants = await facts.participants_by_channel(session, period)

    programs = []
    for program in await load_programs(session, period):
        busy = program.id in per_program or program_clicks.get(program.id)
        if not (program.in_date or busy or program_participants.get(program.id)):
            continue
        programs.append(
            _row(
                "program",
                program.key,
                program.name,
                program_participants.get(program.id, 0),
                program_clicks.get(program.id, 0),
                per_program.get(program.id),
            )
        )

    total_clicks = sum(program_clicks.values())
    seen = set(per_channel) | ({CLICK_CHANNEL} if total_clicks else set())
    order = {name: i for i, name in enumerate(CHANNELS)}
    channels = [
        _row(
            "channel",
            channel,
            label(CHANNEL_LABELS, locale, channel),
            channel_participants.get(channel, 0),
            total_clicks if channel == CLICK_CHANNEL else None,
            per_channel.get(channel),
        )
        for channel in sorted(seen, key=lambda c: (order.get(c, len(order)), c))
    ]

    segments = await facts.segment_facts(session, period, customer_segments(period, rules))
    by_segment = [
        _row(
            "segment",
            key,
            label(SEGMENT_LABELS, locale, key),
            segments.sizes.get(key, (0, 0))[1],
            segments.clicks.get(key, 0),
            segments.invitations.get(key),
        )
        for key in SEGMENT_ORDER
    ]
    return FunnelReport(period, tuple(programs), tuple(channels), tuple(by_segment))
