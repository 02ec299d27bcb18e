"""Orders keyed by the buyer's phone, as shops' exports have them (no customer number): each
is given the one customer with that phone (normalised: spaces, dashes, +86), or a new
customer made from it with the buyer's name; a phone two stored customers share is a
rejected row naming the ambiguity. All in a few statements over the staged rows, however
long the file."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from import_support import (
    invoke_import,
    on_database,
    stored_customers,
    stored_orders,
    write_csv,
)
from openpyxl import Workbook
from pg_schema import executed_sql
from sqlalchemy import insert

from models import Customer
from models.db import Database
from models.importing import import_csv

EXPORT = (
    "订单编号,买家昵称,买家手机号,实付金额,付款时间,订单状态\n"
    "P1,张三,138 1234 5678,10.00,2024-03-01 10:00,交易成功\n"
    "P2,小李,+86 139-1234-5678,20.00,2024-03-02 10:00,交易成功\n"
    "P3,小李,13912345678,30.00,2024-03-01 09:00,已完成\n"
    "P4,某人,13700000000,40.00,2024-03-03 10:00,交易成功\n"
    "P5,无名,,50.00,2024-03-03 10:00,交易成功\n"
    "P6,乱码,12345,60.00,2024-03-03 10:00,交易成功\n"
)


async def _known(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add_all(
            [
                Customer(external_id="K1", name="张三", phone="13812345678"),
                Customer(external_id="S1", name="王一", phone="13700000000"),
                Customer(external_id="S2", name="王二", phone="13700000000"),
            ]
        )
        await uow.commit()


def test_an_export_without_customer_numbers(db_url: str, tmp_path: Path) -> None:
    on_database(db_url, _known)
    path = write_csv(tmp_path, "export.csv", EXPORT)

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3, result.output
    said = result.stderr.splitlines()
    assert [line for line in said if line.startswith("第 ")] == [
        "第 5 行：手机号 137****0000 对应 2 个客户，分不清是哪一个：请在这一行填上客户编号",
        "第 6 行：缺少客户：客户编号（customer_external_id）和手机号（phone）至少填一个",
        "第 7 行：手机号格式不正确：12345（手机号为 11 位；座机需带区号，如 010-12345678）",
    ]
    assert "按手机号：1 条订单对应到已有客户；新建了 1 个客户" in said
    assert result.stdout.splitlines()[-1] == "导入 3 条，更新 0 条，拒绝 3 条"
    customers = on_database(db_url, stored_customers)
    orders = on_database(db_url, stored_orders)
    assert orders["P1"].customer_id == customers["K1"].id
    new = customers["tel:13912345678"]
    assert (new.name, new.phone, new.source, new.status) == ("小李", "13912345678", "order", "open")
    assert new.created_at == datetime(2024, 3, 1, 1, 0, tzinfo=UTC)  # its first order, P3
    assert orders["P2"].customer_id == orders["P3"].customer_id == new.id
    assert sorted(customers) == ["K1", "S1", "S2", "tel:13912345678"]

    again = invoke_import(db_url, "orders", str(path), locale="en")

    assert again.stdout.splitlines()[-1] == "imported 0, updated 0, rejected 3"
    assert "by phone: 3 orders matched a stored customer; 0 customers created" in again.stderr
    assert sorted(on_database(db_url, stored_customers)) == sorted(customers)


def test_a_workbook_with_phones_as_numbers_and_customer_numbers_where_known(
    db_url: str, tmp_path: Path
) -> None:
    on_database(db_url, _known)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["订单号", "客户编号", "收货人", "收货人手机", "订单金额", "下单时间"])
    sheet.append(["W1", "", "张三", 13812345678, 99.5, datetime(2024, 3, 1, 10, 0)])
    # The customer number wins over the phone, even one two customers share.
    sheet.append(["W2", "S2", "王二", 13700000000, 10, datetime(2024, 3, 1, 11, 0)])
    sheet.append(["W3", "", "赵六", "１５０００００００００", 10, datetime(2024, 3, 1, 12, 0)])
    path = tmp_path / "orders.xlsx"
    book.save(path)

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 0, result.output
    customers = on_database(db_url, stored_customers)
    orders = on_database(db_url, stored_orders)
    assert orders["W1"].customer_id == customers["K1"].id
    assert orders["W2"].customer_id == customers["S2"].id
    assert orders["W3"].customer_id == customers["tel:15000000000"].id
    assert customers["tel:15000000000"].name == "赵六"


async def test_a_100k_row_export_is_matched_in_a_few_statements(
    db: Database, tmp_path: Path
) -> None:
    # 20,000 stored customers with phones; the file's 100,000 orders come from 30,000 phones,
    # two thirds of them stored.
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(Customer),
            [{"external_id": f"K{n}", "phone": f"138{n:08d}"} for n in range(20_000)],
        )
    rows = "".join(
        f"N{n},138{n % 30_000:08d},{n % 500}.50,2024-03-01 10:00:00\n" for n in range(100_000)
    )
    path = write_csv(tmp_path, "orders.csv", "订单号,手机号,实付金额,付款时间\n" + rows)

    started = time.monotonic()
    with executed_sql(db) as statements:
        result = await import_csv(db, "orders", path, tz=ZoneInfo("Asia/Shanghai"))
    spent = time.monotonic() - started

    assert (result.imported, result.rejected) == (100_000, 0)
    assert (result.phone_matched, result.phone_customers) == (70_000, 10_000)
    assert len(statements) < 40, statements  # none per row, none per phone
    assert spent < 60, spent  # ~5 s here; a per-row loop over the database takes minutes
