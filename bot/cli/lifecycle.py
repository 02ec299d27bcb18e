"""`fission lifecycle run`: classify and grade every customer as of a date, print the counts."""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from datetime import date

import click

from bot.cli.common import get_settings, open_database, run
from config import Settings
from models.clock import today
from models.lifecycle import LifecycleSummary, run_lifecycle
from models.reports.labels import EN, ZH
from models.reports.labels import STAGE_LABELS as STAGE_NAMES
from models.stages import GRADES, STAGES

STAGE_LABELS = {
    "zh-CN": STAGE_NAMES[ZH],
    "en": {stage: name.capitalize() for stage, name in STAGE_NAMES[EN].items()},
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT = {
    "zh-CN": {
        "title": "客户生命周期（截至 {as_of}）",
        "stage": "阶段",
        "customers": "客户数",
        "total": "合计",
        "grades": "客户分级",
        "transitions": "本次阶段变化：{n} 位客户",
        "waiting": "另一次分类正在运行（定时任务或另一个终端），等它结束后接着运行……",
        "working": "正在计算全部客户截至 {as_of} 的阶段与分级……",
        "done": "计算完成，用时 {seconds:.1f} 秒",
    },
    "en": {
        "title": "Customer lifecycle as of {as_of}",
        "stage": "Stage",
        "customers": "Customers",
        "total": "Total",
        "grades": "Grades",
        "transitions": "Stage changes in this run: {n}",
        "waiting": "Another classification run is under way (the scheduler or another "
        "terminal); this one starts when it finishes…",
        "working": "Classifying and grading every customer as of {as_of}…",
        "done": "Done in {seconds:.1f} s",
    },
}


def _lang(locale: str) -> str:
    return "en" if locale.lower().startswith("en") else "zh-CN"


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_summary_table(summary: LifecycleSummary, locale: str) -> str:
    """Counts per stage (Chinese names unless `locale` is English), total, grades, changes."""
    lang = _lang(locale)
    text, labels = _TEXT[lang], STAGE_LABELS[lang]
    rows = [(labels[stage], str(summary.counts.get(stage, 0))) for stage in STAGES]
    total = (text["total"], str(sum(summary.counts.get(stage, 0) for stage in STAGES)))
    header = (text["stage"], text["customers"])
    left = max(_width(label) for label, _ in [header, *rows, total]) + 2
    right = max(len(n) for _, n in [*rows, total])
    right = max(right, _width(header[1]))

    def line(label: str, number: str) -> str:
        return _pad(label, left) + " " * (right - _width(number)) + number

    rule = "-" * (left + right)
    grades = "  ".join(f"{letter} {summary.grades.get(letter, 0)}" for letter in GRADES)
    return "\n".join(
        [
            text["title"].format(as_of=summary.as_of.isoformat()),
            line(*header),
            rule,
            *(line(label, number) for label, number in rows),
            rule,
            line(*total),
            "",
            f"{text['grades']}: {grades}",
            text["transitions"].format(n=summary.transitions),
        ]
    )


def summary_json(summary: LifecycleSummary) -> str:
    return json.dumps(
        {
            "as_of": summary.as_of.isoformat(),
            "counts": {stage: summary.counts.get(stage, 0) for stage in STAGES},
            "grades": {letter: summary.grades.get(letter, 0) for letter in GRADES},
            "transitions": summary.transitions,
        },
        ensure_ascii=False,
    )


def _parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    text = value.strip()
    if _ISO_DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise click.BadParameter(
        f"“{value}” 不是有效日期，请写成 YYYY-MM-DD，例如 2024-06-30 "
        "(not a valid date: use YYYY-MM-DD, e.g. 2024-06-30)"
    )


@click.group("lifecycle")
def lifecycle_group() -> None:
    """客户生命周期与分级 / lifecycle stages and grades."""


@lifecycle_group.command("run")
@click.option(
    "--as-of",
    "as_of",
    callback=_parse_as_of,
    metavar="YYYY-MM-DD",
    help="Reference date in the configured time zone (default: today there).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_cmd(as_of: date | None, as_json: bool) -> None:
    """Classify every customer's stage and grade as of a date; print the counts."""
    settings = get_settings()
    now = today(settings.tz)
    day = as_of or now
    if day > now:
        # Stored as today's stages, a future date's would call every customer inactive for
        # days that have not happened (and a typo of the year is the usual way to get one).
        raise click.BadParameter(
            f"“{day}” 晚于今天（{now}）：只能按今天或过去的日期计算 "
            f"(after today, {now}, in {settings.timezone}: use today or an earlier day)",
            param_hint="'--as-of'",
        )
    # A person at a terminal is told what the wait is for (a run over a million customers
    # takes a quarter of a minute) and how long it took; scripts reading stderr get nothing.
    text = _TEXT[_lang(settings.locale)]
    attended = sys.stderr.isatty()
    if attended:
        click.echo(text["working"].format(as_of=day.isoformat()), err=True)
    started = time.monotonic()
    summary = run(_run, settings, day)
    if attended:
        click.echo(text["done"].format(seconds=time.monotonic() - started), err=True)
    click.echo(summary_json(summary) if as_json else format_summary_table(summary, settings.locale))


async def _run(settings: Settings, as_of: date) -> LifecycleSummary:
    async with open_database(settings) as db:
        return await run_lifecycle(
            db,
            as_of=as_of,
            tz=settings.tz,
            rules=settings.lifecycle,
            grading=settings.grading,
            on_wait=lambda: click.echo(_TEXT[_lang(settings.locale)]["waiting"], err=True),
        )
