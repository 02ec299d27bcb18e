"""Calendar days in the configured zone, as UTC instants the database can compare.

The lifecycle rules speak in local calendar days ("age 0 = today"). Converting each day
boundary to a UTC instant once, in Python, keeps the SQL portable (no per-row zone conversion)
and lets every window be a plain range check on an indexed timestamp column.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def day_start(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which local calendar day `day` begins."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def age_at_least(as_of: date, days: int, tz: tzinfo) -> datetime:
    """Instants strictly before this have `age > days - 1`, i.e. `age >= days`, at `as_of`."""
    return day_start(as_of - timedelta(days=days - 1), tz)


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def today(tz: tzinfo) -> date:
    return datetime.now(tz).date()
