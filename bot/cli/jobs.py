"""`fission jobs` (recent scheduled runs) and `fission jobs run NAME` (run one job now)."""

from __future__ import annotations

import click

from bot.channels.registry import build_channels
from bot.cli.common import get_settings, open_database, run
from config import Settings
from jobs.runs import RunResult, recent_runs
from jobs.scheduler import JobScheduler, system_clock
from jobs.tasks import JOBS
from models.job_runs import JobRun

_TEXT = {
    "zh-CN": {
        "header": "任务        计划时间          状态      耗时     错误",
        "none": "还没有任务运行记录。",
        "running": "运行中",
        "succeeded": "成功",
        "failed": "失败",
        "skipped": "已有进程运行过这个时间点，跳过。",
        "done": "任务 {job} 已完成。",
        "broke": "任务 {job} 失败：{error}",
        "disabled": "任务 {job} 未启用：它需要的平台没有配置。",
    },
    "en": {
        "header": "job         slot              status     duration error",
        "none": "No job has run yet.",
        "running": "running",
        "succeeded": "succeeded",
        "failed": "failed",
        "skipped": "Another process already ran this slot; skipped.",
        "done": "Job {job} finished.",
        "broke": "Job {job} failed: {error}",
        "disabled": "Job {job} is not enabled: the platform it needs is not configured.",
    },
}


def _text(settings: Settings) -> dict[str, str]:
    return _TEXT["en" if settings.locale.startswith("en") else "zh-CN"]


def _duration(row: JobRun) -> str:
    if row.finished_at is None:
        return "-"
    seconds = (row.finished_at - row.started_at).total_seconds()
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def format_runs(rows: list[JobRun], settings: Settings) -> str:
    text = _text(settings)
    if not rows:
        return text["none"]
    lines = [text["header"]]
    for row in rows:
        slot = row.scheduled_for.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        status = text.get(row.status, row.status)
        line = f"{row.job:<11} {slot:<17} {status:<9} {_duration(row):<8} {row.error or ''}"
        lines.append(line.rstrip())
    return "\n".join(lines)


@click.group("jobs", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.pass_context
def jobs_group(ctx: click.Context, limit: int) -> None:
    """定时任务运行记录 / recent scheduled job runs (job, slot, status, duration, error)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()

    async def go() -> list[JobRun]:
        async with open_database(settings) as db:
            return await recent_runs(db, limit)

    click.echo(format_runs(run(go), settings))


@jobs_group.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
def run_cmd(name: str) -> None:
    """立即运行一个任务 / run one job now (recorded like a scheduled run)."""
    settings = get_settings()

    text = _text(settings)
    if not JOBS[name].enabled(settings):
        raise click.UsageError(text["disabled"].format(job=name))

    async def go() -> RunResult:
        async with open_database(settings) as db:
            # The configured platforms, so reminders and alerts really go out.
            channels = build_channels(settings, db, clock=system_clock)
            try:
                scheduler = JobScheduler(db, settings, channels=channels)
                return await scheduler.run_job(name, system_clock().replace(microsecond=0))
            finally:
                await channels.stop()

    result = run(go)
    if result.outcome == "failed":
        raise click.ClickException(text["broke"].format(job=name, error=result.error))
    click.echo(text["skipped"] if result.outcome == "skipped" else text["done"].format(job=name))
