"""Parsing one cell: dates, money, phone numbers, choices and plain text.

Each parser returns the stored value or raises `RowError` with a reason a person can act on.
They run once per cell of files with a million rows, so they use precompiled patterns and
integer/Decimal arithmetic rather than general-purpose date libraries.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

from models.importing.messages import RowError

_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# `2024年3月5日`, a time after it with or without a space: read as `2024-3-5 …`.
_CJK_DAY = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*")
# Excel's serial day number (days since 1899-12-30), the time of day as its fraction: what a
# date cell formatted "General" holds. Five digits only — 10000 is 1927-05-18 — because a
# four-digit number in a date column is a year far more often than a day before 1928.
_SERIAL = re.compile(r"(\d{5})(\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1900, 2100
# An aware UTC datetime built as _UTC_EPOCH + (naive UTC - _NAIVE_EPOCH): two C-level operations,
# several times cheaper than `replace(tzinfo=UTC)` (keyword arguments) or `datetime.combine`.
_NAIVE_EPOCH = datetime(2000, 1, 1)
_UTC_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_fromisoformat = datetime.fromisoformat


def _to_utc(local: datetime, zone: tzinfo) -> datetime:
    """Wall-clock `local` (naive) in `zone` → aware UTC; 3× faster than replace+astimezone."""
    offset = zone.utcoffset(local)
    if offset:
        return _UTC_EPOCH + (local - offset - _NAIVE_EPOCH)
    return _UTC_EPOCH + (local - _NAIVE_EPOCH)


def _canonical(raw: str) -> datetime | None:
    """`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (10 or 19 characters) within the years accepted,
    as a naive datetime, by one C call; None: the general route decides (and words the error).
    """
    if raw[4] != "-":
        return None
    try:
        local = _fromisoformat(raw)
    except ValueError:
        return None
    if local.tzinfo is None and _MIN_YEAR <= local.year <= _MAX_YEAR:
        return local
    return None


class DateParser:
    """`YYYY-MM-DD`, `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日`, each optionally followed by
    `HH:MM[:SS[.ffffff]]`; ISO 8601 with `T` and an offset; Excel serial dates (`45356`,
    `45356.6`). Full-width digits and punctuation are read as ASCII (NFKC).

    Times without an offset are wall-clock times in `tz` (the configured zone). Results are
    aware UTC datetimes. Repeated strings (date-only columns repeat a lot) hit a small cache.
    Row loops keep the bound method (`DateParser(tz).parse`): cheaper to call than the instance.
    """

    _CACHE_LIMIT = 50_000

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._cache: dict[str, datetime] = {}
        self._offsets: dict[str, tzinfo] = {"Z": UTC, "z": UTC}

    def parse(self, raw: str, field: str) -> datetime:
        if len(raw) > 10:
            # Full timestamps rarely repeat: no cache. Nearly all of them have the canonical
            # shape `YYYY-MM-DD HH:MM:SS`: `_canonical` and `_to_utc` inline, as this runs once
            # per row of a million-row file (~0.3 µs a row less than calling them).
            if len(raw) == 19 and raw[4] == "-":
                try:
                    local = _fromisoformat(raw)
                except ValueError:
                    pass
                else:
                    if local.tzinfo is None and _MIN_YEAR <= local.year <= _MAX_YEAR:
                        offset = self.tz.utcoffset(local)
                        if offset:
                            return _UTC_EPOCH + (local - offset - _NAIVE_EPOCH)
                        return _UTC_EPOCH + (local - _NAIVE_EPOCH)
            return self._parse_general(raw, field)
        # Date-only values repeat across rows.
        cached = self._cache.get(raw)
        if cached is None:
            day = _canonical(raw) if len(raw) == 10 else None
            cached = _to_utc(day, self.tz) if day is not None else self._parse_general(raw, field)
            if len(self._cache) >= self._CACHE_LIMIT:
                self._cache.clear()
            self._cache[raw] = cached
        return cached

    __call__ = parse

    def _parse_general(self, raw: str, field: str) -> datetime:
        text = raw if raw.isascii() else _chinese_day_as_iso(unicodedata.normalize("NFKC", raw))
        match = _DATE.fullmatch(text)
        if match is None:
            serial = _SERIAL.fullmatch(text)
            if serial is None:
                raise RowError("bad_date", field=field, value=raw)
            return self._serial(serial, raw, field)
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        if not _MIN_YEAR <= int(year) <= _MAX_YEAR:
            raise RowError("date_out_of_range", field=field, value=raw)
        zone = self.tz if offset is None else self._offset(offset, raw, field)
        try:
            local = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
            )
        except ValueError as exc:
            raise RowError("no_such_date", field=field, value=raw) from exc
        return _to_utc(local, zone)

    def _serial(self, match: re.Match[str], raw: str, field: str) -> datetime:
        days, fraction = match.groups()
        seconds = round(float(fraction) * 86400) if fraction else 0
        local = _EXCEL_EPOCH + timedelta(days=int(days), seconds=seconds)
        if local.year > _MAX_YEAR:
            raise RowError("date_out_of_range", field=field, value=raw)
        return _to_utc(local, self.tz)

    def _offset(self, text: str, raw: str, field: str) -> tzinfo:
        zone = self._offsets.get(text)
        if zone is None:
            digits = text[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 14 or minutes > 59:
                raise RowError("no_such_date", field=field, value=raw)
            delta = timedelta(hours=hours, minutes=minutes)
            zone = timezone(-delta if text[0] == "-" else delta)
            self._offsets[text] = zone
        return zone


def _chinese_day_as_iso(text: str) -> str:
    day = _CJK_DAY.match(text)
    if day is None:
        return text
    rest = text[day.end() :]
    return f"{day[1]}-{day[2]}-{day[3]}" + (f" {rest}" if rest else "")


_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Thousands grouped by commas or by single spaces (NFKC has made a no-break or an ideographic
# space a plain one), every group of three: `1,299.00`, `12,345`, `1 299.00`. Nothing else
# with a separator is a number here: `12,50` is 12.50 written the European way, `1 200,50`
# 1200.50, and dropping the separators (as this parser once did) stores ¥1,250.00 for the one
# and ¥120,050.00 for the other.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:(?:,\d{3})+|(?: \d{3})+)(?:\.\d*)?")
_FEN_PER_YUAN = Decimal(100)
# 10^13 fen = 1000 亿元: far above any real order, far below the BIGINT limit.
_MAX_FEN = 10**13


def parse_amount_fen(raw: str) -> int:
    """Yuan as written in a spreadsheet (`199`, `199.5`, `1,299.00`, `¥18.80`) → integer fen.

    Decimal, never float: `0.29` must be 29 fen, not 28.999…. Trailing zeros beyond the fen
    (`12.500`) are the same amount and accepted; a non-zero third decimal is refused. Full-width
    digits and punctuation (`１，２９９．００`) are read as their ASCII forms (NFKC), so `19，9`
    is refused like `19,9`: a separator is accepted only where it groups thousands.
    """
    # Fast path, exact in integers: ASCII `123`, `123.4` or `123.45` with at most 11 digits of
    # yuan — non-negative and below _MAX_FEN by construction, nothing left to check.
    if raw.isascii():
        size = len(raw)
        if 3 < size <= 14 and raw[-3] == ".":
            digits = raw[:-3] + raw[-2:]
            if digits.isdigit():
                return int(digits)
        elif 2 < size <= 13 and raw[-2] == ".":
            digits = raw[:-2] + raw[-1]
            if digits.isdigit():
                return int(digits) * 10
        elif size <= 11 and raw.isdigit():
            return int(raw) * 100
        text = raw
    else:
        text = unicodedata.normalize("NFKC", raw)
    text = text.strip().removeprefix("¥").removesuffix("元").strip()
    if "," in text or " " in text:
        if not _GROUPED.fullmatch(text):
            raise RowError("bad_grouping", value=raw)
        text = text.replace(",", "").replace(" ", "")
    if not _AMOUNT.fullmatch(text):
        raise RowError("bad_amount", value=raw)
    try:
        fen = Decimal(text) * _FEN_PER_YUAN
    except InvalidOperation as exc:
        raise RowError("bad_amount", value=raw) from exc
    if fen < 0:
        raise RowError("negative_amount", value=raw)
    whole = int(fen)
    if fen != whole:
        raise RowError("too_many_decimals", value=raw)
    if whole >= _MAX_FEN:
        raise RowError("amount_too_large", value=raw)
    return whole


_PHONE_NOISE = re.compile(r"[\s\-()（）.+]")
_PHONE_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"(?:400|800)\d{7}")
# Beijing 010 and 02x have 3-digit area codes and 8-digit numbers; the rest 4 digits and 7–8.
_LANDLINE = re.compile(r"(0(?:10|2\d))(\d{8})|(0[3-9]\d{2})(\d{7,8})")


def normalize_phone(raw: str) -> str:
    """A Chinese mobile or landline in one stored shape, or `RowError("bad_phone")`.

    Lenient about how people type them (spaces, dashes, brackets, `+86`/`0086`, `转123`), strict
    about what they are: mobiles `13812345678`, landlines `010-12345678` / `0571-8888888`
    (with `-123` for an extension), and `4008123123` service numbers.
    """
    text = (raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).strip()
    extension = ""
    ext_match = _PHONE_EXTENSION.search(text)
    if ext_match:
        extension = ext_match.group(1)
        text = text[: ext_match.start()]
    digits = _PHONE_NOISE.sub("", text)
    if not digits.isdigit():
        raise RowError("bad_phone", value=raw)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not extension and (_MOBILE.fullmatch(digits) or _SERVICE.fullmatch(digits)):
        return digits
    landline = _LANDLINE.fullmatch(digits)
    if landline is None and not extension and "-" in text:
        # `010-12345678-123`: a dash extension, only if what precedes it is a whole landline.
        head, _, tail = text.rpartition("-")
        head_digits = _PHONE_NOISE.sub("", head)
        if tail.strip().isdigit() and len(tail.strip()) <= 6 and head_digits.isdigit():
            landline = _LANDLINE.fullmatch(head_digits)
            extension = tail.strip() if landline else ""
    if landline is None:
        raise RowError("bad_phone", value=raw)
    area = landline.group(1) or landline.group(3)
    number = landline.group(2) or landline.group(4)
    stored = f"{area}-{number}" + (f"-{extension}" if extension else "")
    if len(stored) > 20:
        raise RowError("bad_phone", value=raw)
    return stored


# What no text column can hold: PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate
# (a JSON "\ud800") cannot be encoded for either database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_storable(raw: str, field: str) -> None:
    """`RowError` naming `field` and the position (from 1) of the first character of `raw`
    that cannot be stored; nothing when all of them can."""
    found = UNSTORABLE.search(raw)
    if found is None:
        return
    char, position = found.group(), found.start() + 1
    if char == "\x00":
        raise RowError("nul_character", field=field, position=position)
    raise RowError("lone_surrogate", field=field, position=position, code=f"U+{ord(char):04X}")


_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")


def parse_key(raw: str, field: str, max_len: int = 64) -> str:
    """An identifier (customer number, order number): required, not mangled by Excel."""
    if not raw:
        raise RowError("missing_value", field=field)
    if len(raw) > max_len:
        raise RowError("too_long", field=field, max=max_len)
    if _SCIENTIFIC.fullmatch(raw):
        raise RowError("scientific", field=field, value=raw)
    return raw


def parse_text(raw: str, field: str, max_len: int) -> str | None:
    """Optional free text: empty → NULL."""
    if not raw:
        return None
    if len(raw) > max_len:
        raise RowError("too_long", field=field, max=max_len)
    return raw


def parse_choice(raw: str, field: str, choices: dict[str, str], shown: str) -> str:
    """Map a cell to a stored code through `choices` (lower-cased spellings, incl. Chinese)."""
    value = choices.get(raw.lower())
    if value is None:
        raise RowError("bad_choice", field=field, value=raw, choices=shown)
    return value
