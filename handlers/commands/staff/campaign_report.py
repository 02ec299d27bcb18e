"""`/campaign_report <活动>` (活动报告): did a campaign work — conversion by arm, uplift with its
95% interval, coupon redemption, revenue per member, win-back rate (models/campaigns/report.py).

Declared under its own name for now; it is meant to become `/campaign report <活动>` once the
`/campaign` command exists.
"""

from __future__ import annotations

from handlers.campaign_report_text import render_report, unknown_campaign
from handlers.commands.call import CommandCall
from handlers.commands.filters import required_text
from handlers.commands.registry import Router
from handlers.events import Reply, TextReply
from handlers.i18n import L
from models.campaigns.report import all_campaigns, campaign_report, find_campaign

router = Router("staff.campaign_report")


@router.command(
    "campaign_report",
    "活动报告",
    "活动效果",
    role="manager",
    summary=L(
        "活动效果：各组转化率、提升及 95% 置信区间、券核销率、人均收入、挽回率",
        "Did a campaign work: conversion by arm, uplift with a 95% interval, coupon "
        "redemption, revenue per member, win-back rate",
    ),
    usage=L("<活动编号|活动名称>", "<campaign key|name>"),
    args=required_text,
    private_only=True,
)
async def show_campaign_report(call: CommandCall, query: str) -> list[Reply]:
    campaign = await find_campaign(call.session, query)
    if campaign is None:
        known = await all_campaigns(call.session)
        return [TextReply(unknown_campaign(query, known, call.locale))]
    report = await campaign_report(call.session, campaign)
    return [render_report(report, call.now, call.ctx.settings.tz, call.locale)]
