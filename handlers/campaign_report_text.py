"""How a campaign's results read for managers, in chat and at the terminal: each arm's
conversion and revenue, the uplift with its 95% interval (marked 尚不显著 while the interval
holds zero), coupon redemption and the win-back rate."""

from __future__ import annotations

from datetime import datetime, tzinfo
from fractions import Fraction
from math import floor

from handlers.commands.staff.reports import percent
from handlers.events import CardReply
from handlers.i18n import ZH, L, lang, tr
from models.campaigns.report import (
    COMPARED_ARMS,
    ArmFigures,
    CampaignReport,
    Comparison,
    RunFigures,
)
from models.campaigns.uplift import Uplift
from models.campaigns.winback import below_alert_line
from models.money import format_fen

RECENT_RUNS = 5

ARM_NAMES = {
    "treatment": L("实验组", "Treatment"),
    "holdout": L("活动对照组", "Holdout"),
    "control": L("全局对照组", "Global control"),
}
TEXT = {
    "title": L("活动效果：{name}（{code}）", "Campaign results: {name} ({code})"),
    "runs": L("运行次数", "Runs"),
    "runs_value": L("{count} 次，最近一次 {last}", "{count}, latest {last}"),
    "window": L("转化口径", "Conversion"),
    "window_value": L(
        "发送后 {days} 天内付款（对照组从活动运行时算起）",
        "a paid order within {days} days of the message (holdout and control: of the run)",
    ),
    "no_runs": L(
        "“{name}”（{code}）还没有运行过，暂时没有效果数据。",
        "“{name}” ({code}) has not run yet: no results so far.",
    ),
    "arm": L(
        "{arm} {members} 人{reached}：转化 {rate}（{converted} 人），人均收入 {revenue}",
        "{arm} {members}{reached}: {rate} converted ({converted}), {revenue} revenue per member",
    ),
    "arm_empty": L("{arm}：没有人", "{arm}: nobody"),
    "reached": L("（已送达 {reached}）", " ({reached} reached)"),
    "vs_holdout": L("提升（比活动对照组）：{uplift}", "Uplift over holdout: {uplift}"),
    "vs_control": L("提升（比全局对照组）：{uplift}", "Uplift over global control: {uplift}"),
    "uplift": L(
        "{points} 个百分点（95% 置信区间 {low} ~ {high}），{verdict}",
        "{points} pts (95% CI {low} to {high}), {verdict}",
    ),
    "significant": L("显著", "significant"),
    "not_significant": L("尚不显著", "not yet significant"),
    "no_uplift": L("—（该组没有人）", "— (that arm is empty)"),
    "redemption": L(
        "优惠券核销率：{rate}（{redeemed}/{coupons}）",
        "Coupon redemption: {rate} ({redeemed}/{coupons})",
    ),
    "no_coupons": L("优惠券核销率：—（没有发券）", "Coupon redemption: — (no coupons issued)"),
    "winback": L(
        "挽回率：{rate}（衰退/流失客户 {members} 人中 {converted} 人回购）{alarm}",
        "Win-back rate: {rate} ({converted} of {members} declining/churned bought again){alarm}",
    ),
    "no_winback": L(
        "挽回率：—（触达组里没有衰退或流失客户）",
        "Win-back rate: — (no declining or churned customer was messaged)",
    ),
    "below": L("，低于预警线 {line}，需复盘", "; below the {line} alert line: review it"),
    "open": L(
        "观察期至 {day} 结束，数字还会变化。", "Still counting until {day}; figures may change."
    ),
    "recent": L(
        "最近 {count} 次（实验组 / 活动对照组 / 全局对照组）：",
        "Latest {count} runs (treatment / holdout / global control):",
    ),
    "run_line": L(
        "{slot}　人数 {sizes}　转化 {rates}　提升 {uplift}{open}",
        "{slot}  members {sizes}  converted {rates}  uplift {uplift}{open}",
    ),
    "run_uplift": L("{points} 个百分点（{verdict}）", "{points} pts ({verdict})"),
    "run_open": L("　观察中", "  (counting)"),
    "method": L(
        "95% 置信区间：Newcombe 混合评分法；区间包含 0 即“尚不显著”。",
        "95% interval: Newcombe's hybrid score method; one that holds 0 is “not yet significant”.",
    ),
    "footer": L(
        "完整报表：fission campaign report {code}", "Full report: fission campaign report {code}"
    ),
    "unknown": L(
        "没有找到活动“{query}”。可选：{choices}", "No campaign “{query}”. Choose one of: {choices}"
    ),
    "no_campaigns": L(
        "还没有任何活动（在 fission.toml 的 [[campaigns]] 里配置）。",
        "There are no campaigns yet (configure them under [[campaigns]] in fission.toml).",
    ),
    "choice": L("{name}（{code}）", "{name} ({code})"),
}


def unknown_campaign(query: str, known: list[tuple[str, str]], locale: str) -> str:
    """What to say when no campaign has that key or name: the ones there are."""
    if not known:
        return tr(TEXT, "no_campaigns", locale)
    sep = "、" if lang(locale) == ZH else ", "
    choices = sep.join(tr(TEXT, "choice", locale, name=name, code=key) for key, name in known)
    return tr(TEXT, "unknown", locale, query=query, choices=choices)


def points(value: float) -> str:
    """A difference of rates in percentage points with its sign, half up: 0.034 → `+3.4`."""
    tenths = floor(abs(value) * 1000 + 0.5)
    sign = "±" if tenths == 0 else "+" if value > 0 else "−"
    return f"{sign}{tenths // 10}.{tenths % 10}"


