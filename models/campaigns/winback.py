"""The win-back check (seed 004 step 5: 衰退客户挽回率<10% 需复盘): which finished runs are ready
to be judged — their conversion windows all closed, not judged before — whether a run's win-back
rate is below its campaign's alert line, and marking a run judged (`campaign_runs.evaluated_at`)
so it is judged once."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.report import RunFigures, run_figures
from models.campaigns.tables import Campaign, CampaignRun


def below_alert_line(rate: Fraction | None, line: float) -> bool:
    """A rate below the configured line (a decimal such as 0.1, compared exactly); no rate —
    nobody declining or churned was messaged — is never below it."""
    return rate is not None and rate < Fraction(str(line))


async def runs_to_evaluate(
    session: AsyncSession, now: datetime
) -> list[tuple[Campaign, RunFigures]]:
    """Finished runs not judged yet whose windows have closed by `now`, oldest first."""
    pending = await session.scalars(
        select(CampaignRun.id).where(
            CampaignRun.status == "done", CampaignRun.evaluated_at.is_(None)
        )
    )
    ready = await run_figures(session, list(pending), final_by=now)
    if not ready:
        return []
    campaigns = {
        c.id: c
        for c in await session.scalars(
            select(Campaign).where(Campaign.id.in_({run.campaign_id for run in ready}))
        )
    }
    return [(campaigns[run.campaign_id], run) for run in reversed(ready)]


async def mark_evaluated(session: AsyncSession, run_id: int, now: datetime) -> None:
    await session.execute(
        update(CampaignRun)
        .where(CampaignRun.id == run_id, CampaignRun.evaluated_at.is_(None))
        .values(evaluated_at=now)
    )
