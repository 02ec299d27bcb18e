"""Dates as people type them in chat, read relative to today in the configured time zone.

Accepted: `2024-06-05`, `2024/6/5`, `2024.6.5`, `6-5`, `6/5`, `6月5日`/`6月5号`, `2024年6月5日`,
`今天` `明天` `后天` `大后天`, `3天后`, `+3`/`+3d`, `下周`, `周五`/`星期五`/`下周五`/`下周一`,
`today`, `tomorrow`, `in 3 days`, `next week`. A date without a year is the next such day on or
after today. `下周X` is that weekday of next week (Monday-based); a bare `周X` is the next such
weekday after today.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_FULL = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_DAYS_LATER = re.compile(
    r"^(\d{1,3})\s*天[以之]?后$|^\+(\d{1,3})d?$|^in\s+(\d{1,3})\s+days?$", re.IGNORECASE
)
_WEEKDAY = re.compile(r"^(下)?(?:周|星期|礼拜)([一二三四五六日天])$")
_RELATIVE = {
    "今天": 0,
    "today": 0,
    "明天": 1,
    "明日": 1,
    "tomorrow": 1,
    "后天": 2,
    "大后天": 3,
    "下周": 7,
    "next week": 7,
}


class DateError(ValueError):
    """Looks like a date but is not one (e.g. `2月30日`)."""


def parse_day(token: str, today: date) -> date | None:
    """The date `token` means, None when it is not a date at all; `DateError` when it names a
    day that does not exist."""
    text = token.strip().lower()
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    if m := _FULL.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]), token)
    if m := _MONTH_DAY.match(text):
        month, day = int(m[1]), int(m[2])
        candidate = _make(today.year, month, day, token, leap_ok=True)
        if candidate is None or candidate < today:
            candidate = _make(today.year + 1, month, day, token, leap_ok=True)
        if candidate is None:
            raise DateError(token)
        return candidate
    if m := _DAYS_LATER.match(text):
        return today + timedelta(days=int(m[1] or m[2] or m[3]))
    if m := _WEEKDAY.match(text):
        weekday = _WEEKDAYS[m[2]]
        if m[1]:  # 下周X: that weekday in next week (weeks start on Monday)
            next_monday = today + timedelta(days=7 - today.weekday())
            return next_monday + timedelta(days=weekday)
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def _make(year: int, month: int, day: int, token: str, *, leap_ok: bool = False) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        if leap_ok and month == 2 and day == 29:
            return None  # 2月29日 in a non-leap year: try the next year
        raise DateError(token) from None
