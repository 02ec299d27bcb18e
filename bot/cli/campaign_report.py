"""`fission campaign report KEY`: did a campaign work — all its runs together and run by run
(models/campaigns/report.py), as aligned tables at the terminal.

`report_cmd` is one command of the `campaign` group (bot/cli/campaign.py).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

import click

from bot.cli.common import get_settings, open_database, run
from config import Settings
from handlers.campaign_report_text import (
    ARM_NAMES,
    open_until,
    points,
    slot_text,
    summary_lines,
    unknown_campaign,
    verdict,
)
from handlers.campaign_report_text import (
    TEXT as REPORT_TEXT,
)
from handlers.i18n import L, tr
from models.campaigns.report import (
    COMPARED_ARMS,
    CampaignReport,
    Comparison,
    all_campaigns,
    campaign_report,
    find_campaign,
)
from models.campaigns.uplift import Uplift
from models.clock import local_date
from models.money import format_fen
from models.reports import Column, Sheet, to_text
from models.reports.sheets import Cell

EXIT_NOT_FOUND = 1

TEXT = {
    "window": L("转化口径：{value}", "Conversion: {value}"),
    "arms_title": L("全部 {count} 次运行合计", "All {count} runs together"),
    "runs_title": L("各次运行（最新在前）", "Run by run (newest first)"),
    "arm": L("组别", "Arm"),
    "members": L("人数", "Members"),
    "reached": L("已送达", "Reached"),
    "converted": L("转化人数", "Converted"),
    "conversion": L("转化率", "Conversion"),
    "revenue": L("人均收入", "Revenue/member"),
    "coupons": L("发券", "Coupons"),
    "redemption": L("核销率", "Redeemed"),
    "winback": L("挽回率", "Win-back"),
    "slot": L("运行时间", "Run"),
    "sizes": L("人数", "Members"),
    "rate_of": L("{arm}转化率", "{arm} conv."),
    "uplift": L("提升(比活动对照组)", "Uplift vs holdout"),
    "interval": L("95% 置信区间", "95% interval"),
    "verdict": L("显著性", "Significance"),
    "closes": L("观察期至", "Counting until"),
}


def _t(settings: Settings, key: str, **values: object) -> str:
    return tr(TEXT, key, settings.locale, **values)


def _interval(uplift: Uplift | None) -> str | None:
    return None if uplift is None else f"{points(uplift.low)} ~ {points(uplift.high)}"


def arms_sheet(arms: Comparison, title: str, settings: Settings) -> Sheet:
    headers = (
        *("arm", "members", "reached", "converted", "conversion", "revenue"),
        *("coupons", "redemption", "winback"),
    )
    kinds = ("text", "int", "int", "int", "percent", "text", "int", "percent", "percent")
    rows: list[tuple[Cell, ...]] = []
    for name in COMPARED_ARMS:
        figures = arms.arm(name)
        revenue = figures.revenue_per_member_fen
        rows.append(
            (
                tr(ARM_NAMES, name, settings.locale),
                figures.members,
                figures.reached if name == "treatment" else None,
                figures.converted,
                figures.conversion,
                None if revenue is None else format_fen(revenue),
                figures.coupons if name == "treatment" else None,
                figures.redemption,
                figures.winback_rate,
            )
        )
    columns = tuple(Column(_t(settings, h), kind) for h, kind in zip(headers, kinds, strict=True))
    return Sheet(title, columns, tuple(rows))


def runs_sheet(report: CampaignReport, tz: tzinfo, settings: Settings) -> Sheet:
    arm_names = [tr(ARM_NAMES, name, settings.locale) for name in COMPARED_ARMS]
    columns = (
        Column(_t(settings, "slot")),
        Column(_t(settings, "sizes")),
        *(Column(_t(settings, "rate_of", arm=name), "percent") for name in arm_names),
        Column(_t(settings, "uplift")),
        Column(_t(settings, "interval")),
        Column(_t(settings, "verdict")),
        Column(_t(settings, "winback"), "percent"),
        Column(_t(settings, "closes")),
    )
    rows = []
    for one in report.runs:
        arms = one.arms
        uplift = arms.vs_holdout
        rows.append(
            (
                slot_text(one, tz),
                "/".join(str(arms.arm(name).members) for name in COMPARED_ARMS),
                *(arms.arm(name).conversion for name in COMPARED_ARMS),
                None if uplift is None else points(uplift.difference),
                _interval(uplift),
                None if uplift is None else verdict(uplift, settings.locale),
                arms.treatment.winback_rate,
                local_date(one.closes_at, tz).isoformat(),
            )
        )
    return Sheet(_t(settings, "runs_title"), columns, tuple(rows))


def render_terminal(report: CampaignReport, now: datetime, settings: Settings) -> str:
    tz, locale = settings.tz, settings.locale
    title = tr(REPORT_TEXT, "title", locale, name=report.name, code=report.key)
    if not report.runs:
        return f"{title}\n{tr(REPORT_TEXT, 'no_runs', locale, name=report.name, code=report.key)}\n"
    window = tr(REPORT_TEXT, "window_value", locale, days=report.conversion_days)
    lines = [title, _t(settings, "window", value=window), ""]
    total = report.total
    sheet_title = _t(settings, "arms_title", count=len(report.runs))
    lines.append(to_text(arms_sheet(total, sheet_title, settings)))
    lines += summary_lines(total, report.alert_below_rate, locale, arm_lines=False)
    until = open_until(report, now, tz)
    if until is not None:
        lines.append(tr(REPORT_TEXT, "open", locale, day=until))
    lines += ["", to_text(runs_sheet(report, tz, settings)), tr(REPORT_TEXT, "method", locale)]
    return "\n".join(lines) + "\n"


@click.command("report")
@click.argument("campaign")
def report_cmd(campaign: str) -> None:
    """活动效果 / did a campaign work: conversion of the treatment, holdout and global control
    arms, the uplift with a 95% interval (尚不显著 while it holds zero), coupon redemption,
    revenue per member and win-back rate — all runs together, then run by run. CAMPAIGN: the
    campaign's key or name."""
    settings = get_settings()

    async def go() -> tuple[CampaignReport | None, list[tuple[str, str]]]:
        async with open_database(settings) as db, db.uow() as uow:
            found = await find_campaign(uow.session, campaign)
            if found is None:
                return None, await all_campaigns(uow.session)
            return await campaign_report(uow.session, found), []

    report, known = run(go)
    if report is None:
        click.echo(unknown_campaign(campaign, known, settings.locale), err=True)
        raise click.exceptions.Exit(EXIT_NOT_FOUND)
    click.echo(render_terminal(report, datetime.now(settings.tz), settings), nl=False)
