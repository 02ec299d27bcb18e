"""`fission import customers|orders|events FILE`: the CLI face of `models.importing`.

Prints each rejected row (the first few; all of them are in the rejects file) on stderr and the
summary `导入 N 条，更新 M 条，拒绝 K 条` (`imported N, updated M, rejected K` in English) as the
last line on stdout. Exit status: 0 all rows taken, 3 some rows rejected, 2 the file is
unusable (or an option is), 1 the database refused the import (then nothing from the file was
stored). The columns each kind reads, and their Chinese names, are generated into the help
from the table the importer reads (`models.importing.columns_doc`).
"""

from __future__ import annotations

import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, get_settings, open_database, run
from bot.cli.progress import LateProgressBar
from config import Settings
from models.importing import IMPORT_KINDS, ImportResult, UnusableInput, import_csv
from models.importing.columns_doc import columns_help
from models.importing.messages import render

SHOWN_REJECTS = 20
# A file that imports within this many seconds gets no progress bar: it would only flicker.
PROGRESS_AFTER_S = 3.0

_INTRO = (
    "导入 CSV 或 Excel / import customers, orders or activity events from CSV or .xlsx.\n\n"
    "FILE is a CSV (UTF-8 with or without BOM, or GBK) or an Excel workbook (.xlsx: its first "
    "sheet; told apart by content, not by name). Bad rows are listed with their line (the Excel "
    "row) and every problem, and written next to FILE as NAME.rejects.csv (orders.csv → "
    "orders.rejects.csv, 订单.xlsx → 订单.xlsx.rejects.csv).\n\n"
    "表头可写英文列名或其后任一中文名；同一列有几个时用靠前的，并说明用了哪一列；别的表头用 "
    "--map 表头=列名。 / A header may be the English name or any name after it; with several "
    "for one column the first listed is read (and named); --map HEADER=COLUMN reads another."
)
_NOTES = {
    "customers": "导入客户 / import customers.",
    "orders": "导入订单 / import orders. Amounts in yuan, up to 2 decimals (1,299.00). "
    "Unknown customers are created with only their number. A row without a customer number "
    "names its buyer by phone: the one customer with that phone, or a new customer made from "
    "it (with the buyer's name); a phone two customers share is a rejected row.",
    "events": "导入行为事件 / import activity events. feature_use needs the feature name in "
    "detail. Unknown customers are created with only their number (prospects).",
}


@click.group(
    "import",
    help="\n\n".join([_INTRO, *(f"{kind}:\n\n{columns_help(kind)}" for kind in IMPORT_KINDS)]),
)
def import_group() -> None:
    pass


def _parse_map(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        header, sep, column = value.partition("=")
        if not sep or not header.strip() or not column.strip():
            raise click.BadParameter(
                f"“{value}” 应写成 表头=列名，如 实付金额=amount (write HEADER=COLUMN)"
            )
        mapping[header.strip()] = column.strip()
    return mapping


def _import_command(kind: str) -> click.Command:
    @click.command(kind, help=f"{_NOTES[kind]}\n\n{columns_help(kind)}")
    @click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
    @click.option(
        "--encoding",
        type=click.Choice(["auto", "utf-8", "gbk"], case_sensitive=False),
        default="auto",
        show_default=True,
        help="CSV encoding; auto: BOM → UTF-8, valid UTF-8, else GBK/GB18030 (ignored for .xlsx).",
    )
    @click.option(
        "--map",
        "mapping",
        multiple=True,
        metavar="HEADER=COLUMN",
        callback=_parse_map,
        help="Read the file's column HEADER as COLUMN (repeatable), e.g. --map 成交价=amount.",
    )
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Read and check the whole file, say what would be imported, updated and rejected "
        "(and write the rejects file); store nothing.",
    )
    def command(file: Path, encoding: str, mapping: dict[str, str], dry_run: bool) -> None:
        settings = get_settings()
        en = settings.locale == "en"
        size = file.stat().st_size if file.is_file() else 0
        label = "importing" if en else "导入中"
        try:
            # Over the file's bytes; shown only at a terminal, once the import has run a while.
            with closing(LateProgressBar(size, label, after=PROGRESS_AFTER_S)) as bar:
                options = _Options(encoding.lower(), mapping, dry_run)
                result = run(_import, settings, kind, file, options, bar)
        except UnusableInput as problem:
            click.echo(_error(problem.render(settings.locale), en), err=True)
            sys.exit(EXIT_USAGE)
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)  # the driver's own message, without the SQL
            reason = str(orig if orig is not None else exc)
            message = (
                f"import failed, nothing from {file} was stored: {reason}"
                if en
                else f"导入失败，{file} 中的数据一行都没有写入：{reason}"
            )
            raise click.ClickException(message) from exc
        _report(result, settings.locale)
        sys.exit(EXIT_PARTIAL if result.rejected else EXIT_OK)

    return command


