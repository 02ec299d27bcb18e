"""Scratch per-customer tables of one run: metrics computed once, read by several statements.

They live only inside the run's transaction: created by it and dropped before it commits (or
gone with it when it rolls back), so no other session ever sees one, and runs take turns
(an advisory lock, see `run_lifecycle`).

On PostgreSQL each is made by `CREATE UNLOGGED TABLE … AS SELECT`: unlike INSERT … SELECT,
that may scan and aggregate in parallel, and the table carries no index to maintain (joins
hash). Unlogged rather than temporary because parallel workers cannot read a session's
temporary tables: every later join and the building of the receipts then ran in one process
(the verdict took 12–14 s instead of 5–7 s for 1M customers). Where the database user may not
create tables in its schema (a role with data privileges only), they are temporary instead,
and the run is only slower. SQLite has neither parallel scans nor hash joins, so there the
tables are declared first with `customer_id` as the rowid, which makes every later join a
direct look-up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    cast,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from models.base import BigId, Json, UTCDateTime

scratch = MetaData()


def _temp(name: str, *columns: Column[object]) -> Table:
    return Table(
        name,
        scratch,
        Column("customer_id", BigId, primary_key=True, autoincrement=False),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


# One row per customer with a paid order up to T: everything the rules and grades read from
# orders, gathered in one pass over the orders table.
order_metrics = _temp(
    "lc_order_metrics",
    Column("orders", Integer, nullable=False),
    Column("ltv_fen", BigInteger, nullable=False),
    Column("first_at", UTCDateTime(), nullable=False),
    Column("last_at", UTCDateTime(), nullable=False),
    Column("orders_recent", Integer, nullable=False),
    Column("orders_previous", Integer, nullable=False),
    Column("orders_earliest", Integer, nullable=False),
    Column("revenue_recent_fen", BigInteger, nullable=False),
    Column("revenue_90d_fen", BigInteger, nullable=False),
    Column("orders_year", Integer, nullable=False),
    # Amount of the first order; looked up only where the repeat-order AOV rule needs it.
    Column("first_fen", BigInteger),
)

# One row per customer with a counted event.
event_metrics = _temp(
    "lc_event_metrics",
    Column("views_recent", Integer, nullable=False),
    Column("campaign_joins", Integer, nullable=False),
    Column("lead_forms", Integer, nullable=False),
    Column("usage_recent", Integer, nullable=False),
    Column("usage_previous", Integer, nullable=False),
    Column("support_recent", Integer, nullable=False),
    Column("support_previous", Integer, nullable=False),
    Column("core_features_recent", Integer, nullable=False),
)

# Converted referrals per inviter.
referral_metrics = _temp(
    "lc_referral_metrics",
    Column("referrals", Integer, nullable=False),
)


def _beside_stored(name: str, *columns: Column[object]) -> Table:
    """A table of new values with, after them, a nullable `prev_<name>` copy of each column for
    the stored value (all NULL: nothing was stored)."""
    stored = [Column(f"prev_{column.name}", column.type) for column in columns]
    return _temp(name, *columns, *stored)


def _new_values(verdicts: Table) -> list[Column[object]]:
    """Copies of the columns of `verdicts` that hold new values (not the key, not `prev_*`)."""
    new = [
        c for c in verdicts.columns if c.name != "customer_id" and not c.name.startswith("prev_")
    ]
    return [Column(c.name, c.type, nullable=c.nullable) for c in new]


def _changes_of(name: str, verdicts: Table) -> Table:
    """The rows of `verdicts` that differ from a stored row: its new values only."""
    return _temp(name, *_new_values(verdicts))


# The verdict for every customer, with what was stored before this run.
results = _beside_stored(
    "lc_results",
    Column("stage", String(10), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("metrics", Json, nullable=False),
    Column("qualified", Boolean, nullable=False),
    Column("since", Date, nullable=False),
)

# The verdicts that differ from a stored row, to be written over it.
rewrites = _changes_of("lc_rewrites", results)

# Every graded customer's grade, with the stored one.
grades = _beside_stored(
    "lc_grades",
    Column("grade", String(1), nullable=False),
    Column("orders_365d", Integer, nullable=False),
    Column("aov_fen", BigInteger, nullable=False),
    Column("ltv_fen", BigInteger, nullable=False),
)

# The grades that differ from a stored row, to be written over it.
grade_rewrites = _changes_of("lc_grade_rewrites", grades)

ALL = (
    order_metrics,
    event_metrics,
    referral_metrics,
    results,
    rewrites,
    grades,
    grade_rewrites,
)

# Read afresh for every date of a recomputed history (history.py).
PER_DATE = (order_metrics, event_metrics, referral_metrics, results, grades)

# Recomputing history (history.py): each customer's stage at the date before the one being
# computed, in the columns of `stage_assignments` that the verdict reads as the previous stage.
state = _temp("lc_state", *_new_values(results))

# Recomputing history: the stage changes of every date computed, to be compared with the
# stored ones. Filled date by date (INSERT), so declared on both backends.
changes = Table(
    "lc_changes",
    scratch,
    Column("customer_id", BigId, primary_key=True, autoincrement=False),
    Column("as_of", Date, primary_key=True),
    Column("from_stage", String(10)),
    Column("to_stage", String(10), nullable=False),
    Column("rule", String(40), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

# Recomputing history: the latest date's verdicts beside the stored rows they may replace.
final = _beside_stored("lc_final", *_new_values(results))

HISTORY = (state, changes, final)


# Key in the connection's `info`: whether this run's scratch tables are temporary (PostgreSQL).
_TEMPORARY = "fission_lifecycle_scratch_temporary"


class _CreateTableAs(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, name: str, query: Select[Any], *, temporary: bool) -> None:
        self.name = name
        self.query = query
        self.temporary = temporary


@compiles(_CreateTableAs)
def _compile_create_as(element: _CreateTableAs, compiler: SQLCompiler, **kw: Any) -> str:
    query = compiler.process(element.query, **kw)
    if element.temporary:
        return f"CREATE TEMPORARY TABLE {element.name} ON COMMIT DROP AS {query}"
    return f"CREATE UNLOGGED TABLE {element.name} AS {query}"


def _create_as(conn: AsyncConnection, name: str, query: Select[Any]) -> _CreateTableAs:
    return _CreateTableAs(name, query, temporary=bool(conn.info.get(_TEMPORARY, True)))


async def create_all(conn: AsyncConnection, tables: tuple[Table, ...] = ALL) -> None:
    """Declare the tables where `fill` inserts into them (SQLite; on both backends for
    `changes`, which is filled by INSERT); on PostgreSQL, settle whether the others can be
    unlogged tables in the current schema."""
    if conn.dialect.name == "postgresql":
        may_create = await conn.scalar(
            text("SELECT has_schema_privilege(current_schema(), 'CREATE')")
        )
        conn.info[_TEMPORARY] = not may_create
        if changes in tables:
            await conn.execute(text(f"DROP TABLE IF EXISTS {changes.name}"))
            await conn.run_sync(changes.create)
        return
    await drop_all(conn, tables)
    for scratch_table in tables:
        await conn.run_sync(scratch_table.create)


async def fill(
    conn: AsyncConnection,
    table: Table,
    query: Select[*tuple[Any, ...]],
    *,
    analyze: bool = False,
) -> None:
    """Populate `table` from `query`, whose columns come in the table's column order.

    `analyze`: gather PostgreSQL statistics, for a table that later statements join or filter
    on in ways where row estimates matter."""
    names = [column.name for column in table.columns]
    if len(query.selected_columns) != len(names):
        raise ValueError(
            f"{table.name}: {len(names)} columns, query gives {len(query.selected_columns)}"
        )
    if conn.dialect.name == "postgresql":
        # Cast to the declared types: CREATE … AS would otherwise keep, say, sum(bigint) as
        # numeric, and integer division in later statements would stop being integer.
        typed = [
            cast(column, table.c[name].type).label(name)
            for column, name in zip(query.selected_columns, names, strict=True)
        ]
        labeled = query.with_only_columns(*typed, maintain_column_froms=True)
        await conn.execute(_create_as(conn, table.name, labeled))
        if analyze:
            await conn.execute(text(f"ANALYZE {table.name}"))
    else:
        await conn.execute(insert(table).from_select(names, query))


async def empty(conn: AsyncConnection, *tables: Table) -> None:
    """Make `tables` ready for another `fill`: gone on PostgreSQL (`fill` creates them),
    emptied on SQLite (declared once by `create_all`)."""
    for scratch_table in tables:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"DROP TABLE IF EXISTS {scratch_table.name}"))
        else:
            await conn.execute(text(f"DELETE FROM temp.{scratch_table.name}"))


async def drop_all(conn: AsyncConnection, tables: tuple[Table, ...] = ALL) -> None:
    """SQLite keeps temporary tables for the life of the (pooled) connection; drop them."""
    if conn.dialect.name == "postgresql":
        for scratch_table in tables:
            await conn.execute(text(f"DROP TABLE IF EXISTS {scratch_table.name}"))
        return
    for scratch_table in tables:
        await conn.execute(text(f"DROP TABLE IF EXISTS temp.{scratch_table.name}"))
