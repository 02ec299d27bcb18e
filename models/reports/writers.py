"""Sheets to CSV and XLSX files, row by row: the one writer of each format that every report and
export goes through (`fission report`, `fission export`, the chat `/export`).

- CSV is UTF-8 with a byte-order mark: without it Excel on Windows reads Chinese as mojibake.
  Numbers are plain (`1234.50` yuan, `12`) so a spreadsheet reads them as numbers; percentages
  read `12.5%`, dates `2024-06-30`.
- XLSX is openpyxl's write-only workbook: every row goes to a temporary file as it is written,
  so memory stays flat however many rows come. Numbers stay numbers — money in yuan under a ¥
  format, percentages as fractions under a % format, dates as dates — so a shop can sum, sort
  and chart them. The header row is bold on a fill, frozen and filterable. Write-only sheets
  take their column widths before the first row, so widths are measured on the header and the
  first rows (`sample`).
- A table longer than a worksheet holds continues on another worksheet with the same header.
- Text is never taken for a formula: XLSX stores it as a string whatever it starts with, and a
  CSV cell starting with `=`, `+`, `-` or `@` gets a leading `'` (what Excel itself does for
  such text), so a customer named `=HYPERLINK(…)` stays a name.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.money import format_fen, plain_yuan
from models.reports.sheets import Cell, Column

Row = Sequence[Cell]
FORMATS = ("xlsx", "csv")
EMPTY = "—"
# Rows a worksheet holds (Excel 2007+), the header included.
XLSX_MAX_ROWS = 1_048_576
_XLSX_FORMATS = {
    "int": "0",
    "percent": "0.0%",
    "decimal": "0.00",
    "money": '"¥"#,##0.00',
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_XLSX_MAX_WIDTH = 60
_XLSX_MIN_WIDTH = 8
# Characters a sheet name may not hold in Excel.
_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center")


def _rounded(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def format_cell(value: Cell, column: Column) -> str:
    """A cell as people read it: 12.5% for percentages (half up), two decimals for ratios,
    ¥1,234.50 for money, dates as 2024-06-30, — for none."""
    if value is None:
        return EMPTY
    if isinstance(value, Fraction):
        if column.kind == "percent":
            return f"{_rounded(value * 100, '0.1')}%"
        return str(_rounded(value, "0.01"))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if column.kind == "money" and isinstance(value, int):
        return format_fen(value)
    return str(value)


def csv_cell(value: Cell, column: Column) -> str:
    """A cell as CSV text: blank for none, money as plain yuan, text guarded against formulas."""
    if value is None:
        return ""
    if column.kind == "money" and isinstance(value, int):
        return plain_yuan(value)
    text = format_cell(value, column)
    if column.kind == "text" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def display_width(text: str) -> int:
    """Terminal/spreadsheet columns a text takes: Chinese characters (East Asian Width W/F)
    take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class TableWriter(Protocol):
    """One file being written: `begin` a table, `write` its rows (any number of times), `end`
    it, and finally `close` the file."""

    def begin(self, title: str, columns: Sequence[Column], sample: Sequence[Row] = ()) -> None: ...

    def write(self, rows: Iterable[Row]) -> int: ...

    def end(self, note: str = "") -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """One table per file; the title and the note are not part of the data."""

    def __init__(self, out: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._columns: tuple[Column, ...] | None = None

    def begin(self, title: str, columns: Sequence[Column], sample: Sequence[Row] = ()) -> None:
        if self._columns is not None:
            raise ValueError("a CSV file holds one table")
        self._columns = tuple(columns)
        self._csv.writerow([c.header for c in columns])

    def write(self, rows: Iterable[Row]) -> int:
        columns = self._columns
        assert columns is not None, "begin() first"
        count = 0
        for row in rows:
            self._csv.writerow([csv_cell(v, c) for v, c in zip(row, columns, strict=True)])
            count += 1
        return count

    def end(self, note: str = "") -> None:
        return None

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns `out`


def _xlsx_value(value: Cell, column: Column) -> Any:
    if value is None:
        return None
    if isinstance(value, Fraction):
        return _rounded(value, "0.0001")
    if column.kind == "money" and isinstance(value, int):
        return Decimal(value).scaleb(-2)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # already local: Excel has no time zones
    return value


def _number_format(column: Column) -> str | None:
    if column.kind == "int" and column.unit:
        return f'0"{column.unit}"'
    return _XLSX_FORMATS.get(column.kind)


class XlsxWriter:
    """A write-only workbook saved to `out` on `close`."""

    def __init__(self, out: IO[bytes], *, max_rows: int = XLSX_MAX_ROWS) -> None:
        self._out = out
        self._book = Workbook(write_only=True)
        self._max_rows = max_rows
        self._titles: set[str] = set()
        self._sheet: Any = None
        self._title = ""
        self._columns: tuple[Column, ...] = ()
        self._formats: tuple[str | None, ...] = ()
        self._widths: tuple[float, ...] = ()
        self._rows = 0  # data rows on the current worksheet
        self._part = 1

    def begin(self, title: str, columns: Sequence[Column], sample: Sequence[Row] = ()) -> None:
        self._title = title
        self._columns = tuple(columns)
        self._formats = tuple(_number_format(c) for c in columns)
        self._widths = tuple(
            min(
                max(
                    _XLSX_MIN_WIDTH,
                    *(display_width(format_cell(row[i], c)) for row in sample),
                    display_width(c.header),
                )
                + 2,
                _XLSX_MAX_WIDTH,
            )
            for i, c in enumerate(columns)
        )
        self._part = 1
        self._new_sheet()

    def _sheet_name(self) -> str:
        base = self._title.translate(_BAD_SHEET_CHARS) or "Sheet"
        suffix = f" ({self._part})" if self._part > 1 else ""
        name = base[: 31 - len(suffix)] + suffix
        while name in self._titles:  # two tables with the same title
            self._part += 1
            suffix = f" ({self._part})"
            name = base[: 31 - len(suffix)] + suffix
        self._titles.add(name)
        return name

    def _new_sheet(self) -> None:
        ws = self._book.create_sheet(self._sheet_name())
        for index, width in enumerate(self._widths, 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        header = []
        for column in self._columns:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
            header.append(cell)
        ws.append(header)
        self._sheet, self._rows = ws, 0

    def _cell(self, value: Cell, column: Column, number_format: str | None) -> Any:
        converted = _xlsx_value(value, column)
        if isinstance(converted, str):
            if not converted.startswith("="):
                return converted
            cell = WriteOnlyCell(self._sheet, value=converted)
            cell.data_type = "s"  # text, never a formula
            return cell
        if number_format is None or converted is None:
            return converted
        cell = WriteOnlyCell(self._sheet, value=converted)
        cell.number_format = number_format
        return cell

    def write(self, rows: Iterable[Row]) -> int:
        assert self._sheet is not None, "begin() first"
        count = 0
        columns, formats = self._columns, self._formats
        for row in rows:
            if self._rows >= self._max_rows - 1:
                self._filter()
                self._part += 1
                self._new_sheet()
            self._sheet.append(
                [self._cell(v, c, f) for v, c, f in zip(row, columns, formats, strict=True)]
            )
            self._rows += 1
            count += 1
        return count

    def _filter(self) -> None:
        last = get_column_letter(max(len(self._columns), 1))
        self._sheet.auto_filter.ref = f"A1:{last}{self._rows + 1}"

    def end(self, note: str = "") -> None:
        self._filter()
        if note:
            self._sheet.append([])
            cell = WriteOnlyCell(self._sheet, value=note)
            cell.font = Font(italic=True)
            self._sheet.append([cell])
        self._sheet = None

    def close(self) -> None:
        if not self._book.worksheets:
            self._book.create_sheet("Sheet")
        self._book.save(self._out)


def open_writer(fmt: str, out: IO[bytes]) -> TableWriter:
    if fmt == "xlsx":
        return XlsxWriter(out)
    if fmt == "csv":
        return CsvWriter(out)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


Progress = Callable[[int], None]


async def write_table(
    writer: TableWriter,
    title: str,
    columns: Sequence[Column],
    batches: AsyncIterable[Sequence[Row]],
    *,
    note: str = "",
    progress: Progress | None = None,
) -> int:
    """Stream `batches` of rows into one table of `writer`; returns the number of rows.

    Only one batch is held at a time. The first sizes the columns; each is written in a worker
    thread, so a large export does not stall the event loop it runs on (the bot's)."""
    written = 0
    began = False
    async for batch in batches:
        if not began:
            writer.begin(title, columns, batch)
            began = True
        written += await asyncio.to_thread(writer.write, batch)
        if progress is not None:
            progress(len(batch))
    if not began:
        writer.begin(title, columns)
    writer.end(note)
    return written
