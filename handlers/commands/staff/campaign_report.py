"""`/campaign report <活动>` (活动 报告): did a campaign work — conversion by arm, uplift with its
95% interval, coupon redemption, revenue per member, win-back rate (models/campaigns/report.py).
"""

from __future__ import annotations

from handlers.campaign_report_text import render_report, unknown_campaign
from handlers.commands.call import CommandCall
from handlers.events import Reply, TextReply
from models.campaigns.report import all_campaigns, campaign_report, find_campaign


async def campaign_report_reply(call: CommandCall, query: str) -> Reply:
    """The report of the campaign named `query` (its key or name), or what campaigns exist."""
    campaign = await find_campaign(call.session, query)
    if campaign is None:
        known = await all_campaigns(call.session)
        return TextReply(unknown_campaign(query, known, call.locale))
    report = await campaign_report(call.session, campaign)
    return render_report(report, call.now, call.ctx.settings.tz, call.locale)
