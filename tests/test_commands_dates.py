"""Follow-up dates as people type them, read on Monday 3 June 2024."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.commands.dates import DateError, parse_day
from handlers.commands.filters import ArgumentError, ParseEnv, follow_up_args, split_args

TODAY = date(2024, 6, 3)  # a Monday
ENV = ParseEnv(today=TODAY, locale="zh-CN")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", date(2024, 6, 3)),
        ("明天", date(2024, 6, 4)),
        ("后天", date(2024, 6, 5)),
        ("大后天", date(2024, 6, 6)),
        ("3天后", date(2024, 6, 6)),
        ("10天以后", date(2024, 6, 13)),
        ("+3", date(2024, 6, 6)),
        ("+14d", date(2024, 6, 17)),
        ("下周", date(2024, 6, 10)),
        ("周五", date(2024, 6, 7)),
        ("星期五", date(2024, 6, 7)),
        ("周一", date(2024, 6, 10)),  # today is Monday: the next one
        ("下周一", date(2024, 6, 10)),
        ("下周三", date(2024, 6, 12)),
        ("下周日", date(2024, 6, 16)),
        ("6月5日", date(2024, 6, 5)),
        ("6月5号", date(2024, 6, 5)),
        ("6-3", date(2024, 6, 3)),  # today still counts
        ("6-1", date(2025, 6, 1)),  # already past this year: next year's
        ("12/31", date(2024, 12, 31)),
        ("2024-07-01", date(2024, 7, 1)),
        ("2024/7/1", date(2024, 7, 1)),
        ("2025年1月2日", date(2025, 1, 2)),
        ("2024.06.30", date(2024, 6, 30)),
        ("tomorrow", date(2024, 6, 4)),
        ("Tomorrow", date(2024, 6, 4)),
        ("in 3 days", date(2024, 6, 6)),
        ("next week", date(2024, 6, 10)),
    ],
)
def test_dates_people_type(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize("text", ["回访", "3", "下下周", "周八", "abc", "2024"])
def test_words_that_are_not_dates(text: str) -> None:
    assert parse_day(text, TODAY) is None


@pytest.mark.parametrize("text", ["2月30日", "2024-13-01", "13/40", "2023-02-29"])
def test_impossible_dates_are_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_day(text, TODAY)


def test_follow_up_splits_customer_note_and_date() -> None:
    parsed = follow_up_args("张三 电话回访 客户想续费 下周三", ENV)
    assert (parsed.customer, parsed.note, parsed.next_due) == (
        "张三",
        "电话回访 客户想续费",
        date(2024, 6, 12),
    )
    no_date = follow_up_args("C001 发了报价单", ENV)
    assert (no_date.note, no_date.next_due) == ("发了报价单", None)
    multiword = follow_up_args("C001 sent the quote in 3 days", ENV)
    assert (multiword.note, multiword.next_due) == ("sent the quote", date(2024, 6, 6))
    prefixed = follow_up_args("C001 约了面谈 下次:6月10日", ENV)
    assert prefixed.next_due == date(2024, 6, 10)
    quoted = follow_up_args('"Alice Wang" called back tomorrow', ENV)
    assert (quoted.customer, quoted.note) == ("Alice Wang", "called back")


def test_follow_up_refusals_say_why() -> None:
    with pytest.raises(ArgumentError) as past:
        follow_up_args("张三 回访 2024-06-02", ENV)
    assert past.value.message is not None and "已经过去了" in past.value.message["zh-CN"]
    with pytest.raises(ArgumentError) as no_note:
        follow_up_args("张三 明天", ENV)
    assert no_note.value.message is not None and "请写上跟进记录" in no_note.value.message["zh-CN"]
    with pytest.raises(ArgumentError) as nothing:
        follow_up_args("张三", ENV)
    assert nothing.value.message is None  # plain usage


def test_split_args_understands_quotes_and_wide_spaces() -> None:
    assert split_args("“张 三” 回访\u3000明天") == ["张 三", "回访", "明天"]
    assert split_args("  ") == []