@dataclass(frozen=True)
class _Options:
    encoding: str
    mapping: dict[str, str]
    dry_run: bool


async def _import(
    settings: Settings, kind: str, path: Path, options: _Options, bar: LateProgressBar
) -> ImportResult:
    async with open_database(settings) as db:
        return await import_csv(
            db,
            kind,
            path,
            encoding=options.encoding,
            tz=settings.tz,
            locale=settings.locale,
            progress=bar.update,
            mapping=options.mapping,
            dry_run=options.dry_run,
        )


def _error(message: str, en: bool) -> str:
    return f"error: {message}" if en else f"错误：{message}"


_TEXT = {
    "zh-CN": {
        "no_rows": "提示：文件只有表头，没有数据行",
        "line": "第 {line} 行：{reason}",
        "rejects": "被拒绝的行{more}已写入 {path}",
        "more": "（另有 {n} 行未显示）",
        "bare": "新建了 {n} 个只有客户编号的客户记录（待补充资料）",
        "bare_dry": "将新建 {n} 个只有客户编号的客户记录（待补充资料）",
        "phone": "按手机号：{matched} 条订单对应到已有客户；新建了 {created} 个客户",
        "phone_dry": "按手机号：{matched} 条订单对应到已有客户；将新建 {created} 个客户",
        "summary": "导入 {0} 条，更新 {1} 条，拒绝 {2} 条",
        "summary_dry": "预演，未写入任何数据：将导入 {0} 条，更新 {1} 条，拒绝 {2} 条",
        "unused": "、",
    },
    "en": {
        "no_rows": "the file has a header but no data rows",
        "line": "line {line}: {reason}",
        "rejects": "rejected rows{more} written to {path}",
        "more": " ({n} more)",
        "bare": "created {n} customers known only by their number",
        "bare_dry": "would create {n} customers known only by their number",
        "phone": "by phone: {matched} orders matched a stored customer; {created} customers "
        "created",
        "phone_dry": "by phone: {matched} orders matched a stored customer; {created} customers "
        "would be created",
        "summary": "imported {0}, updated {1}, rejected {2}",
        "summary_dry": "dry run, nothing stored: would import {0}, update {1}, reject {2}",
        "unused": ", ",
    },
}


def _report(result: ImportResult, locale: str) -> None:
    text = _TEXT["en" if locale == "en" else "zh-CN"]
    dry = "_dry" if result.dry_run else ""

    def say(line: str) -> None:
        click.echo(line, err=True)

    for choice in result.choices:
        unused = text["unused"].join(f"「{name}」" for name in choice.unused)
        say(
            render(
                "column_chosen",
                locale,
                {"field": choice.column, "used": choice.used, "unused": unused},
            )
        )
    if result.rows == 0:
        say(text["no_rows"])
    for row in result.rejects[:SHOWN_REJECTS]:
        say(text["line"].format(line=row.line, reason=row.reason))
    if result.rejects_path is not None:
        more = result.rejected - SHOWN_REJECTS
        tail = text["more"].format(n=more) if more > 0 else ""
        say(text["rejects"].format(more=tail, path=result.rejects_path))
    if result.bare_customers:
        say(text["bare" + dry].format(n=result.bare_customers))
    if result.phone_matched or result.phone_customers:
        matched, created = result.phone_matched, result.phone_customers
        say(text["phone" + dry].format(matched=matched, created=created))
    click.echo(text["summary" + dry].format(result.imported, result.updated, result.rejected))


for _kind in IMPORT_KINDS:
    import_group.add_command(_import_command(_kind))
