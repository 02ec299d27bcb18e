"""Only the columns a row cannot do without are required: a customers file needs 客户编号,
姓名 and 创建时间; without 手机号, 地区 or 行业 it imports, and a column the file does not have
leaves what is stored in it alone (an empty cell in a column it has still clears it)."""

from __future__ import annotations

from pathlib import Path

from import_support import invoke_import, on_database, stored_customers, write_csv


def test_a_customers_file_without_region_or_industry_imports(db_url: str, tmp_path: Path) -> None:
    full = write_csv(
        tmp_path,
        "full.csv",
        "客户编号,姓名,手机号,地区,行业,创建时间\n"
        "K1,张三,13812345678,上海,零售,2024-05-01\n"
        "K2,李四,13912345678,北京,餐饮,2024-05-02\n",
    )
    assert invoke_import(db_url, "customers", str(full)).exit_code == 0
    short = write_csv(
        tmp_path,
        "short.csv",
        "客户编号,姓名,创建时间\nK1,张三丰,2024-05-01\nK2,李四,2024-05-02\nK3,王五,2024-05-03\n",
    )

    result = invoke_import(db_url, "customers", str(short))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "导入 1 条，更新 1 条，拒绝 0 条"
    stored = on_database(db_url, stored_customers)
    assert {key: (c.name, c.phone, c.region, c.industry) for key, c in stored.items()} == {
        "K1": ("张三丰", "13812345678", "上海", "零售"),  # only the name changed
        "K2": ("李四", "13912345678", "北京", "餐饮"),  # nothing changed: not counted
        "K3": ("王五", None, None, None),
    }
    again = invoke_import(db_url, "customers", str(short))
    assert again.stdout.splitlines()[-1] == "导入 0 条，更新 0 条，拒绝 0 条"


def test_the_required_columns_are_named_when_missing(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "c.csv", "姓名,手机号,地区\n张三,13812345678,上海\n")

    result = invoke_import(db_url, "customers", str(path))

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "错误：缺少必需的列：external_id, created_at"
        "（客户导入需要的列：external_id,name,created_at；"
        "各列可用的中文表头见 fission import --help，别的表头可用 --map 表头=列名 指定）"
    )
