"""Synthetic customers, orders and events in bulk, generated inside the database, for benchmarks.

Everything is one INSERT … SELECT per table over a number series (`generate_series` on
PostgreSQL, a recursive CTE on SQLite), with pseudo-random values from integer hashing of the
row number and `seed`, so the same arguments give the same data on both backends, and 10M
orders take no Python loop. The shape is meant to exercise every rule: about 20% of customers
never buy (prospects), order counts are skewed (a few heavy buyers), each buyer has an activity
span ending at a different distance before T (new, active, lapsing, churned customers), ~3% of
orders are refunded and some fall after T. 20% of the customers place 80% of the orders.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from sqlalchemy import text

from models.base import utcnow
from models.clock import day_start
from models.db import Database

_P = 2147483647  # 2^31 - 1: hashes stay far from 64-bit overflow


def _hash(var: str, salt: int, seed: int) -> str:
    """An SQL integer in [0, 2^31-1) that looks random across `var` = 1, 2, 3, … and across
    salts: an affine step, then squaring modulo the prime twice (which scrambles well and
    never leaves 64-bit integers). Every product stays below 2^62."""
    a = 1_103_515_245 + 2 * salt
    b = (seed * 2_654_435_761 + salt * 97_531) % _P
    h0 = f"(({var} * {a} + {b}) % {_P})"
    h1 = f"((({h0} * {h0}) % {_P} * 48271 + {salt}) % {_P})"
    return f"(({h1} * {h1}) % {_P})"


def _series(dialect: str, count: int) -> str:
    if dialect == "postgresql":
        return f"(SELECT g AS n FROM generate_series(1::bigint, {count}::bigint) AS g) AS s"
    return (
        f"(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {count}) "
        "SELECT n FROM r) AS s"
    )


def _padded(dialect: str, number_sql: str) -> str:
    """Zero-padded, so order numbers arrive in index order (cheap unique-index inserts)."""
    if dialect == "postgresql":
        return f"lpad(({number_sql})::text, 10, '0')"
    return f"printf('%010d', {number_sql})"


def _timestamp(dialect: str, epoch_sql: str) -> str:
    if dialect == "postgresql":
        return f"to_timestamp({epoch_sql})"
    # the text form UTCDateTime stores on SQLite
    return f"(strftime('%Y-%m-%d %H:%M:%S', {epoch_sql}, 'unixepoch') || '.000000')"


async def generate_bench_data(
    db: Database,
    *,
    customers: int,
    orders: int,
    as_of: date,
    tz: tzinfo,
    seed: int,
    events: int = 0,
) -> None:
    """Append `customers` customers, `orders` orders and `events` activity events."""
    dialect = db.dialect
    end = int(day_start(as_of + timedelta(days=1), tz).timestamp())  # start of T + 1
    now = _timestamp(dialect, str(int(utcnow().timestamp())))
    buyers = max(1, customers * 4 // 5)
    async with db.engine.begin() as conn:
        if dialect == "sqlite":
            # A 256 MB page cache for the bulk insert (index pages stay in memory); restored
            # below, as the connection goes back to the pool.
            await conn.execute(text("PRAGMA cache_size = -262144"))
        base = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM customers"))).scalar()
        assert base is not None
        closed = f"CASE WHEN {_hash('n', 1, seed)} % 100 = 0 THEN 'closed' ELSE 'open' END"
        created = _timestamp(dialect, f"{end} - 86400 * (30 + {_hash('n', 2, seed)} % 900)")
        await conn.execute(
            text(
                "INSERT INTO customers (id, external_id, name, phone, status, source, "
                "created_at, closed_at, marketing_opt_out, updated_at) "
                f"SELECT {base} + n, 'bench-{seed}-' || n, NULL, "
                f"'1' || (3000000000 + {_hash('n', 3, seed)} % 999999999), {closed}, 'demo', "
                f"{created}, NULL, false, {now} FROM {_series(dialect, customers)}"
            )
        )
        # Buyer k (1..buyers), Pareto-like: a quarter of the orders spread over all buyers,
        # the rest over the first fifth (heavy buyers); light buyers have ~3 orders.
        heavy = max(1, buyers // 5)
        spread = f"CASE WHEN {_hash('n', 16, seed)} % 4 = 0 THEN {buyers} ELSE {heavy} END"
        buyer = f"(1 + {_hash('n', 4, seed)} % ({spread}))"
        # Per buyer: days between their last activity and T (a quarter within a month, half
        # over 90 days) and the length of their buying history (a sixth under 25 days).
        quiet = f"(({_hash('k', 5, seed)} % 400) * ({_hash('k', 5, seed)} % 400) / 400)"
        span = f"(5 + ({_hash('k', 6, seed)} % 700) * ({_hash('k', 6, seed)} % 700) / 700)"
        age = f"({quiet} + {_hash('n', 7, seed)} % {span} - 2)"  # a few land after T
        paid = _timestamp(dialect, f"{end} - 86400 * {age} - {_hash('n', 8, seed)} % 86400")
        amount = f"(500 + ({_hash('n', 9, seed)} % 200) * ({_hash('n', 10, seed)} % 200))"
        status = f"CASE WHEN {_hash('n', 11, seed)} % 100 < 3 THEN 'refunded' ELSE 'paid' END"
        order_base = (await conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM orders"))).scalar()
        await conn.execute(
            text(
                "INSERT INTO orders (order_no, customer_id, amount_fen, paid_at, status, "
                "created_at, updated_at) "
                f"SELECT 'bench-{seed}-' || {_padded(dialect, f'{order_base} + n')}, {base} + k, "
                f"{amount}, {paid}, "
                f"{status}, {now}, {now} "
                f"FROM (SELECT n, {buyer} AS k FROM {_series(dialect, orders)}) AS o"
            )
        )
        if events:
            kind = (
                f"CASE {_hash('n', 12, seed)} % 5 WHEN 0 THEN 'view' WHEN 1 THEN 'feature_use' "
                "WHEN 2 THEN 'feature_use' WHEN 3 THEN 'support_contact' ELSE 'lead_form' END"
            )
            who = f"(1 + {_hash('n', 13, seed)} % {customers})"
            at = _timestamp(dialect, f"{end} - {_hash('n', 14, seed)} % (86400 * 70) - 1")
            detail = f"'f' || ({_hash('n', 15, seed)} % 6)"
            verb = "INSERT" if dialect == "postgresql" else "INSERT OR IGNORE"
            tail = " ON CONFLICT DO NOTHING" if dialect == "postgresql" else ""
            await conn.execute(
                text(
                    f"{verb} INTO activity_events (customer_id, kind, occurred_at, detail, "
                    f"created_at) SELECT {base} + {who}, {kind}, {at}, {detail}, {now} "
                    f"FROM {_series(dialect, events)}{tail}"
                )
            )
        if dialect == "sqlite":
            await conn.execute(text("PRAGMA cache_size = -2000"))
        if dialect == "postgresql":
            await conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('customers', 'id'), MAX(id)) "
                    "FROM customers"
                )
            )
    if dialect == "postgresql":
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE customers, orders, activity_events"))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
