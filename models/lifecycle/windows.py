"""The reference date T turned into UTC instants, once, so every rule is a plain range check.

`age = T - D` counts whole local days (0 = T itself). "age <= k" means "at or after the start
of local day T - k"; "age >= k" means "before the start of local day T - k + 1". Working out
these instants in Python (models/clock.py) keeps the SQL free of per-row time-zone conversion and
identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from fractions import Fraction

from config.rules import GradingRules, LifecycleRules
from models.clock import day_start


def age_boundary(as_of: date, days: int, tz: tzinfo) -> datetime:
    """The start of local day `as_of - days`: instants at or after it have `age <= days`,
    instants before it have `age > days`."""
    return day_start(as_of - timedelta(days=days), tz)


def exact(value: float) -> Fraction:
    """A configured ratio as an exact fraction (`0.3` → 3/10), so a threshold compares in
    integers: `last <= 0.5 * previous` becomes `last * 2 <= 1 * previous`. Float products such
    as `0.7 * 10 = 7.000000000000001` would otherwise move a boundary by one event."""
    return Fraction(str(value))


@dataclass(frozen=True)
class Windows:
    """Every instant the rules compare against, for one reference date."""

    as_of: date
    end: datetime  # start of T + 1: orders and events at or after this are ignored
    recent_start: datetime  # age 0 .. w-1 ("last 30 days")
    previous_start: datetime  # age w .. 2w-1 ("the 30 days before")
    earliest_start: datetime  # age 2w .. 3w-1 ("the 30 days before that")
    views_start: datetime  # qualifying views counted at or after this
    declining_before: datetime  # last order before this: age(last) >= declining_after_days
    churned_before: datetime  # last order before this: age(last) > churned_after_days
    new_since: datetime  # first order at or after this: age(first) <= new_within_days
    year_start: datetime  # grading frequency window (age 0 .. frequency_window_days-1)

    @classmethod
    def build(
        cls, as_of: date, tz: tzinfo, rules: LifecycleRules, grading: GradingRules
    ) -> Windows:
        w = rules.window_days
        return cls(
            as_of=as_of,
            end=day_start(as_of + timedelta(days=1), tz),
            recent_start=age_boundary(as_of, w - 1, tz),
            previous_start=age_boundary(as_of, 2 * w - 1, tz),
            earliest_start=age_boundary(as_of, 3 * w - 1, tz),
            views_start=age_boundary(as_of, rules.qualified_window_days - 1, tz),
            declining_before=age_boundary(as_of, rules.declining_after_days - 1, tz),
            churned_before=age_boundary(as_of, rules.churned_after_days, tz),
            new_since=age_boundary(as_of, rules.new_within_days, tz),
            year_start=age_boundary(as_of, grading.frequency_window_days - 1, tz),
        )

    @property
    def events_start(self) -> datetime:
        """The earliest instant a windowed event signal looks at."""
        return min(self.previous_start, self.views_start)
