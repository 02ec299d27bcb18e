"""Opening a CSV the way people produce them: Excel's GBK, UTF-8 with or without a BOM
(and, through `open_source`, an Excel workbook itself: workbook.py).

The file is streamed, never loaded whole: `detect_encoding` reads it once in 1 MiB chunks
(an incremental UTF-8 decoder, stopping at the first invalid byte), and `CsvSource` hands out
rows one by one with the line on which each record starts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from models.importing.messages import UnusableInput
from models.importing.workbook import OLE_MAGIC, ZIP_MAGIC, XlsxSource

ENCODINGS = ("auto", "utf-8", "gbk")
_CHUNK = 1 << 20
# GB18030 is a superset of GBK: it also reads the rarer characters Excel sometimes writes.
_GBK_FAMILY = "gb18030"


def detect_encoding(path: Path) -> str:
    """BOM → utf-8-sig; valid UTF-8 throughout → utf-8; anything else → GB18030 (⊇ GBK)."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UnusableInput("utf16")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _GBK_FAMILY
    return "utf-8"


def resolve_encoding(path: Path, requested: str) -> str:
    requested = requested.lower().replace("_", "-")
    if requested == "auto":
        return detect_encoding(path)
    if requested in ("utf-8", "utf8", "utf-8-sig"):
        # utf-8-sig reads files without a BOM too, and drops the BOM when there is one.
        return "utf-8-sig"
    if requested in ("gbk", "gb2312", "gb18030"):
        return _GBK_FAMILY
    raise UnusableInput("unknown_encoding", encoding=requested)


class CsvSource:
    """An open CSV file: its encoding, header cells, and `(line, cells)` for every record."""

    def __init__(self, path: Path, encoding: str) -> None:
        if not path.exists():
            raise UnusableInput("file_missing", path=str(path))
        if not path.is_file():
            raise UnusableInput("not_a_file", path=str(path))
        self.path = path
        self.encoding = resolve_encoding(path, encoding)
        self._raw: BinaryIO = path.open("rb")
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text)
        self._lines_read = 0
        try:
            self.header = self._first_record()
        except BaseException:
            self.close()
            raise

    def _first_record(self) -> list[str]:
        for _line, cells in self.rows():
            if any(cell.strip() for cell in cells):
                return cells
        raise UnusableInput("empty_file", path=str(self.path))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Records after the header, skipping blank lines (Excel leaves them at the end).
        Also reads the header itself, in `__init__`, before any data row is asked for."""
        reader = self._reader
        try:
            for cells in reader:
                start = self._lines_read + 1
                self._lines_read = reader.line_num
                if cells and any(cells):
                    yield start, cells
        except UnicodeDecodeError as exc:
            raise UnusableInput(
                "undecodable", encoding=self.encoding, line=self._lines_read + 1
            ) from exc
        except csv.Error as exc:
            raise UnusableInput("bad_csv", line=self._lines_read + 1, error=str(exc)) from exc

    def bytes_read(self) -> int:
        """How far into the file the reader is (it reads ahead in chunks; close enough)."""
        return self._raw.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_source(path: Path, encoding: str) -> CsvSource | XlsxSource:
    """A CSV file or an Excel workbook, told apart by their first bytes rather than by the
    file's name (a workbook saved as `客户.csv` is still a workbook). `encoding` applies to
    CSV only."""
    head = b""
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(len(OLE_MAGIC))
    if head.startswith(OLE_MAGIC):
        raise UnusableInput("xls_workbook", path=str(path))
    if head.startswith(ZIP_MAGIC):
        return XlsxSource(path)
    return CsvSource(path, encoding)  # which names a missing file or a folder
