"""Sheets to an aligned terminal table, CSV and XLSX.

- The terminal table measures Chinese characters as two columns wide (East Asian Width W/F),
  so columns line up under CJK headers.
- CSV is UTF-8 with a byte-order mark: without it Excel on Windows reads Chinese as mojibake.
- XLSX keeps numbers as numbers (percentages as fractions with a % format) so they can be summed
  and charted; headers are bold on a fill, the header row is frozen, widths fit the content.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.reports.sheets import Cell, Column, Sheet

EMPTY = "—"
_XLSX_FORMATS = {"int": "0", "percent": "0.0%", "decimal": "0.00"}
_XLSX_MAX_WIDTH = 60
# Characters a sheet name may not hold in Excel.
_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _rounded(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def format_cell(value: Cell, column: Column) -> str:
    """A cell as text: 12.5% for percentages (half up), two decimals for ratios, — for none."""
    if value is None:
        return EMPTY
    if isinstance(value, Fraction):
        if column.kind == "percent":
            return f"{_rounded(value * 100, '0.1')}%"
        return str(_rounded(value, "0.01"))
    return str(value)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def to_text(sheet: Sheet) -> str:
    """The sheet as an aligned table, numbers right-aligned, title above and note below."""
    header = [c.header for c in sheet.columns]
    body = [
        [format_cell(v, c) for v, c in zip(row, sheet.columns, strict=True)] for row in sheet.rows
    ]
    widths = [
        max(display_width(cell) for cell in column) for column in zip(header, *body, strict=True)
    ]
    numeric = [c.kind != "text" for c in sheet.columns]

    def line(cells: list[str]) -> str:
        padded = (_pad(t, w, r) for t, w, r in zip(cells, widths, numeric, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [sheet.title, line(header), rule, *(line(cells) for cells in body)]
    if sheet.note:
        lines.append(sheet.note)
    return "\n".join(lines) + "\n"


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with BOM; values formatted as in the terminal; the note is not part of the data."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(
            [
                "" if v is None else format_cell(v, c)
                for v, c in zip(row, sheet.columns, strict=True)
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_value(value: Cell, column: Column) -> str | int | float | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        return float(_rounded(value, "0.0001"))
    return value


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """One worksheet per sheet, in order; the note sits two rows under the data."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="305496")
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title.translate(_BAD_SHEET_CHARS)[:31])
        ws.append([c.header for c in sheet.columns])
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center")
        for row in sheet.rows:
            ws.append([_xlsx_value(v, c) for v, c in zip(row, sheet.columns, strict=True)])
        for index, column in enumerate(sheet.columns, 1):
            letter = get_column_letter(index)
            texts = [column.header] + [format_cell(row[index - 1], column) for row in sheet.rows]
            width = max(display_width(t) for t in texts) + 2
            ws.column_dimensions[letter].width = min(width, _XLSX_MAX_WIDTH)
            number_format = _XLSX_FORMATS.get(column.kind)
            if number_format:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
        ws.freeze_panes = "A2"
        if sheet.note:
            ws.cell(row=len(sheet.rows) + 3, column=1, value=sheet.note).font = Font(italic=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
