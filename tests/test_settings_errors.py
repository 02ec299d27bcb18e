"""A bad setting is named the way the operator writes it: the environment variable, and the
section and key of fission.toml — never with the value of a secret."""

from __future__ import annotations

import contextlib
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
