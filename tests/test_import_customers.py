"""Importing customers: encodings, validation, rejects file, idempotent re-import, updates."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from import_support import stored_customers, write_csv
from sqlalchemy import func, select

from models import Customer
from models.db import Database
from models.importing import import_csv

DATA = Path(__file__).parent / "data" / "import"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "external_id,name,phone,region,industry,created_at,status\n"


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(DATA / name, tmp_path / name))


def _write(tmp_path: Path, text: str, name: str = "customers.csv") -> Path:
    return write_csv(tmp_path, name, text)


async def test_utf8_bom_file_is_imported_with_normalized_values(
    db: Database, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    result = await import_csv(db, "customers", _copy("customers_bom.csv", tmp_path), tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (3, 0, 0)
    assert result.encoding == "utf-8-sig"
    assert result.rejects_path is None
    stored = await stored_customers(db)
    zhang = stored["C001"]
    assert (zhang.name, zhang.phone, zhang.region, zhang.industry) == (
        "张三",
        "13812345678",
        "上海",
        "零售",
    )
    assert zhang.created_at == datetime(2024, 1, 14, 16, 0, tzinfo=UTC)  # local midnight
    assert (zhang.status, zhang.closed_at, zhang.source) == ("open", None, "import")
    li = stored["C002"]
    assert li.phone == "13900001111"
    assert li.created_at == datetime(2024, 2, 1, 1, 30, tzinfo=UTC)
    assert li.status == "open"  # empty status on a new row: the default
    wang = stored["C003"]
    assert wang.phone == "010-12345678"
    assert wang.created_at == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    assert wang.status == "closed"
    assert wang.closed_at is not None and wang.closed_at >= started - timedelta(seconds=1)


async def test_gbk_file_with_chinese_headers_and_statuses(db: Database, tmp_path: Path) -> None:
    result = await import_csv(db, "customers", _copy("customers_gbk.csv", tmp_path), tz=SHANGHAI)

    assert (result.imported, result.rejected, result.encoding) == (2, 0, "gb18030")
    stored = await stored_customers(db)
    assert stored["G001"].name == "欧阳娜娜"
    assert stored["G001"].region == "广州"
    assert stored["G001"].created_at == datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
    assert stored["G002"].phone == "0571-88886666"
    assert (stored["G001"].status, stored["G002"].status) == ("open", "closed")


async def test_reimporting_the_same_file_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = _copy("customers_bom.csv", tmp_path)
    await import_csv(db, "customers", path, tz=SHANGHAI)
    before = await stored_customers(db)

    again = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert (again.imported, again.updated, again.rejected) == (0, 0, 0)
    after = await stored_customers(db)
    for key, row in before.items():
        assert (after[key].updated_at, after[key].closed_at) == (row.updated_at, row.closed_at)


async def test_a_changed_field_is_an_update_and_unchanged_rows_count_nowhere(
    db: Database, tmp_path: Path
) -> None:
    await import_csv(db, "customers", _copy("customers_bom.csv", tmp_path), tz=SHANGHAI)
    changed = _write(
        tmp_path,
        HEADER
        + "C001,张三丰,13812345678,上海,零售,2024-01-15,open\n"  # name changed
        + "C002,李四,13900001111,北京,教育,2024-02-01 09:30,\n"  # same values, other spelling
        + "C003,王五,010-12345678,北京,SaaS,2024-03-01 10:00,open\n"  # reopened
        + "C004,新客户,,,,2024-05-01,\n",
    )

    result = await import_csv(db, "customers", changed, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (1, 2, 0)
    stored = await stored_customers(db)
    assert stored["C001"].name == "张三丰"
    assert (stored["C003"].status, stored["C003"].closed_at) == ("open", None)
    assert (stored["C004"].phone, stored["C004"].region) == (None, None)


async def test_without_a_status_column_the_stored_status_is_kept(
    db: Database, tmp_path: Path
) -> None:
    await import_csv(db, "customers", _copy("customers_bom.csv", tmp_path), tz=SHANGHAI)
    no_status = _write(
        tmp_path,
        "external_id,name,phone,region,industry,created_at\n"
        "C003,王五,010-12345678,北京,SaaS,2024-03-01 10:00\n",
    )

    result = await import_csv(db, "customers", no_status, tz=SHANGHAI)

    assert (result.imported, result.updated) == (0, 0)
    assert (await stored_customers(db))["C003"].status == "closed"


async def test_every_kind_of_bad_row_is_rejected_and_good_rows_still_land(
    db: Database, tmp_path: Path
) -> None:
    path = _copy("customers_bad.csv", tmp_path)

    result = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (2, 0, 9)
    assert sorted(await stored_customers(db)) == ["B001", "B011"]
    reasons = {row.line: row.reason for row in result.rejects}
    assert reasons == {
        3: "缺少必填字段：客户编号（external_id）",
        4: "缺少必填字段：姓名（name）",
        5: "手机号格式不正确：12345（手机号为 11 位；座机需带区号，如 010-12345678）",
        6: "创建时间（created_at）无法识别为日期：05/01/2024"
        "（可用：2024-03-05、2024/3/5、2024.3.5、2024年3月5日，可带时间 14:30 或 14:30:00，"
        "也可以是带时区的 2024-03-05T14:30:00+08:00 或 Excel 日期序号 45356）",
        7: "创建时间（created_at）不是存在的日期或时间：2024-02-30",
        8: "状态（status）取值无效：vip（可选：open, closed）",
        9: "与第 2 行重复：客户编号（external_id）为 B001",
        10: "客户编号（external_id）被 Excel 转成了科学计数法：1.23457E+11"
        "（请把该列设为文本格式后重新导出）",
        11: "字段数比表头多（8 个，表头 7 个）：表头以外的列里有内容，或 CSV 里有未加引号的逗号",
    }


async def test_the_rejects_file_holds_the_original_row_line_and_reason(
    db: Database, tmp_path: Path
) -> None:
    path = _copy("customers_bad.csv", tmp_path)

    result = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert result.rejects_path == tmp_path / "customers_bad.rejects.csv"
    raw = result.rejects_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel shows the Chinese
    with result.rejects_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*HEADER.strip().split(","), "line", "reason"]
    assert len(rows) == 1 + 9
    assert rows[3] == [
        "B004",
        "电话不对",
        "12345",
        "深圳",
        "零售",
        "2024-05-01",
        "",
        "5",
        "手机号格式不正确：12345（手机号为 11 位；座机需带区号，如 010-12345678）",
    ]
    # The row with a stray extra field keeps the header's width.
    assert rows[9][:7] == ["B010", "多了一列", "13912345676", "深圳", "零售", "2024-05-01", "open"]
    assert rows[9][7] == "11"


async def test_a_fixed_rejects_file_can_be_imported_and_the_stale_one_goes(
    db: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER + "F1,修好了,12345,上海,零售,2024-05-01,\n")
    first = await import_csv(db, "customers", path, tz=SHANGHAI)
    assert first.rejected == 1 and first.rejects_path is not None

    path.write_text(HEADER + "F1,修好了,13812340000,上海,零售,2024-05-01,\n", encoding="utf-8")
    second = await import_csv(db, "customers", path, tz=SHANGHAI)

    assert (second.imported, second.rejected, second.rejects_path) == (1, 0, None)
    assert not (tmp_path / "customers.rejects.csv").exists()


async def test_english_locale_gives_english_reasons(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "E1,Alice,12345,SH,retail,2024-05-01,\n")

    result = await import_csv(db, "customers", path, tz=SHANGHAI, locale="en")

    assert result.rejects[0].reason == (
        "phone number is invalid: 12345 "
        "(mobile: 11 digits; landline with area code, e.g. 010-12345678)"
    )


async def test_a_bare_customer_is_filled_in_by_a_customers_import(
    db: Database, tmp_path: Path
) -> None:
    orders = _write(
        tmp_path, "order_no,customer_external_id,amount,paid_at\nO1,C001,10,2024-01-20\n", "o.csv"
    )
    await import_csv(db, "orders", orders, tz=SHANGHAI)

    result = await import_csv(db, "customers", _copy("customers_bom.csv", tmp_path), tz=SHANGHAI)

    assert (result.imported, result.updated) == (2, 1)
    async with db.uow() as uow:
        count = (await uow.session.execute(select(func.count()).select_from(Customer))).scalar()
    assert count == 3
    zhang = (await stored_customers(db))["C001"]
    assert (zhang.name, zhang.source) == ("张三", "order")
    assert zhang.created_at == datetime(2024, 1, 14, 16, 0, tzinfo=UTC)
