"""What `fission outbox` shows: deliveries counted by state, by campaign and platform, the
reasons of those skipped, retrying or dead, and the latest errors. Grouped in SQL; no row is
read one by one. No recipient appears (errors are the platform's words and codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.campaigns.tables import Campaign, Delivery


@dataclass(frozen=True)
class CampaignCounts:
    campaign: str
    platform: str
    by_status: dict[str, int]


@dataclass(frozen=True)
class ReasonCount:
    status: str
    reason: str
    count: int


@dataclass(frozen=True)
class DeliveryError:
    at: datetime
    campaign: str
    platform: str
    status: str
    attempts: int
    code: int | None
    reason: str | None
    error: str


@dataclass(frozen=True)
class OutboxReport:
    by_status: dict[str, int]
    due_now: int  # queued or retrying whose time has come
    campaigns: list[CampaignCounts]
    reasons: list[ReasonCount]
    errors: list[DeliveryError]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def outbox_report(conn: AsyncConnection, now: datetime, errors: int = 10) -> OutboxReport:
    by_status = {
        status: count
        for status, count in await conn.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
    }
    due_now = await conn.scalar(
        select(func.count()).where(
            Delivery.status.in_(("queued", "failed")), Delivery.next_attempt_at <= now
        )
    )
    grouped = await conn.execute(
        select(Campaign.name, Delivery.platform, Delivery.status, func.count())
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .group_by(Campaign.name, Delivery.platform, Delivery.status)
        .order_by(Campaign.name, Delivery.platform)
    )
    campaigns: dict[tuple[str, str], dict[str, int]] = {}
    for name, platform, status, count in grouped:
        campaigns.setdefault((name, platform), {})[status] = count
    reasons = await conn.execute(
        select(Delivery.status, Delivery.reason, func.count())
        .where(Delivery.status.in_(("skipped", "failed", "dead")), Delivery.reason.is_not(None))
        .group_by(Delivery.status, Delivery.reason)
        .order_by(Delivery.status, func.count().desc(), Delivery.reason)
    )
    latest = await conn.execute(
        select(
            Delivery.updated_at,
            Campaign.name,
            Delivery.platform,
            Delivery.status,
            Delivery.attempts,
            Delivery.error_code,
            Delivery.reason,
            Delivery.last_error,
        )
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(and_(Delivery.status.in_(("failed", "dead")), Delivery.last_error.is_not(None)))
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(errors)
    )
    return OutboxReport(
        by_status=by_status,
        due_now=int(due_now or 0),
        campaigns=[CampaignCounts(n, p, counts) for (n, p), counts in campaigns.items()],
        reasons=[ReasonCount(s, r or "", c) for s, r, c in reasons],
        errors=[
            DeliveryError(
                r.updated_at,
                r.name,
                r.platform,
                r.status,
                r.attempts,
                r.error_code,
                r.reason,
                r.last_error or "",
            )
            for r in latest
        ],
    )
