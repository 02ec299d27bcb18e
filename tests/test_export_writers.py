"""The shared XLSX and CSV writers every export streams into: formats a spreadsheet keeps as
numbers, the frozen and filterable header, widths, the BOM, text that never turns into a
formula, a table longer than a worksheet, and rows taken from an iterator one batch at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from fractions import Fraction

from openpyxl import load_workbook

from models.reports.sheets import Cell, Column
from models.reports.writers import CsvWriter, XlsxWriter, write_table

BOM = b"\xef\xbb\xbf"
COLUMNS = (
    Column("客户名称"),
    Column("购买频率", "int", "次/年"),
    Column("累计消费金额", "money"),
    Column("成功率", "percent"),
    Column("首单日期", "date"),
    Column("时间", "datetime"),
)
ROWS: list[tuple[Cell, ...]] = [
    ("张*", 12, 123_456, Fraction(1, 3), date(2024, 3, 1), datetime(2024, 3, 1, 14, 30, 59)),
    ('=HYPERLINK("http://x")', 0, 5, None, None, None),
    ("-1+2", None, None, Fraction(1, 1), None, datetime(2024, 3, 1, 6, 30, tzinfo=UTC)),
]


def xlsx(rows: Sequence[tuple[Cell, ...]], **kwargs: int) -> bytes:
    out = io.BytesIO()
    writer = XlsxWriter(out, **kwargs)
    writer.begin("客户分级表", COLUMNS, rows[:1])
    writer.write(rows)
    writer.end("分级截至 2024-06-30")
    writer.close()
    return out.getvalue()


def test_xlsx_keeps_money_counts_percentages_and_dates_as_numbers() -> None:
    ws = load_workbook(io.BytesIO(xlsx(ROWS))).active
    name, frequency, money, rate, first, at = ws[2]
    assert (name.value, frequency.value, money.value, rate.value) == ("张*", 12, 1234.56, 0.3333)
    assert frequency.number_format == '0"次/年"'  # shows 12次/年, still sums as 12
    assert money.number_format == '"¥"#,##0.00'  # fen → yuan, shown as ¥1,234.56
    assert rate.number_format == "0.0%"
    assert (first.value, first.number_format) == (datetime(2024, 3, 1), "yyyy-mm-dd")
    assert (at.value, at.number_format) == (datetime(2024, 3, 1, 14, 30, 59), "yyyy-mm-dd hh:mm")
    assert ws["C3"].value == 0.05  # 5 fen
    assert ws["F4"].value == datetime(2024, 3, 1, 6, 30)  # a zone is dropped, wall clock kept
    assert ws["D3"].value is None


def test_xlsx_header_is_styled_frozen_filterable_and_columns_are_sized() -> None:
    ws = load_workbook(io.BytesIO(xlsx(ROWS))).active
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items()}
    assert widths["A"] >= 10  # 客户名称: 8 display cells, plus room
    assert widths["F"] >= 16  # 2024-03-01 14:30
    assert ws["A6"].value == "分级截至 2024-06-30"  # the note, a row apart from the data


def test_text_that_looks_like_a_formula_stays_text() -> None:
    ws = load_workbook(io.BytesIO(xlsx(ROWS))).active
    assert ws["A3"].data_type == "s" and ws["A3"].value == '=HYPERLINK("http://x")'
    out = io.BytesIO()
    writer = CsvWriter(out)
    writer.begin("t", COLUMNS)
    writer.write(ROWS)
    writer.close()
    cells = [row[0] for row in csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")))]
    assert cells == ["客户名称", "张*", '\'=HYPERLINK("http://x")', "'-1+2"]


def test_csv_has_a_bom_and_plain_numbers() -> None:
    out = io.BytesIO()
    writer = CsvWriter(out)
    writer.begin("客户分级表", COLUMNS)
    writer.write(ROWS[:1])
    writer.end("a note is not data")
    writer.close()
    data = out.getvalue()
    assert data.startswith(BOM)
    assert data.decode("utf-8-sig").splitlines() == [
        "客户名称,购买频率,累计消费金额,成功率,首单日期,时间",
        "张*,12,1234.56,33.3%,2024-03-01,2024-03-01 14:30",
    ]


def test_a_table_longer_than_a_worksheet_goes_on_in_another_with_the_same_header() -> None:
    workbook = load_workbook(io.BytesIO(xlsx(ROWS, max_rows=3)))  # header + 2 rows a sheet
    assert workbook.sheetnames == ["客户分级表", "客户分级表 (2)"]
    first, second = workbook.worksheets
    assert [c.value for c in second[1]] == [c.header for c in COLUMNS]
    names = [row[0] for row in first.iter_rows(min_row=2, values_only=True)]
    names += [row[0] for row in second.iter_rows(min_row=2, values_only=True)]
    assert names[:3] == ["张*", '=HYPERLINK("http://x")', "-1+2"]
    assert second.freeze_panes == "A2"


async def test_rows_are_taken_from_the_iterator_one_batch_at_a_time() -> None:
    """The writer is fed by an async iterator: each batch is written before the next one is
    asked for, so memory holds one batch whatever the number of rows."""
    events: list[str] = []

    class Recording(XlsxWriter):
        def write(self, rows: object) -> int:
            written = super().write(rows)  # type: ignore[arg-type]
            events.append(f"wrote {written}")
            return written

    async def batches() -> AsyncIterator[list[tuple[Cell, ...]]]:
        for n in range(4):
            events.append(f"made {n}")
            yield [ROWS[0]] * 250

    out = io.BytesIO()
    writer = Recording(out)
    rows = await write_table(writer, "客户分级表", COLUMNS, batches())
    writer.close()
    assert rows == 1000
    assert events == [x for n in range(4) for x in (f"made {n}", "wrote 250")]
    assert load_workbook(io.BytesIO(out.getvalue())).active.max_row == 1001


async def test_an_empty_table_still_has_its_header() -> None:
    async def nothing() -> AsyncIterator[list[tuple[Cell, ...]]]:
        return
        yield []

    out = io.BytesIO()
    writer = CsvWriter(out)
    assert await write_table(writer, "t", COLUMNS, nothing()) == 0
    writer.close()
    header = ",".join(c.header for c in COLUMNS)
    assert out.getvalue().decode("utf-8-sig") == header + "\r\n"
