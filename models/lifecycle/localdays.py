"""Local dates of stored instants in SQL: `age = T - local date` and the date as text.

The rules themselves never need this (they compare against instants from windows.py); it only
turns "last order" into a local date, or "95 days ago", for the metrics a staff member reads.
Neither backend shares a time-zone database with Python (SQLite has none), so the zone's UTC
offsets are worked out here, in Python, as a short list of (from-instant, offset) changes, and
the SQL adds the offset that applied at each timestamp: exact for any `tzinfo`, daylight saving
included, and the same on SQLite and PostgreSQL. Asia/Shanghai has not changed offset since
1991, so its list ends there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, case, cast, func, literal_column, type_coerce
from sqlalchemy.sql.elements import ColumnElement

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
# SQLite's integer division truncates toward zero; shifting by this many days first makes it a
# floor for any timestamp after 1700.
_SHIFT_DAYS = 100_000


def _offset(moment: datetime, tz: tzinfo) -> int:
    delta = moment.astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@lru_cache(maxsize=64)
def offset_changes(tz: tzinfo, until: date) -> tuple[tuple[int, int], ...]:
    """`((from_epoch_second, offset_seconds), …)`, oldest first, from 1970 to `until`.

    The first entry applies to everything before the second one. Found by stepping a day at a
    time and bisecting each change to the second.
    """
    stop = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=2)
    changes = [(0, _offset(_EPOCH, tz))]
    moment = _EPOCH
    step = timedelta(days=1)
    while moment < stop:
        following = moment + step
        if _offset(following, tz) != changes[-1][1]:
            low, high = (
                int((moment - _EPOCH).total_seconds()),
                int((following - _EPOCH).total_seconds()),
            )
            while high - low > 1:
                middle = (low + high) // 2
                at_middle = _EPOCH + timedelta(seconds=middle)
                if _offset(at_middle, tz) == changes[-1][1]:
                    low = middle
                else:
                    high = middle
            changes.append((high, _offset(_EPOCH + timedelta(seconds=high), tz)))
        moment = following
    return tuple(changes)


def sql_int(value: int) -> ColumnElement[int]:
    """An integer constant written into the SQL (not a bind parameter), typed as an integer so
    `//` renders as the backends' integer division."""
    return type_coerce(literal_column(str(int(value))), BigInteger)


def _epoch_seconds(column: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def _local_seconds(
    column: ColumnElement[Any], as_of: date, tz: tzinfo, dialect: str
) -> ColumnElement[int]:
    """Seconds since the epoch of the wall-clock time in `tz` at `column`."""
    changes = offset_changes(tz, as_of)
    seconds = _epoch_seconds(column, dialect)
    offset: ColumnElement[int]
    if len(changes) == 1:
        offset = sql_int(changes[0][1])
    else:
        # Newest change first: almost every timestamp matches the first branch.
        offset = case(
            *[
                (seconds >= sql_int(start), sql_int(value))
                for start, value in reversed(changes[1:])
            ],
            else_=sql_int(changes[0][1]),
        )
    return seconds + offset


def _local_day_number(
    column: ColumnElement[Any], as_of: date, tz: tzinfo, dialect: str
) -> ColumnElement[int]:
    """Days from 1970-01-01 to the local date of `column`, plus `_SHIFT_DAYS`."""
    local = _local_seconds(column, as_of, tz, dialect)
    return (local + sql_int(_SHIFT_DAYS * 86400)) // sql_int(86400)


def age_days(
    column: ColumnElement[Any], as_of: date, tz: tzinfo, dialect: str
) -> ColumnElement[int]:
    """`as_of - (local date of column)` in whole days, as an SQL expression."""
    as_of_day = (as_of - _EPOCH_DAY).days
    return sql_int(as_of_day + _SHIFT_DAYS) - _local_day_number(column, as_of, tz, dialect)


def local_date_text(
    column: ColumnElement[Any], as_of: date, tz: tzinfo, dialect: str
) -> ColumnElement[str]:
    """The local date of `column` in `tz` as `YYYY-MM-DD` text (for a stored receipt: unlike a
    day count, it does not change from one day's run to the next). `as_of` bounds the list of
    offset changes worked out."""
    local = _local_seconds(column, as_of, tz, dialect)
    if dialect == "sqlite":
        return func.date(local, "unixepoch")
    day = _local_day_number(column, as_of, tz, dialect) - sql_int(_SHIFT_DAYS)
    epoch: ColumnElement[Any] = literal_column("DATE '1970-01-01'")
    return func.to_char(epoch + cast(day, Integer), "YYYY-MM-DD")
