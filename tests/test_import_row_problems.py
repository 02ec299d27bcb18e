"""A rejected row names every problem it has, in column order, so it is fixed in one go."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

from import_support import stored_customers, write_csv

from models.db import Database
from models.importing import import_csv

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMERS = "external_id,name,phone,region,industry,created_at,status\n"
ORDERS = "order_no,customer_external_id,amount,paid_at,status\n"
EVENTS = "customer_external_id,kind,occurred_at,detail\n"


async def _reasons(db: Database, tmp_path: Path, kind: str, text: str) -> dict[int, str]:
    path = write_csv(tmp_path, f"{kind}.csv", text)
    result = await import_csv(db, kind, path, tz=SHANGHAI)
    return {row.line: row.reason for row in result.rejects}


async def test_a_customer_row_with_four_problems_lists_all_four(
    db: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "customers.csv",
        CUSTOMERS
        + "R1,,12345,上海,零售,2024-02-30,vip\nR2,好客户,13812345678,上海,零售,2024-05-01,\n",
    )

    result = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert (result.imported, result.rejected) == (1, 1)
    assert sorted(await stored_customers(db)) == ["R2"]
    reason = (
        "缺少必填字段：姓名（name）"
        "；手机号格式不正确：12345（手机号为 11 位；座机需带区号，如 010-12345678）"
        "；创建时间（created_at）不是存在的日期或时间：2024-02-30"
        "；状态（status）取值无效：vip（可选：open, closed）"
    )
    assert [(row.line, row.reason) for row in result.rejects] == [(2, reason)]
    assert result.rejects_path is not None
    with result.rejects_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == ["R1", "", "12345", "上海", "零售", "2024-02-30", "vip", "2", reason]


async def test_each_problem_reads_as_it_does_alone(db: Database, tmp_path: Path) -> None:
    """The combined reason is the single-problem reasons joined, in column order — whichever
    column the parser trips over first."""
    alone = await _reasons(
        db,
        tmp_path,
        "orders",
        ORDERS
        + "A1,,10,2024-05-01,\n"  # 2: no customer
        + "A2,C1,-5,2024-05-01,\n"  # 3: negative amount
        + "A3,C1,10,05/01/2024,\n"  # 4: not a date
        + "A4,C1,10,2024-05-01,lost\n",  # 5: not a status
    )
    together = await _reasons(
        db, tmp_path, "orders", ORDERS + "B1,,-5,05/01/2024,lost\nB2,C1,1.234,2024-13-01,\n"
    )
    assert together[2] == "；".join(alone[line] for line in (2, 3, 4, 5))
    assert together[3].startswith("金额最多两位小数（精确到分）：1.234；")
    assert "2024-13-01" in together[3].split("；")[-1]


async def test_event_rows_report_kind_date_and_detail_together(
    db: Database, tmp_path: Path
) -> None:
    reasons = await _reasons(
        db,
        tmp_path,
        "events",
        EVENTS
        + "C1,shopping,yesterday,\n"  # unknown kind and not a date
        + "C1,feature_use,2024-02-30,\n"  # no feature name and no such date
        + "C1,view,2024-05-01,\n",  # fine
    )

    assert set(reasons) == {2, 3}
    kind, when = reasons[2].split("；")
    assert kind.startswith("类型（kind）取值无效：shopping（可选：view, feature_use")
    assert when.startswith("发生时间（occurred_at）无法识别为日期：yesterday")
    when, detail = reasons[3].split("；")
    assert when == "发生时间（occurred_at）不是存在的日期或时间：2024-02-30"
    assert detail == "功能使用事件（feature_use）必须在详情中填写功能名称"


async def test_english_reasons_are_separated_by_semicolons(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "customers.csv", CUSTOMERS + "E1,Alice,12345,SH,retail,someday,\n")

    result = await import_csv(db, "customers", path, tz=SHANGHAI, locale="en")

    assert result.rejects[0].reason == (
        "phone number is invalid: 12345 "
        "(mobile: 11 digits; landline with area code, e.g. 010-12345678); "
        "created_at is not a date: someday (accepted: 2024-03-05, 2024/3/5, 2024.3.5 or "
        "2024年3月5日, each with an optional time 14:30 or 14:30:00, ISO 8601 with an offset "
        "such as 2024-03-05T14:30:00+08:00, or an Excel serial date such as 45356)"
    )
