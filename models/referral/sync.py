"""`fission program sync`: copy programs and coupon templates from `fission.toml` into the
database. Upsert by key; a program's `version` goes up when what its poster shows changes (name,
title, offer text), so cached posters are rebuilt. Programs missing from the file are left as
they are unless `deactivate_missing` (the seeded `default` program included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.referral import (
    CouponTemplateConfig,
    ProgramConfig,
    check_unique_keys,
)
from models.referral.reward_tables import CouponTemplate
from models.referral.tables import ReferralProgram


class ProgramConfigError(ValueError):
    """Programs that cannot be loaded; the message names the program and the problem."""


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    templates_created: list[str] = field(default_factory=list)
    templates_updated: list[str] = field(default_factory=list)


_POSTER_FIELDS = ("name", "title", "offer_text")


async def sync_programs(
    session: AsyncSession,
    *,
    programs: list[ProgramConfig],
    templates: list[CouponTemplateConfig],
    timezone: str,
    now: datetime,
    deactivate_missing: bool = False,
) -> SyncReport:
    try:
        check_unique_keys(programs, templates)
    except ValueError as exc:
        raise ProgramConfigError(str(exc)) from exc
    report = SyncReport()
    known = await sync_coupon_templates(session, templates, now, report)
    missing = sorted(
        (program.key, key)
        for program in programs
        for key in program.coupon_templates()
        if key not in known
    )
    if missing:
        raise ProgramConfigError(
            "; ".join(f"program {p!r}: unknown coupon template {k!r}" for p, k in missing)
        )
    tz = ZoneInfo(timezone)
    existing = {p.key: p for p in (await session.execute(select(ReferralProgram))).scalars()}
    for config in programs:
        values = _program_values(config, tz, timezone)
        program = existing.get(config.key)
        if program is None:
            session.add(ReferralProgram(**values, version=1, created_at=now, updated_at=now))
            report.created.append(config.key)
            continue
        poster_changed = any(getattr(program, f) != values[f] for f in _POSTER_FIELDS)
        if apply_values(program, values, now):
            if poster_changed:
                program.version += 1
            report.updated.append(config.key)
        else:
            report.unchanged.append(config.key)
    configured = {p.key for p in programs}
    if deactivate_missing:
        for key, program in existing.items():
            if key not in configured and program.active:
                program.active = False
                program.updated_at = now
                report.deactivated.append(key)
    # One calendar for every program: the deployment's zone.
    await session.execute(
        update(ReferralProgram)
        .where(ReferralProgram.timezone != timezone)
        .values(timezone=timezone)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return report


async def sync_coupon_templates(
    session: AsyncSession,
    templates: list[CouponTemplateConfig],
    now: datetime,
    report: SyncReport,
) -> set[str]:
    """Upsert `[[coupon_templates]]` by key (recorded in `report`); every template key known
    afterwards. Shared by `fission program sync` and `fission campaign sync`."""
    known = {t.key: t for t in (await session.execute(select(CouponTemplate))).scalars()}
    for template_config in templates:
        values = template_config.model_dump()
        template = known.get(template_config.key)
        if template is None:
            session.add(CouponTemplate(**values, created_at=now, updated_at=now))
            report.templates_created.append(template_config.key)
        elif apply_values(template, values, now):
            report.templates_updated.append(template_config.key)
    return set(known) | {t.key for t in templates}


def _program_values(config: ProgramConfig, tz: ZoneInfo, timezone: str) -> dict[str, Any]:
    def aware(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment

    starts, ends = aware(config.starts_at), aware(config.ends_at)
    if starts and ends and ends <= starts:
        raise ProgramConfigError(f"program {config.key!r}: ends_at must be after starts_at")
    return {
        "key": config.key,
        "name": config.name,
        "title": config.title or config.name,
        "offer_text": config.offer_text,
        "segment": config.segment.model_dump(mode="json", exclude_defaults=True),
        "channels": list(config.channels),
        "inviter_reward": _spec(config.inviter_reward),
        "invitee_reward": _spec(config.invitee_reward),
        "milestones": {
            "tiers": [{"at": tier.at, "reward": _spec(tier.reward)} for tier in config.milestones]
        },
        "fraud_rules": config.fraud.model_dump(mode="json", exclude_defaults=True),
        "cap_per_inviter_month": config.cap_per_inviter_month,
        "budget_fen": config.budget_fen,
        "attribution_window_days": config.attribution_window_days,
        "hold_days": config.hold_days,
        "min_order_fen": config.min_order_fen,
        "starts_at": starts,
        "ends_at": ends,
        "priority": config.priority,
        "active": config.active,
        "timezone": timezone,
    }


def _spec(spec: Any) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude_none=True) if spec is not None else {}


def apply_values(row: Any, values: dict[str, Any], now: datetime) -> bool:
    """Copy changed values onto the row; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        row.updated_at = now
    return changed
