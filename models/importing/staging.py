"""Temporary staging tables, filled in large batches by each backend's fastest path.

Validated rows go into a per-connection temporary table first; `merge.py` then moves them into
the real tables with a few set-based statements. Both happen in the import's one transaction:
on PostgreSQL the table is created `ON COMMIT DROP` and filled with asyncpg's binary COPY; on
SQLite it is filled with one `executemany` per batch, datetimes pre-formatted exactly as
`UTCDateTime` stores them (naive UTC, microseconds) so comparisons with stored rows are exact.

On PostgreSQL the staged times are naive UTC too, in a `timestamp` column that `merge.py` reads
back with `staged_time` (AT TIME ZONE 'UTC'): asyncpg's `timestamptz` encoder spends about 1 µs
on every aware value (two comparisons with ±infinity across naive and aware, an `astimezone`),
a sixth of the Python time of a million-row import; a naive value is one subtraction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from models.base import UTCDateTime

# Page cache of the importing SQLite connection while it imports (restored afterwards).
SQLITE_CACHE_KIB = 256 * 1024

_metadata = MetaData()
# UTCDateTime on SQLite (naive UTC text); naive UTC `timestamp` on PostgreSQL (see above).
_StagedTime = UTCDateTime().with_variant(DateTime(timezone=False), "postgresql")
_NAIVE_EPOCH = datetime(2000, 1, 1)
_UTC_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _staging(name: str, *columns: Column[Any]) -> Table:
    return Table(
        f"fission_import_{name}",
        _metadata,
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


STAGING_TABLES: dict[str, Table] = {
    "customers": _staging(
        "customers",
        Column("external_id", String(64), nullable=False),
        Column("name", String(100)),
        Column("phone", String(20)),
        Column("region", String(50)),
        Column("industry", String(50)),
        Column("created_at", _StagedTime, nullable=False),
        Column("status", String(10)),  # NULL: not given, keep the stored status
        Column("closed_at", _StagedTime),  # NULL: not given
    ),
    "orders": _staging(
        "orders",
        Column("order_no", String(64), nullable=False),
        # NULL until prepare.py has found the customer by the buyer's phone.
        Column("customer_external_id", String(64)),
        Column("amount_fen", BigInteger(), nullable=False),
        Column("paid_at", _StagedTime, nullable=False),
        Column("status", String(10)),  # NULL: not given, keep the stored status
        Column("customer_phone", String(20)),  # the buyer, for a row without a customer
        Column("customer_name", String(100)),
    ),
    "events": _staging(
        "events",
        Column("customer_external_id", String(64), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("occurred_at", _StagedTime, nullable=False),
        Column("detail", String(200), nullable=False),
    ),
}


# The staged orders' columns for a row naming its customer by the buyer's phone.
BUYER_COLUMNS = ("customer_phone", "customer_name")


def _naive_utc(moment: datetime) -> datetime:
    """Aware → naive UTC by arithmetic (`replace(tzinfo=None)` costs several times more)."""
    return _NAIVE_EPOCH + (moment - _UTC_EPOCH)


def _with_staged_time(
    kind: str, records: Sequence[tuple[Any, ...]], convert: Callable[[datetime], Any], buyer: bool
) -> list[tuple[Any, ...]]:
    """`records` with their time (one per record, placed by the parsers in kinds.py) passed
    through `convert`; unpacking each kind's tuple is twice as fast as slicing a generic one.
    Orders without `buyer` leave out the buyer's phone and name (the file has no phone)."""
    if kind == "orders":
        if buyer:
            return [
                (no, who, fen, convert(at), status, phone, name)
                for no, who, fen, at, status, phone, name in records
            ]
        return [(no, who, fen, convert(at), status) for no, who, fen, at, status, _, _ in records]
    if kind == "customers":
        return [
            (key, name, phone, region, industry, convert(at), status, closed and convert(closed))
            for key, name, phone, region, industry, at, status, closed in records
        ]
    if kind == "events":
        return [(who, code, convert(at), detail) for who, code, at, detail in records]
    raise ValueError(f"unknown import kind {kind!r}")


def staged_time(conn: AsyncConnection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A staged time column as an aware timestamp, comparable with the real tables' columns."""
    if conn.dialect.name == "postgresql":
        return func.timezone("UTC", column)
    return column


def sqlite_datetime(moment: datetime) -> str:
    """The exact text `UTCDateTime` writes on SQLite for an aware datetime."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without its offset: cheaper than replace(tzinfo=None).
    return moment.isoformat(" ", "microseconds")[:-6]


class Stager:
    """Creates one kind's staging table on the import's connection and bulk-loads batches."""

    def __init__(self, conn: AsyncConnection, kind: str, buyer: bool = True) -> None:
        self.conn = conn
        self.kind = kind
        self.table = STAGING_TABLES[kind]
        self.dialect = conn.dialect.name
        # An orders file without a phone column stages no buyer: two columns fewer to load.
        self.buyer = buyer or kind != "orders"
        unstaged = () if self.buyer else BUYER_COLUMNS
        names = [column.name for column in self.table.columns if column.name not in unstaged]
        self._columns = names
        self._sqlite_cache_size: int = -2000
        marks = ", ".join("?" for _ in names)
        self._sqlite_insert = (
            f"INSERT INTO temp.{self.table.name} ({', '.join(names)}) VALUES ({marks})"
        )

    async def create(self) -> None:
        if self.dialect == "sqlite":
            # Temporary tables outlive a transaction on a pooled SQLite connection.
            await self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self.table.name}")
            # The default 8 MB page cache thrashes on a million random index inserts.
            result = await self.conn.exec_driver_sql("PRAGMA cache_size")
            self._sqlite_cache_size = result.scalar_one()
            await self.conn.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
        await self.conn.run_sync(self.table.create)
        if self.dialect == "postgresql" and not (await self._driver()).is_in_transaction():
            # COPY below bypasses SQLAlchemy; it must land inside the import's transaction.
            raise RuntimeError("the import's PostgreSQL transaction has not begun")

    async def add(self, records: Sequence[tuple[Any, ...]]) -> None:
        if not records:
            return
        if self.dialect == "postgresql":
            driver = await self._driver()
            await driver.copy_records_to_table(
                self.table.name,
                records=_with_staged_time(self.kind, records, _naive_utc, self.buyer),
                columns=self._columns,
            )
            return
        rows = _with_staged_time(self.kind, records, sqlite_datetime, self.buyer)
        await self.conn.exec_driver_sql(self._sqlite_insert, rows)

    async def analyze(self) -> None:
        """PostgreSQL never auto-analyzes temporary tables; without row counts for the staged
        rows its planner guesses a handful and may pick nested loops over whole tables."""
        if self.dialect == "postgresql":
            await self.conn.exec_driver_sql(f"ANALYZE {self.table.name}")

    async def drop(self) -> None:
        """Before commit, on the same connection (PostgreSQL drops it at commit by itself)."""
        if self.dialect == "sqlite":
            await self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self.table.name}")
            await self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(self._sqlite_cache_size)}")

    async def _driver(self) -> Any:
        raw = await self.conn.get_raw_connection()
        return raw.driver_connection
