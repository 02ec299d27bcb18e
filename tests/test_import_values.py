"""One cell at a time: money in fen, dates in the configured zone, Chinese phone numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from models.importing.messages import RowError
from models.importing.staging import sqlite_datetime
from models.importing.values import DateParser, normalize_phone, parse_amount_fen, parse_key

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("199", 19900),
        ("199.5", 19950),
        ("199.05", 19905),
        ("0.29", 29),  # float arithmetic gives 28.999…; Decimal gives 29
        ("0.57", 57),
        ("1,299.00", 129900),
        ("¥18.80", 1880),
        ("18.80元", 1880),
        ("12.500", 1250),  # the same amount written with a trailing zero
        (".5", 50),
        ("0", 0),
        ("12.", 1200),
        ("00.01", 1),
        ("１２.５", 1250),  # full-width digits, as some input methods type them
        ("99999999999.99", 9_999_999_999_999),  # the largest amount with two decimals
    ],
)
def test_amounts_in_yuan_become_exact_fen(raw: str, fen: int) -> None:
    assert parse_amount_fen(raw) == fen


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("-1", "negative_amount"),
        ("-0.01", "negative_amount"),
        ("12.345", "too_many_decimals"),
        ("0.001", "too_many_decimals"),
        ("abc", "bad_amount"),
        ("十块", "bad_amount"),
        ("1e3", "bad_amount"),
        ("12.3.4", "bad_amount"),
        ("NaN", "bad_amount"),
        ("100000000000", "amount_too_large"),
        ("100000000000.00", "amount_too_large"),
        ("1..00", "bad_amount"),
    ],
)
def test_bad_amounts_are_refused_with_the_reason(raw: str, key: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_amount_fen(raw)
    assert caught.value.key == key


def test_amount_reasons_read_as_chinese() -> None:
    with pytest.raises(RowError) as caught:
        parse_amount_fen("12.345")
    assert caught.value.render() == "金额最多两位小数（精确到分）：12.345"
    assert caught.value.render("en") == "amount has more than 2 decimals (fen): 12.345"


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        # a bare date is local midnight in Shanghai, 16:00 UTC the day before
        ("2024-03-01", datetime(2024, 2, 29, 16, 0, tzinfo=UTC)),
        ("2024-03-01 08:00", datetime(2024, 3, 1, 0, 0, tzinfo=UTC)),
        ("2024-03-01 08:00:30", datetime(2024, 3, 1, 0, 0, 30, tzinfo=UTC)),
        ("2024-03-01T08:00:30", datetime(2024, 3, 1, 0, 0, 30, tzinfo=UTC)),
        ("2024/3/1 8:05", datetime(2024, 3, 1, 0, 5, tzinfo=UTC)),
        ("2024/03/01", datetime(2024, 2, 29, 16, 0, tzinfo=UTC)),
        ("2024-03-01 08:00:00.25", datetime(2024, 3, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2024-03-01T10:00:00+08:00", datetime(2024, 3, 1, 2, 0, tzinfo=UTC)),
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, 0, tzinfo=UTC)),
        ("2024-03-01T10:00:00-05:30", datetime(2024, 3, 1, 15, 30, tzinfo=UTC)),
        ("2024-03-01 10:00:00+0900", datetime(2024, 3, 1, 1, 0, tzinfo=UTC)),
    ],
)
def test_dates_are_read_in_the_configured_zone(raw: str, utc: datetime) -> None:
    parsed = DateParser(SHANGHAI)(raw, "paid_at")
    assert parsed == utc
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2024-07-01 12:00:00", datetime(2024, 7, 1, 16, 0, tzinfo=UTC)),  # summer time
        ("2024-12-01 12:00:00", datetime(2024, 12, 1, 17, 0, tzinfo=UTC)),
        # 02:30 on the spring-forward night does not exist: read with the offset before it
        ("2024-03-10 02:30:00", datetime(2024, 3, 10, 7, 30, tzinfo=UTC)),
        # 01:30 on the fall-back night happens twice: the first (summer-time) one
        ("2024-11-03 01:30:00", datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),
        ("2024-11-03 01:30", datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),
    ],
)
def test_wall_clock_times_follow_summer_time(raw: str, utc: datetime) -> None:
    assert DateParser(ZoneInfo("America/New_York"))(raw, "paid_at") == utc


def test_the_zone_is_the_configured_one() -> None:
    new_york = DateParser(ZoneInfo("America/New_York"))
    assert new_york("2024-07-01", "paid_at") == datetime(2024, 7, 1, 4, 0, tzinfo=UTC)
    assert new_york("2024-01-01", "paid_at") == datetime(2024, 1, 1, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("05/01/2024", "bad_date"),
        ("yesterday", "bad_date"),
        ("2024-03", "bad_date"),
        ("2024-02-30", "no_such_date"),
        ("2024-13-01", "no_such_date"),
        ("2024-03-01 25:00", "no_such_date"),
        ("2024-03-01T10:00:00+15:00", "no_such_date"),
        ("1899-12-31", "date_out_of_range"),
        ("2101-01-01", "date_out_of_range"),
    ],
)
def test_bad_dates_are_refused(raw: str, key: str) -> None:
    with pytest.raises(RowError) as caught:
        DateParser(SHANGHAI)(raw, "paid_at")
    assert caught.value.key == key


def test_a_cached_date_gives_the_same_answer_twice() -> None:
    parse = DateParser(SHANGHAI)
    assert parse("2024-03-01", "paid_at") == parse("2024-03-01", "created_at")
    with pytest.raises(RowError):
        parse("2024-02-30", "paid_at")
    with pytest.raises(RowError):
        parse("2024-02-30", "paid_at")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("010-12345678", "010-12345678"),
        ("(010)12345678", "010-12345678"),
        ("02187654321", "021-87654321"),
        ("0571-8888666", "0571-8888666"),
        ("0755 88886666", "0755-88886666"),
        ("010-12345678 转 123", "010-12345678-123"),
        ("010-12345678-123", "010-12345678-123"),
        ("400-812-3123", "4008123123"),
    ],
)
def test_phone_numbers_are_stored_in_one_shape(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # no mobile prefix 12x
        "23812345678",
        "abc",
        "1.38123E+10",
        "12345678",  # landline without its area code
    ],
)
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(RowError) as caught:
        normalize_phone(raw)
    assert caught.value.key == "bad_phone"


def test_excel_scientific_notation_ids_are_refused_with_a_hint() -> None:
    with pytest.raises(RowError) as caught:
        parse_key("1.23457E+11", "external_id")
    assert "科学计数法" in caught.value.render()


def test_sqlite_text_matches_what_the_orm_stores() -> None:
    # UTCDateTime writes naive UTC with microseconds; staged rows must compare equal to it.
    moment = datetime(2024, 2, 29, 16, 0, tzinfo=UTC)
    assert sqlite_datetime(moment) == "2024-02-29 16:00:00.000000"
    assert sqlite_datetime(DateParser(SHANGHAI)("2024-03-01 00:00:00.5", "x")) == (
        "2024-02-29 16:00:00.500000"
    )
