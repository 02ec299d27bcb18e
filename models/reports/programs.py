"""Which referral program each customer type maps to, and how its incentive reads.

Programs are few (a handful of rows), so matching them to seed 000's six customer types happens
in Python; the program's own `segment` JSON says whom it targets (DESIGN.md §2.2, issue 4):
`customer_type` new/returning, `value` high/low (or `grades`), `activity` active/dormant.

A customer type maps to the first active, in-date program (by priority, then id) that targets it
explicitly; failing that, to the first that does not constrain that split at all (the default
program targets everyone). When no active program is in date on T, any program is considered,
so a finished campaign's report still names its incentive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.referral.tables import ReferralProgram
from models.reports.labels import CHANNEL_LABELS, INCENTIVE_LABELS, TEXT, label, pick
from models.reports.segments import ALL, ReportPeriod

# Which key of a program's `segment` JSON each customer type is judged by.
_SPLIT_OF = {
    "new": "customer_type",
    "returning": "customer_type",
    "high": "value",
    "low": "value",
    "active": "activity",
    "dormant": "activity",
}
# Reward kinds as programs spell them → the incentive category of seed 000.
_KIND_CATEGORY = {
    "coupon": "coupon",
    "discount": "coupon",
    "points": "points",
    "privilege": "privilege",
    "cash": "cash",
    "red_packet": "cash",
    "cash_red_packet": "cash",
}


@dataclass(frozen=True)
class ProgramInfo:
    id: int
    key: str
    name: str
    segment: dict[str, Any]
    channels: Any
    inviter_reward: dict[str, Any]
    invitee_reward: dict[str, Any]
    in_date: bool


async def load_programs(session: AsyncSession, period: ReportPeriod) -> list[ProgramInfo]:
    """All programs, by priority then id; `in_date` = active and running on `period.as_of`."""
    day_begins = period.end - timedelta(days=1)
    rows = (
        await session.execute(
            select(ReferralProgram).order_by(ReferralProgram.priority, ReferralProgram.id)
        )
    ).scalars()
    return [
        ProgramInfo(
            id=p.id,
            key=p.key,
            name=p.name,
            segment=dict(p.segment or {}),
            channels=p.channels,
            inviter_reward=dict(p.inviter_reward or {}),
            invitee_reward=dict(p.invitee_reward or {}),
            in_date=bool(p.active)
            and (p.starts_at is None or p.starts_at < period.end)
            and (p.ends_at is None or p.ends_at > day_begins),
        )
        for p in rows
    ]


def _target(program: ProgramInfo, split: str) -> str | None:
    """The side of `split` a program targets, or None when it does not constrain that split."""
    value = program.segment.get(split)
    if isinstance(value, str) and value:
        return value
    if split == "value":
        grades = program.segment.get("grades")
        if isinstance(grades, list) and grades:
            if set(grades) <= {"A", "B"}:
                return "high"
            if set(grades) <= {"C"}:
                return "low"
    return None


def program_for_segment(programs: list[ProgramInfo], segment: str) -> ProgramInfo | None:
    candidates = [p for p in programs if p.in_date] or programs
    if segment == ALL:
        unconstrained = [p for p in candidates if not p.segment]
        chosen = unconstrained or candidates
        return chosen[0] if chosen else None
    split = _SPLIT_OF[segment]
    for program in candidates:
        if _target(program, split) == segment:
            return program
    for program in candidates:
        if _target(program, split) is None:
            return program
    return None


def incentive_categories(program: ProgramInfo) -> list[str]:
    """Seed 000's incentive categories of both rewards, inviter's first, without repeats."""
    out: list[str] = []
    for reward in (program.inviter_reward, program.invitee_reward):
        kind = reward.get("kind") or reward.get("type")
        category = _KIND_CATEGORY.get(str(kind)) if kind else None
        if category and category not in out:
            out.append(category)
    return out


def incentive_text(program: ProgramInfo | None, locale: str) -> str:
    text = pick(TEXT, locale)
    if program is None:
        return text["no_program"]
    categories = [label(INCENTIVE_LABELS, locale, c) for c in incentive_categories(program)]
    if not categories:
        return program.name
    return text["incentive"].format(
        categories=text["list_sep"].join(categories), program=program.name
    )


def configured_channels(program: ProgramInfo | None) -> list[str]:
    """The channels a program is set up for, whatever shape its `channels` JSON has: a list, a
    `{"channels": [...]}` / `{"enabled": [...]}` wrapper, or `{"link": true, ...}` flags."""
    if program is None:
        return []
    raw = program.channels
    if isinstance(raw, dict):
        for wrapper in ("channels", "enabled", "list"):
            if isinstance(raw.get(wrapper), list):
                raw = raw[wrapper]
                break
        else:
            return [str(k) for k, on in raw.items() if on is True]
    if isinstance(raw, list):
        return [str(item) for item in raw if isinstance(item, str)]
    return []


def channel_labels(channels: list[str], locale: str) -> list[str]:
    return [label(CHANNEL_LABELS, locale, c) for c in channels]
