"""The seeds' tables out (issue 17): the spreadsheets shops keep by hand, written from data as
XLSX or CSV for Excel and WPS.

- `grades` — seed 002's 客户分级管理表格 (models/exports/grades.py);
- `referral` — seed 000 §6's 客户裂变管理表格 (models/exports/referral.py);
- `lifecycle` — seed 004 §3's 生命周期动态跟踪表, one row per customer
  (models/exports/lifecycle.py);
- `invitations` — who referred whom, one row per invitation (models/exports/invitations.py).

Each is one set-based statement whose rows stream out in batches into the shared writers
(models/reports/writers.py), so 100k customers never sit in memory at once. Personal data is
masked before it reaches a row. `fission export` (bot/cli/export.py) and the staff chat command
`/export` (handlers/commands/staff/exports.py) both call `build_export` and `write_export`;
`/stage` and `/grade` page through the lifecycle and grades lists in the same order
(models/exports/stage_list.py, `grade_page`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.exports.grades import GradeLine, grade_page, grades_table
from models.exports.invitations import invitations_table
from models.exports.lifecycle import lifecycle_table
from models.exports.referral import referral_export
from models.exports.table import ExportEnv, ExportFilters, ExportTable, Owner
from models.reports.labels import EN, STAGE_LABELS, label
from models.reports.segments import ReportPeriod
from models.reports.writers import FORMATS, Progress, open_writer, write_table
from models.staff import Staff

EXPORT_KINDS = ("grades", "referral", "lifecycle", "invitations")
# Which filters each export understands.
FILTERS_OF = {
    "grades": ("grade", "owner"),
    "referral": (),
    "lifecycle": ("stage", "grade", "owner"),
    "invitations": (),
}
_UNASSIGNED = {"none", "nobody", "unassigned", "未分配", "无"}
# Characters Windows (or any shell) will not take in a file name.
_NOT_IN_FILE_NAMES = str.maketrans({c: "_" for c in '\\/:*?"<>|'})

__all__ = [
    "EXPORT_KINDS",
    "FILTERS_OF",
    "FORMATS",
    "ExportEnv",
    "ExportFilters",
    "ExportTable",
    "GradeLine",
    "Owner",
    "OwnerNotFound",
    "build_export",
    "default_file_name",
    "filter_words",
    "find_owner",
    "grade_page",
    "write_export",
]


@dataclass(frozen=True)
class OwnerNotFound(LookupError):
    """No staff member goes by that name; `known` lists who does."""

    name: str
    known: tuple[str, ...]


async def find_owner(session: AsyncSession, text: str) -> Owner:
    """The staff member(s) named `text` (exactly, ignoring case), or nobody's customers for
    `未分配` / `none`; raises `OwnerNotFound`."""
    wanted = text.strip()
    if wanted.casefold() in _UNASSIGNED:
        return Owner(staff_ids=(), name=wanted)
    rows = (await session.execute(select(Staff.id, Staff.name).order_by(Staff.id))).all()
    ids = tuple(int(row.id) for row in rows if _folded(row.name) == _folded(wanted))
    if not ids:
        raise OwnerNotFound(wanted, tuple(sorted({row.name for row in rows})))
    return Owner(staff_ids=ids, name=wanted)


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


async def build_export(
    session: AsyncSession,
    kind: str,
    env: ExportEnv,
    filters: ExportFilters | None = None,
    period: ReportPeriod | None = None,
) -> ExportTable:
    """The export `kind`, ready to stream (its rows are read as they are written).

    `period` matters to `referral` only (default: as of `env.today`, all history — what
    `fission report referral` shows)."""
    filters = filters or ExportFilters()
    if kind == "grades":
        return await grades_table(session, env, filters)
    if kind == "lifecycle":
        return await lifecycle_table(session, env, filters)
    if kind == "invitations":
        return await invitations_table(session, env)
    if kind == "referral":
        period = period or ReportPeriod(as_of=env.today, tz=env.settings.tz)
        return await referral_export(session, env, period)
    raise ValueError(f"unknown export {kind!r} (one of {', '.join(EXPORT_KINDS)})")


async def write_export(
    table: ExportTable, out: IO[bytes], fmt: str, progress: Progress | None = None
) -> int:
    """Stream `table` into `out` as `fmt` (xlsx | csv); returns the rows written."""
    writer = open_writer(fmt, out)
    rows = await write_table(
        writer, table.title, table.columns, table.batches, note=table.note, progress=progress
    )
    writer.close()
    return rows


def filter_words(filters: ExportFilters, locale: str) -> list[str]:
    """The filters as people say them: `衰退客户`, `A级`, `赵敏`."""
    words = []
    if filters.stage is not None:
        words.append(label(STAGE_LABELS, locale, filters.stage))
    if filters.grade is not None:
        words.append(f"grade {filters.grade}" if locale == EN else f"{filters.grade}级")
    if filters.owner is not None:
        words.append(filters.owner.name)
    return words


def default_file_name(
    table: ExportTable, day: date, fmt: str, filters: ExportFilters, locale: str
) -> str:
    """`客户分级表-2026-12-05.xlsx`; with filters `客户生命周期跟踪表-衰退客户-2026-12-05.xlsx`."""
    words = filter_words(filters, locale)
    stem = "-".join([table.title, *words, day.isoformat()])
    return f"{stem.translate(_NOT_IN_FILE_NAMES)}.{fmt}"
