"""Importing an Excel workbook (.xlsx) directly: typed cells read as Excel shows them, rows
numbered as in Excel, the same validation, rejects and idempotence as a CSV."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from import_support import stored_customers, stored_orders
from openpyxl import Workbook

from bot.cli import main
from models.db import Database
from models.importing import import_csv
from models.importing.messages import UnusableInput
from models.importing.workbook import cell_text

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _workbook(path: Path, *rows: list[Any], extra_sheet: bool = False) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        book.create_sheet("备注").append(["not", "imported"])
    book.save(path)
    return path


async def test_customers_sheet_with_typed_cells_and_a_bad_row(db: Database, tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "客户.xlsx",
        ["客户编号", "姓名", "手机号", "地区", "行业", "创建时间", None, None],
        ["K1", "张三", 13812345678, "上海", "零售", datetime(2024, 5, 1)],
        ["K2", "李四", "139 1234 5678", "北京", "餐饮", datetime(2024, 5, 2, 18, 30)],
        [],  # a blank row in the middle is skipped
        ["K3", "王五", 12345, "广州", "零售", date(2024, 2, 29), "", ""],
        extra_sheet=True,
    )

    result = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (2, 0, 1)
    assert result.encoding == "xlsx"
    # Excel's row 5 (header, two customers, the blank row): the number the person sees.
    assert [(r.line, r.reason) for r in result.rejects] == [
        (5, "手机号格式不正确：12345（手机号为 11 位；座机需带区号，如 010-12345678）")
    ]
    assert result.rejects_path == tmp_path / "客户.xlsx.rejects.csv"
    stored = await stored_customers(db)
    assert stored["K1"].phone == "13812345678"  # a number cell, not 1.3812345678E10
    assert stored["K2"].phone == "13912345678"
    created = {k: stored[k].created_at.astimezone(UTC) for k in ("K1", "K2")}
    assert created == {  # naive workbook times are in the configured zone
        "K1": datetime(2024, 4, 30, 16, 0, tzinfo=UTC),
        "K2": datetime(2024, 5, 2, 10, 30, tzinfo=UTC),
    }

    again = await import_csv(db, "customers", path, tz=SHANGHAI)
    assert (again.imported, again.updated, again.rejected) == (0, 0, 1)


async def test_orders_amounts_as_excel_shows_them(db: Database, tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "orders.xlsx",
        ["order_no", "customer_external_id", "amount", "paid_at"],
        ["A1", "C1", 199.5, datetime(2024, 6, 1, 10, 0)],
        ["A2", "C1", 18, "2024-06-02"],  # a date typed as text is read as text
        ["A3", "C2", 0.1 + 0.2, datetime(2024, 6, 3)],
        ["A4", "C2", 1.005, datetime(2024, 6, 3)],
    )

    result = await import_csv(db, "orders", path, tz=SHANGHAI)

    assert (result.imported, result.rejected) == (3, 1)
    fen = {no: order.amount_fen for no, order in (await stored_orders(db)).items()}
    assert fen == {"A1": 19950, "A2": 1800, "A3": 30}
    assert result.rejects[0].line == 5
    assert result.rejects[0].reason == "金额最多两位小数（精确到分）：1.005"


async def test_a_value_right_of_the_header_is_named_as_such(db: Database, tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "orders.xlsx",
        ["order_no", "customer_external_id", "amount", "paid_at"],
        ["A1", "C1", 10, "2024-06-01", None, "备注：加急"],
    )
    result = await import_csv(db, "orders", path, tz=SHANGHAI)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (2, "字段数比表头多（6 个，表头 4 个）：表头以外的列里有内容，或 CSV 里有未加引号的逗号")
    ]


def test_cells_read_as_excel_shows_them() -> None:
    assert cell_text(None) == ""
    assert cell_text(13800000000) == "13800000000"
    assert cell_text(13800000000.0) == "13800000000"
    assert cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(199.5) == "199.5"
    assert cell_text(datetime(2024, 1, 1)) == "2024-01-01"
    # Excel's fractions of a day: 10:00 stored as a hair before it
    assert cell_text(datetime(2024, 1, 1, 9, 59, 59, 999_999)) == "2024-01-01 10:00:00"
    assert cell_text(date(2024, 1, 2)) == "2024-01-02"
    assert cell_text(True) == "TRUE"


async def test_a_workbook_named_csv_is_still_read_as_a_workbook(
    db: Database, tmp_path: Path
) -> None:
    path = _workbook(
        tmp_path / "customers.csv",
        ["external_id", "name", "phone", "region", "industry", "created_at"],
        ["W1", "赵六", "", "", "", "2024-01-01"],
    )
    result = await import_csv(db, "customers", path, tz=SHANGHAI)
    assert (result.imported, result.encoding) == (1, "xlsx")


def _zip_without_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "a zip, but not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "xls_workbook"),
        (b"PK\x03\x04" + b"not really a zip", "bad_workbook"),
        (_zip_without_a_workbook(), "bad_workbook"),
    ],
)
async def test_old_and_broken_workbooks_are_refused_clearly(
    db: Database, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "customers.xls"
    path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        await import_csv(db, "customers", path, tz=SHANGHAI)
    assert caught.value.key == expected


async def test_a_sheet_damaged_part_way_is_refused_whole(db: Database, tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "orders.xlsx",
        ["order_no", "customer_external_id", "amount", "paid_at"],
        *[[f"A{n}", "C1", 10, "2024-06-01"] for n in range(200)],
    )
    # Cut the sheet's XML off in the middle of its rows: a download that stopped short.
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet][: len(parts[sheet]) // 2]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    with pytest.raises(UnusableInput) as caught:
        await import_csv(db, "orders", path, tz=SHANGHAI)
    assert caught.value.key == "damaged_sheet"
    assert await stored_orders(db) == {}  # nothing from the readable half was stored


def test_cli_says_what_to_do_with_an_old_workbook(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "订单.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_TIMEZONE": None}
    result = CliRunner().invoke(main, ["import", "orders", str(path)], env=env)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"错误：这是旧版 Excel 97-2003 工作簿（.xls）：{path}；"
        "请在 Excel 中另存为 .xlsx 或“CSV UTF-8”后再导入"
    )
