"""Row validation for one file: width, per-cell parsing, duplicates; rejects are collected.

Plain Python on purpose: it is the hot loop of a million-row import, so it avoids per-row
objects beyond the staged tuple and hands records out in chunks.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from datetime import tzinfo
from operator import itemgetter
from typing import Any

from models.importing.kinds import ImportKind
from models.importing.messages import RowError, render
from models.importing.reader import Header
from models.importing.rejects import RejectedRow


class RowChecker:
    def __init__(self, spec: ImportKind, header: Header, tz: tzinfo, locale: str) -> None:
        self.spec = spec
        self.header = header
        self.locale = locale
        self.parse = spec.make_parser(tz)
        self.rejects: list[RejectedRow] = []
        self.rows = 0
        # The first accepted line of every key, to name it when a duplicate turns up.
        self._seen: dict[Hashable, int] = {}

    def chunks(
        self, records: Iterator[tuple[int, list[str]]], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Accepted records, `size` at a time (the last chunk may be shorter or empty)."""
        positions = self.header.positions
        width = len(self.header.original)
        all_present = min(positions) >= 0
        pick = itemgetter(*positions)
        strip = str.strip
        parse = self.parse
        seen = self._seen
        reject = self._reject
        chunk: list[tuple[Any, ...]] = []
        append = chunk.append
        for line, cells in records:
            self.rows += 1
            count = len(cells)
            if count == width and all_present:
                # The common row: every column there, nothing extra. `map` strips in C.
                values = list(map(strip, pick(cells)))
            elif count > width and any(cell.strip() for cell in cells[width:]):
                reject(line, RowError("extra_fields", got=count, expected=width), cells)
                continue
            elif count >= width and all_present:
                values = list(map(strip, pick(cells)))
            else:
                values = [cells[p].strip() if 0 <= p < count else "" for p in positions]
            try:
                key, shown, record = parse(values)
            except RowError as problem:
                reject(line, problem, cells)
                continue
            first = seen.setdefault(key, line)
            if first != line:
                duplicate = RowError(
                    "duplicate", first=first, field=self.spec.key_field, value=shown
                )
                reject(line, duplicate, cells)
                continue
            append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
                append = chunk.append
        yield chunk

    def _reject(self, line: int, problem: RowError, cells: list[str]) -> None:
        reason = render(problem.key, self.locale, problem.params)
        self.rejects.append(RejectedRow(line, reason, cells))
