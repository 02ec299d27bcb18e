"""`fission export grades|lifecycle|referral|invitations`: the seeds' tables as XLSX (default)
or CSV files for Excel and WPS, masked (models/exports).

Rows stream from the database into the file, so a large customer base needs no more memory
than a small one; at a terminal a progress bar runs on stderr. The file is written under a
temporary name and renamed when complete: an interrupted export leaves no half file behind.
Without `-o` the file is named after the table and the day (`客户分级表-2026-12-05.xlsx`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli.common import get_settings, open_database, run
from bot.cli.report import report_period
from config import Settings
from models.clock import today
from models.exports import (
    FORMATS,
    ExportEnv,
    ExportFilters,
    OwnerNotFound,
    build_export,
    default_file_name,
    find_owner,
    write_export,
)
from models.reports.labels import EN, STAGE_LABELS, parse_grade, parse_stage
from models.reports.segments import ReportPeriod

F = TypeVar("F", bound=Callable[..., Any])


def _en() -> bool:
    return get_settings().locale == EN


def _stage(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    stage = parse_stage(value)
    if stage is None:
        names = "、".join(STAGE_LABELS["zh-CN"].values())
        keys = ", ".join(STAGE_LABELS[EN])
        raise click.BadParameter(f"没有“{value}”这个阶段，可选：{names} / one of: {keys}")
    return stage


def _grade(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    grade = parse_grade(value)
    if grade is None:
        raise click.BadParameter(f"没有“{value}”这个等级，可选：A、B、C / one of: A, B, C")
    return grade


def _file_options(fn: F) -> F:
    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default="xlsx",
                show_default=True,
                help="xlsx: Excel/WPS workbook; csv: UTF-8 with BOM.",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="The file to write (default: the table's name and today's date, "
                "e.g. 客户分级表-2026-12-05.xlsx).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


_STAGE_OPTION = click.option(
    "--stage",
    callback=_stage,
    default=None,
    help="Only this lifecycle stage: 潜在/新/成长/成熟/衰退/流失 or prospect/new/growing/"
    "mature/declining/churned.",
)
_GRADE_OPTION = click.option(
    "--grade", callback=_grade, default=None, help="Only this grade: A, B or C."
)
_OWNER_OPTION = click.option(
    "--owner",
    default=None,
    help="Only the customers of this staff member (their name), or 未分配/none for nobody's.",
)


@click.group("export")
def export_group() -> None:
    """导出 / the seeds' tables as XLSX or CSV files for Excel and WPS (masked)."""


@contextmanager
def _progress(total: int, en: bool) -> Iterator[Callable[[int], None] | None]:
    """A bar over the rows, only for a person watching a terminal."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with click.progressbar(
        length=total, label="exporting" if en else "导出中", file=sys.stderr
    ) as bar:
        yield bar.update


async def _export(
    settings: Settings,
    kind: str,
    fmt: str,
    output: Path | None,
    *,
    stage: str | None = None,
    grade: str | None = None,
    owner: str | None = None,
    period: ReportPeriod | None = None,
) -> tuple[Path, int]:
    en = settings.locale == EN
    day = today(settings.tz)
    async with open_database(settings) as db, db.uow() as uow:
        found = None
        if owner is not None:
            try:
                found = await find_owner(uow.session, owner)
            except OwnerNotFound as missing:
                known = "、".join(missing.known) or "-"
                raise click.BadParameter(
                    f"没有名为“{missing.name}”的员工，可选：{known}，或 未分配"
                    f" / no staff member called “{missing.name}”",
                    param_hint="'--owner'",
                ) from None
        filters = ExportFilters(stage=stage, grade=grade, owner=found)
        table = await build_export(uow.session, kind, ExportEnv(settings, day), filters, period)
        path = output or Path(default_file_name(table, day, fmt, filters, settings.locale))
        partial = path.with_name(f".{path.name}.part")
        try:
            with partial.open("wb") as out, _progress(table.total, en) as progress:
                rows = await write_export(table, out, fmt, progress)
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            reason = exc.strerror or str(exc)
            raise click.ClickException(
                f"无法写入 {path}：{reason} / cannot write {path}: {reason}"
            ) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return path, rows


def _done(path: Path, rows: int) -> None:
    if _en():
        click.echo(f"exported {rows:,} rows to {path}")
    else:
        click.echo(f"已导出 {rows:,} 行：{path}")


@export_group.command("grades")
@_file_options
@_GRADE_OPTION
@_OWNER_OPTION
def grades_cmd(fmt: str, output: Path | None, grade: str | None, owner: str | None) -> None:
    """客户分级表 (seed 002): 客户名称, 联系方式, 购买频率, 单次消费金额, 客户生命周期价值, 等级,
    备注 (the score and why), from the latest grading."""
    _done(*run(_export, get_settings(), "grades", fmt, output, grade=grade, owner=owner))


@export_group.command("lifecycle")
@_file_options
@_STAGE_OPTION
@_GRADE_OPTION
@_OWNER_OPTION
def lifecycle_cmd(
    fmt: str, output: Path | None, stage: str | None, grade: str | None, owner: str | None
) -> None:
    """客户生命周期跟踪表 (seed 004): one row per customer — stage and since when, history,
    orders, activity, strategy, owner, follow-ups."""
    _done(
        *run(
            _export,
            get_settings(),
            "lifecycle",
            fmt,
            output,
            stage=stage,
            grade=grade,
            owner=owner,
        )
    )


@export_group.command("referral")
@_file_options
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge customer types on this local date (YYYY-MM-DD, default today).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Count invitations from this local date on (YYYY-MM-DD, default all history).",
)
def referral_cmd(
    fmt: str, output: Path | None, as_of: datetime | None, since: datetime | None
) -> None:
    """客户裂变管理表 (seed 000 §6): per customer type — goal, incentive, channels,
    participants, success rate, feedback; the numbers of `fission report referral`."""
    settings = get_settings()
    period = report_period(settings, as_of, since)
    _done(*run(_export, settings, "referral", fmt, output, period=period))


@export_group.command("invitations")
@_file_options
def invitations_cmd(fmt: str, output: Path | None) -> None:
    """邀请记录: one row per invitation — inviter, invitee (masked), code, channel, status,
    reason, reward, time."""
    _done(*run(_export, get_settings(), "invitations", fmt, output))
