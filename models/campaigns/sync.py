"""`fission campaign sync`: copy `[[campaigns]]` (and `[[coupon_templates]]`) from
`fission.toml` into the database, upserting by key, like `fission program sync`.

A campaign's on/off switch belongs to `fission campaign enable|disable` unless the file says
`enabled = …` for it explicitly: a sync then sets it. New campaigns start switched off unless the
file switches them on. Campaigns missing from the file (the two seeded defaults included) are
left as they are.
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.campaigns import CampaignConfig
from config.referral import CouponTemplateConfig, check_unique_keys
from models.campaigns.schedule import crontab_trigger
from models.campaigns.tables import Campaign
from models.referral.reward_tables import CouponTemplate
from models.referral.sync import SyncReport, apply_values, sync_coupon_templates

# Variables that only make sense with a coupon.
_COUPON_VARIABLES = ("coupon", "expiry")


class CampaignConfigError(ValueError):
    """Campaigns that cannot be loaded; the message names each campaign and its problem."""


@dataclass
class CampaignSyncReport(SyncReport):
    enabled: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


async def sync_campaigns(
    session: AsyncSession,
    *,
    campaigns: list[CampaignConfig],
    templates: list[CouponTemplateConfig],
    timezone: str,
    now: datetime,
) -> CampaignSyncReport:
    report = CampaignSyncReport()
    try:
        check_unique_keys([], templates)
    except ValueError as exc:
        raise CampaignConfigError(str(exc)) from exc
    await sync_coupon_templates(session, templates, now, report)
    await session.flush()
    rows = await session.execute(select(CouponTemplate.key, CouponTemplate.id))
    template_ids: dict[str, int] = {key: template_id for key, template_id in rows.all()}
    existing = {c.key: c for c in (await session.scalars(select(Campaign))).all()}
    problems = _problems(campaigns, template_ids, existing)
    if problems:
        raise CampaignConfigError("\n".join(problems))
    tz = ZoneInfo(timezone)
    for config in campaigns:
        values = _values(config, template_ids, tz)
        campaign = existing.get(config.key)
        if campaign is None:
            enabled = config.enabled
            session.add(
                Campaign(
                    **values,
                    enabled=enabled,
                    enabled_at=now if enabled else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            report.created.append(config.key)
            if enabled:
                report.enabled.append(config.key)
            continue
        if apply_values(campaign, values, now):
            report.updated.append(config.key)
        else:
            report.unchanged.append(config.key)
        if "enabled" in config.model_fields_set and campaign.enabled != config.enabled:
            campaign.enabled = config.enabled
            campaign.enabled_at = now if config.enabled else None
            campaign.updated_at = now
            (report.enabled if config.enabled else report.disabled).append(config.key)
    await session.flush()
    return report


def _problems(
    campaigns: list[CampaignConfig],
    template_ids: dict[str, int],
    existing: dict[str, Campaign],
) -> list[str]:
    """Each problem in Chinese / English, naming the campaign as `[[campaigns]]` does."""
    problems = []
    for key, n in Counter(c.key for c in campaigns).items():
        if n > 1:
            problems.append(f"活动 {key} 配置了 {n} 次 / campaign {key!r} is configured {n} times")
    # Campaigns are also found by name, so a name may belong to one campaign only.
    names = {key: c.name for key, c in existing.items()} | {c.key: c.name for c in campaigns}
    for name, n in Counter(names.values()).items():
        if n > 1:
            keys = ", ".join(sorted(k for k, v in names.items() if v == name))
            problems.append(f"活动 {keys} 重名“{name}” / campaigns {keys} share the name {name!r}")
    for config in campaigns:
        template = config.coupon_template
        if template is not None and template not in template_ids:
            known = ", ".join(sorted(template_ids)) or "-"
            problems.append(
                f"活动 {config.key}：没有优惠券模板 {template}（已有：{known}；"
                f"请在 [[coupon_templates]] 中添加）/ campaign {config.key!r}: unknown coupon "
                f"template {template!r}"
            )
        if config.schedule is not None:
            try:
                crontab_trigger(config.schedule, UTC)
            except ValueError as exc:
                problems.append(
                    f"活动 {config.key} 的 schedule 不是有效的 crontab（{exc}）/ campaign "
                    f"{config.key!r}: schedule is not a crontab line ({exc})"
                )
        used = {field for _, field, _, _ in string.Formatter().parse(config.message) if field}
        coupon_words = "、".join("{" + v + "}" for v in _COUPON_VARIABLES if v in used)
        if template is None and coupon_words:
            problems.append(
                f"活动 {config.key} 的消息用了 {coupon_words}，但没有设置 coupon_template / "
                f"campaign {config.key!r}: the message uses {coupon_words} without a "
                "coupon_template"
            )
    return problems


def _values(config: CampaignConfig, template_ids: dict[str, int], tz: ZoneInfo) -> dict[str, Any]:
    once = config.run_once_at
    if once is not None and once.tzinfo is None:
        once = once.replace(tzinfo=tz)
    return {
        "key": config.key,
        "name": config.name,
        "audience": config.audience.model_dump(mode="json", exclude_defaults=True),
        "coupon_template_id": (
            template_ids[config.coupon_template] if config.coupon_template else None
        ),
        "message": config.message,
        "schedule": config.schedule,
        "run_once_at": once,
        "cooldown_days": config.cooldown_days,
        "holdout_pct": config.holdout_pct,
        "conversion_days": config.conversion_days,
        "alert_below_rate": config.alert_below_rate,
    }
