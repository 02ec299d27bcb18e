"""The customers import's optional closing date (`注销时间` / `closed_at`): a closed account is
churned from that date in historical lifecycle runs; without the column, an account imported as
closed is closed from the import on (and keeps that time on re-import)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result
from openpyxl import Workbook
from sqlalchemy import select

from bot.cli import main
from models import Customer
from models.db import Database

HEADER = "客户编号,姓名,手机号,地区,行业,创建时间,状态,注销时间\n"
# Local midnight of 2024-06-01 in Shanghai.
CLOSED_ON = datetime(2024, 5, 31, 16, 0, tzinfo=UTC)


def _cli(db_url: str, tmp_path: Path, *args: str, locale: str = "zh-CN") -> Result:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale, "FISSION_TIMEZONE": None}
    with contextlib.chdir(tmp_path):  # no ./fission.toml from the working tree
        return CliRunner().invoke(main, list(args), env=env)


def _import(
    db_url: str, tmp_path: Path, *rows: str, header: str = HEADER, locale: str = "zh-CN"
) -> Result:
    path = tmp_path / "customers.csv"
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return _cli(db_url, tmp_path, "import", "customers", str(path), locale=locale)


def _churned(db_url: str, tmp_path: Path, as_of: str) -> int:
    result = _cli(db_url, tmp_path, "lifecycle", "run", "--as-of", as_of, "--json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["counts"]["churned"])


def _closed_at(db_url: str) -> dict[str, tuple[str, datetime | None]]:
    async def read() -> dict[str, tuple[str, datetime | None]]:
        db = Database.from_url(db_url)
        try:
            async with db.uow() as uow:
                rows = await uow.session.execute(
                    select(Customer.external_id, Customer.status, Customer.closed_at)
                )
                return {key: (status, closed) for key, status, closed in rows.all()}
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_a_closing_date_churns_the_customer_from_that_day(db_url: str, tmp_path: Path) -> None:
    rows = (
        "C1,张三,13812345678,上海,零售,2024-01-02,注销,2024-06-01",
        # Status left empty: a closing date says the account is closed.
        "C2,李四,13912345678,北京,餐饮,2024-01-02,,2024-06-01 00:00",
        # Closed without a date: closed from the import on, as before.
        "C3,王五,13712345678,广州,零售,2024-01-02,closed,",
        "C4,赵六,13612345678,深圳,教育,2024-01-02,正常,",
    )
    result = _import(db_url, tmp_path, *rows)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "导入 4 条，更新 0 条，拒绝 0 条"
    stored = _closed_at(db_url)
    assert stored["C1"] == stored["C2"] == ("closed", CLOSED_ON)
    status, imported_closed = stored["C3"]
    assert status == "closed" and imported_closed is not None and imported_closed > CLOSED_ON
    assert stored["C4"] == ("open", None)

    assert _churned(db_url, tmp_path, "2024-05-31") == 0
    assert _churned(db_url, tmp_path, "2024-06-01") == 2  # C1 and C2; C3 closed only now

    again = _import(db_url, tmp_path, *rows)
    assert again.stdout.splitlines()[-1] == "导入 0 条，更新 0 条，拒绝 0 条"
    assert _closed_at(db_url) == stored


def test_a_later_file_moves_the_date_and_one_without_it_keeps_it(
    db_url: str, tmp_path: Path
) -> None:
    assert _import(db_url, tmp_path, "C1,张三,,上海,零售,2024-01-02,注销,2024-07-01").exit_code == 0
    result = _import(db_url, tmp_path, "C1,张三,,上海,零售,2024-01-02,注销,2024-06-01")
    assert result.stdout.splitlines()[-1] == "导入 0 条，更新 1 条，拒绝 0 条"
    assert _closed_at(db_url)["C1"] == ("closed", CLOSED_ON)
    # Today's export without the column: still closed, on the date given before.
    plain = "external_id,name,phone,region,industry,created_at,status\n"
    result = _import(db_url, tmp_path, "C1,张三,,上海,零售,2024-01-02,closed", header=plain)
    assert result.stdout.splitlines()[-1] == "导入 0 条，更新 0 条，拒绝 0 条"
    assert _closed_at(db_url)["C1"] == ("closed", CLOSED_ON)
    # Reopened: the date goes.
    result = _import(db_url, tmp_path, "C1,张三,,上海,零售,2024-01-02,open", header=plain)
    assert result.exit_code == 0
    assert _closed_at(db_url)["C1"] == ("open", None)


def test_a_closing_date_that_cannot_be_is_a_rejected_row(db_url: str, tmp_path: Path) -> None:
    rows = (
        "C1,张三,13812345678,上海,零售,2024-01-02,正常,2024-06-01",
        "C2,李四,13912345678,北京,餐饮,2024-03-02,注销,2024-03-01",
        "C3,王五,13712345678,广州,零售,2024-01-02,注销,六月一日",
        "C4,赵六,13612345678,深圳,教育,2024-01-02,注销,2024-06-01",
    )
    result = _import(db_url, tmp_path, *rows)
    assert result.exit_code == 3
    assert result.stdout.splitlines()[-1] == "导入 1 条，更新 0 条，拒绝 3 条"
    for line, reason in (
        (2, "注销时间（closed_at）只能填在已注销的客户上，状态却是 正常：2024-06-01"),
        (3, "注销时间（closed_at）早于创建时间：2024-03-01"),
        (4, "注销时间（closed_at）无法识别为日期：六月一日"),
    ):
        assert f"第 {line} 行" in result.stderr and reason in result.stderr
    assert set(_closed_at(db_url)) == {"C4"}

    english = _import(db_url, tmp_path, *rows, locale="en")
    assert (
        "closed_at is given (2024-06-01) but status is 正常: set status to closed, "
        "or leave closed_at empty"
    ) in english.stderr
    assert "closed_at is before created_at: 2024-03-01" in english.stderr


def test_an_excel_sheet_with_a_typed_closing_date(db_url: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户编号", "姓名", "手机号", "地区", "行业", "创建时间", "状态", "注销时间"])
    sheet.append(["K1", "张三", 13812345678, "上海", "零售", datetime(2024, 1, 2), "已注销"])
    sheet.append(["K2", "李四", 13912345678, "北京", "餐饮", datetime(2024, 1, 2), "已注销"])
    sheet.cell(row=2, column=8, value=datetime(2024, 6, 1))
    path = tmp_path / "客户.xlsx"
    book.save(path)

    result = _cli(db_url, tmp_path, "import", "customers", str(path))
    assert result.exit_code == 0, result.output
    stored = _closed_at(db_url)
    assert stored["K1"] == ("closed", CLOSED_ON)
    assert stored["K2"][1] is not None and stored["K2"][1] > CLOSED_ON
    assert _churned(db_url, tmp_path, "2024-05-31") == 0
    assert _churned(db_url, tmp_path, "2024-06-01") == 1
