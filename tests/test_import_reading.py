"""Opening the files people really have: Excel's GBK, UTF-8 with a BOM, Chinese headers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from models.importing.headers import resolve_header
from models.importing.kinds import CUSTOMERS, ORDERS
from models.importing.messages import UnusableInput
from models.importing.reader import CsvSource, detect_encoding

DATA = Path(__file__).parent / "data" / "import"


def test_a_bom_means_utf8_and_the_bom_is_not_part_of_the_first_column() -> None:
    assert detect_encoding(DATA / "customers_bom.csv") == "utf-8-sig"
    with CsvSource(DATA / "customers_bom.csv", "auto") as source:
        assert source.header[0] == "external_id"
        rows = list(source.rows())
    assert rows[0] == (2, ["C001", "张三", "138 1234 5678", "上海", "零售", "2024-01-15", "open"])


def test_gbk_from_excel_is_detected_and_read() -> None:
    assert detect_encoding(DATA / "customers_gbk.csv") == "gb18030"
    with CsvSource(DATA / "customers_gbk.csv", "auto") as source:
        assert source.header == ["客户编号", "姓名", "手机号", "地区", "行业", "创建时间", "状态"]
        names = [cells[1] for _line, cells in source.rows()]
    assert names == ["欧阳娜娜", "赵钱孙"]


def test_plain_utf8_is_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    # Chinese beyond the first MiB chunk boundary must not confuse the detector.
    path.write_text("a,b\n" + "x,y\n" * 300_000 + "张三,李四\n", encoding="utf-8")
    assert detect_encoding(path) == "utf-8"


def test_utf16_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"))
    with pytest.raises(UnusableInput) as caught:
        CsvSource(path, "auto")
    assert "CSV UTF-8" in caught.value.render()


def test_gbk_read_as_utf8_is_unusable_with_the_line(tmp_path: Path) -> None:
    with (
        pytest.raises(UnusableInput) as caught,
        CsvSource(DATA / "customers_gbk.csv", "utf-8") as source,
    ):
        list(source.rows())
    assert caught.value.key == "undecodable"
    assert caught.value.params["line"] == 1


def test_explicit_gbk_reads_gbk() -> None:
    with CsvSource(DATA / "customers_gbk.csv", "gbk") as source:
        assert source.header[1] == "姓名"


def test_an_empty_file_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        CsvSource(path, "auto")
    assert caught.value.key == "empty_file"


def test_a_missing_file_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput) as caught:
        CsvSource(tmp_path / "nope.csv", "auto")
    assert caught.value.render() == f"文件不存在：{tmp_path / 'nope.csv'}"


def test_records_report_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,x\n', encoding="utf-8")
    with CsvSource(path, "auto") as source:
        assert list(source.rows()) == [(2, ["1", "two\nlines"]), (5, ["3", "x"])]


def test_headers_tolerate_case_space_and_chinese_names() -> None:
    header = resolve_header([" Order No ", "客户编号", "金额（元）", "PAID_AT", "备注"], ORDERS)
    # order_no, customer_external_id, amount, paid_at found; status, phone, name absent;
    # 备注 ignored
    assert header.positions == (0, 1, 2, 3, -1, -1, -1)


def test_missing_columns_are_named() -> None:
    with pytest.raises(UnusableInput) as caught:
        resolve_header(["name", "phone", "region"], CUSTOMERS)
    assert caught.value.render() == (
        "缺少必需的列：external_id, created_at（客户导入需要的列：external_id,name,created_at；"
        "各列可用的中文表头见 fission import --help，别的表头可用 --map 表头=列名 指定）"
    )


def test_a_column_named_twice_is_unusable() -> None:
    with pytest.raises(UnusableInput) as caught:
        resolve_header(["订单号", "customer_external_id", "amount", "paid_at", "订单号"], ORDERS)
    assert caught.value.key == "duplicate_column"
