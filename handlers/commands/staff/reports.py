"""`/top` (the referral leaderboard) and `/funnel` (clicks → joins → conversions → rewarded),
both over all history or the last N days, from the referral reports in models/reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from fractions import Fraction

from handlers.charts import funnel_chart
from handlers.commands.call import CommandCall
from handlers.commands.filters import optional_days
from handlers.commands.registry import Router
from handlers.events import CardReply, Reply, TextReply
from handlers.i18n import L
from models.reports import FunnelRow, ReportPeriod, referral_funnel, top_inviters

router = Router("staff.reports")

LEADERBOARD_SIZE = 10

TEXT = {
    "all_time": L("全部时间", "all time"),
    "last_days": L("近 {days} 天", "last {days} days"),
    "top_title": L("邀请排行榜（{period}）", "Referral leaderboard ({period})"),
    "top_line": L(
        "{rank}. {name}　{external_id}　成交 {conversions}　加入 {joins}　邀请 {invitations}",
        "{rank}. {name}  {external_id}  {conversions} converted, {joins} joined, "
        "{invitations} invited",
    ),
    "top_empty": L(
        "{period}还没有人成功邀请好友。",
        "Nobody has invited a friend yet ({period}).",
    ),
    "funnel_title": L("裂变漏斗（{period}）", "Referral funnel ({period})"),
    "clicks": L("点击", "Clicks"),
    "joins": L("加入", "Joins"),
    "conversions": L("成交", "Conversions"),
    "rewarded": L("已奖励", "Rewarded"),
    "join_rate": L("点击→加入 {rate}", "click → join {rate}"),
    "conversion_rate": L("加入→成交 {rate}", "join → conversion {rate}"),
    "reward_rate": L("成交→奖励 {rate}", "conversion → reward {rate}"),
    "k_factor": L("K 因子", "K-factor"),
    "participants": L("参与邀请的客户", "Customers inviting"),
    "by_channel": L("按渠道：", "By channel:"),
    "channel_line": L(
        "　{label}：加入 {joins}，成交 {conversions}，奖励 {rewarded}",
        "  {label}: {joins} joined, {conversions} converted, {rewarded} rewarded",
    ),
    "funnel_footer": L("指定天数：/funnel 30", "For a period: /funnel 30"),
}


def _period(call: CommandCall, days: int | None) -> tuple[ReportPeriod, str]:
    tz = call.ctx.settings.tz
    if days is None:
        return ReportPeriod(as_of=call.today, tz=tz), call.t(TEXT, "all_time")
    since = call.today - timedelta(days=days - 1)
    return ReportPeriod(as_of=call.today, tz=tz, since=since), call.t(TEXT, "last_days", days=days)


def percent(value: Fraction | None) -> str:
    """`Fraction(1, 3)` → `33.3%`, rounded half up to a tenth; `—` when undefined."""
    if value is None:
        return "—"
    tenths = int(value * 1000 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


@router.command(
    "top",
    "排行",
    "排行榜",
    role="agent",
    summary=L(
        "邀请排行榜：谁带来的成交最多（已脱敏）", "Who brought the most paying friends (masked)"
    ),
    usage=L("[天数]", "[days]"),
    args=optional_days,
    private_only=True,
)
async def show_top(call: CommandCall, days: int | None) -> list[Reply]:
    period, period_text = _period(call, days)
    rows = await top_inviters(call.session, period=period, limit=LEADERBOARD_SIZE)
    if not rows:
        return [TextReply(call.t(TEXT, "top_empty", period=period_text))]
    lines = [
        call.t(
            TEXT,
            "top_line",
            rank=row.rank,
            name=row.masked_name or row.masked_phone or "-",
            external_id=row.external_id,
            conversions=row.conversions,
            joins=row.joins,
            invitations=row.invitations,
        )
        for row in rows
    ]
    return [CardReply(title=call.t(TEXT, "top_title", period=period_text), body="\n".join(lines))]


@router.command(
    "funnel",
    "漏斗",
    role="agent",
    summary=L(
        "裂变漏斗：点击 → 加入 → 成交 → 奖励，含各环节转化率和渠道明细",
        "Referral funnel: clicks → joins → conversions → rewarded, with rates per step",
    ),
    usage=L("[天数]", "[days]"),
    args=optional_days,
    private_only=True,
)
async def show_funnel(call: CommandCall, days: int | None) -> list[Reply]:
    period, period_text = _period(call, days)
    report = await referral_funnel(
        call.session, period=period, rules=call.ctx.settings.reports, locale=call.locale
    )
    total = next(row for row in report.by_segment if row.key == "all")
    clicks = total.clicks or 0
    rates = [
        percent(_ratio(total.joins, clicks)),
        percent(_ratio(total.conversions, total.joins)),
        percent(_ratio(total.rewarded, total.conversions)),
    ]
    steps = [
        (call.t(TEXT, "clicks"), clicks),
        (call.t(TEXT, "joins"), total.joins),
        (call.t(TEXT, "conversions"), total.conversions),
        (call.t(TEXT, "rewarded"), total.rewarded),
    ]
    fields = (
        *((label, str(count)) for label, count in steps),
        (call.t(TEXT, "participants"), str(total.participants)),
        (call.t(TEXT, "k_factor"), _k_factor(total)),
    )
    rate_lines = [
        call.t(TEXT, "join_rate", rate=rates[0]),
        call.t(TEXT, "conversion_rate", rate=rates[1]),
        call.t(TEXT, "reward_rate", rate=rates[2]),
    ]
    body = ["　".join(rate_lines)]
    channels = [row for row in report.by_channel if row.invitations or row.clicks]
    if channels:
        body.append(call.t(TEXT, "by_channel"))
        body += [
            call.t(
                TEXT,
                "channel_line",
                label=row.label,
                joins=row.joins,
                conversions=row.conversions,
                rewarded=row.rewarded,
            )
            for row in channels
        ]
    title = call.t(TEXT, "funnel_title", period=period_text)
    chart = await asyncio.to_thread(funnel_chart, title, steps, rate_lines)
    return [
        CardReply(
            title=title,
            fields=fields,
            body="\n".join(body),
            footer=call.t(TEXT, "funnel_footer"),
            image_png=chart,
        )
    ]


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _k_factor(row: FunnelRow) -> str:
    k = row.k_factor
    if k is None:
        return "—"
    hundredths = int(k * 100 + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"
