"""Row validation for one file: width, per-cell parsing, duplicates; rejects are collected.

Plain Python on purpose: it is the hot loop of a million-row import, so it avoids per-row
objects beyond the staged tuple and hands records out in chunks. Each row's cells are first
normalised here — picked in canonical order, stripped, and checked for characters no text
column can store (NUL, a lone surrogate) — before the kind's parser reads them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from operator import itemgetter
from typing import Any

from models.importing.headers import Header
from models.importing.kinds import ImportKind, RowContext
from models.importing.messages import RowError, render
from models.importing.rejects import RejectedRow
from models.importing.values import UNSTORABLE, check_storable


class RowChecker:
    def __init__(self, spec: ImportKind, header: Header, context: RowContext, locale: str) -> None:
        self.spec = spec
        self.header = header
        self.locale = locale
        self.parse = spec.make_parser(context)
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
        # A column the file lacks is read from a "" after the row's last cell: appended to a
        # row of exactly the header's width (the rejects file cuts rows to that width), found
        # in a longer row whose extra cells are blank.
        padded = min(positions) < 0
        pick = itemgetter(*(p if p >= 0 else width for p in positions))
        strip = str.strip
        parse = self.parse
        seen = self._seen
        reject = self._reject
        join = "".join
        unstorable = UNSTORABLE.search
        chunk: list[tuple[Any, ...]] = []
        append = chunk.append
        for line, cells in records:
            self.rows += 1
            count = len(cells)
            if count == width:
                # The common row: every cell there, nothing extra. `map` strips in C.
                if padded:
                    cells.append("")
                values = list(map(strip, pick(cells)))
            elif count < width:
                values = [cells[p].strip() if 0 <= p < count else "" for p in positions]
            elif any(cell.strip() for cell in cells[width:]):
                reject(line, [RowError("extra_fields", got=count, expected=width)], cells)
                continue
            else:
                values = list(map(strip, pick(cells)))
            # Nearly every row is ASCII without a NUL: two C-level scans of the joined cells.
            joined = join(values)
            if "\x00" in joined or (not joined.isascii() and unstorable(joined)):
                reject(line, self._unstorable(values), cells)
                continue
            try:
                key, shown, record = parse(values)
            except RowError as problem:
                reject(line, self._every_problem(values, problem), cells)
                continue
            first = seen.setdefault(key, line)
            if first != line:
                duplicate = RowError(
                    "duplicate", first=first, field=self.spec.key_field, value=shown
                )
                reject(line, [duplicate], cells)
                continue
            append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
                append = chunk.append
        yield chunk

    def line_of(self, key: Hashable) -> int:
        """The line of the accepted row with this key (0: none)."""
        return self._seen.get(key, 0)

    def _every_problem(self, values: list[str], first: RowError) -> list[RowError]:
        """`first` and the row's other problems, in column order.

        The parser stops at a row's first problem; this slow path, taken only for rejected
        rows, puts a stand-in that passes into the column at fault and parses again, until the
        row parses or a problem names no column it can stand in for. Each round replaces
        another column, so it ends within one round per column."""
        columns = self.spec.columns
        stand_ins = self.spec.stand_ins
        problems = [first]
        trial = list(values)
        problem = first
        while True:
            column = column_of(problem)
            if column not in stand_ins:
                break
            at = columns.index(column)
            if trial[at] == stand_ins[column]:
                break
            trial[at] = stand_ins[column]
            try:
                self.parse(trial)
            except RowError as found:
                problems.append(found)
                problem = found
                continue
            break
        return _in_column_order(problems, columns)

    def _unstorable(self, values: list[str]) -> list[RowError]:
        """Every cell of the row that cannot be stored, and the row's other problems (found
        with stand-ins in place of those cells, as `_every_problem` finds them)."""
        columns = self.spec.columns
        problems: list[RowError] = []
        trial = list(values)
        for at, value in enumerate(values):
            try:
                check_storable(value, columns[at])
            except RowError as problem:
                problems.append(problem)
                trial[at] = self.spec.stand_ins.get(columns[at], "")
        try:
            self.parse(trial)
        except RowError as found:
            problems += self._every_problem(trial, found)
        return _in_column_order(problems, columns)

    def _reject(self, line: int, problems: list[RowError], cells: list[str]) -> None:
        separator = "; " if self.locale == "en" else "；"
        reason = separator.join(render(p.key, self.locale, p.params) for p in problems)
        self.rejects.append(RejectedRow(line, reason, cells))


def _in_column_order(problems: list[RowError], columns: tuple[str, ...]) -> list[RowError]:
    order = {name: index for index, name in enumerate(columns)}
    return sorted(problems, key=lambda p: order.get(column_of(p) or "", len(order)))


# The column a row problem is about, where its parameters do not name it (`field`).
_COLUMN_OF_KEY = {
    "bad_amount": "amount",
    "bad_grouping": "amount",
    "negative_amount": "amount",
    "too_many_decimals": "amount",
    "amount_too_large": "amount",
    "bad_phone": "phone",
    "shared_phone": "phone",
    "missing_customer": "customer_external_id",
    "unpaid_order": "status",
    "detail_required": "detail",
}


def column_of(problem: RowError) -> str | None:
    field = problem.params.get("field")
    return str(field) if field is not None else _COLUMN_OF_KEY.get(problem.key)
