"""A bad setting is named the way the operator writes it: the environment variable, and the
section and key of fission.toml — never with the value of a secret."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from config.settings import ConfigError, load_settings


def test_a_platform_key_names_its_variable_and_its_toml_section(tmp_path: Path) -> None:
    config = tmp_path / "fission.toml"
    config.write_text(
        '[wecom]\ncorp_id = "ww1"\nagent_id = "abc"\nsecret = "s3cr3t-value"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert message.splitlines() == [
        "配置无效 / invalid configuration:",
        "  wecom_agent_id (FISSION_WECOM_AGENT_ID; [wecom] agent_id in fission.toml): "
        "Input should be a valid integer, unable to parse string as an integer",
    ]
    assert "s3cr3t" not in message


def test_a_rule_threshold_names_its_nested_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(lifecycle={"window_days": "thirty"})
    assert (
        "  lifecycle.window_days (FISSION_LIFECYCLE__WINDOW_DAYS; [lifecycle] window_days "
        "in fission.toml): Input should be a valid integer"
    ) in str(caught.value)


def test_the_cli_prints_every_bad_setting_and_stops(tmp_path: Path) -> None:
    env = {"FISSION_TIMEZONE": "Mars/Base", "FISSION_LIFECYCLE__WINDOW_DAYS": "x"}
    with contextlib.chdir(tmp_path):  # no ./fission.toml from the working tree
        result = CliRunner().invoke(main, ["lifecycle", "run"], env=env)
    assert result.exit_code == 1
    assert "timezone (FISSION_TIMEZONE): Value error, unknown time zone 'Mars/Base'" in (
        result.output
    )
    assert "lifecycle.window_days (FISSION_LIFECYCLE__WINDOW_DAYS;" in result.output


def test_a_poster_font_must_be_a_font_file(tmp_path: Path) -> None:
    missing = tmp_path / "brand.otf"
    with pytest.raises(ConfigError) as caught:
        load_settings(poster_font=missing)
    assert f"  poster_font (FISSION_POSTER_FONT): Value error, no font file at {missing}" in (
        str(caught.value)
    )
    missing.write_text("not a font", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(poster_font=missing)
    assert f"{missing} is not a font file (.ttf, .otf or .ttc)" in str(caught.value)


def test_feishu_does_not_start_without_its_verification_token_and_encrypt_key(
    tmp_path: Path,
) -> None:
    config = tmp_path / "fission.toml"
    config.write_text(
        '[feishu]\napp_id = "cli_a1b2c3d4"\napp_secret = "s3cr3t-value"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    lines = str(caught.value).splitlines()
    assert lines[0] == "配置无效 / invalid configuration:"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [
        "  feishu_verification_token (FISSION_FEISHU_VERIFICATION_TOKEN; "
        "[feishu] verification_token in fission.toml)",
        "  feishu_encrypt_key (FISSION_FEISHU_ENCRYPT_KEY; [feishu] encrypt_key in fission.toml)",
    ]
    assert all("飞书" in line and "Feishu" in line for line in lines[1:])
    assert "s3cr3t" not in str(caught.value)


def test_a_token_without_the_app_credentials_is_named_too() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(feishu_verification_token="v-token", feishu_encrypt_key="k")
    message = str(caught.value)
    assert "feishu_app_id (FISSION_FEISHU_APP_ID; [feishu] app_id in fission.toml)" in message
    assert "feishu_app_secret (FISSION_FEISHU_APP_SECRET;" in message
    assert "v-token" not in message


def test_fission_serve_refuses_to_start_with_half_a_feishu_configuration(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "FISSION_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        "FISSION_FEISHU_APP_ID": "cli_a1b2c3d4",
        "FISSION_FEISHU_APP_SECRET": "s3cr3t",
    }
    fission = Path(sys.executable).parent / "fission"
    try:  # a server that started would never exit
        done = subprocess.run(
            [str(fission), "serve", "--port", "18790"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("fission serve started without a Feishu verification token") from exc
    assert done.returncode == 1
    assert "FISSION_FEISHU_VERIFICATION_TOKEN" in done.stderr
    assert "FISSION_FEISHU_ENCRYPT_KEY" in done.stderr
