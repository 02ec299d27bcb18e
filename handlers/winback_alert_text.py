"""The win-back alert as managers read it in chat: a run's win-back rate fell below its
campaign's line (seed 004: 衰退客户挽回率<10% 需复盘), with the run's figures."""

from __future__ import annotations

from datetime import tzinfo

from handlers.campaign_report_text import rate_line, slot_text, summary_lines
from handlers.commands.staff.reports import percent
from handlers.events import CardReply
from handlers.i18n import L, tr
from models.campaigns.report import RunFigures
from models.campaigns.tables import Campaign

TEXT = {
    "alert_title": L("挽回率预警：{name}", "Win-back alert: {name}"),
    "alert_intro": L(
        "{slot} 运行的“{name}”（{code}）观察期已结束：挽回率 {rate}，低于预警线 {line}。",
        "The run of “{name}” ({code}) on {slot} has finished counting: win-back rate {rate}, "
        "below the {line} alert line.",
    ),
    "alert_advice": L(
        "请复盘原因并调整动作（如优惠力度不足、沟通时机不对）。",
        "Please review why and adjust (offer too small? wrong timing?).",
    ),
    "alert_footer": L("查看全部运行：/campaign_report {code}", "All runs: /campaign_report {code}"),
}


def render_winback_alert(campaign: Campaign, run: RunFigures, tz: tzinfo, locale: str) -> CardReply:
    intro = tr(
        TEXT,
        "alert_intro",
        locale,
        slot=slot_text(run, tz),
        name=campaign.name,
        code=campaign.key,
        rate=percent(run.arms.treatment.winback_rate),
        line=rate_line(campaign.alert_below_rate),
    )
    body = [intro, *summary_lines(run.arms, campaign.alert_below_rate, locale)]
    body.append(tr(TEXT, "alert_advice", locale))
    return CardReply(
        title=tr(TEXT, "alert_title", locale, name=campaign.name),
        body="\n".join(body),
        footer=tr(TEXT, "alert_footer", locale, code=campaign.key),
    )
