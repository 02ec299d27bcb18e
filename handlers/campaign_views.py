"""What the `fission campaign` CLI and the `/campaign` chat command both show and do, in the
caller's unit of work: the list, one campaign's card, switching on and off, a run or a dry run.
Each returns the text to show; a `CampaignError` is left to the caller to word."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from handlers.campaign_text import (
    TEXT,
    campaign_card,
    campaign_line,
    summary_text,
    switched_text,
)
from handlers.i18n import tr
from models.campaigns.catalog import all_campaigns, find_campaign, latest_runs, set_enabled
from models.campaigns.run import preview_campaign, run_campaign
from models.campaigns.schedule import next_slot
from models.referral.reward_tables import CouponTemplate

RECENT_RUNS = 5


async def list_text(session: AsyncSession, settings: Settings, now: datetime) -> str:
    campaigns = await all_campaigns(session)
    if not campaigns:
        return tr(TEXT, "list_empty", settings.locale)
    last = await latest_runs(session, [c.id for c in campaigns])
    return "\n".join(
        campaign_line(
            c,
            next(iter(last[c.id]), None),
            next_slot(c, now, settings.tz),
            settings.locale,
            settings.tz,
        )
        for c in campaigns
    )


async def card_text(session: AsyncSession, ref: str, settings: Settings, now: datetime) -> str:
    campaign = await find_campaign(session, ref)
    template = (
        await session.get(CouponTemplate, campaign.coupon_template_id)
        if campaign.coupon_template_id is not None
        else None
    )
    runs = (await latest_runs(session, [campaign.id], per_campaign=RECENT_RUNS))[campaign.id]
    return campaign_card(
        campaign,
        template,
        runs,
        next_slot(campaign, now, settings.tz),
        settings.marketing,
        settings.locale,
        settings.tz,
    )


async def switch_text(
    session: AsyncSession, ref: str, enabled: bool, settings: Settings, now: datetime
) -> str:
    campaign = await find_campaign(session, ref)
    changed = await set_enabled(session, campaign, enabled, now)
    upcoming = next_slot(campaign, now, settings.tz)
    return switched_text(campaign, changed, upcoming, settings.locale, settings.tz)


async def run_text(
    session: AsyncSession, ref: str, settings: Settings, now: datetime, *, dry_run: bool
) -> str:
    """Run the campaign (the caller commits), or preview it (nothing to commit)."""
    campaign = await find_campaign(session, ref)
    run = preview_campaign if dry_run else run_campaign
    summary = await run(session, campaign, settings=settings, now=now)
    return summary_text(summary, settings.locale, settings.tz)
