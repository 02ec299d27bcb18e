"""`fission report …`: the referral management table, funnel, leaderboard and fission tree.

Tables print to the terminal; `--format csv` writes UTF-8 with BOM (to stdout or `-o FILE`);
`--format xlsx` needs `-o FILE`. Personal data is masked in every format.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import get_settings, open_database, run
from config import Settings
from handlers.customer_card_text import render_match_list
from models.clock import today
from models.customer_card import find_customers
from models.reports import (
    ReportPeriod,
    Sheet,
    fission_tree,
    funnel_sheet,
    inviters_sheet,
    referral_funnel,
    referral_table,
    referral_table_sheet,
    render_tree_text,
    to_csv,
    to_text,
    to_xlsx,
    top_inviters,
)
from models.reports.tree import DEFAULT_DEPTH, MAX_DEPTH

EXIT_NOT_FOUND = 1
FORMATS = ("table", "csv", "xlsx")
TOP_IN_WORKBOOK = 50

F = TypeVar("F", bound=Callable[..., object])
SheetsBuilder = Callable[[AsyncSession, Settings, ReportPeriod], Awaitable[list[Sheet]]]


def _period_options(fn: F) -> F:
    """Options every tabular report shares: the period, the format and the output file."""
    date_type = click.DateTime(formats=["%Y-%m-%d"])
    for option in reversed(
        [
            click.option(
                "--as-of",
                type=date_type,
                default=None,
                help="Judge customer types on this local date; count nothing after it "
                "(YYYY-MM-DD, default today).",
            ),
            click.option(
                "--since",
                type=date_type,
                default=None,
                help="Count invitations, clicks and codes from this local date on "
                "(YYYY-MM-DD, default all history).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default="table",
                show_default=True,
                help="table: terminal; csv: UTF-8 with BOM for Excel; xlsx: needs -o.",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, writable=True, path_type=Path),
                default=None,
                help="Write to this file instead of the terminal.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


@click.group("report")
def report_group() -> None:
    """报表 / referral reports computed from data."""


def report_period(
    settings: Settings, as_of: datetime | None, since: datetime | None
) -> ReportPeriod:
    day: date = as_of.date() if as_of else today(settings.tz)
    start = since.date() if since else None
    if start is not None and start > day:
        raise click.UsageError(
            f"--since {start} 晚于 --as-of {day}（开始日期不能晚于统计日期）"
            f" / --since must not be after --as-of",
            click.get_current_context(),
        )
    return ReportPeriod(as_of=day, tz=settings.tz, since=start)


def _check_output(fmt: str, output: Path | None) -> None:
    if fmt == "xlsx" and output is None:
        raise click.UsageError(
            "XLSX 是二进制文件，请用 -o 指定文件名，例如 -o 裂变报表.xlsx"
            " / xlsx needs an output file: -o FILE"
        )


def _emit(sheets: list[Sheet], fmt: str, output: Path | None) -> None:
    if fmt == "table":
        payload = "\n".join(to_text(sheet) for sheet in sheets).encode("utf-8")
    elif fmt == "csv":
        payload = to_csv(sheets[0])
    else:
        payload = to_xlsx(sheets)
    if output is None:
        if fmt == "table":
            click.echo(payload.decode("utf-8"), nl=False)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(payload)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"无法写入 {output}：{reason} / cannot write {output}") from exc
    click.echo(f"已写入 {output} / written: {output}", err=True)


def _report(
    builder: SheetsBuilder,
    as_of: datetime | None,
    since: datetime | None,
    fmt: str,
    output: Path | None,
) -> None:
    settings = get_settings()
    period = report_period(settings, as_of, since)
    _check_output(fmt, output)

    async def build() -> list[Sheet]:
        async with open_database(settings) as db, db.uow() as uow:
            return await builder(uow.session, settings, period)

    _emit(run(build), fmt, output)


async def _referral_sheets(
    session: AsyncSession, settings: Settings, period: ReportPeriod, *, workbook: bool
) -> list[Sheet]:
    rules, locale = settings.reports, settings.locale
    table = await referral_table(session, period=period, rules=rules, locale=locale)
    sheets = [referral_table_sheet(table, locale)]
    if workbook:
        funnel = await referral_funnel(session, period=period, rules=rules, locale=locale)
        top = await top_inviters(session, period=period, limit=TOP_IN_WORKBOOK)
        sheets += [funnel_sheet(funnel, locale), inviters_sheet(top, period, locale)]
    return sheets


@report_group.command("referral")
@_period_options
def referral_cmd(
    as_of: datetime | None, since: datetime | None, fmt: str, output: Path | None
) -> None:
    """客户裂变管理表格: per customer type — goal, incentive, channels, participants,
    invitations, conversions, success rate, feedback. The XLSX adds the funnel and the top
    inviters as further sheets."""

    async def build(session: AsyncSession, settings: Settings, period: ReportPeriod) -> list[Sheet]:
        return await _referral_sheets(session, settings, period, workbook=fmt == "xlsx")

    _report(build, as_of, since, fmt, output)


@report_group.command("funnel")
@_period_options
@click.option(
    "--by",
    "dimension",
    type=click.Choice(["program", "channel", "segment", "all"]),
    default="all",
    show_default=True,
    help="Which breakdown to show.",
)
def funnel_cmd(
    as_of: datetime | None,
    since: datetime | None,
    fmt: str,
    output: Path | None,
    dimension: str,
) -> None:
    """裂变漏斗: clicks → joins → conversions → rewarded, with the K-factor, per program,
    channel and customer type."""

    async def build(session: AsyncSession, settings: Settings, period: ReportPeriod) -> list[Sheet]:
        report = await referral_funnel(
            session, period=period, rules=settings.reports, locale=settings.locale
        )
        chosen = None if dimension == "all" else dimension
        return [funnel_sheet(report, settings.locale, chosen)]

    _report(build, as_of, since, fmt, output)


@report_group.command("top")
@_period_options
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="How many."
)
def top_cmd(
    as_of: datetime | None, since: datetime | None, fmt: str, output: Path | None, limit: int
) -> None:
    """邀请排行: inviters by conversions (names and phone numbers masked)."""

    async def build(session: AsyncSession, settings: Settings, period: ReportPeriod) -> list[Sheet]:
        rows = await top_inviters(session, period=period, limit=limit)
        return [inviters_sheet(rows, period, settings.locale)]

    _report(build, as_of, since, fmt, output)


@report_group.command("tree")
@click.argument("customer")
@click.option(
    "--depth",
    type=click.IntRange(1, MAX_DEPTH),
    default=DEFAULT_DEPTH,
    show_default=True,
    help="How many levels below the customer.",
)
def tree_cmd(customer: str, depth: int) -> None:
    """裂变树: whom CUSTOMER brought, whom those brought. CUSTOMER: external id, exact phone
    number, or part of a name."""
    settings = get_settings()
    text, found = run(_tree, settings, customer, depth)
    click.echo(text)
    if not found:
        raise click.exceptions.Exit(EXIT_NOT_FOUND)


async def _tree(settings: Settings, query: str, depth: int) -> tuple[str, bool]:
    async with open_database(settings) as db:
        matches = await find_customers(db, query, limit=11)
        if len(matches) == 1:
            async with db.uow() as uow:
                tree = await fission_tree(
                    uow.session, matches[0].customer_id, tz=settings.tz, depth=depth
                )
            return render_tree_text(tree, settings.locale), True
    text = render_match_list(
        matches[:10],
        query.strip(),
        rerun_command="fission report tree",
        more=len(matches) > 10,
        locale=settings.locale,
    )
    return text, bool(matches)
