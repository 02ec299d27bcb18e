"""Sheets to an aligned terminal table, CSV and XLSX.

The terminal table measures Chinese characters as two columns wide (East Asian Width W/F), so
columns line up under CJK headers. CSV and XLSX go through the shared writers
(models/reports/writers.py), the same ones `fission export` streams into.
"""

from __future__ import annotations

import io

from models.reports.sheets import Sheet
from models.reports.writers import CsvWriter, TableWriter, XlsxWriter, display_width, format_cell

__all__ = ["display_width", "format_cell", "to_csv", "to_text", "to_xlsx"]


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


def _write(writer: TableWriter, sheets: list[Sheet]) -> None:
    for sheet in sheets:
        writer.begin(sheet.title, sheet.columns, sheet.rows)
        writer.write(sheet.rows)
        writer.end(sheet.note)
    writer.close()


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with BOM; the note is not part of the data."""
    out = io.BytesIO()
    _write(CsvWriter(out), [sheet])
    return out.getvalue()


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """One worksheet per sheet, in order; the note sits two rows under the data."""
    out = io.BytesIO()
    _write(XlsxWriter(out), sheets)
    return out.getvalue()
