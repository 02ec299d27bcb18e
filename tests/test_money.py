"""Money as people read it: one formatter of integer fen for chat, the CLI and the API's texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from models.money import format_fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (50, "¥0.50"),
        (100, "¥1.00"),
        (129900, "¥1,299.00"),
        (100_000_000, "¥1,000,000.00"),
        (-5, "-¥0.05"),
        (-50, "-¥0.50"),
        (-150, "-¥1.50"),
        (-1999, "-¥19.99"),
        (-129900, "-¥1,299.00"),
    ],
)
def test_fen_as_text(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_the_sign_comes_before_the_currency_sign_never_inside_the_number() -> None:
    # Floor division of a negative amount would make -50 fen "¥-1.50": a whole yuan too much.
    for fen in range(-250, 251):
        text = format_fen(fen)
        yuan, cents = divmod(abs(fen), 100)
        assert text == ("-" if fen < 0 else "") + f"¥{yuan}.{cents:02d}"


def test_program_list_shows_cash_rewards_with_thousands(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fission.toml").write_text(
        """
[[programs]]
key = "big"
name = "大额红包"
inviter_reward = { kind = "cash", amount_fen = 129900 }
invitee_reward = { kind = "cash", amount_fen = 50 }
""",
        encoding="utf-8",
    )
    cli = CliRunner(
        env={"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_CONFIG": None}
    )
    assert cli.invoke(main, ["program", "sync"]).exit_code == 0
    listed = cli.invoke(main, ["program", "list"])
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.output.splitlines() if line.startswith("big")]
    assert "cash:¥1,299.00" in line and "cash:¥0.50" in line
