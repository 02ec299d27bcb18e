"""Finding campaigns by key or Chinese name, switching them on and off, their latest runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.tables import Campaign, CampaignRun


class CampaignError(ValueError):
    """A campaign that cannot be found or run as asked; `code` names the problem for the
    reader's language (handlers/campaign_text.py), `details` fill its sentence."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


async def find_campaign(session: AsyncSession, ref: str) -> Campaign:
    """The campaign whose key (any case) or name is `ref`."""
    ref = ref.strip()
    found = list(
        (
            await session.scalars(
                select(Campaign)
                .where((func.lower(Campaign.key) == ref.lower()) | (Campaign.name == ref))
                .order_by(Campaign.id)
            )
        ).all()
    )
    exact = [c for c in found if c.key == ref]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if found:
        raise CampaignError("ambiguous", ref=ref, keys="、".join(c.key for c in found))
    keys = (await session.scalars(select(Campaign.key).order_by(Campaign.id))).all()
    raise CampaignError("unknown", ref=ref, keys="、".join(keys))


async def all_campaigns(session: AsyncSession) -> list[Campaign]:
    return list((await session.scalars(select(Campaign).order_by(Campaign.id))).all())


async def set_enabled(
    session: AsyncSession, campaign: Campaign, enabled: bool, now: datetime
) -> bool:
    """Switch a campaign on or off; False when it already was. Switching on starts its
    schedule from now: slots before it are not run (models.campaigns.tables.Campaign)."""
    if campaign.enabled == enabled:
        return False
    campaign.enabled = enabled
    campaign.enabled_at = now if enabled else None
    campaign.updated_at = now
    await session.flush()
    return True


async def latest_runs(
    session: AsyncSession, campaign_ids: list[int], per_campaign: int = 1
) -> dict[int, list[CampaignRun]]:
    """The newest runs of each campaign, newest first."""
    if not campaign_ids:
        return {}
    newest = (
        func.row_number()
        .over(partition_by=CampaignRun.campaign_id, order_by=CampaignRun.slot.desc())
        .label("n")
    )
    ranked = (
        select(CampaignRun.id, newest).where(CampaignRun.campaign_id.in_(campaign_ids)).subquery()
    )
    rows = await session.scalars(
        select(CampaignRun)
        .join(ranked, ranked.c.id == CampaignRun.id)
        .where(ranked.c.n <= per_campaign)
        .order_by(CampaignRun.campaign_id, CampaignRun.slot.desc())
    )
    runs: dict[int, list[CampaignRun]] = {cid: [] for cid in campaign_ids}
    for run in rows:
        runs[run.campaign_id].append(run)
    return runs
