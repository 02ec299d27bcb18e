"""One run of a campaign: members by arm, coupons and queued deliveries, in one transaction.

`run_campaign` works inside the caller's unit of work and never commits; the caller commits
once (the CLI, the chat dispatcher, the scheduler's job), so a run is all or nothing:
1. the `campaign_runs` row for the slot (INSERT … ON CONFLICT DO NOTHING on (campaign, slot):
   a slot that already ran is reported, never run again; a manual run's slot is its start);
2. every customer of the audience into `campaign_members` with their arm or exclusion
   (INSERT … SELECT over audience.verdicts);
3. one `deliveries` row per treatment member (INSERT … SELECT, unique per run and customer),
   routed in SQL (routing.py), queued now, to be given up `send_deadline_hours` later;
4. a coupon from the campaign's template for each treatment member (multi-row INSERTs of the
   referral engine's coupon codes), stored on the member and in the delivery's body;
5. the counts, on the run row and returned.
Nothing is sent here: the delivery workers send after the commit.

`preview_campaign` (the dry run) evaluates the same selection with SELECTs only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import BigInteger, Integer, String, exists, func, insert, literal, select
from sqlalchemy import text as sql_text
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from config.campaigns import Audience
from models.base import UTCDateTime
from models.campaigns.audience import Targeting, arm_of, reason_of, verdicts
from models.campaigns.catalog import CampaignError
from models.campaigns.render import (
    CouponTerms,
    MessageStyle,
    Recipient,
    referral_code_of,
    render_message,
)
from models.campaigns.routing import (
    chosen_identity,
    configured_routes,
    identities,
    routed_columns,
)
from models.campaigns.tables import EXCLUSIONS, Campaign, CampaignMember, CampaignRun, Delivery
from models.customer import PLATFORMS, Customer
from models.lifecycle.sqljson import json_object
from models.lifecycle.store import table_of
from models.masking import mask_name
from models.referral.coupons import issue_coupons
from models.referral.reward_tables import Coupon, CouponTemplate
from models.stages import latest_run_as_of
from models.upsert import dialect_insert

# PostgreSQL advisory lock key ("CAMP") held by a run for its transaction: runs take turns, so
# each one sees the deliveries of the run before it (cooldown, frequency cap).
_RUN_LOCK = 0x43414D50
SAMPLES = 3


@dataclass(frozen=True)
class SampleMessage:
    customer: str  # masked name, else the customer's external id
    platform: str
    text: str


@dataclass(frozen=True)
class RunSummary:
    key: str
    name: str
    slot: datetime
    dry_run: bool
    already_ran: bool = False
    run_id: int | None = None
    audience: int = 0
    treatment: int = 0
    holdout: int = 0
    control: int = 0
    excluded: dict[str, int] = field(default_factory=dict)  # every reason, zeros included
    platforms: dict[str, int] = field(default_factory=dict)  # treatment messages per platform
    coupons: int = 0
    samples: tuple[SampleMessage, ...] = ()
    stages_as_of: date | None = None  # the lifecycle run the stages and grades come from


async def run_campaign(
    session: AsyncSession,
    campaign: Campaign,
    *,
    settings: Settings,
    now: datetime,
    slot: datetime | None = None,
) -> RunSummary:
    """Run `campaign` for `slot` (default: now, a manual run). Flushes; never commits."""
    if not campaign.enabled:
        raise CampaignError("disabled", campaign=campaign.key)
    targeting = _targeting(campaign, settings, now)
    slot = slot or now
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})
    runs = table_of(CampaignRun)
    run_id = await session.scalar(
        dialect_insert(session, runs)
        .values(
            campaign_id=campaign.id,
            slot=slot,
            status="running",
            audience=0,
            treatment=0,
            holdout=0,
            control=0,
            excluded={},
            started_at=now,
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "slot"])
        .returning(runs.c.id)
    )
    base = await _described(session, campaign, slot, dry_run=False)
    if run_id is None:
        return RunSummary(**base, already_ran=True)
    v = verdicts(targeting).c
    members = table_of(CampaignMember)
    await session.execute(
        insert(members).from_select(
            ["run_id", "customer_id", "arm", "reason", "stage"],
            select(
                literal(run_id, BigInteger),
                v.customer_id,
                arm_of(v.verdict),
                reason_of(v.verdict),
                v.stage,
            ),
        )
    )
    deadline = now + timedelta(hours=settings.marketing.send_deadline_hours)
    await _queue_deliveries(session, run_id, campaign.id, targeting, now, deadline)
    coupons = await _issue_coupons(session, run_id, campaign, now)
    m = members.c
    arms = await session.execute(
        select(m.arm, m.reason, func.count()).where(m.run_id == run_id).group_by(m.arm, m.reason)
    )
    d = Delivery.__table__.c
    platforms = await session.execute(
        select(d.platform, func.count()).where(d.run_id == run_id).group_by(d.platform)
    )
    summary = _tally(
        base | {"run_id": run_id, "coupons": coupons},
        [(reason or arm, n) for arm, reason, n in arms.all()],
        {platform: n for platform, n in platforms.all()},
    )
    await session.execute(
        sql_update(runs)
        .where(runs.c.id == run_id)
        .values(
            status="done",
            audience=summary.audience,
            treatment=summary.treatment,
            holdout=summary.holdout,
            control=summary.control,
            excluded=summary.excluded,
            finished_at=now,
        )
    )
    return summary


async def preview_campaign(
    session: AsyncSession, campaign: Campaign, *, settings: Settings, now: datetime
) -> RunSummary:
    """What a run now would do — the counts and three sample messages — changing nothing."""
    targeting = _targeting(campaign, settings, now)
    v = verdicts(targeting)
    rows = await session.execute(
        select(v.c.verdict, v.c.platform, func.count()).group_by(v.c.verdict, v.c.platform)
    )
    verdict_counts: list[tuple[str, int]] = []
    platforms: dict[str, int] = {}
    for verdict, platform, n in rows.all():
        verdict_counts.append((verdict, n))
        if verdict == "treatment":
            platforms[platform] = platforms.get(platform, 0) + n
    c = Customer.__table__.c
    sample_rows = await session.execute(
        select(v.c.platform, c.name, c.external_id, referral_code_of(c.id).label("code"))
        .join(Customer.__table__, c.id == v.c.customer_id)
        .where(v.c.verdict == "treatment")
        .order_by(v.c.customer_id)
        .limit(SAMPLES)
    )
    template = await _template(session, campaign)
    coupon = CouponTerms.offered(template, now) if template is not None else None
    style = MessageStyle.from_settings(settings)
    samples = tuple(
        _sample(campaign.message, style, coupon, settings.mask_names, *row)
        for row in sample_rows.all()
    )
    base = await _described(session, campaign, now, dry_run=True)
    return _tally(base | {"samples": samples}, verdict_counts, platforms)


async def _described(
    session: AsyncSession, campaign: Campaign, slot: datetime, *, dry_run: bool
) -> dict[str, Any]:
    """What every summary of a run says besides its counts."""
    return {
        "key": campaign.key,
        "name": campaign.name,
        "slot": slot,
        "dry_run": dry_run,
        "stages_as_of": await session.scalar(latest_run_as_of()),
    }


def _targeting(campaign: Campaign, settings: Settings, now: datetime) -> Targeting:
    try:
        audience = Audience.model_validate(campaign.audience)
    except ValidationError as exc:
        raise CampaignError("bad_audience", campaign=campaign.key, error=str(exc)) from exc
    return Targeting(
        campaign_id=campaign.id,
        audience=audience,
        cooldown_days=campaign.cooldown_days,
        holdout_pct=campaign.holdout_pct,
        marketing=settings.marketing,
        routes=tuple(configured_routes(settings)),
        now=now,
        tz=settings.tz,
    )


def _tally(
    base: dict[str, Any], verdict_counts: Iterable[tuple[str, int]], platforms: dict[str, int]
) -> RunSummary:
    by_verdict: dict[str, int] = {}
    for verdict, n in verdict_counts:
        by_verdict[verdict] = by_verdict.get(verdict, 0) + int(n)
    return RunSummary(
        **base,
        audience=sum(by_verdict.values()),
        treatment=by_verdict.get("treatment", 0),
        holdout=by_verdict.get("holdout", 0),
        control=by_verdict.get("control", 0),
        excluded={reason: by_verdict.get(reason, 0) for reason in EXCLUSIONS},
        platforms={p: platforms[p] for p in sorted(platforms, key=_platform_order)},
    )


def _platform_order(platform: str) -> tuple[int, str]:
    return (PLATFORMS.index(platform) if platform in PLATFORMS else len(PLATFORMS), platform)


async def _queue_deliveries(
    session: AsyncSession,
    run_id: int,
    campaign_id: int,
    targeting: Targeting,
    now: datetime,
    deadline: datetime,
) -> None:
    """One queued delivery per treatment member, on the route chosen in SQL. A member whose
    route vanished since the members were selected (an identity removed by a concurrent
    transaction) is recorded as unreachable instead: every treatment member has a delivery."""
    members = table_of(CampaignMember)
    m = members.c
    customers = table_of(Customer)
    c = customers.c
    routes = targeting.routes
    treated = (
        select(
            m.customer_id,
            c.owner_staff_id,
            chosen_identity(m.customer_id, c.owner_staff_id, routes).label("identity_id"),
        )
        .select_from(members.join(customers, c.id == m.customer_id))
        .where(m.run_id == run_id, m.arm == "treatment")
        .offset(0)
        .subquery("treated")
    )
    identity = identities()
    dialect = session.get_bind().dialect.name
    stamp = literal(now, UTCDateTime())
    columns = ["run_id", "campaign_id", "customer_id", "platform", "app_id", "route"]
    columns += ["recipient", "sender", "body", "status", "attempts", "next_attempt_at"]
    columns += ["deadline_at", "created_at", "updated_at"]
    source = select(
        literal(run_id, BigInteger),
        literal(campaign_id, BigInteger),
        treated.c.customer_id,
        *routed_columns(identity, treated.c.owner_staff_id, routes),
        json_object(dialect, []),
        literal("queued", String),
        literal(0, Integer),
        stamp,
        literal(deadline, UTCDateTime()),
        stamp,
        stamp,
    ).select_from(treated.join(identity, identity.c.id == treated.c.identity_id))
    await session.execute(insert(table_of(Delivery)).from_select(columns, source))
    d = Delivery.__table__.c
    await session.execute(
        sql_update(members)
        .where(
            m.run_id == run_id,
            m.arm == "treatment",
            ~exists().where(d.run_id == run_id, d.customer_id == m.customer_id),
        )
        .values(arm="excluded", reason="unreachable")
    )


async def _issue_coupons(
    session: AsyncSession, run_id: int, campaign: Campaign, now: datetime
) -> int:
    """A coupon per treatment member, recorded on the member and in the delivery's body."""
    template = await _template(session, campaign)
    if template is None:
        return 0
    members = table_of(CampaignMember)
    m = members.c
    customer_ids = (
        await session.scalars(
            select(m.customer_id)
            .where(m.run_id == run_id, m.arm == "treatment")
            .order_by(m.customer_id)
        )
    ).all()
    if not customer_ids:
        return 0
    ids = await issue_coupons(
        session, grants=[(template, cid) for cid in customer_ids], now=now, source="campaign"
    )
    cp = Coupon.__table__.c
    # This run's coupon of each member: issued by this call (its id range), to them, now.
    issued = (
        select(cp.customer_id, func.max(cp.id).label("coupon_id"))
        .where(
            cp.template_id == template.id,
            cp.source == "campaign",
            cp.issued_at == now,
            cp.id.between(min(ids), max(ids)),
        )
        .group_by(cp.customer_id)
        .subquery("issued")
    )
    await session.execute(
        sql_update(members)
        .where(m.run_id == run_id, m.arm == "treatment", m.customer_id == issued.c.customer_id)
        .values(coupon_id=issued.c.coupon_id)
    )
    deliveries = table_of(Delivery)
    d = deliveries.c
    dialect = session.get_bind().dialect.name
    await session.execute(
        sql_update(deliveries)
        .where(
            d.run_id == run_id,
            m.run_id == run_id,
            m.customer_id == d.customer_id,
            cp.id == m.coupon_id,
        )
        .values(body=json_object(dialect, [("coupon_code", cp.code)]))
    )
    return len(ids)


async def _template(session: AsyncSession, campaign: Campaign) -> CouponTemplate | None:
    if campaign.coupon_template_id is None:
        return None
    return await session.get(CouponTemplate, campaign.coupon_template_id)


def _sample(
    message: str,
    style: MessageStyle,
    coupon: CouponTerms | None,
    mask: bool,
    platform: str,
    name: str | None,
    external_id: str,
    code: str | None,
) -> SampleMessage:
    """The message the delivery worker would send the customer (render.py), with their name
    masked for the staff member who reads it."""
    shown = mask_name(name) if mask else (name or "")
    recipient = Recipient(name=shown, coupon=coupon, referral_code=code)
    return SampleMessage(
        customer=shown or external_id,
        platform=platform,
        text=render_message(message, recipient, style).text,
    )
