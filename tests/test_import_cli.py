"""`fission import …` as a person runs it: summary line, messages, exit statuses, the rejects
file, and a progress bar only where a person watches a long import."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from cli_terminal import run_fission
from import_support import count_rows, invoke_import

from models import Customer, Order
from models.db import Database

DATA = Path(__file__).parent / "data" / "import"
HEADER = "order_no,customer_external_id,amount,paid_at,status\n"


def test_clean_file_exits_0_and_reimport_reports_nothing_new(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,199.00,2024-06-01,\nA2,C1,5,2024-06-02,\n", encoding="utf-8")

    first = invoke_import(db_url, "orders", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == "导入 2 条，更新 0 条，拒绝 0 条"
    assert "新建了 1 个只有客户编号的客户记录" in first.stderr

    again = invoke_import(db_url, "orders", str(path))
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "导入 0 条，更新 0 条，拒绝 0 条"
    assert count_rows(db_url, Order) == 2


def test_an_update_is_counted(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,199.00,2024-06-01,\n", encoding="utf-8")
    invoke_import(db_url, "orders", str(path))
    path.write_text(HEADER + "A1,C1,199.00,2024-06-01,refunded\n", encoding="utf-8")

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "导入 0 条，更新 1 条，拒绝 0 条"


def test_rejected_rows_exit_3_with_lines_and_a_rejects_file(db_url: str, tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "orders_bad.csv", tmp_path / "orders_bad.csv"))

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3
    assert result.stdout.splitlines()[-1] == "导入 2 条，更新 0 条，拒绝 8 条"
    assert "第 6 行：金额不能为负数：-5.00" in result.stderr
    assert f"被拒绝的行已写入 {tmp_path / 'orders_bad.rejects.csv'}" in result.stderr
    assert (tmp_path / "orders_bad.rejects.csv").exists()
    assert count_rows(db_url, Order) == 2


def test_gbk_and_bom_files_import_through_the_cli(db_url: str, tmp_path: Path) -> None:
    gbk = Path(shutil.copy(DATA / "customers_gbk.csv", tmp_path / "gbk.csv"))
    bom = Path(shutil.copy(DATA / "customers_bom.csv", tmp_path / "bom.csv"))

    assert invoke_import(db_url, "customers", str(gbk), "--encoding", "gbk").exit_code == 0
    result = invoke_import(db_url, "customers", str(bom))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "导入 3 条，更新 0 条，拒绝 0 条"
    assert count_rows(db_url, Customer) == 5


def test_missing_file_exits_2_with_a_clear_message(db_url: str, tmp_path: Path) -> None:
    result = invoke_import(db_url, "customers", str(tmp_path / "nope.csv"))

    assert result.exit_code == 2
    assert result.stderr.strip() == f"错误：文件不存在：{tmp_path / 'nope.csv'}"


def test_missing_columns_exit_2_naming_them(db_url: str, tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "orders_missing_column.csv", tmp_path / "o.csv"))

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 2
    assert "缺少必需的列：amount" in result.stderr
    assert "Traceback" not in result.output
    assert count_rows(db_url, Order) == 0


def test_wrong_encoding_exits_2(db_url: str, tmp_path: Path) -> None:
    gbk = Path(shutil.copy(DATA / "customers_gbk.csv", tmp_path / "gbk.csv"))

    result = invoke_import(db_url, "customers", str(gbk), "--encoding", "utf-8")

    assert result.exit_code == 2
    assert "无法按 utf-8-sig 解码（约在第 1 行）" in result.stderr


def test_english_locale(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,-1,2024-06-01,\n", encoding="utf-8")

    result = invoke_import(db_url, "orders", str(path), locale="en")

    assert result.exit_code == 3
    assert "line 2: amount must not be negative: -1" in result.stderr
    assert result.stdout.splitlines()[-1] == "imported 0, updated 0, rejected 1"


def test_a_database_failure_exits_1_and_says_nothing_was_stored(
    db_url: str, tmp_path: Path
) -> None:
    async def add_blocking_customer() -> None:
        # The bare customer the orders file needs collides with a CHECK the test adds.
        db = Database.from_url(db_url)
        try:
            async with db.engine.begin() as conn:
                if db.dialect == "sqlite":
                    await conn.exec_driver_sql(
                        "CREATE TRIGGER no_bare BEFORE INSERT ON customers WHEN NEW.name IS NULL "
                        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                    )
                else:
                    await conn.exec_driver_sql(
                        "ALTER TABLE customers ADD CONSTRAINT injected_failure "
                        "CHECK (name IS NOT NULL)"
                    )
        finally:
            await db.dispose()

    asyncio.run(add_blocking_customer())
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,1,2024-06-01,\n", encoding="utf-8")

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 1
    assert f"导入失败，{path} 中的数据一行都没有写入" in result.stderr
    assert "injected" in result.stderr
    assert count_rows(db_url, Order) == 0
    assert count_rows(db_url, Customer) == 0


def test_a_file_with_only_its_header_says_so(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n\n", encoding="utf-8")  # Excel's trailing blank lines too

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "导入 0 条，更新 0 条，拒绝 0 条"
    assert "提示：文件只有表头，没有数据行" in result.stderr

    path.write_text(HEADER + "A1,C1,5,2024-06-01,\n", encoding="utf-8")
    assert "没有数据行" not in invoke_import(db_url, "orders", str(path)).stderr


def test_the_summary_speaks_the_configured_language(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,5,2024-06-01,\nA2,C1,-5,2024-06-01,\n", encoding="utf-8")

    zh = invoke_import(db_url, "orders", str(path))
    en = invoke_import(db_url, "orders", str(path), locale="en")

    assert zh.stdout.splitlines() == ["导入 1 条，更新 0 条，拒绝 1 条"]
    assert en.stdout.splitlines() == ["imported 0, updated 0, rejected 1"]
    assert "line 3: amount must not be negative: -5" in en.stderr


def test_the_rejects_file_named_is_the_one_written(db_url: str, tmp_path: Path) -> None:
    for name, rejects in (("Orders.CSV", "Orders.rejects.csv"), ("订单", "订单.rejects.csv")):
        path = tmp_path / name
        path.write_text(HEADER + "A1,C1,-5,2024-06-01,\n", encoding="utf-8")

        result = invoke_import(db_url, "orders", str(path))

        assert f"被拒绝的行已写入 {tmp_path / rejects}" in result.stderr.splitlines()
        written = (tmp_path / rejects).read_text(encoding="utf-8-sig").splitlines()
        assert written[1] == "A1,C1,-5,2024-06-01,,2,金额不能为负数：-5"
    assert "NAME.rejects.csv" in invoke_import(db_url, "--help").stdout


def _import_at(tmp_path: Path, db_url: str, terminal: bool, prelude: str = "") -> str:
    """What `fission import orders` says on stderr to a terminal (or a pipe)."""
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "A1,C1,5,2024-06-01,\n", encoding="utf-8")
    env = {**os.environ, "FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    status, out, said = run_fission(
        ["import", "orders", str(path)], env, tmp_path, terminal=terminal, prelude=prelude
    )
    assert status == 0, said
    assert out.splitlines()[-1] in (
        "导入 1 条，更新 0 条，拒绝 0 条",
        "导入 0 条，更新 0 条，拒绝 0 条",
    )
    return said


def test_a_progress_bar_only_at_a_terminal_and_only_on_a_long_import(
    db_url: str, tmp_path: Path
) -> None:
    # An import that has run past the delay (here: none) shows the bar, in Chinese.
    said = _import_at(tmp_path, db_url, True, "import bot.cli.imports as m; m.PROGRESS_AFTER_S = 0")
    assert "导入中" in said and "100%" in said
    # A quick import at a terminal shows none; a script reading stderr never gets one.
    assert "导入中" not in _import_at(tmp_path, db_url, True)
    assert "导入中" not in _import_at(
        tmp_path, db_url, False, "import bot.cli.imports as m; m.PROGRESS_AFTER_S = 0"
    )
