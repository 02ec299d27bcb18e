"""Importing straight from an Excel workbook (.xlsx), the file most spreadsheets are kept in.

`XlsxSource` hands out the first worksheet's rows exactly as `CsvSource` hands out a CSV's
records — `(row number, cells as text)`, header first, blank rows skipped — so validation,
rejects and the database work are the same code. The row number is the one Excel shows, so
"第 5 行" in a reason is row 5 of the sheet.

Cells hold typed values, turned into the text a person sees in Excel: numbers with at most 15
significant digits (Excel's own precision: 0.1 + 0.2 shows as 0.3, and is imported as 0.30
yuan, not refused for its binary tail), whole numbers without a decimal point (a phone number
typed as a number stays `13800000000`), dates as `YYYY-MM-DD` and date-times to the second.
The workbook is read in openpyxl's streaming mode, a row at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from models.importing.messages import UnusableInput

# The first bytes of a ZIP archive (every .xlsx) and of an OLE2 compound file (Excel 97–2003).
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCODING = "xlsx"  # what `ImportResult.encoding` says of a workbook


def cell_text(value: Any) -> str:
    """A cell's value as the text Excel shows for it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, datetime):
        # Excel keeps times as fractions of a day: 10:00 may come back as 09:59:59.999999.
        moment = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        if moment.time() == time(0, 0):
            return moment.date().isoformat()
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class XlsxSource:
    """The first worksheet of an .xlsx file: its header cells, and `(row, cells)` after it."""

    encoding = ENCODING

    def __init__(self, path: Path) -> None:
        self.path = path
        # An open file rather than the path: openpyxl refuses a path by its extension, and a
        # workbook saved under a .csv name is still a workbook.
        self._file = path.open("rb")
        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:  # whatever a damaged archive makes openpyxl raise
            self._file.close()
            raise UnusableInput("bad_workbook", path=str(path)) from exc
        try:
            sheet = self._book.worksheets[0]
            self._total = sheet.max_row or 0
            self._rows = self._records(sheet.iter_rows(min_row=1, values_only=True))
            self._size = path.stat().st_size
            self._read = 0
            self.header = self._first_record()
        except BaseException:
            self.close()
            raise

    def _records(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, values in enumerate(rows, start=1):
                self._read = number
                cells = [cell_text(value) for value in values]
                # Trailing empty cells: a sheet's used range is often wider than its header.
                while cells and not cells[-1].strip():
                    cells.pop()
                if cells and any(cell.strip() for cell in cells):
                    yield number, cells
        except Exception as exc:  # a sheet damaged part-way through
            raise UnusableInput("damaged_sheet", path=str(self.path), row=number + 1) from exc

    def _first_record(self) -> list[str]:
        for _row, cells in self._rows:
            return cells
        raise UnusableInput("empty_file", path=str(self.path))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Rows after the header, blank ones skipped, numbered as in Excel."""
        return self._rows

    def bytes_read(self) -> int:
        """The file size in proportion to the rows read (progress bars measure in bytes)."""
        if self._total <= 0:
            return 0
        return min(self._size, self._size * self._read // self._total)

    def close(self) -> None:
        self._book.close()
        self._file.close()
