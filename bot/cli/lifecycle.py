"""`fission lifecycle run` / `backfill`: classify and grade every customer as of a date (or a
series of past dates), print the counts."""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from datetime import date

import click

from bot.cli.common import get_settings, open_database, run
from config import Settings
from models.clock import today
from models.lifecycle import LifecycleSummary, backfill_lifecycle, run_lifecycle
from models.lifecycle.series import STEPS, date_series
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
        "inserted": "{as_of} 早于已计算过的最近日期 {latest}：已把它插入阶段历史，并按日期顺序"
        "重算了其后已计算过的 {n} 个日期；当前阶段与分级仍依据 {latest} 的数据。",
        "inserting": "{as_of} 早于已计算过的最近日期 {latest}：把它插入阶段历史，共按日期顺序"
        "计算 {n} 个日期……",
        "date": "日期",
        "changes": "阶段变化",
        "again": "（重算）",
        "backfill_working": "正在按日期顺序计算 {n} 个日期（{first} 至 {last}）的阶段与分级……",
        "backfill_done": "共计算 {n} 个日期；当前阶段与分级依据 {latest} 的数据。",
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
        "inserted": "{as_of} is before the latest date already run, {latest}: it was inserted "
        "into the stage history and the {n} later dates already run were recomputed in order; "
        "current stages and grades are still as of {latest}.",
        "inserting": "{as_of} is before the latest date already run, {latest}: inserting it "
        "into the stage history, {n} dates to compute in order…",
        "date": "Date",
        "changes": "Changes",
        "again": " (again)",
        "backfill_working": "Classifying {n} dates ({first} to {last}) in date order…",
        "backfill_done": "{n} dates computed; current stages and grades are as of {latest}.",
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
    lines = [
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
    if summary.recomputed:
        latest = summary.recomputed[-1].isoformat()
        n = len(summary.recomputed)
        lines.append(text["inserted"].format(as_of=summary.as_of, latest=latest, n=n))
    return "\n".join(lines)


def format_backfill_table(summaries: list[LifecycleSummary], asked: set[date], locale: str) -> str:
    """One line per date computed: customers per stage, stage changes added; dates that were
    computed again because they had been run before and come after the first asked for are
    marked."""
    lang = _lang(locale)
    text, labels = _TEXT[lang], STAGE_LABELS[lang]
    header = [text["date"], *(labels[stage] for stage in STAGES), text["changes"]]
    rows = [
        [
            summary.as_of.isoformat() + ("" if summary.as_of in asked else text["again"]),
            *(str(summary.counts.get(stage, 0)) for stage in STAGES),
            str(summary.transitions),
        ]
        for summary in summaries
    ]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = _pad(cells[0], widths[0])
        rest = (
            " " * (w - _width(cell)) + cell for cell, w in zip(cells[1:], widths[1:], strict=True)
        )
        return "  ".join([first, *rest])

    latest = summaries[-1].as_of.isoformat()
    done = text["backfill_done"].format(n=len(summaries), latest=latest)
    return "\n".join([line(header), *(line(row) for row in rows), "", done])


def _summary_object(summary: LifecycleSummary) -> dict[str, object]:
    return {
        "as_of": summary.as_of.isoformat(),
        "counts": {stage: summary.counts.get(stage, 0) for stage in STAGES},
        "grades": {letter: summary.grades.get(letter, 0) for letter in GRADES},
        "transitions": summary.transitions,
    }


def summary_json(summary: LifecycleSummary) -> str:
    # "recomputed": the later dates already run, computed again after this one
    recomputed = [day.isoformat() for day in summary.recomputed]
    return json.dumps({**_summary_object(summary), "recomputed": recomputed}, ensure_ascii=False)


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


def _not_after_today(day: date, settings: Settings, option: str) -> None:
    now = today(settings.tz)
    if day > now:
        # Stored as today's stages, a future date's would call every customer inactive for
        # days that have not happened (and a typo of the year is the usual way to get one).
        raise click.BadParameter(
            f"“{day}” 晚于今天（{now}）：只能按今天或过去的日期计算 "
            f"(after today, {now}, in {settings.timezone}: use today or an earlier day)",
            param_hint=f"'{option}'",
        )


@lifecycle_group.command("run")
@click.option(
    "--as-of",
    "as_of",
    callback=_parse_as_of,
    metavar="YYYY-MM-DD",
    help="Reference date in the configured time zone (default: today there). A date before "
    "the latest one already run is inserted into the stage history, and the dates already "
    "run after it are recomputed in order; current stages stay those of the latest date.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_cmd(as_of: date | None, as_json: bool) -> None:
    """Classify every customer's stage and grade as of a date; print the counts."""
    settings = get_settings()
    day = as_of or today(settings.tz)
    _not_after_today(day, settings, "--as-of")
    # A person at a terminal is told what the wait is for (a run over a million customers
    # takes a quarter of a minute) and how long it took; scripts reading stderr get nothing.
    text = _TEXT[_lang(settings.locale)]
    attended = sys.stderr.isatty()
    if attended:
        click.echo(text["working"].format(as_of=day.isoformat()), err=True)
    started = time.monotonic()
    summary = run(_run, settings, day, attended)
    if attended:
        click.echo(text["done"].format(seconds=time.monotonic() - started), err=True)
    click.echo(summary_json(summary) if as_json else format_summary_table(summary, settings.locale))


def _waiting(settings: Settings) -> Callable[[], None]:
    return lambda: click.echo(_TEXT[_lang(settings.locale)]["waiting"], err=True)


def _say(attended: bool, settings: Settings, key: str) -> Callable[[list[date]], None] | None:
    """At a terminal: what is about to be computed, when it is more than one date."""
    if not attended:
        return None
    said = _TEXT[_lang(settings.locale)][key]

    def say(dates: list[date]) -> None:
        first, last = dates[0], dates[-1]
        text = said.format(as_of=first, latest=last, first=first, last=last, n=len(dates))
        click.echo(text, err=True)

    return say


async def _run(settings: Settings, as_of: date, attended: bool) -> LifecycleSummary:
    async with open_database(settings) as db:
        return await run_lifecycle(
            db,
            as_of=as_of,
            tz=settings.tz,
            rules=settings.lifecycle,
            grading=settings.grading,
            on_wait=_waiting(settings),
            on_dates=_say(attended, settings, "inserting"),
        )


@lifecycle_group.command("backfill")
@click.option(
    "--from",
    "start",
    callback=_parse_as_of,
    required=True,
    metavar="YYYY-MM-DD",
    help="The first date of the history to compute.",
)
@click.option(
    "--to",
    "end",
    callback=_parse_as_of,
    metavar="YYYY-MM-DD",
    help="The last date (default: today in the configured time zone).",
)
@click.option(
    "--every",
    type=click.Choice(list(STEPS)),
    default="month",
    show_default=True,
    help="How far apart the dates are (a month: the same day of each month, or its last day).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one summary per date as JSON.")
def backfill_cmd(start: date, end: date | None, every: str, as_json: bool) -> None:
    """补算阶段历史 / compute the stage history of past dates.

    Classifies every customer as of --from, every day, week or month after it, and --to; and
    again as of each date already run after --from: all in date order, in one transaction. The
    history and the current stages end as if each date had been run in turn, the current ones
    those of the latest date. Running it again changes nothing.

    Example: fission lifecycle backfill --from 2024-01-01 --to 2024-06-30 --every month
    """
    settings = get_settings()
    last = end or today(settings.tz)
    _not_after_today(last, settings, "--to")
    if start > last:
        raise click.BadParameter(
            f"“{start}” 晚于结束日期 {last} (after the last date, {last})",
            param_hint="'--from'",
        )
    dates = date_series(start, last, STEPS[every])
    attended = sys.stderr.isatty()
    started = time.monotonic()
    summaries = run(_backfill, settings, dates, attended)
    if attended:
        said = _TEXT[_lang(settings.locale)]["done"]
        click.echo(said.format(seconds=time.monotonic() - started), err=True)
    asked = set(dates)
    if as_json:
        # "asked": false for a date already run that was computed again after the ones asked
        objects = [
            {**_summary_object(summary), "asked": summary.as_of in asked} for summary in summaries
        ]
        click.echo(json.dumps(objects, ensure_ascii=False))
    else:
        click.echo(format_backfill_table(summaries, asked, settings.locale))


async def _backfill(
    settings: Settings, dates: list[date], attended: bool
) -> list[LifecycleSummary]:
    async with open_database(settings) as db:
        return await backfill_lifecycle(
            db,
            dates,
            tz=settings.tz,
            rules=settings.lifecycle,
            grading=settings.grading,
            on_wait=_waiting(settings),
            on_dates=_say(attended, settings, "backfill_working"),
        )
