"""Dates and digits as shops' order systems, Excel and WPS write them: Chinese dates, slashes
and dots, Excel serial numbers, full-width digits and punctuation — read through `fission
import` (CSV and .xlsx) and the API alike, naive times in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from api_support import AUTH, web_client
from import_support import invoke_import, on_database, stored_customers, stored_orders, write_csv
from openpyxl import Workbook

from models.db import Database

# Every form names 5 March 2024 (14:30 or midnight in Shanghai, UTC+8).
AT_1430 = datetime(2024, 3, 5, 6, 30, tzinfo=UTC)
MIDNIGHT = datetime(2024, 3, 4, 16, 0, tzinfo=UTC)
DATES = [
    ("2024年3月5日", MIDNIGHT),
    ("2024年3月5日 14:30", AT_1430),
    ("2024年03月05日14:30:00", AT_1430),
    ("2024/3/5 14:30:00", AT_1430),
    ("2024.3.5", MIDNIGHT),
    ("2024-03-05T14:30:00+08:00", AT_1430),
    ("2024-03-05T06:30:00Z", AT_1430),
    ("45356", MIDNIGHT),  # Excel's serial number of the day (a date cell formatted General)
    ("45356.6041666667", AT_1430),  # … with the time of day as its fraction
    ("２０２４－０３－０５　１４：３０", AT_1430),  # full-width, ideographic space
    ("２０２４年３月５日", MIDNIGHT),
]
ACCEPTED_ZH = (
    "（可用：2024-03-05、2024/3/5、2024.3.5、2024年3月5日，可带时间 14:30 或 14:30:00，"
    "也可以是带时区的 2024-03-05T14:30:00+08:00 或 Excel 日期序号 45356）"
)
ACCEPTED_EN = (
    " (accepted: 2024-03-05, 2024/3/5, 2024.3.5 or 2024年3月5日, each with an optional time "
    "14:30 or 14:30:00, ISO 8601 with an offset such as 2024-03-05T14:30:00+08:00, or an Excel "
    "serial date such as 45356)"
)
ORDERS = "order_no,customer_external_id,amount,paid_at\n"


def test_every_form_of_the_day_is_read(db_url: str, tmp_path: Path) -> None:
    rows = "".join(f"D{index},C1,1,{raw}\n" for index, (raw, _) in enumerate(DATES))
    path = write_csv(tmp_path, "orders.csv", ORDERS + rows + "X1,C1,1,3/5/2024\nX2,C1,1,2024\n")

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3, result.output
    stored = on_database(db_url, stored_orders)
    assert {no: order.paid_at for no, order in stored.items()} == {
        f"D{index}": moment for index, (_, moment) in enumerate(DATES)
    }
    said = result.stderr.splitlines()
    line = len(DATES) + 2
    assert f"第 {line} 行：支付时间（paid_at）无法识别为日期：3/5/2024{ACCEPTED_ZH}" in said
    # A four-digit number is a year, not a serial date (that would be 1905-07-16).
    assert f"第 {line + 1} 行：支付时间（paid_at）无法识别为日期：2024{ACCEPTED_ZH}" in said


def test_the_accepted_forms_in_english(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "orders.csv", ORDERS + "X1,C1,1,next monday\n")

    result = invoke_import(db_url, "orders", str(path), locale="en")

    assert f"line 2: paid_at is not a date: next monday{ACCEPTED_EN}" in result.stderr


def test_a_workbook_with_serial_dates_and_full_width_cells(db_url: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户编号", "姓名", "手机号", "地区", "行业", "创建时间"])
    # A date column left as General: Excel's serial numbers, as numbers.
    sheet.append(["K1", "张三", "１３７ １２３４ ５６７８", "", "", 45356])
    sheet.append(["K2", "李四", "+86 139-1234-5678", "", "", 45356.6041666667])
    sheet.append(["K3", "王五", "", "", "", "２０２４年３月５日"])
    sheet.append(["K4", "赵六", "", "", "", 73416])  # 2101-01-01: beyond the years accepted
    path = tmp_path / "客户.xlsx"
    book.save(path)

    result = invoke_import(db_url, "customers", str(path))

    assert result.exit_code == 3, result.output
    assert "第 5 行：创建时间（created_at）的年份超出范围（1900–2100）：73416" in result.stderr
    stored = on_database(db_url, stored_customers)
    assert {key: (c.phone, c.created_at) for key, c in stored.items()} == {
        "K1": ("13712345678", MIDNIGHT),
        "K2": ("13912345678", AT_1430),
        "K3": (None, MIDNIGHT),
    }


def test_full_width_amounts_and_phones_in_a_csv(db_url: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ORDERS + "F1,C1,２５６．５０,２０２４－０３－０５\nF2,C1,￥１２,2024-03-05\n",
    )

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 0, result.output
    stored = on_database(db_url, stored_orders)
    assert {no: order.amount_fen for no, order in stored.items()} == {"F1": 25650, "F2": 1200}


async def test_the_api_reads_the_same_forms(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        for index, (raw, _moment) in enumerate(DATES):
            order = {
                "order_no": f"D{index}",
                "customer_external_id": "C-1",
                "amount": "２５６．５０",
                "paid_at": raw,
            }
            resp = await client.post("/api/v1/orders", json=order, headers=AUTH)
            assert resp.status == 201, (raw, await resp.text())
        customer = {"external_id": "C-2", "phone": "１３７－１２３４－５６７８"}
        resp = await client.post("/api/v1/customers", json=customer, headers=AUTH)
        assert resp.status == 201, await resp.text()
        bad = {"order_no": "X", "customer_external_id": "C-1", "amount": "1", "paid_at": "3/5"}
        resp = await client.post("/api/v1/orders", json=bad, headers=AUTH)
        assert resp.status == 422
        [field] = (await resp.json())["error"]["fields"]
        assert field["message"] == f"支付时间（paid_at）无法识别为日期：3/5{ACCEPTED_ZH}"
    stored = await stored_orders(db)
    assert {no: (o.paid_at, o.amount_fen) for no, o in stored.items()} == {
        f"D{index}": (moment, 25650) for index, (_, moment) in enumerate(DATES)
    }
    assert (await stored_customers(db))["C-2"].phone == "13712345678"
