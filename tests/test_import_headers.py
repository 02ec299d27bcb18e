"""Order exports map without editing the file: the headers shops' systems write are read from
one table (models/importing/headers.py), the preferred column wins when a file has several
meaning one thing (and the import says which), order statuses as shops word them are read,
`--map` reads a header nobody foresaw — and the help and the README list exactly that table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import Result
from import_support import invoke_import, on_database, stored_orders
from openpyxl import Workbook

from models.importing.columns_doc import readme_section
from models.importing.headers import HEADER_NAMES, header_names, normalize_header
from models.importing.kinds import IMPORT_KINDS

README = Path(__file__).parent.parent / "README.md"
EXPORT_HEADER = [
    "订单编号",
    "客户编号",
    "商品名称",
    "商品总价",
    "应付金额",
    "实付金额（元）",
    "下单时间",
    "付款时间",
    "订单状态",
]
EXPORT_ROWS = [
    [
        "T1",
        "K1",
        "面膜",
        "120.00",
        "110.00",
        "99.90",
        "2024-03-01 10:00",
        "2024-03-01 10:05",
        "交易成功",
    ],
    [
        "T2",
        "K1",
        "面霜",
        "80.00",
        "80.00",
        "80.00",
        "2024-03-02 09:00",
        "2024-03-02 09:01",
        "交易关闭",
    ],
    [
        "T3",
        "K2",
        "精华",
        "300.00",
        "280.00",
        "260.00",
        "2024-03-03 20:00",
        "2024-03-03 20:30",
        "已完成",
    ],
    [
        "T4",
        "K2",
        "面膜",
        "120.00",
        "110.00",
        "99.90",
        "2024-03-04 08:00",
        "2024-03-04 08:00",
        "退款成功",
    ],
    ["T5", "K2", "面膜", "120.00", "110.00", "99.90", "2024-03-05 08:00", "", "待付款"],
    [
        "T6",
        "K2",
        "面膜",
        "120.00",
        "110.00",
        "99.90",
        "2024-03-06 08:00",
        "2024-03-06 08:00",
        "已取消",
    ],
]
# What the export above stores: 实付金额 and 付款时间 (UTC+8), status as the shop wrote it.
STORED = {
    "T1": (9990, datetime(2024, 3, 1, 2, 5, tzinfo=UTC), "paid"),
    "T2": (8000, datetime(2024, 3, 2, 1, 1, tzinfo=UTC), "refunded"),
    "T3": (26000, datetime(2024, 3, 3, 12, 30, tzinfo=UTC), "paid"),
    "T4": (9990, datetime(2024, 3, 4, 0, 0, tzinfo=UTC), "refunded"),
}
SAID = [
    "金额（amount）取自「实付金额（元）」列；未使用：「商品总价」、「应付金额」",
    "支付时间（paid_at）取自「付款时间」列；未使用：「下单时间」",
    "第 6 行：缺少必填字段：支付时间（paid_at）；未付款的订单不导入：订单状态为「待付款」",
    "第 7 行：状态（status）取值无效：已取消（可选：paid, refunded）",
    "导入 4 条，更新 0 条，拒绝 2 条",
]


def _stored(db_url: str) -> dict[str, tuple[int, datetime, str]]:
    orders = on_database(db_url, stored_orders)
    return {no: (o.amount_fen, o.paid_at, o.status) for no, o in orders.items()}


def _said(result: Result) -> list[str]:
    return [*result.stderr.splitlines(), *result.stdout.splitlines()]


def test_a_shops_csv_export_imports_as_it_is(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "订单导出.csv"
    lines = [",".join(EXPORT_HEADER), *(",".join(row) for row in EXPORT_ROWS)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))  # as Excel saves it

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3, result.output
    said = _said(result)
    assert [line for line in said if line in SAID] == SAID
    assert _stored(db_url) == STORED


def test_the_same_export_as_a_workbook(db_url: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(EXPORT_HEADER)
    for row in EXPORT_ROWS:  # amounts as numbers and times as dates, as the shop's Excel has them
        typed = [*row[:3], *(float(cell) for cell in row[3:6])]
        typed += [datetime.fromisoformat(cell) if cell else None for cell in row[6:8]]
        sheet.append([*typed, row[8]])
    path = tmp_path / "订单导出.xlsx"
    book.save(path)

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3, result.output
    assert [line for line in _said(result) if line in SAID] == SAID
    assert _stored(db_url) == STORED


def test_map_reads_a_header_nobody_foresaw(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("订单号,客户编号,成交价,付款时间\nM1,K1,12.50,2024-03-01\n", encoding="utf-8")

    unmapped = invoke_import(db_url, "orders", str(path))
    assert unmapped.exit_code == 2
    assert "缺少必需的列：amount" in unmapped.stderr

    mapped = invoke_import(db_url, "orders", str(path), "--map", "成交价=amount")
    assert mapped.exit_code == 0, mapped.output
    assert _stored(db_url)["M1"][0] == 1250

    wrong_column = invoke_import(db_url, "orders", str(path), "--map", "成交价=price")
    assert wrong_column.exit_code == 2
    assert wrong_column.stderr.strip() == (
        "错误：--map 指定的列 price 不存在"
        "（订单导入的列：order_no, customer_external_id, amount, paid_at, status, phone, name）"
    )
    absent = invoke_import(db_url, "orders", str(path), "--map", "成交额=amount", locale="en")
    assert absent.exit_code == 2
    assert absent.stderr.strip() == (
        "error: --map names a header the file does not have: 「成交额」 "
        "(its headers: 订单号、客户编号、成交价、付款时间)"
    )
    malformed = invoke_import(db_url, "orders", str(path), "--map", "成交价")
    assert malformed.exit_code == 2
    assert "表头=列名" in malformed.stderr


def test_map_overrides_the_tables_choice(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    lines = [",".join(EXPORT_HEADER), ",".join(EXPORT_ROWS[0])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = invoke_import(db_url, "orders", str(path), "--map", "商品总价=amount")

    assert result.exit_code == 0, result.output
    assert (
        "金额（amount）取自「商品总价」列；未使用：「应付金额」、「实付金额（元）」"
        in result.stderr.splitlines()
    )
    assert _stored(db_url)["T1"][0] == 12000


def test_help_and_readme_list_the_table(db_url: str) -> None:
    group = invoke_import(db_url, "--help").stdout
    for kind, columns in HEADER_NAMES.items():
        own = invoke_import(db_url, kind, "--help").stdout
        for column, names in columns.items():
            for name in (column, *names):
                assert name in group and name in own, (kind, name)
    assert readme_section() in README.read_text(encoding="utf-8"), (
        "README.md's import columns differ from the table: replace them with the output of "
        '.venv/bin/python -c "from models.importing.columns_doc import readme_section as r; '
        'print(r())"'
    )


def test_every_name_in_the_table_means_one_column_of_its_kind() -> None:
    for kind, columns in HEADER_NAMES.items():
        assert set(columns) <= set(IMPORT_KINDS[kind].columns), kind
        read_as: dict[str, str] = {}
        for column in IMPORT_KINDS[kind].columns:
            for name in header_names(kind, column):
                assert read_as.setdefault(normalize_header(name), column) == column, (kind, name)
