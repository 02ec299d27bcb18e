"""The dates a backfill computes: a first date, every day, week or month after it, a last date."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import Enum


class Step(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


STEPS = {step.value: step for step in Step}


def _months_after(start: date, months: int) -> date:
    """The same day `months` months after `start`, or that month's last day when it is shorter
    (31 January → 29 February → 31 March: each from `start`, not from the one before)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def date_series(first: date, last: date, step: Step) -> list[date]:
    """`first`, each `step` after it before `last`, and `last` (`first` <= `last`)."""
    dates: list[date] = []
    n = 0
    while True:
        if step is Step.MONTH:
            day = _months_after(first, n)
        else:
            day = first + timedelta(days=n * (7 if step is Step.WEEK else 1))
        if day >= last:
            return [*dates, last]
        dates.append(day)
        n += 1
