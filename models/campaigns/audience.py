"""A run's audience and every member's verdict, as one SELECT over all customers.

The verdict of a customer in the audience is the first that holds of:

| verdict | when |
|---|---|
| opted_out | they unsubscribed (退订) |
| unreachable | no identity on a platform this deployment sends on (routing.py) |
| control | in the global control group (arms.py), never marketed to |
| cooldown | a campaign message (any campaign) within the campaign's `cooldown_days` |
| frequency_cap | ≥ `max_messages` campaign messages in the last `per_days` days |
| monthly_limit | routed to WeCom and ≥ `wecom_monthly_limit` mass messages this calendar month |
| holdout | in this campaign's holdout (arms.py) |
| treatment | otherwise: gets the coupon and the message |

Exclusions come before the arms, so control, holdout and treatment are drawn from the same
eligible customers and stay comparable; the control group is checked before the message-history
exclusions because its members never have a message history to be excluded for.

A message "counts" for cooldown and caps from when it was queued until it is dead or skipped
(queued, sending, waiting for staff, sent, delivered, failed-and-retrying), by the time it was
queued or sent, whichever falls in the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)

from config.campaigns import Audience, MarketingSettings
from models.activity import Order
from models.campaigns.arms import control_bucket, customer_hash, holdout_bucket
from models.campaigns.routing import WECOM, Route, chosen_identity, identities, routed_columns
from models.campaigns.tables import EXCLUSIONS, Delivery
from models.clock import age_at_least, day_start, local_date
from models.customer import Customer, CustomerTag
from models.stages import CustomerGrade, StageAssignment

# Delivery statuses that mean the customer got, or is about to get, the message.
COUNTED = ("queued", "sending", "waiting_staff", "sent", "delivered", "failed")
_PENDING = ("queued", "sending", "waiting_staff", "failed")


@dataclass(frozen=True)
class Targeting:
    """Everything a run's selection depends on."""

    campaign_id: int
    audience: Audience
    cooldown_days: int
    holdout_pct: int
    marketing: MarketingSettings
    routes: tuple[Route, ...]
    now: datetime
    tz: tzinfo

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)


def verdicts(t: Targeting) -> Subquery:
    """customer_id, stage, verdict, and the route (platform, app_id, route, recipient, sender)
    of every open customer in the campaign's audience."""
    aud = _audience(t).subquery("audience")
    a = aud.c
    rules: list[tuple[ColumnElement[bool], str]] = [
        (a.marketing_opt_out.is_(True), "opted_out"),
        (a.platform.is_(None), "unreachable"),
        (control_bucket(a.hashed) < t.marketing.control_pct, "control"),
    ]
    deliveries = Delivery.__table__
    if t.cooldown_days > 0:
        since = t.now - timedelta(days=t.cooldown_days)
        cooled = exists().select_from(deliveries).where(_counted(a.customer_id, since))
        rules.append((cooled, "cooldown"))
    since = t.now - timedelta(days=t.marketing.per_days)
    recent = select(func.count()).select_from(deliveries).where(_counted(a.customer_id, since))
    rules.append((recent.scalar_subquery() >= t.marketing.max_messages, "frequency_cap"))
    rules.append(
        (
            and_(
                a.platform == WECOM,
                _wecom_this_month(a.customer_id, t).scalar_subquery()
                >= t.marketing.wecom_monthly_limit,
            ),
            "monthly_limit",
        )
    )
    rules.append((holdout_bucket(a.hashed, t.campaign_id) < t.holdout_pct, "holdout"))
    verdict = case(*((cond, literal(name, String)) for cond, name in rules), else_="treatment")
    return select(
        a.customer_id,
        a.stage,
        verdict.label("verdict"),
        a.platform,
        a.app_id,
        a.route,
        a.recipient,
        a.sender,
    ).subquery("verdicts")


def arm_of(verdict: ColumnElement[Any]) -> ColumnElement[str]:
    return case((verdict.in_(EXCLUSIONS), literal("excluded", String)), else_=verdict)


def reason_of(verdict: ColumnElement[Any]) -> ColumnElement[str | None]:
    return case((verdict.in_(EXCLUSIONS), verdict), else_=null())


def _audience(t: Targeting) -> Select[Any]:
    """Every open customer the audience rules select, with their hash and chosen route."""
    c = Customer.__table__.c
    stage = StageAssignment.__table__
    query = (
        select(
            c.id.label("customer_id"),
            c.marketing_opt_out,
            c.owner_staff_id,
            stage.c.stage,
            customer_hash(c.id).label("hashed"),
            chosen_identity(c.id, c.owner_staff_id, t.routes).label("identity_id"),
        )
        .select_from(Customer.__table__.outerjoin(stage, stage.c.customer_id == c.id))
        # A closed account (注销 / 取消合作) asked for no more contact; it is not in any audience.
        .where(c.status == "open")
    )
    audience = t.audience
    if audience.stages:
        query = query.where(stage.c.stage.in_(audience.stages))
    if audience.grades:
        g = CustomerGrade.__table__.c
        query = query.where(exists().where(g.customer_id == c.id, g.grade.in_(audience.grades)))
    if audience.tags:
        tag = CustomerTag.__table__.c
        query = query.where(exists().where(tag.customer_id == c.id, tag.tag.in_(audience.tags)))
    if audience.regions:
        query = query.where(c.region.in_(audience.regions))
    if audience.industries:
        query = query.where(c.industry.in_(audience.industries))
    if audience.last_order_min_days is not None or audience.last_order_max_days is not None:
        o = Order.__table__.c
        last = (
            select(func.max(o.paid_at))
            .where(o.customer_id == c.id, o.status == "paid")
            .scalar_subquery()
        )
        if audience.last_order_min_days is not None:
            # age(last) >= min: ordered on local day T - min or before.
            query = query.where(last < age_at_least(t.today, audience.last_order_min_days, t.tz))
        if audience.last_order_max_days is not None:
            query = query.where(
                last >= day_start(t.today - timedelta(days=audience.last_order_max_days), t.tz)
            )
    # OFFSET 0: computed once per customer, then the chosen identity joined by its id.
    base = query.offset(0).subquery("audience_base")
    identity = identities()
    return select(
        base.c.customer_id,
        base.c.marketing_opt_out,
        base.c.stage,
        base.c.hashed,
        *routed_columns(identity, base.c.owner_staff_id, t.routes),
    ).select_from(base.outerjoin(identity, identity.c.id == base.c.identity_id))


def _counted(customer_id: ColumnElement[Any], since: datetime) -> ColumnElement[bool]:
    """A delivery that is one of the customer's campaign messages that count, queued or sent
    since `since`."""
    d = Delivery.__table__.c
    return and_(
        d.customer_id == customer_id,
        d.status.in_(COUNTED),
        or_(d.created_at >= since, d.sent_at >= since),
    )


def _wecom_this_month(customer_id: ColumnElement[Any], t: Targeting) -> Select[Any]:
    """WeCom mass messages to the customer that land in this calendar month (local): sent in
    it, or not sent yet."""
    d = Delivery.__table__.c
    month_start = day_start(t.today.replace(day=1), t.tz)
    return (
        select(func.count())
        .select_from(Delivery.__table__)
        .where(
            d.customer_id == customer_id,
            d.route == "wecom_task",
            d.status.in_(COUNTED),
            or_(
                d.sent_at >= month_start,
                and_(d.sent_at.is_(None), or_(d.created_at >= month_start, d.status.in_(_PENDING))),
            ),
        )
    )
