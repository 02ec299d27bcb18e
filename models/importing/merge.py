"""Moving staged rows into the real tables: a handful of set-based statements per import.

For each kind: (orders, events) first insert a bare customer for every unknown customer number;
then one `UPDATE … FROM staging … WHERE <some stored value differs>` whose row count is the
"updated" figure, then one `INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING`
whose row count is the "imported" figure. Rows whose values are already stored touch nothing,
which is what makes a re-import a no-op. The same statements run on SQLite (≥ 3.33, for
UPDATE … FROM) and PostgreSQL; only the INSERT construct is chosen by dialect for ON CONFLICT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from models.activity import ActivityEvent, Order
from models.base import UTCDateTime
from models.customer import Customer
from models.importing.staging import STAGING_TABLES

customers: Table = Customer.__table__  # type: ignore[assignment]
orders: Table = Order.__table__  # type: ignore[assignment]
events: Table = ActivityEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class MergeCounts:
    imported: int
    updated: int
    bare_customers: int = 0


def _insert(conn: AsyncConnection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _at(now: datetime) -> ColumnElement[datetime]:
    return literal(now, UTCDateTime())


async def _rowcount(conn: AsyncConnection, statement: Any) -> int:
    result = await conn.execute(statement)
    return int(result.rowcount)


async def _insert_bare_customers(
    conn: AsyncConnection, staging: Table, moment: Any, source: str, now: datetime
) -> int:
    """A customer row with only its number for every unknown customer the file mentions,
    dated by its earliest order or event in the file."""
    c = customers
    key = staging.c.customer_external_id
    chosen = (
        select(key, literal(source), literal("open"), func.min(moment), _at(now))
        .where(~exists().where(c.c.external_id == key))
        .group_by(key)
    )
    statement = (
        _insert(conn, c)
        .from_select(["external_id", "source", "status", "created_at", "updated_at"], chosen)
        .on_conflict_do_nothing()
    )
    return await _rowcount(conn, statement)


async def merge_customers(conn: AsyncConnection, now: datetime) -> MergeCounts:
    s, c = STAGING_TABLES["customers"], customers
    status = func.coalesce(s.c.status, c.c.status)
    changed = or_(
        c.c.name.is_distinct_from(s.c.name),
        c.c.phone.is_distinct_from(s.c.phone),
        c.c.region.is_distinct_from(s.c.region),
        c.c.industry.is_distinct_from(s.c.industry),
        c.c.created_at != s.c.created_at,
        and_(s.c.status.is_not(None), c.c.status != s.c.status),
    )
    updated = await _rowcount(
        conn,
        update(c)
        .where(c.c.external_id == s.c.external_id, changed)
        .values(
            name=s.c.name,
            phone=s.c.phone,
            region=s.c.region,
            industry=s.c.industry,
            created_at=s.c.created_at,
            status=status,
            # Closing keeps the first closing time; reopening clears it.
            closed_at=case((status == "closed", func.coalesce(c.c.closed_at, _at(now)))),
            updated_at=_at(now),
        ),
    )
    new_status = func.coalesce(s.c.status, "open")
    chosen = select(
        s.c.external_id,
        s.c.name,
        s.c.phone,
        s.c.region,
        s.c.industry,
        s.c.created_at,
        new_status,
        case((new_status == "closed", _at(now))),
        literal("import"),
        _at(now),
    ).where(~exists().where(c.c.external_id == s.c.external_id))
    columns = ["external_id", "name", "phone", "region", "industry", "created_at", "status"]
    columns += ["closed_at", "source", "updated_at"]
    imported = await _rowcount(
        conn, _insert(conn, c).from_select(columns, chosen).on_conflict_do_nothing()
    )
    return MergeCounts(imported=imported, updated=updated)


async def merge_orders(conn: AsyncConnection, now: datetime) -> MergeCounts:
    s, c, o = STAGING_TABLES["orders"], customers, orders
    bare = await _insert_bare_customers(conn, s, s.c.paid_at, "order", now)
    status = func.coalesce(s.c.status, o.c.status)
    changed = or_(
        o.c.customer_id != c.c.id,
        o.c.amount_fen != s.c.amount_fen,
        o.c.paid_at != s.c.paid_at,
        and_(s.c.status.is_not(None), o.c.status != s.c.status),
    )
    updated = await _rowcount(
        conn,
        update(o)
        .where(o.c.order_no == s.c.order_no, c.c.external_id == s.c.customer_external_id, changed)
        .values(
            customer_id=c.c.id,
            amount_fen=s.c.amount_fen,
            paid_at=s.c.paid_at,
            status=status,
            # paid → refunded stamps the refund; refunded → paid (a correction) clears it.
            refunded_at=case((status == "refunded", func.coalesce(o.c.refunded_at, _at(now)))),
            updated_at=_at(now),
        ),
    )
    new_status = func.coalesce(s.c.status, "paid")
    chosen = (
        select(
            s.c.order_no,
            c.c.id,
            s.c.amount_fen,
            s.c.paid_at,
            new_status,
            case((new_status == "refunded", _at(now))),
            _at(now),
            _at(now),
        )
        .select_from(s.join(c, c.c.external_id == s.c.customer_external_id))
        .where(~exists().where(o.c.order_no == s.c.order_no))
    )
    columns = ["order_no", "customer_id", "amount_fen", "paid_at", "status", "refunded_at"]
    columns += ["created_at", "updated_at"]
    imported = await _rowcount(
        conn, _insert(conn, o).from_select(columns, chosen).on_conflict_do_nothing()
    )
    return MergeCounts(imported=imported, updated=updated, bare_customers=bare)


async def merge_events(conn: AsyncConnection, now: datetime) -> MergeCounts:
    """Events are facts identified by all their fields: new ones are added, none is updated."""
    s, c, e = STAGING_TABLES["events"], customers, events
    bare = await _insert_bare_customers(conn, s, s.c.occurred_at, "import", now)
    already = exists().where(
        e.c.customer_id == c.c.id,
        e.c.kind == s.c.kind,
        e.c.occurred_at == s.c.occurred_at,
        e.c.detail == s.c.detail,
    )
    chosen = (
        select(c.c.id, s.c.kind, s.c.occurred_at, s.c.detail, _at(now))
        .select_from(s.join(c, c.c.external_id == s.c.customer_external_id))
        .where(~already)
    )
    columns = ["customer_id", "kind", "occurred_at", "detail", "created_at"]
    imported = await _rowcount(
        conn, _insert(conn, e).from_select(columns, chosen).on_conflict_do_nothing()
    )
    return MergeCounts(imported=imported, updated=0, bare_customers=bare)


MERGERS: dict[str, Callable[[AsyncConnection, datetime], Awaitable[MergeCounts]]] = {
    "customers": merge_customers,
    "orders": merge_orders,
    "events": merge_events,
}
