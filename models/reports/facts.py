"""The grouped counts every referral report is built from: a few GROUP BY queries.

Definitions (the same in every report):
- an *invitation* is an invitations row with an identified invitee (a bare click is not one),
  created within the period; it belongs to its inviter's customer type;
- *joins* are invitations holding the invitee's attribution (joined, converted or rewarded),
  *conversions* those converted or rewarded, *rewarded* those rewarded; rejected ones keep their
  reason; their counts are the invitations' current states;
- *clicks* are landing-page visits (one per visitor per code per day) within the period;
- a *participant* is a customer who got a personal code within the period or made an invitation
  (any row, even a bare click) within it.

Queries return small grouped rows (per segment/program × channel × status × reason), never one
row per customer; Python only folds those few rows into report lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    ColumnElement,
    Row,
    String,
    cast,
    func,
    literal_column,
    null,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import case

from models.referral.tables import Invitation, ReferralClick, ReferralCode
from models.reports.segments import ReportPeriod

JOINED = ("joined", "converted", "rewarded")
CONVERTED = ("converted", "rewarded")

K = TypeVar("K", int, str)


@dataclass
class InvitationCounts:
    """Invitations of one group (a segment, a program or a channel), folded from grouped rows."""

    invitations: int = 0
    joins: int = 0
    conversions: int = 0
    rewarded: int = 0
    rejected: int = 0
    review_pending: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    reject_reasons: Counter[str | None] = field(default_factory=Counter)

    def add(self, channel: str, status: str, reason: str | None, count: int, pending: int) -> None:
        self.invitations += count
        self.channels[channel] += count
        self.review_pending += pending
        if status in JOINED:
            self.joins += count
        if status in CONVERTED:
            self.conversions += count
        if status == "rewarded":
            self.rewarded += count
        if status == "rejected":
            self.rejected += count
            self.reject_reasons[reason] += count


def in_period(
    column: ColumnElement[datetime] | InstrumentedAttribute[datetime], period: ReportPeriod
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [column < period.end]
    if period.start is not None:
        conditions.append(column >= period.start)
    return conditions


def _invitation_filter(period: ReportPeriod) -> list[ColumnElement[bool]]:
    return [
        Invitation.invitee_customer_id.is_not(None),
        *in_period(Invitation.created_at, period),
    ]


def _click_filter(period: ReportPeriod) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [ReferralClick.day <= period.as_of]
    if period.since is not None:
        conditions.append(ReferralClick.day >= period.since)
    return conditions


# Invitations are grouped by these, so one row carries one (channel, status, reason) count.
_INVITATION_GROUP = (Invitation.channel, Invitation.status, Invitation.reject_reason)


def _invitation_counts() -> list[ColumnElement[Any]]:
    pending = func.sum(case((Invitation.review_status == "pending", 1), else_=0))
    return [func.count().label("n"), pending.label("pending")]


def _fold(rows: Iterable[Row[Any]], key_of: Callable[[Row[Any]], K]) -> dict[K, InvitationCounts]:
    out: dict[K, InvitationCounts] = {}
    for row in rows:
        out.setdefault(key_of(row), InvitationCounts()).add(
            row.channel, row.status, row.reject_reason, int(row.n), int(row.pending or 0)
        )
    return out


async def invitations_by_program_and_channel(
    session: AsyncSession, period: ReportPeriod
) -> tuple[dict[int, InvitationCounts], dict[str, InvitationCounts]]:
    """One grouped query, folded twice: per program id and per channel."""
    stmt = (
        select(Invitation.program_id.label("key"), *_INVITATION_GROUP, *_invitation_counts())
        .where(*_invitation_filter(period))
        .group_by(Invitation.program_id, *_INVITATION_GROUP)
    )
    rows = (await session.execute(stmt)).all()
    return _fold(rows, lambda row: int(row.key)), _fold(rows, lambda row: str(row.channel))


def _participant_rows(period: ReportPeriod) -> CTE:
    return union(
        select(
            ReferralCode.program_id.label("program_id"),
            ReferralCode.customer_id.label("customer_id"),
        ).where(*in_period(ReferralCode.created_at, period)),
        select(Invitation.program_id, Invitation.inviter_customer_id).where(
            *in_period(Invitation.created_at, period)
        ),
    ).cte("participant_rows")


async def participants_by_program(session: AsyncSession, period: ReportPeriod) -> dict[int, int]:
    rows = _participant_rows(period)
    stmt = select(rows.c.program_id, func.count().label("n")).group_by(rows.c.program_id)
    return {int(r.program_id): int(r.n) for r in await session.execute(stmt)}


async def participants_by_channel(session: AsyncSession, period: ReportPeriod) -> dict[str, int]:
    """Distinct inviters with at least one invitation through each channel."""
    stmt = (
        select(
            Invitation.channel,
            func.count(func.distinct(Invitation.inviter_customer_id)).label("n"),
        )
        .where(*_invitation_filter(period))
        .group_by(Invitation.channel)
    )
    return {str(r.channel): int(r.n) for r in await session.execute(stmt)}


async def clicks_by_program(session: AsyncSession, period: ReportPeriod) -> dict[int, int]:
    stmt = (
        select(ReferralCode.program_id, func.count().label("n"))
        .select_from(ReferralClick)
        .join(ReferralCode, ReferralCode.id == ReferralClick.code_id)
        .where(*_click_filter(period))
        .group_by(ReferralCode.program_id)
    )
    return {int(r.program_id): int(r.n) for r in await session.execute(stmt)}


@dataclass(frozen=True)
class SegmentFacts:
    sizes: dict[str, tuple[int, int]]  # segment → (customers, participants)
    invitations: dict[str, InvitationCounts]
    clicks: dict[str, int]


async def segment_facts(session: AsyncSession, period: ReportPeriod, segments: CTE) -> SegmentFacts:
    """Everything per customer type in ONE statement: sizes and participants, grouped
    invitations, clicks. The segments CTE is referenced three times, so both PostgreSQL and
    SQLite materialise it once instead of aggregating all orders once per figure."""
    rows = _participant_rows(period)
    participants = select(rows.c.customer_id).distinct().cte("participants")
    no_text = cast(null(), String)
    sizes = (
        select(
            literal_column("'size'").label("kind"),
            segments.c.segment,
            no_text.label("channel"),
            no_text.label("status"),
            no_text.label("reject_reason"),
            func.count().label("n"),
            func.count(participants.c.customer_id).label("pending"),
        )
        .select_from(segments)
        .outerjoin(participants, participants.c.customer_id == segments.c.customer_id)
        .group_by(segments.c.segment)
    )
    invitations = (
        select(
            literal_column("'invitation'"),
            segments.c.segment,
            *_INVITATION_GROUP,
            *_invitation_counts(),
        )
        .select_from(Invitation)
        .join(segments, segments.c.customer_id == Invitation.inviter_customer_id)
        .where(*_invitation_filter(period))
        .group_by(segments.c.segment, *_INVITATION_GROUP)
    )
    # Clicks are many: count them per customer first, then spread over the customer types.
    clicks_per_customer = (
        select(ReferralCode.customer_id, func.count().label("n"))
        .select_from(ReferralClick)
        .join(ReferralCode, ReferralCode.id == ReferralClick.code_id)
        .where(*_click_filter(period))
        .group_by(ReferralCode.customer_id)
        .cte("clicks_per_customer")
    )
    clicks = (
        select(
            literal_column("'click'"),
            segments.c.segment,
            no_text,
            no_text,
            no_text,
            func.sum(clicks_per_customer.c.n),
            literal_column("0"),
        )
        .select_from(clicks_per_customer)
        .join(segments, segments.c.customer_id == clicks_per_customer.c.customer_id)
        .group_by(segments.c.segment)
    )
    result = (await session.execute(union_all(sizes, invitations, clicks))).all()
    by_kind: dict[str, list[Row[Any]]] = {"size": [], "invitation": [], "click": []}
    for row in result:
        by_kind[row.kind].append(row)
    return SegmentFacts(
        sizes={str(r.segment): (int(r.n), int(r.pending)) for r in by_kind["size"]},
        invitations=_fold(by_kind["invitation"], lambda row: str(row.segment)),
        clicks={str(r.segment): int(r.n) for r in by_kind["click"]},
    )
