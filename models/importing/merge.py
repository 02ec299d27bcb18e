"""Moving staged rows into the real tables: a handful of set-based statements per import.

For each kind: (orders, events) first insert a bare customer for every unknown customer number;
then one `UPDATE … FROM staging … WHERE <some stored value differs>` whose row count is the
"updated" figure, then one `INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING`
whose row count is the "imported" figure. Orders follow the order service's rules
(models/orders): its SQL expressions, its refusal of rows that would move an order to another
customer, and its referral effects for the customers the file touched. Rows whose values are
already stored touch nothing, which is what makes a re-import a no-op. The same statements run
on SQLite (≥ 3.33, for UPDATE … FROM) and PostgreSQL; only the INSERT construct is chosen by
dialect for ON CONFLICT, and PostgreSQL inserts new customers and orders in two steps of its own
(`_insert_new`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models.activity import ActivityEvent, Order
from models.bulkload import IndexSet, unindexed_if_empty
from models.customer import Customer
from models.importing.staging import STAGING_TABLES, staged_time
from models.orders import recheck_customers, referral_sensitive
from models.orders import rules as order_rules
from models.referral.locks import lock_rows
from models.upsert import dialect_insert

customers: Table = Customer.__table__  # type: ignore[assignment]
orders: Table = Order.__table__  # type: ignore[assignment]
events: Table = ActivityEvent.__table__  # type: ignore[assignment]

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


@dataclass(frozen=True)
class MovedOrder:
    """A staged order whose number is stored for another customer (refused)."""

    order_no: str
    stored_customer: str
    given_customer: str


@dataclass(frozen=True)
class MergeCounts:
    imported: int
    updated: int
    bare_customers: int = 0
    refused: tuple[MovedOrder, ...] = ()


_insert = dialect_insert
_at = order_rules.at


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


async def merge_customers(session: AsyncSession, now: datetime) -> MergeCounts:
    conn = await session.connection()
    s, c = STAGING_TABLES["customers"], customers
    created_at = staged_time(conn, s.c.created_at)
    closed_at = staged_time(conn, s.c.closed_at)
    status = func.coalesce(s.c.status, c.c.status)
    changed = or_(
        c.c.name.is_distinct_from(s.c.name),
        c.c.phone.is_distinct_from(s.c.phone),
        c.c.region.is_distinct_from(s.c.region),
        c.c.industry.is_distinct_from(s.c.industry),
        c.c.created_at != created_at,
        and_(s.c.status.is_not(None), c.c.status != s.c.status),
        and_(s.c.closed_at.is_not(None), c.c.closed_at.is_distinct_from(closed_at)),
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
            created_at=created_at,
            status=status,
            # A closing date in the file wins; without one, closing keeps the first closing
            # time (else the import's); reopening clears it.
            closed_at=case((status == "closed", func.coalesce(closed_at, c.c.closed_at, _at(now)))),
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
        created_at,
        new_status,
        case((new_status == "closed", func.coalesce(closed_at, _at(now)))),
        literal("import"),
        _at(now),
    )
    columns = ["external_id", "name", "phone", "region", "industry", "created_at", "status"]
    columns += ["closed_at", "source", "updated_at"]
    stored = c.c.external_id == s.c.external_id
    imported = await _insert_new(conn, c, s, stored, columns, chosen)
    return MergeCounts(imported=imported, updated=updated)


async def merge_orders(session: AsyncSession, now: datetime) -> MergeCounts:
    """Orders through the order service's rules (models/orders): rows that would move an
    order to another customer are refused; the customers whose referral state the file can
    touch are locked first (the referral domain's lock order: customer, then anything else);
    then one UPDATE and one INSERT built from `models.orders.rules`; then those customers'
    referral effects, in one pass over that set."""
    conn = await session.connection()
    s, c, o = STAGING_TABLES["orders"], customers, orders
    paid_at = staged_time(conn, s.c.paid_at)
    refused = await _refuse_moves(conn, s)
    bare = await _insert_bare_customers(conn, s, paid_at, "order", now)
    changed = order_rules.changed(
        stored_amount=o.c.amount_fen,
        stored_paid_at=o.c.paid_at,
        stored_status=o.c.status,
        amount=s.c.amount_fen,
        paid_at=paid_at,
        status=s.c.status,
    )
    unchanged = exists().where(o.c.order_no == s.c.order_no, ~changed)
    touched = (
        select(c.c.id)
        .select_from(s.join(c, c.c.external_id == s.c.customer_external_id))
        .where(referral_sensitive(c.c.id), ~unchanged)
        .distinct()
    )
    sensitive = sorted((await conn.execute(touched)).scalars())
    await lock_rows(session, Customer, sensitive)
    updated = await _rowcount(
        conn,
        update(o)
        .where(o.c.order_no == s.c.order_no, changed)
        .values(
            amount_fen=s.c.amount_fen,
            paid_at=paid_at,
            status=order_rules.next_status(s.c.status, o.c.status),
            refunded_at=order_rules.next_refunded_at(s.c.status, o.c.status, o.c.refunded_at, now),
            updated_at=_at(now),
        ),
    )
    chosen = select(
        s.c.order_no,
        c.c.id,
        s.c.amount_fen,
        paid_at,
        order_rules.new_status(s.c.status),
        order_rules.new_refunded_at(s.c.status, now),
        _at(now),
        _at(now),
    ).select_from(s.join(c, c.c.external_id == s.c.customer_external_id))
    columns = ["order_no", "customer_id", "amount_fen", "paid_at", "status", "refunded_at"]
    columns += ["created_at", "updated_at"]
    imported = await _insert_new(conn, o, s, o.c.order_no == s.c.order_no, columns, chosen)
    await recheck_customers(session, sensitive, now)
    return MergeCounts(imported=imported, updated=updated, bare_customers=bare, refused=refused)


async def _refuse_moves(conn: AsyncConnection, s: Table) -> tuple[MovedOrder, ...]:
    """Staged rows naming another customer than the one their order number is stored for:
    refused (the order service's rule) and taken out of the staging table."""
    c, o = customers, orders
    moves = (
        select(s.c.order_no, c.c.external_id, s.c.customer_external_id)
        .select_from(s.join(o, o.c.order_no == s.c.order_no).join(c, c.c.id == o.c.customer_id))
        .where(c.c.external_id != s.c.customer_external_id)
    )
    found = tuple(MovedOrder(*row) for row in (await conn.execute(moves)).all())
    if found:
        await conn.execute(delete(s).where(s.c.order_no.in_([m.order_no for m in found])))
    return found


async def _insert_new(
    conn: AsyncConnection,
    table: Table,
    s: Table,
    stored: ColumnElement[bool],
    columns: list[str],
    chosen: Any,
) -> int:
    """Insert the staged rows `chosen` selects whose key is not in `table` yet (`stored`: the
    staged row's key matches a row of `table`); their number.

    SQLite: the portable `INSERT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING`. PostgreSQL, two
    deliberate differences, measured on a million new orders:

    - The staged rows already stored are deleted from the staging table first, so the INSERT
      reads nothing of `table`. Inside the INSERT, the anti-join against `table` becomes a
      nested loop rescanning `table` for every staged row when the planner believes it is
      empty (vacuumed while empty) — and it grows with every row inserted: 20,000 orders took
      3.4 s instead of 0.5 s, a million did not finish in 15 minutes (customers alike). The
      DELETE changes nothing in `table`, so whatever plan it gets stays linear.
    - A plain INSERT instead of ON CONFLICT DO NOTHING, whose speculative insertion (another
      probe of each unique index and a confirmation record per row) took the statement from
      14.4 s to 19.3 s. ON CONFLICT only matters when another transaction stores one of these
      keys between the DELETE and the INSERT (two imports of overlapping files at once): the
      plain INSERT then fails on the unique index, is rolled back to its savepoint, and runs
      again with ON CONFLICT DO NOTHING, which skips those rows as the portable statement
      does — the import neither fails nor counts them.
    """
    if conn.dialect.name != "postgresql":
        portable = chosen.where(~exists().where(stored))
        return await _rowcount(
            conn, _insert(conn, table).from_select(columns, portable).on_conflict_do_nothing()
        )
    await conn.execute(delete(s).where(exists().where(stored)))
    unindexed = await _indexes_off_for_first_load(conn, table, s)
    try:
        async with conn.begin_nested():
            inserted = await _rowcount(conn, postgresql.insert(table).from_select(columns, chosen))
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != _UNIQUE_VIOLATION or unindexed is not None:
            raise
        statement = postgresql.insert(table).from_select(columns, chosen)
        inserted = await _rowcount(conn, statement.on_conflict_do_nothing())
    if unindexed is not None:
        await unindexed.put_back(conn)
    return inserted


async def _indexes_off_for_first_load(
    conn: AsyncConnection, table: Table, s: Table
) -> IndexSet | None:
    """The first import into an empty table (moving a business's history in): its unique
    and secondary indexes taken off (`unindexed_if_empty`), to be put back after the INSERT.

    A million orders into an empty `orders` took 33.5 s with its indexes kept up row by row,
    18 s without its order-number and (customer, paid_at) indexes plus 3.6 s to build them
    afterwards. The primary and foreign keys stay: other tables reference the one, and the
    other is checked per row as before. The table stays locked until the import commits: a
    reader waits that long and then finds it filled instead of empty, and no concurrent
    writer can slip in a duplicate number (re-adding the unique constraint would fail the
    import if one did). If the table is being read at that moment, the import does not wait
    for it: it keeps the indexes."""
    staged = int(await conn.scalar(select(func.count()).select_from(s)) or 0)
    return await unindexed_if_empty(conn, (table.name,), staged, kinds="u")


async def merge_events(session: AsyncSession, now: datetime) -> MergeCounts:
    """Events are facts identified by all their fields: new ones are added, none is updated."""
    conn = await session.connection()
    s, c, e = STAGING_TABLES["events"], customers, events
    occurred_at = staged_time(conn, s.c.occurred_at)
    bare = await _insert_bare_customers(conn, s, occurred_at, "import", now)
    already = exists().where(
        e.c.customer_id == c.c.id,
        e.c.kind == s.c.kind,
        e.c.occurred_at == occurred_at,
        e.c.detail == s.c.detail,
    )
    chosen = (
        select(c.c.id, s.c.kind, occurred_at, s.c.detail, _at(now))
        .select_from(s.join(c, c.c.external_id == s.c.customer_external_id))
        .where(~already)
    )
    columns = ["customer_id", "kind", "occurred_at", "detail", "created_at"]
    imported = await _rowcount(
        conn, _insert(conn, e).from_select(columns, chosen).on_conflict_do_nothing()
    )
    return MergeCounts(imported=imported, updated=0, bare_customers=bare)


MERGERS: dict[str, Callable[[AsyncSession, datetime], Awaitable[MergeCounts]]] = {
    "customers": merge_customers,
    "orders": merge_orders,
    "events": merge_events,
}
