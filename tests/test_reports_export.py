"""Terminal table, CSV (UTF-8 with BOM) and XLSX exports; personal data stays masked."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from reports_population import T, build_main_population

from models.db import Database
from models.reports import (
    Column,
    ReportPeriod,
    Sheet,
    inviters_sheet,
    to_csv,
    to_text,
    to_xlsx,
    top_inviters,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOM = b"\xef\xbb\xbf"
SMALL = Sheet(
    title="小表",
    columns=(Column("客户类型"), Column("人数", "int"), Column("成功率", "percent")),
    rows=(("新客户", 12, Fraction(1, 3)), ("Dormant", 3, None), ("老客户", 100, Fraction(2, 3))),
    note="统计截至 2024-06-30",
)


def test_text_table_aligns_chinese_by_display_width() -> None:
    assert to_text(SMALL) == (
        "小表\n"
        "客户类型  人数  成功率\n"
        "--------  ----  ------\n"
        "新客户      12   33.3%\n"
        "Dormant      3       —\n"
        "老客户     100   66.7%\n"
        "统计截至 2024-06-30\n"
    )


def test_percentages_round_half_up() -> None:
    columns = (Column("r", "percent"), Column("k", "decimal"))
    sheet = Sheet("t", columns, ((Fraction(1, 16), Fraction(5, 8)),))
    # 6.25% → 6.3% and 0.625 → 0.63: half up, not half to even
    assert to_text(sheet).splitlines()[3].split() == ["6.3%", "0.63"]


def test_csv_has_a_bom_and_blank_for_missing_values() -> None:
    data = to_csv(SMALL)
    assert data.startswith(BOM)
    rows = list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"))))
    assert rows == [
        ["客户类型", "人数", "成功率"],
        ["新客户", "12", "33.3%"],
        ["Dormant", "3", ""],
        ["老客户", "100", "66.7%"],
    ]


def test_xlsx_keeps_numbers_styles_headers_and_sizes_columns() -> None:
    other = Sheet("Other: [1/2]", SMALL.columns, ())
    workbook = load_workbook(io.BytesIO(to_xlsx([SMALL, other])))
    # characters Excel forbids in sheet names are replaced
    assert workbook.sheetnames == ["小表", "Other_ _1_2_"]
    ws = workbook["小表"]
    assert [c.value for c in ws[1]] == ["客户类型", "人数", "成功率"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[2]] == ["新客户", 12, 0.3333]
    assert ws["C2"].number_format == "0.0%"
    assert ws["C3"].value is None
    assert ws["A6"].value == "统计截至 2024-06-30"
    # "客户类型" is 8 display cells wide: the column is wider than that
    assert ws.column_dimensions["A"].width >= 8


async def _inviters_sheet(db: Database) -> Sheet:
    async with db.uow() as uow:
        await build_main_population(uow.session)
        await uow.commit()
    async with db.uow() as uow:
        period = ReportPeriod(as_of=T, tz=SHANGHAI)
        rows = await top_inviters(uow.session, period=period, limit=10)
    return inviters_sheet(rows, period)


FULL_PERSONAL_DATA = ["张三丰", "13812345678", "李四", "13900001111"]


async def test_csv_export_of_inviters_is_masked(db: Database) -> None:
    data = to_csv(await _inviters_sheet(db))
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["排名", "客户编号", "姓名", "手机", "邀请数", "加入数", "转化数", "已奖励", "成功率"],
        ["1", "A", "张**", "138****5678", "4", "3", "2", "1", "50.0%"],
        ["2", "B", "李*", "139****1111", "3", "1", "1", "0", "33.3%"],
    ]
    assert not any(secret in text for secret in FULL_PERSONAL_DATA)


async def test_xlsx_export_of_inviters_is_masked(db: Database) -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx([await _inviters_sheet(db)])))
    ws = workbook["邀请排行"]
    values = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert values[1] == [1, "A", "张**", "138****5678", 4, 3, 2, 1, 0.5]
    assert values[2] == [2, "B", "李*", "139****1111", 3, 1, 1, 0, 0.3333]
    flat = " ".join(str(v) for row in values for v in row)
    assert not any(secret in flat for secret in FULL_PERSONAL_DATA)
