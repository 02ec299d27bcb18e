"""Argument filters: each turns the text after a command name into the handler's typed input.

A filter returns the parsed value or raises `ArgumentError`; the dispatcher answers that with
the command's usage line (plus the error's own sentence, when it has one). Filters are pure:
no database, only today's date and the locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from handlers.commands.dates import DateError, parse_day
from handlers.i18n import L, Localized

T_co = TypeVar("T_co", covariant=True)

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|(\S+)')
MAX_NOTE = 2000


class ArgumentError(ValueError):
    def __init__(self, message: Localized | None = None) -> None:
        super().__init__(message["zh-CN"] if message else "wrong arguments")
        self.message = message


@dataclass(frozen=True)
class ParseEnv:
    today: date
    locale: str


class ArgFilter(Protocol[T_co]):
    def __call__(self, args: str, env: ParseEnv) -> T_co: ...


def split_args(text: str) -> list[str]:
    """Whitespace-separated words (full-width spaces too); quotes keep a name with spaces whole."""
    words = []
    for m in _QUOTED.finditer(text.replace("\u3000", " ")):
        word = next(g for g in m.groups() if g is not None)
        if word.strip():
            words.append(word.strip())
    return words


def no_args(args: str, env: ParseEnv) -> None:
    """Commands without arguments ignore trailing words (`积分 多少` still shows the points)."""
    return None


def required_text(args: str, env: ParseEnv) -> str:
    text = " ".join(args.split())
    if not text:
        raise ArgumentError()
    return text


def optional_word(args: str, env: ParseEnv) -> str | None:
    words = split_args(args)
    return words[0] if words else None


def optional_days(args: str, env: ParseEnv) -> int | None:
    """`/top`, `/top 30`, `/top 30天`: a look-back in days (1–3650), or all history."""
    words = split_args(args)
    if not words:
        return None
    m = re.fullmatch(r"(\d{1,4})\s*(天|d|days?)?", words[0], re.I)
    if m is None or not 1 <= int(m[1]) <= 3650 or len(words) > 1:
        raise ArgumentError(
            L("天数应为 1 到 3650 之间的整数。", "Days must be a whole number from 1 to 3650.")
        )
    return int(m[1])


def _bad_date(token: str) -> ArgumentError:
    return ArgumentError(L(f"“{token}”不是有效的日期。", f"“{token}” is not a valid date."))


@dataclass(frozen=True)
class FollowUpInput:
    customer: str
    note: str
    next_due: date | None


_NEXT_PREFIX = re.compile(r"^(下次|下次跟进|next)[:：]?", re.I)


def _trailing_date(words: list[str], today: date) -> tuple[date | None, int]:
    """The date the last one to three words spell (`in 3 days`, `next week`, `6月5日`) and how
    many words it took; (None, 0) when the note simply ends."""
    for size in (3, 2):
        if len(words) > size:
            try:
                day = parse_day(" ".join(words[-size:]), today)
            except DateError:
                day = None
            if day is not None:
                return day, size
    last = _NEXT_PREFIX.sub("", words[-1]) or words[-1]
    try:
        day = parse_day(last, today)
    except DateError:
        raise _bad_date(last) from None
    return (day, 1) if day is not None else (None, 0)


def follow_up_args(args: str, env: ParseEnv) -> FollowUpInput:
    """`<客户> <记录…> [下次日期]`: the last word is the next date when it reads as one."""
    words = split_args(args)
    if len(words) < 2:
        raise ArgumentError()
    customer, rest = words[0], words[1:]
    next_due, used = _trailing_date(rest, env.today)
    if next_due is not None:
        rest = rest[:-used]
        if next_due < env.today:
            raise ArgumentError(
                L(
                    f"下次跟进日期 {next_due} 已经过去了。",
                    f"The next follow-up date {next_due} is in the past.",
                )
            )
    note = " ".join(rest)
    if not note:
        raise ArgumentError(L("请写上跟进记录。", "Please write what happened."))
    if len(note) > MAX_NOTE:
        raise ArgumentError(
            L(f"跟进记录最多 {MAX_NOTE} 字。", f"A note is at most {MAX_NOTE} characters.")
        )
    return FollowUpInput(customer=customer, note=note, next_due=next_due)


@dataclass(frozen=True)
class AssignInput:
    customer: str
    staff: str


def assign_args(args: str, env: ParseEnv) -> AssignInput:
    words = split_args(args)
    if len(words) != 2:
        raise ArgumentError()
    return AssignInput(customer=words[0], staff=words[1])
