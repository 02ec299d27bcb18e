"""Importing orders: money in fen, bare customers, refunds, idempotence, bad rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from import_support import stored_customers, stored_orders, write_csv

from models import Customer, Order
from models.db import Database
from models.importing import import_csv

DATA = Path(__file__).parent / "data" / "import"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "order_no,customer_external_id,amount,paid_at,status\n"


def _write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    return write_csv(tmp_path, name, text)


async def test_orders_are_stored_in_fen_and_unknown_customers_are_created_bare(
    db: Database, tmp_path: Path
) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="KNOWN", name="老客户"))
        await uow.commit()
    path = _write(
        tmp_path,
        HEADER
        + "A1,KNOWN,199.00,2024-06-01 10:00,paid\n"
        + "A2,NEW1,0.29,2024-06-03,\n"
        + "A3,NEW1,1299.5,2024-06-02 08:00,\n"
        + "A4,NEW2,18,2024-06-05T00:00:00Z,refunded\n",
    )

    result = await import_csv(db, "orders", path, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (4, 0, 0)
    assert result.bare_customers == 2
    orders = await stored_orders(db)
    assert {key: row.amount_fen for key, row in orders.items()} == {
        "A1": 19900,
        "A2": 29,
        "A3": 129950,
        "A4": 1800,
    }
    assert orders["A1"].paid_at == datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
    assert (orders["A2"].status, orders["A2"].refunded_at) == ("paid", None)
    assert orders["A4"].status == "refunded" and orders["A4"].refunded_at is not None
    customers = await stored_customers(db)
    assert set(customers) == {"KNOWN", "NEW1", "NEW2"}
    bare = customers["NEW1"]
    assert (bare.name, bare.phone, bare.source, bare.status) == (None, None, "order", "open")
    # a bare customer is dated by its first order in the file (A3, 2024-06-02 08:00 local)
    assert bare.created_at == datetime(2024, 6, 2, 0, 0, tzinfo=UTC)
    assert orders["A2"].customer_id == orders["A3"].customer_id == bare.id
    assert orders["A1"].customer_id == customers["KNOWN"].id
    assert customers["KNOWN"].source == "import"  # the existing customer is untouched


async def test_reimport_is_a_no_op(db: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "A1,C1,199.00,2024-06-01 10:00,paid\nA2,C1,5,2024-06-02,refunded\n",
    )
    await import_csv(db, "orders", path, tz=SHANGHAI)
    before = await stored_orders(db)

    again = await import_csv(db, "orders", path, tz=SHANGHAI)

    assert (again.imported, again.updated, again.rejected, again.bare_customers) == (0, 0, 0, 0)
    after = await stored_orders(db)
    for key, row in before.items():
        assert (after[key].updated_at, after[key].refunded_at) == (row.updated_at, row.refunded_at)


async def test_an_order_written_by_the_application_is_not_changed_by_the_same_row(
    db: Database, tmp_path: Path
) -> None:
    async with db.uow() as uow:
        customer = Customer(external_id="C1")
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            Order(
                order_no="A1",
                customer_id=customer.id,
                amount_fen=19900,
                paid_at=datetime(2024, 6, 1, 2, 0, tzinfo=UTC),
            )
        )
        await uow.commit()

    result = await import_csv(
        db, "orders", _write(tmp_path, HEADER + "A1,C1,199,2024-06-01 10:00,\n"), tz=SHANGHAI
    )

    assert (result.imported, result.updated) == (0, 0)


async def test_paid_to_refunded_is_an_update_that_stamps_the_refund(
    db: Database, tmp_path: Path
) -> None:
    await import_csv(
        db,
        "orders",
        _write(tmp_path, HEADER + "A1,C1,199.00,2024-06-01,paid\nA2,C1,5,2024-06-02,paid\n"),
        tz=SHANGHAI,
    )
    started = datetime.now(UTC)

    refunded = await import_csv(
        db,
        "orders",
        _write(tmp_path, HEADER + "A1,C1,199.00,2024-06-01,refunded\nA2,C1,5,2024-06-02,\n"),
        tz=SHANGHAI,
    )

    assert (refunded.imported, refunded.updated) == (0, 1)
    orders = await stored_orders(db)
    assert orders["A1"].status == "refunded"
    stamp = orders["A1"].refunded_at
    assert stamp is not None and stamp >= started - timedelta(seconds=1)
    assert orders["A1"].amount_fen == 19900
    assert (orders["A2"].status, orders["A2"].refunded_at) == ("paid", None)

    # Saying "refunded" again neither counts nor moves the refund time.
    again = await import_csv(
        db, "orders", _write(tmp_path, HEADER + "A1,C1,199.00,2024-06-01,refunded\n"), tz=SHANGHAI
    )
    assert (again.imported, again.updated) == (0, 0)
    assert (await stored_orders(db))["A1"].refunded_at == stamp

    # An empty status keeps the refund; an explicit "paid" (a correction) clears it.
    kept = await import_csv(
        db, "orders", _write(tmp_path, HEADER + "A1,C1,199.00,2024-06-01,\n"), tz=SHANGHAI
    )
    assert kept.updated == 0
    corrected = await import_csv(
        db, "orders", _write(tmp_path, HEADER + "A1,C1,199.00,2024-06-01,paid\n"), tz=SHANGHAI
    )
    assert corrected.updated == 1
    assert (
        (await stored_orders(db))["A1"].status,
        (await stored_orders(db))["A1"].refunded_at,
    ) == (
        "paid",
        None,
    )


async def test_changed_amount_or_time_are_updates_another_customer_is_refused(
    db: Database, tmp_path: Path
) -> None:
    await import_csv(
        db,
        "orders",
        _write(
            tmp_path, HEADER + "A1,C1,10,2024-06-01,\nA2,C1,20,2024-06-01,\nA3,C1,30,2024-06-01,\n"
        ),
        tz=SHANGHAI,
    )

    path = _write(
        tmp_path,
        HEADER + "A1,C1,10.01,2024-06-01,\nA2,C1,20,2024-06-01 00:00:01,\nA3,C2,30,2024-06-01,\n",
    )
    result = await import_csv(db, "orders", path, tz=SHANGHAI)

    # A3 is C1's order: a file naming C2 for it is refused (as the API refuses it), with its
    # line and cells in the rejects file, and C2 is not created for it.
    assert (result.imported, result.updated, result.bare_customers) == (0, 2, 0)
    assert [(row.line, row.reason, row.values) for row in result.rejects] == [
        (
            4,
            "订单号 A3 已属于客户 C1，不能改到 C2（订单号重复？请核对）",
            ["A3", "C2", "30", "2024-06-01", ""],
        )
    ]
    assert result.rejects_path is not None and "A3,C2,30" in result.rejects_path.read_text(
        encoding="utf-8-sig"
    )
    orders = await stored_orders(db)
    customers = await stored_customers(db)
    assert orders["A1"].amount_fen == 1001
    assert orders["A2"].paid_at == datetime(2024, 5, 31, 16, 0, 1, tzinfo=UTC)
    assert orders["A3"].customer_id == customers["C1"].id
    assert "C2" not in customers


async def test_every_kind_of_bad_order_row_is_rejected(db: Database, tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "orders_bad.csv", tmp_path / "orders_bad.csv"))

    result = await import_csv(db, "orders", path, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (2, 0, 8)
    assert result.bare_customers == 2  # K1 (OK1) and K2 (OK2)
    reasons = {row.line: row.reason for row in result.rejects}
    assert reasons == {
        3: "缺少必填字段：订单号（order_no）",
        4: "缺少必填字段：金额（amount）",
        5: "金额格式错误：十块（应为以元为单位的数字，如 199.00）",
        6: "金额不能为负数：-5.00",
        7: "金额最多两位小数（精确到分）：12.345",
        8: "状态（status）取值无效：cancelled（可选：paid, refunded）",
        9: "支付时间（paid_at）无法识别为日期：yesterday"
        "（可用：2024-03-05、2024/3/5、2024.3.5、2024年3月5日，可带时间 14:30 或 14:30:00，"
        "也可以是带时区的 2024-03-05T14:30:00+08:00 或 Excel 日期序号 45356）",
        10: "与第 2 行重复：订单号（order_no）为 OK1",
    }
    orders = await stored_orders(db)
    assert (orders["OK1"].amount_fen, orders["OK2"].amount_fen) == (19900, 29)
    assert orders["OK2"].status == "refunded"
    assert result.rejects_path is not None
    assert result.rejects_path.read_text(encoding="utf-8-sig").splitlines()[1] == (
        ",K1,10,2024-06-01,,3,缺少必填字段：订单号（order_no）"
    )


async def test_status_spellings_and_excel_mangled_or_long_numbers(
    db: Database, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "S1,C1,1,2024-06-01 10:00:00,Paid\n"
        + "S2,C1,1,2024-06-01 10:00:00,REFUNDED\n"
        + "S3,C1,1,2024-06-01 10:00:00,已付款\n"
        + "20240601001,1001,1,2024-06-01 10:00:00,\n"  # numbers that are only digits are fine
        + "1.23457E+11,C1,1,2024-06-01,\n"
        + "S4,8.6E+10,1,2024-06-01,\n"
        + f"{'S' * 65},C1,1,2024-06-01,\n"
        + f"S5,{'C' * 65},1,2024-06-01,\n",
    )

    result = await import_csv(db, "orders", path, tz=SHANGHAI)

    assert (result.imported, result.rejected) == (4, 4)
    orders = await stored_orders(db)
    assert {key: row.status for key, row in orders.items()} == {
        "S1": "paid",
        "S2": "refunded",
        "S3": "paid",
        "20240601001": "paid",
    }
    assert "1001" in await stored_customers(db)
    assert [row.reason for row in result.rejects] == [
        "订单号（order_no）被 Excel 转成了科学计数法：1.23457E+11"
        "（请把该列设为文本格式后重新导出）",
        "客户编号（customer_external_id）被 Excel 转成了科学计数法：8.6E+10"
        "（请把该列设为文本格式后重新导出）",
        "订单号（order_no）过长（最多 64 个字符）",
        "客户编号（customer_external_id）过长（最多 64 个字符）",
    ]


async def test_many_batches_give_the_same_result_as_one(db: Database, tmp_path: Path) -> None:
    lines = [
        f"B{i:03d},C{i % 7},{i}.{i % 100:02d},2024-06-{1 + i % 28:02d} 12:00,\n" for i in range(50)
    ]
    path = _write(tmp_path, HEADER + "".join(lines) + "B007,C1,1,2024-06-01,\n")

    result = await import_csv(db, "orders", path, tz=SHANGHAI, batch_rows=4)

    assert (result.imported, result.rejected, result.bare_customers) == (50, 1, 7)
    assert result.rejects[0].line == 52
    assert result.rejects[0].reason == "与第 9 行重复：订单号（order_no）为 B007"
    orders = await stored_orders(db)
    assert len(orders) == 50
    assert orders["B042"].amount_fen == 4242


async def test_progress_reports_add_up_to_the_file_size(db: Database, tmp_path: Path) -> None:
    lines = [f"P{i:04d},C1,1,2024-06-01,\n" for i in range(300)]
    path = _write(tmp_path, HEADER + "".join(lines))
    reported: list[int] = []

    await import_csv(db, "orders", path, tz=SHANGHAI, batch_rows=100, progress=reported.append)

    assert sum(reported) == path.stat().st_size
    assert all(step >= 0 for step in reported)


async def test_a_bare_customer_is_dated_by_its_earliest_order_even_in_a_later_batch(
    db: Database, tmp_path: Path
) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="NAMED", name="有名字"))
        await uow.commit()
    fillers = "".join(f"F{i},OTHER,1,2024-06-05,\n" for i in range(5))
    path = _write(
        tmp_path,
        HEADER
        + "X1,LATE,1,2024-06-10 09:00,\n"
        + "N1,NAMED,1,2024-06-10,\n"
        + fillers
        + "X2,LATE,1,2024-06-02 09:00,\n"
        + "N2,NAMED,1,2024-01-01,\n",
    )

    result = await import_csv(db, "orders", path, tz=SHANGHAI, batch_rows=2)

    assert (result.imported, result.bare_customers) == (9, 2)
    customers = await stored_customers(db)
    assert customers["LATE"].created_at == datetime(2024, 6, 2, 1, 0, tzinfo=UTC)
    # a customer who existed before keeps their own date
    assert customers["NAMED"].created_at > datetime(2025, 1, 1, tzinfo=UTC)
