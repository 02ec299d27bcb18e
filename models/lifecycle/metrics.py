"""Per-customer metrics, each gathered by one set-based pass over its source table.

Orders: a single scan of paid orders up to T with conditional aggregates (counts per 30-day
window, revenue, first/last order, orders in the grading year). The first order's amount is
then looked up through the (customer_id, paid_at) index, only for customers whose verdict can
depend on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    String,
    and_,
    case,
    cast,
    column,
    func,
    null,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from config.rules import LifecycleRules
from models.activity import ActivityEvent, Order
from models.base import UTCDateTime
from models.lifecycle import scratch
from models.lifecycle.localdays import sql_int
from models.lifecycle.windows import Windows

CONVERTED_STATUSES = ("converted", "rewarded")

# Only the columns this module reads (migration 0002); a light reference keeps the classifier
# independent of the referral package.
invitations = table(
    "invitations",
    column("inviter_customer_id", BigInteger),
    column("status", String),
    column("converted_at", UTCDateTime()),
)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # FILTER (WHERE …) rather than sum(CASE …): skips the row outright, a third faster on
    # PostgreSQL; SQLite has it since 3.30.
    return func.count().filter(condition)


def _sum_if(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(func.sum(value).filter(condition), sql_int(0))


def _summable_fen(conn: AsyncConnection, fen: ColumnElement[int]) -> ColumnElement[Any]:
    """The amount as summed per customer: on PostgreSQL through a float8 accumulator.

    Exact: a double holds every integer below 2**53 and adds two of them without rounding
    while their sum stays below it, and 2**53 fen is 90 trillion yuan — no customer's orders
    come near. The result is cast back to BIGINT (scratch.fill). Why not the bigint sum:
    its 128-bit state is converted to numeric to pass between parallel workers, and with each
    worker seeing nearly every customer that took 3 s of the 14 s pass over 10M orders.
    SQLite sums integers natively."""
    if conn.dialect.name == "postgresql":
        return cast(fen, Float(precision=53))
    return fen


async def gather_orders(conn: AsyncConnection, w: Windows) -> None:
    o = Order.__table__.c
    at = o.paid_at
    in_recent = at >= w.recent_start
    in_previous = and_(at >= w.previous_start, at < w.recent_start)
    in_earliest = and_(at >= w.earliest_start, at < w.previous_start)
    customer: ColumnElement[int] = o.customer_id
    amount = _summable_fen(conn, o.amount_fen)
    if conn.dialect.name == "sqlite":
        # SQLite would otherwise walk the (customer_id, paid_at) index and fetch every order
        # row at random; "+ 0" makes it read the table in order and sort, about twice as fast
        # once the table outgrows the page cache. PostgreSQL hashes either way.
        customer = o.customer_id + sql_int(0)
    query = (
        select(
            customer,
            func.count(),
            func.sum(amount),
            func.min(at),
            func.max(at),
            _count_if(in_recent),
            _count_if(in_previous),
            _count_if(in_earliest),
            _sum_if(in_recent, amount),
            _sum_if(at >= w.earliest_start, amount),
            _count_if(at >= w.year_start),
            cast(null(), BigInteger),  # first_fen, filled in by fill_first_amounts
        )
        .where(o.status == "paid", at < w.end)
        .group_by(customer)
    )
    await scratch.fill(conn, scratch.order_metrics, query, analyze=True)


def repeats_recent(w: Windows) -> ColumnElement[int]:
    """Repeat orders (any order but the first) in the last window."""
    t = scratch.order_metrics.c
    return t.orders_recent - case((t.first_at >= w.recent_start, sql_int(1)), else_=sql_int(0))


async def fill_first_amounts(conn: AsyncConnection, w: Windows, rules: LifecycleRules) -> None:
    """Amount of each customer's first order (earliest paid_at, ties by id), needed only when
    there are repeat orders in the last window but fewer than the count that already makes the
    customer growing — exactly where the "repeat orders ≥ 1.2 × first order" rule decides."""
    t = scratch.order_metrics.c
    o = Order.__table__.c
    first_amount = (
        select(o.amount_fen)
        .where(o.customer_id == t.customer_id, o.status == "paid", o.paid_at == t.first_at)
        .order_by(o.id)
        .limit(1)
        .scalar_subquery()
    )
    repeats = repeats_recent(w)
    stmt = (
        update(scratch.order_metrics)
        .values(first_fen=first_amount)
        .where(repeats >= 1, repeats < rules.growing_min_repeat_orders)
    )
    await conn.execute(stmt)


async def gather_events(conn: AsyncConnection, w: Windows) -> None:
    e = ActivityEvent.__table__.c
    at = e.occurred_at
    recent = at >= w.recent_start
    previous = and_(at >= w.previous_start, at < w.recent_start)
    usage = e.kind == "feature_use"
    support = e.kind == "support_contact"
    query = (
        select(
            e.customer_id,
            _count_if(and_(e.kind == "view", at >= w.views_start)),
            _count_if(e.kind == "campaign_join"),
            _count_if(e.kind == "lead_form"),
            _count_if(and_(usage, recent)),
            _count_if(and_(usage, previous)),
            _count_if(and_(support, recent)),
            _count_if(and_(support, previous)),
            func.count(func.distinct(case((and_(usage, recent, e.detail != ""), e.detail)))),
        )
        .where(
            at < w.end,
            or_(at >= w.events_start, e.kind.in_(("campaign_join", "lead_form"))),
        )
        .group_by(e.customer_id)
    )
    await scratch.fill(conn, scratch.event_metrics, query, analyze=True)


async def gather_referrals(conn: AsyncConnection, w: Windows) -> None:
    """Converted referrals as inviter, counted by the conversion time (a reward later does not
    move it)."""
    i = invitations.c
    query = (
        select(i.inviter_customer_id, func.count())
        .where(i.status.in_(CONVERTED_STATUSES), i.converted_at < w.end)
        .group_by(i.inviter_customer_id)
    )
    await scratch.fill(conn, scratch.referral_metrics, query, analyze=True)
