"""`fission import … --dry-run` reads and validates the whole file, and says what would be
imported, updated and rejected (writing the rejects file), storing nothing — on both
databases, also into empty tables, where a real first load takes their indexes off."""

from __future__ import annotations

from pathlib import Path

from import_support import count_rows, invoke_import, on_database, stored_orders, write_csv
from pg_schema import schema_of

from models import Customer, Order
from models.db import Database

ORDERS = (
    "订单号,客户编号,买家手机号,买家昵称,实付金额,付款时间,订单状态\n"
    "D1,K1,,,10.00,2024-03-01 10:00,交易成功\n"
    "D2,,13912345678,小李,20.00,2024-03-02 10:00,交易成功\n"
    "D3,K1,,,-5,2024-03-02 10:00,交易成功\n"
)


def _counts(db_url: str) -> tuple[int, int]:
    return count_rows(db_url, Customer), count_rows(db_url, Order)


async def _schema(db: Database) -> object:
    """The indexes and constraints of the tables (PostgreSQL's catalogue; SQLite never drops
    them for a load)."""
    if db.dialect != "postgresql":
        return None
    return await schema_of(db, ("customers", "orders"))


def test_a_dry_run_into_empty_tables_stores_nothing(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "orders.csv", ORDERS)
    schema = on_database(db_url, _schema)

    dry = invoke_import(db_url, "orders", str(path), "--dry-run")

    assert dry.exit_code == 3, dry.output
    assert dry.stdout.splitlines()[-1] == "预演，未写入任何数据：将导入 2 条，更新 0 条，拒绝 1 条"
    said = dry.stderr.splitlines()
    assert "第 4 行：金额不能为负数：-5" in said
    assert f"被拒绝的行已写入 {tmp_path / 'orders.rejects.csv'}" in said
    assert "按手机号：0 条订单对应到已有客户；将新建 1 个客户" in said
    assert "将新建 1 个只有客户编号的客户记录（待补充资料）" in said
    assert (tmp_path / "orders.rejects.csv").exists()
    assert _counts(db_url) == (0, 0)
    assert on_database(db_url, _schema) == schema  # indexes taken off for a load are back

    real = invoke_import(db_url, "orders", str(path))
    assert real.stdout.splitlines()[-1] == "导入 2 条，更新 0 条，拒绝 1 条"
    assert _counts(db_url) == (2, 2)


def test_a_dry_run_of_changes_changes_nothing(db_url: str, tmp_path: Path) -> None:
    invoke_import(db_url, "orders", str(write_csv(tmp_path, "orders.csv", ORDERS)))
    before = {no: (o.amount_fen, o.status) for no, o in on_database(db_url, stored_orders).items()}
    changed = write_csv(
        tmp_path,
        "changed.csv",
        "订单号,客户编号,实付金额,付款时间,订单状态\n"
        "D1,K1,10.00,2024-03-01 10:00,退款成功\n"  # refunded
        "D4,K9,7.00,2024-03-05 10:00,交易成功\n",  # new, for a new customer
    )

    dry = invoke_import(db_url, "orders", str(changed), "--dry-run", locale="en")

    assert dry.exit_code == 0, dry.output
    assert (
        dry.stdout.splitlines()[-1] == "dry run, nothing stored: would import 1, update 1, reject 0"
    )
    assert "would create 1 customers known only by their number" in dry.stderr
    assert not (tmp_path / "changed.rejects.csv").exists()
    assert _counts(db_url) == (2, 2)
    after = {no: (o.amount_fen, o.status) for no, o in on_database(db_url, stored_orders).items()}
    assert after == before == {"D1": (1000, "paid"), "D2": (2000, "paid")}
