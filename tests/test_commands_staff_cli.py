"""`fission staff add|list|remove` on both backends: the first staff come from the command line."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FISSION_DATABASE_URL", db_url)
    monkeypatch.delenv("FISSION_CONFIG", raising=False)
    return CliRunner()


def test_add_list_update_remove(cli: CliRunner) -> None:
    add = ["staff", "add", "--platform", "wecom", "--user-id", "zhangmin", "--name", "张敏"]
    first = cli.invoke(main, [*add, "--role", "admin"])
    assert first.exit_code == 0, first.output
    assert re.search(r"已添加 / added: #\d+  张敏  admin  wecom:zhangmin", first.output)

    again = cli.invoke(main, [*add, "--role", "manager"])
    assert again.exit_code == 0
    assert "已更新 / updated" in again.output and "张敏  manager  wecom:zhangmin" in again.output

    feishu = cli.invoke(
        main, ["staff", "add", "--platform", "feishu", "--user-id", "ou_1", "--name", "李雷"]
    )
    assert feishu.exit_code == 0 and "李雷  agent  feishu:ou_1" in feishu.output

    listing = cli.invoke(main, ["staff", "list"])
    assert listing.exit_code == 0
    assert [line.split("  ")[1] for line in listing.output.splitlines()] == ["张敏", "李雷"]

    removed = cli.invoke(main, ["staff", "remove", "--platform", "feishu", "--user-id", "ou_1"])
    assert removed.exit_code == 0
    assert "已移除 / removed: feishu:ou_1 (李雷)" in removed.output
    assert "李雷 已停用" in removed.output
    assert "李雷" not in cli.invoke(main, ["staff", "list"]).output
    assert "李雷  agent  -  [inactive]" in cli.invoke(main, ["staff", "list", "--all"]).output

    missing = cli.invoke(main, ["staff", "remove", "--platform", "feishu", "--user-id", "ou_1"])
    assert missing.exit_code == 1


def test_bad_input_is_a_usage_error(cli: CliRunner) -> None:
    bad_platform = cli.invoke(
        main, ["staff", "add", "--platform", "qq", "--user-id", "1", "--name", "x"]
    )
    assert bad_platform.exit_code == 2 and "qq" in bad_platform.output
    blank = cli.invoke(
        main, ["staff", "add", "--platform", "wecom", "--user-id", " ", "--name", "x"]
    )
    assert blank.exit_code == 2 and "must not be empty" in blank.output
    role = cli.invoke(
        main,
        ["staff", "add", "--platform", "wecom", "--user-id", "u", "--name", "x", "--role", "boss"],
    )
    assert role.exit_code == 2