def verdict(uplift: Uplift, locale: str) -> str:
    """显著, or 尚不显著 while the interval still holds zero."""
    return tr(TEXT, "significant" if uplift.significant else "not_significant", locale)


def rate_line(line: float) -> str:
    """The alert line as a percentage: 0.1 → `10.0%`."""
    return percent(Fraction(str(line)))


def _money(fen: int | None) -> str:
    return "—" if fen is None else format_fen(fen)


def _uplift(uplift: Uplift | None, locale: str) -> str:
    if uplift is None:
        return tr(TEXT, "no_uplift", locale)
    return tr(
        TEXT,
        "uplift",
        locale,
        points=points(uplift.difference),
        low=points(uplift.low),
        high=points(uplift.high),
        verdict=verdict(uplift, locale),
    )


def _arm_line(name: str, figures: ArmFigures, locale: str) -> str:
    arm = tr(ARM_NAMES, name, locale)
    if figures.members == 0:
        return tr(TEXT, "arm_empty", locale, arm=arm)
    reached = tr(TEXT, "reached", locale, reached=figures.reached) if name == "treatment" else ""
    return tr(
        TEXT,
        "arm",
        locale,
        arm=arm,
        members=figures.members,
        reached=reached,
        rate=percent(figures.conversion),
        converted=figures.converted,
        revenue=_money(figures.revenue_per_member_fen),
    )


def summary_lines(
    arms: Comparison, alert_below_rate: float, locale: str, *, arm_lines: bool = True
) -> list[str]:
    """The figures of one run or of all runs together, one line each."""
    lines = []
    if arm_lines:
        lines += [_arm_line(name, arms.arm(name), locale) for name in COMPARED_ARMS]
    lines += [
        tr(TEXT, "vs_holdout", locale, uplift=_uplift(arms.vs_holdout, locale)),
        tr(TEXT, "vs_control", locale, uplift=_uplift(arms.vs_control, locale)),
    ]
    t = arms.treatment
    if t.coupons:
        lines.append(
            tr(
                TEXT,
                "redemption",
                locale,
                rate=percent(t.redemption),
                redeemed=t.redeemed,
                coupons=t.coupons,
            )
        )
    else:
        lines.append(tr(TEXT, "no_coupons", locale))
    if t.winback_members:
        alarm = ""
        if below_alert_line(t.winback_rate, alert_below_rate):
            alarm = tr(TEXT, "below", locale, line=rate_line(alert_below_rate))
        lines.append(
            tr(
                TEXT,
                "winback",
                locale,
                rate=percent(t.winback_rate),
                members=t.winback_members,
                converted=t.winback_converted,
                alarm=alarm,
            )
        )
    else:
        lines.append(tr(TEXT, "no_winback", locale))
    return lines


def slot_text(run: RunFigures, tz: tzinfo) -> str:
    return run.slot.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def open_until(report: CampaignReport, now: datetime, tz: tzinfo) -> str | None:
    """When the last still-open conversion window closes (local date), or None if all closed."""
    still_open = [run.closes_at for run in report.runs if not run.is_final(now)]
    if not still_open:
        return None
    return max(still_open).astimezone(tz).date().isoformat()


def _run_line(run: RunFigures, now: datetime, tz: tzinfo, locale: str) -> str:
    arms = run.arms
    uplift = arms.vs_holdout
    shown = "—"
    if uplift is not None:
        shown = tr(
            TEXT,
            "run_uplift",
            locale,
            points=points(uplift.difference),
            verdict=verdict(uplift, locale),
        )
    return tr(
        TEXT,
        "run_line",
        locale,
        slot=slot_text(run, tz),
        sizes="/".join(str(arms.arm(name).members) for name in COMPARED_ARMS),
        rates=" / ".join(percent(arms.arm(name).conversion) for name in COMPARED_ARMS),
        uplift=shown,
        open="" if run.is_final(now) else tr(TEXT, "run_open", locale),
    )


def render_report(report: CampaignReport, now: datetime, tz: tzinfo, locale: str) -> CardReply:
    """The report as a chat card: all runs together, then the latest few runs one line each."""
    title = tr(TEXT, "title", locale, name=report.name, code=report.key)
    if not report.runs:
        return CardReply(
            title=title, body=tr(TEXT, "no_runs", locale, name=report.name, code=report.key)
        )
    fields = (
        (
            tr(TEXT, "runs", locale),
            tr(
                TEXT,
                "runs_value",
                locale,
                count=len(report.runs),
                last=slot_text(report.runs[0], tz),
            ),
        ),
        (tr(TEXT, "window", locale), tr(TEXT, "window_value", locale, days=report.conversion_days)),
    )
    body = summary_lines(report.total, report.alert_below_rate, locale)
    until = open_until(report, now, tz)
    if until is not None:
        body.append(tr(TEXT, "open", locale, day=until))
    recent = report.runs[:RECENT_RUNS]
    if len(report.runs) > 1:
        body.append("")
        body.append(tr(TEXT, "recent", locale, count=len(recent)))
        body += [_run_line(run, now, tz, locale) for run in recent]
    body += ["", tr(TEXT, "method", locale)]
    return CardReply(
        title=title,
        fields=fields,
        body="\n".join(body),
        footer=tr(TEXT, "footer", locale, code=report.key),
    )
