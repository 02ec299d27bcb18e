"""`fission jobs` lists recent runs; `fission jobs run NAME` runs one now."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from jobs_world import at

from bot.cli import main
from models import JobRun
from models.db import Database


def _invoke(db_url: str, tmp_path: Path, *args: str, locale: str = "zh-CN") -> tuple[int, str]:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale}
    with contextlib.chdir(tmp_path):  # no ./fission.toml from the working tree
        result = CliRunner().invoke(main, ["jobs", *args], env=env)
    return result.exit_code, result.output


async def _add_runs(url: str) -> None:
    db = Database.from_url(url)
    started = at(2026, 3, 10, 2, 0)
    async with db.uow() as uow:
        uow.session.add_all(
            [
                JobRun(
                    job="lifecycle",
                    scheduled_for=started,
                    status="succeeded",
                    runner="h:1",
                    started_at=started,
                    finished_at=started + timedelta(seconds=2.5),
                ),
                JobRun(
                    job="settle",
                    scheduled_for=at(2026, 3, 10, 3),
                    status="failed",
                    runner="h:1",
                    started_at=at(2026, 3, 10, 3),
                    finished_at=at(2026, 3, 10, 3) + timedelta(seconds=75),
                    error="RuntimeError: boom",
                ),
            ]
        )
        await uow.commit()
    await db.dispose()


def test_lists_recent_runs_newest_first(db_url: str, tmp_path: Path) -> None:
    assert _invoke(db_url, tmp_path) == (0, "还没有任务运行记录。\n")
    asyncio.run(_add_runs(db_url))
    code, out = _invoke(db_url, tmp_path)
    assert code == 0, out
    assert out.splitlines() == [
        "任务        计划时间          状态      耗时     错误",
        "settle      2026-03-10 03:00  失败        1m15s    RuntimeError: boom",
        "lifecycle   2026-03-10 02:00  成功        2.5s",
    ]
    code, out = _invoke(db_url, tmp_path, locale="en")
    assert out.splitlines()[1] == (
        "settle      2026-03-10 03:00  failed    1m15s    RuntimeError: boom"
    )


def test_run_one_job_now(db_url: str, tmp_path: Path) -> None:
    code, out = _invoke(db_url, tmp_path, "run", "lifecycle")
    assert (code, out) == (0, "任务 lifecycle 已完成。\n")
    code, out = _invoke(db_url, tmp_path)
    _header, row = out.splitlines()
    assert row.startswith("lifecycle ") and "成功" in row


def test_unknown_job_says_what_to_type(db_url: str, tmp_path: Path) -> None:
    code, out = _invoke(db_url, tmp_path, "run", "nightly")
    assert code == 2
    assert "'lifecycle'" in out and "'settle'" in out
