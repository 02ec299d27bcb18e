"""`fission report …` end to end through click, on a real database of each backend."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from reports_population import seed_main_population

from bot.cli.report import report_group

BOM = b"\xef\xbb\xbf"
FULL_PERSONAL_DATA = ["张三丰", "13812345678", "李四", "13900001111"]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    asyncio.run(seed_main_population(db_url))
    monkeypatch.chdir(tmp_path)  # no stray fission.toml; output files land here
    return CliRunner(
        env={"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_CONFIG": None}
    )


def _run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(report_group, list(args))


def test_report_is_a_fission_command(cli: CliRunner) -> None:
    from bot.cli import main

    result = cli.invoke(main, ["report", "--help"])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in ("referral", "funnel", "top", "tree"))


def test_referral_table_in_the_terminal(cli: CliRunner) -> None:
    result = _run(cli, "referral", "--as-of", "2024-06-30")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "客户裂变管理表"
    assert lines[1].split()[:3] == ["客户类型", "客户数", "裂变目标"]
    assert lines[3].startswith("新客户") and "50.0%" in lines[3]
    assert lines[-1] == "统计截至 2024-06-30（Asia/Shanghai）"


def test_referral_csv_to_a_file_has_a_bom(cli: CliRunner, tmp_path: Path) -> None:
    result = _run(cli, "referral", "--as-of", "2024-06-30", "--format", "csv", "-o", "r.csv")
    assert result.exit_code == 0, result.output
    data = (tmp_path / "r.csv").read_bytes()
    assert data.startswith(BOM)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "客户类型" and rows[0][-2:] == ["裂变成功率", "客户反馈"]
    assert rows[2][:2] == ["老客户", "2"] and rows[2][-2] == "33.3%"
    assert len(rows) == 8


def test_referral_xlsx_workbook_has_table_funnel_and_masked_leaderboard(
    cli: CliRunner, tmp_path: Path
) -> None:
    result = _run(cli, "referral", "--as-of", "2024-06-30", "--format", "xlsx", "-o", "r.xlsx")
    assert result.exit_code == 0, result.output
    assert "已写入 r.xlsx" in result.stderr
    workbook = load_workbook(tmp_path / "r.xlsx")
    assert workbook.sheetnames == ["客户裂变管理表", "裂变漏斗", "邀请排行"]
    table = workbook["客户裂变管理表"]
    assert [c.value for c in table[2]][:2] == ["新客户", 9]
    assert table["I2"].value == 0.5 and table["I2"].number_format == "0.0%"
    leaders = workbook["邀请排行"]
    assert [c.value for c in leaders[2]][:4] == [1, "A", "张**", "138****5678"]
    everything = " ".join(
        str(cell.value) for ws in workbook for row in ws.iter_rows() for cell in row
    )
    assert not any(secret in everything for secret in FULL_PERSONAL_DATA)


def test_funnel_csv_on_stdout(cli: CliRunner) -> None:
    result = _run(cli, "funnel", "--as-of", "2024-06-30", "--by", "channel", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(BOM)
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert rows[1:] == [
        ["渠道", "分享链接", "1", "5", "3", "1", "1", "0", "2", "3.00", "33.3%", "1.00"],
        ["渠道", "企业微信群", "1", "", "4", "3", "2", "1", "1", "4.00", "50.0%", "2.00"],
    ]


def test_top_inviters_are_masked(cli: CliRunner) -> None:
    result = _run(cli, "top", "--as-of", "2024-06-30", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "张**" in result.stdout and "138****5678" in result.stdout
    assert "李*" not in result.stdout  # limit 1
    assert not any(secret in result.output for secret in FULL_PERSONAL_DATA)


def test_tree_by_external_id_phone_or_name(cli: CliRunner) -> None:
    result = _run(cli, "tree", "A")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "张**（138****5678）的裂变树（最多 3 层）"
    assert "共带来 3 人（第 1 层 3 人），其中 2 人已转化" in result.stdout

    by_phone = _run(cli, "tree", "13812345678", "--depth", "1")
    assert by_phone.exit_code == 0 and "最多 1 层" in by_phone.stdout

    several = _run(cli, "tree", "钱")
    assert several.exit_code == 0, several.output
    assert "fission report tree" in several.stdout and "钱**" in several.stdout
    assert not any(secret in several.output for secret in ["钱1号", "13500000001"])


def test_bad_input_gets_a_clear_message_not_a_traceback(cli: CliRunner) -> None:
    unknown = _run(cli, "tree", "nobody")
    assert unknown.exit_code == 1
    assert "没有找到与“nobody”匹配的客户" in unknown.output

    cases = [
        (["referral", "--format", "xlsx"], "请用 -o 指定文件名"),
        (["referral", "--as-of", "2024-06-31"], "2024-06-31"),
        (
            ["referral", "--as-of", "2024-06-01", "--since", "2024-06-02"],
            "开始日期不能晚于统计日期",
        ),
        (["funnel", "--by", "city"], "city"),
        (["tree", "A", "--depth", "0"], "--depth"),
        (["referral", "--format", "csv", "-o", "missing/dir/r.csv"], "无法写入"),
    ]
    for args, message in cases:
        result = _run(cli, *args)
        assert result.exit_code in (1, 2), (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
