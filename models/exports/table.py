"""What every export is: a titled table whose rows stream out of one SQL statement in batches,
and the filters staff narrow it with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from config import Settings
from models.reports.labels import EN
from models.reports.sheets import Cell, Column
from models.stages import latest_run_as_of

# Rows fetched and written at a time: what an export holds in memory, whatever its length.
BATCH_ROWS = 1000
ExportRow = tuple[Cell, ...]
# A SELECT of any columns.
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Owner:
    """Whose customers: the staff members of that name (usually one), or nobody's (`()`)."""

    staff_ids: tuple[int, ...]
    name: str


@dataclass(frozen=True)
class ExportFilters:
    stage: str | None = None  # models.stages.STAGES
    grade: str | None = None  # A | B | C
    owner: Owner | None = None

    def owner_condition(
        self, column: InstrumentedAttribute[int | None] | ColumnElement[int | None]
    ) -> ColumnElement[bool]:
        if self.owner is None:
            return true()
        if not self.owner.staff_ids:
            return column.is_(None)
        return column.in_(self.owner.staff_ids)


@dataclass(frozen=True)
class ExportEnv:
    """What the row builders read besides the database: settings (locale, zone, rules,
    playbook) and the day the export describes."""

    settings: Settings
    today: date

    @property
    def locale(self) -> str:
        return self.settings.locale


@dataclass(frozen=True)
class ExportTable:
    kind: str  # grades | lifecycle | referral | invitations
    title: str  # the sheet's title, also the start of the default file name
    columns: tuple[Column, ...]
    total: int  # rows it will have, counted before streaming (a progress bar's length)
    batches: AsyncIterator[list[ExportRow]]
    note: str = ""  # under the data in XLSX (what the figures describe)


def person_columns(locale: str) -> tuple[Column, Column]:
    """The two columns a customer's row starts with, masked: 客户名称, 联系方式."""
    en = locale == EN
    return Column("Customer" if en else "客户名称"), Column("Contact" if en else "联系方式")


def id_column(locale: str) -> Column:
    """客户编号, last: what staff type to act on a row (`/customer C001`)."""
    return Column("Customer ID" if locale == EN else "客户编号")


async def run_note(session: AsyncSession, text: Mapping[str, str], **values: str) -> str:
    """`text["note"]` with the date the stored stages and grades describe (`as_of`), or
    `text["no_run"]` before any lifecycle run; both filled with `values`."""
    as_of = (await session.execute(latest_run_as_of())).scalar_one_or_none()
    if as_of is None:
        return text["no_run"].format(**values)
    return text["note"].format(as_of=as_of.isoformat(), **values)


async def count_rows(session: AsyncSession, stmt: Rows) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(await session.scalar(counted) or 0)


async def stream_rows(
    session: AsyncSession,
    stmt: Rows,
    convert: Callable[[Row[Any]], ExportRow],
    *,
    size: int = BATCH_ROWS,
) -> AsyncIterator[list[ExportRow]]:
    """The statement's rows, converted, `size` at a time: a server-side cursor on PostgreSQL,
    a stepped cursor on SQLite — never the whole result in memory."""
    result = await session.stream(stmt.execution_options(yield_per=size))
    async for partition in result.partitions(size):
        yield [convert(row) for row in partition]


async def rows_of(rows: Sequence[ExportRow]) -> AsyncIterator[list[ExportRow]]:
    """A table computed whole (a handful of rows) as one batch."""
    if rows:
        yield list(rows)
