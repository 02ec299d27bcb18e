"""`fission lifecycle run`: the table, the exact JSON, the default date and bad dates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lifecycle_world import TZ, T, World
from sqlalchemy import text
from terminal import run_cli

from bot.cli import main
from bot.cli.lifecycle import format_summary_table
from models.clock import today
from models.db import Database
from models.lifecycle import RUN_LOCK_KEY, LifecycleSummary


async def _populate(url: str) -> None:
    db = Database.from_url(url)
    world = World(db)
    for name in ("new", "gone", "lead", "idle"):
        await world.customer(name)
    await world.add(
        world.order("new", 3, 5000),
        world.order("gone", 100, 8000),
        world.event("lead", "lead_form", 2),
    )
    await db.dispose()


def _invoke(db_url: str, tmp_path: Path, *args: str, locale: str = "zh-CN") -> tuple[int, str]:
    runner = CliRunner()
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale}
    with contextlib.chdir(tmp_path):  # no ./fission.toml from the working tree
        result = runner.invoke(main, ["lifecycle", "run", *args], env=env)
    return result.exit_code, result.output


def test_json_output_is_exact(db_url: str, tmp_path: Path) -> None:
    asyncio.run(_populate(db_url))
    code, out = _invoke(db_url, tmp_path, "--as-of", T.isoformat(), "--json")
    assert code == 0, out
    assert out == (
        '{"as_of": "2024-06-30", "counts": {"prospect": 2, "new": 1, "growing": 0, '
        '"mature": 0, "declining": 0, "churned": 1}, "grades": {"A": 1, "B": 0, "C": 1}, '
        '"transitions": 4}\n'
    )
    # a second run on the same date changes nothing
    code, out = _invoke(db_url, tmp_path, "--as-of", T.isoformat(), "--json")
    assert json.loads(out)["transitions"] == 0


def test_table_in_chinese_and_english(db_url: str, tmp_path: Path) -> None:
    asyncio.run(_populate(db_url))
    code, out = _invoke(db_url, tmp_path, "--as-of", "2024-06-30")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "客户生命周期（截至 2024-06-30）"
    rows = {line.split()[0]: line.split()[-1] for line in lines[3:9]}
    assert rows == {
        "潜在客户": "2",
        "新客户": "1",
        "成长客户": "0",
        "成熟客户": "0",
        "衰退客户": "0",
        "流失客户": "1",
    }
    assert "合计" in out and "客户分级: A 1  B 0  C 1" in out
    code, out = _invoke(db_url, tmp_path, "--as-of", "2024-06-30", locale="en")
    assert code == 0, out
    assert out.splitlines()[0] == "Customer lifecycle as of 2024-06-30"
    assert "Prospect" in out and "Churned" in out and "Grades: A 1  B 0  C 1" in out


def test_default_date_is_today_in_the_configured_zone(db_url: str, tmp_path: Path) -> None:
    code, out = _invoke(db_url, tmp_path, "--json")
    assert code == 0, out
    assert json.loads(out)["as_of"] in {
        today(TZ).isoformat(),
        (today(TZ) - timedelta(days=1)).isoformat(),  # the test ran across midnight
    }


def test_a_date_after_today_is_a_usage_error(db_url: str, tmp_path: Path) -> None:
    asyncio.run(_populate(db_url))
    later = (today(TZ) + timedelta(days=2)).isoformat()  # two: the test may cross midnight
    code, out = _invoke(db_url, tmp_path, "--as-of", later, "--json")
    assert code == 2
    assert f"“{later}” 晚于今天" in out
    # nothing was stored by the refused run: today's is the first, every customer enters
    code, out = _invoke(db_url, tmp_path, "--json")
    assert code == 0 and json.loads(out)["transitions"] == 4


@pytest.mark.parametrize("bad", ["2024-02-30", "30/06/2024", "2024-6-30", "tomorrow", "2024-W26-7"])
def test_bad_date_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    # rejected before any database is opened
    code, out = _invoke(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path, "--as-of", bad)
    assert code == 2
    assert "YYYY-MM-DD" in out and bad in out
    assert "Traceback" not in out
    assert not (tmp_path / "unused.db").exists()


def test_table_columns_line_up() -> None:
    summary = LifecycleSummary(
        as_of=date(2024, 6, 30),
        counts={
            "prospect": 12345,
            "new": 1,
            "growing": 0,
            "mature": 7,
            "declining": 0,
            "churned": 3,
        },
        grades={"A": 1, "B": 2, "C": 3},
        transitions=9,
    )
    table = format_summary_table(summary, "zh-CN").splitlines()
    # Chinese characters take two terminal columns: every count ends in the same column
    widths = {sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in line) for line in table[3:9]}
    assert len(widths) == 1
    assert table[-1] == "本次阶段变化：9 位客户"


async def test_a_run_started_during_another_says_it_waits_then_runs(
    db_url: str, tmp_path: Path
) -> None:
    """PostgreSQL: runs take turns; the CLI says why it is not finishing yet."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite admits one writer at a time; nothing to wait for")
    await _populate(db_url)
    holder = Database.from_url(db_url)
    env = {**os.environ, "FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    command = [sys.executable, "-c", "from bot.cli import main; main()", "lifecycle", "run"]
    try:
        async with holder.engine.connect() as conn:
            # Another run holds the lock (the scheduled one, say).
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": RUN_LOCK_KEY})
            proc = await asyncio.create_subprocess_exec(
                *command,
                "--as-of",
                T.isoformat(),
                "--json",
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            said = await asyncio.wait_for(proc.stderr.readline(), timeout=60)  # type: ignore[union-attr]
            assert "另一次分类正在运行" in said.decode()
            assert proc.returncode is None  # still waiting
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RUN_LOCK_KEY})
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        await holder.dispose()

    assert proc.returncode == 0
    assert json.loads(out)["transitions"] == 4


def _run_with_stderr(tmp_path: Path, db_url: str, stderr: int | None) -> tuple[str, str]:
    """`fission lifecycle run --json` in a child process; stderr to a pseudo-terminal (None)
    or to a pipe. Returns (stdout, stderr)."""
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    args = ["lifecycle", "run", "--as-of", T.isoformat(), "--json"]
    return run_cli(args, cwd=tmp_path, env=env, stderr=stderr)


def test_at_a_terminal_the_run_says_what_it_is_doing_and_how_long_it_took(
    db_url: str, tmp_path: Path
) -> None:
    asyncio.run(_populate(db_url))

    out, said = _run_with_stderr(tmp_path, db_url, None)
    assert json.loads(out)["transitions"] == 4  # stdout stays exactly the JSON
    lines = said.replace("\r", "").splitlines()
    assert lines[0] == "正在计算全部客户截至 2024-06-30 的阶段与分级……"
    assert re.fullmatch(r"计算完成，用时 \d+\.\d 秒", lines[1]), lines

    out, said = _run_with_stderr(tmp_path, db_url, subprocess.PIPE)
    assert json.loads(out)["transitions"] == 0
    assert said == ""  # a script reading stderr gets nothing
