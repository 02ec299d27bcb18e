"""Seed 000's customer types, judged from data in one set-based query (DESIGN.md §2.2).

Every customer belongs to exactly one side of each of three splits, as of a local date T:
- 新客户 / 老客户: first paid order at most `new_within_days` old on T, or no paid order yet /
  first paid order older;
- 高价值 / 低价值: current grade A or B / grade C or no grade (the latest lifecycle run's grade);
- 活跃 / 沉睡: a paid order in the last `active_within_days` days (age 0 … n-1) / none.

Only paid, non-refunded orders up to the end of T count. Unlike a program's target segment
(config.referral.Segment, where an ungraded customer is neither high nor low value), every
customer lands on one side of each split here, so each pair of rows adds up to everyone.

`customer_segments()` unpivots the three splits into one `(customer_id, segment)` row per split
plus an `all` row, so every report groups by `segment` once instead of running a query per
customer type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import CTE, String, func, literal, or_, select, union_all
from sqlalchemy.sql.expression import case

from config.reports import SEGMENT_KEYS, ReferralReportRules
from models.activity import Order
from models.clock import day_start
from models.customer import Customer
from models.stages import CustomerGrade

ALL = "all"
# Table order: the three splits as seed 000 lists them, then the whole population.
SEGMENT_ORDER = (*SEGMENT_KEYS, ALL)
HIGH_GRADES = ("A", "B")


@dataclass(frozen=True)
class ReportPeriod:
    """What a report covers: customer types judged on `as_of`; invitations, clicks and codes from
    the start of `since` (all history when None) to the end of `as_of`, local days in `tz`."""

    as_of: date
    tz: tzinfo
    since: date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.since > self.as_of:
            raise ValueError(f"since {self.since} is after as_of {self.as_of}")

    @property
    def start(self) -> datetime | None:
        return None if self.since is None else day_start(self.since, self.tz)

    @property
    def end(self) -> datetime:
        """The first instant after the period (the start of the day after `as_of`)."""
        return day_start(self.as_of + timedelta(days=1), self.tz)


def customer_segments(period: ReportPeriod, rules: ReferralReportRules) -> CTE:
    """A CTE of `(customer_id, segment)`: four rows per customer (three splits and `all`)."""
    end = period.end
    new_from = day_start(period.as_of - timedelta(days=rules.new_within_days), period.tz)
    active_from = day_start(period.as_of - timedelta(days=rules.active_within_days - 1), period.tz)
    orders = (
        select(
            Order.customer_id.label("customer_id"),
            func.min(Order.paid_at).label("first_paid"),
            func.max(Order.paid_at).label("last_paid"),
        )
        .where(Order.status == "paid", Order.paid_at < end)
        .group_by(Order.customer_id)
        .cte("seg_orders")
    )
    flags = (
        select(
            Customer.id.label("customer_id"),
            case(
                (or_(orders.c.first_paid.is_(None), orders.c.first_paid >= new_from), "new"),
                else_="returning",
            ).label("tenure"),
            case((CustomerGrade.grade.in_(HIGH_GRADES), "high"), else_="low").label("value"),
            case(
                (orders.c.last_paid >= active_from, "active"),
                else_="dormant",
            ).label("activity"),
        )
        .select_from(Customer)
        .outerjoin(orders, orders.c.customer_id == Customer.id)
        .outerjoin(CustomerGrade, CustomerGrade.customer_id == Customer.id)
        .cte("seg_flags")
    )
    return union_all(
        select(flags.c.customer_id, flags.c.tenure.label("segment")),
        select(flags.c.customer_id, flags.c.value),
        select(flags.c.customer_id, flags.c.activity),
        select(flags.c.customer_id, literal(ALL, String).label("segment")),
    ).cte("customer_segments")
