"""Campaigns in words, shared by `fission campaign …` and the `/campaign` chat command: the
list, one campaign's card, a run's or a dry run's summary, and the errors.

Chinese by default, English for `en`. The sample messages were rendered with masked names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from pydantic import ValidationError

from config.campaigns import Audience, MarketingSettings
from handlers.customer_card_text import stage_name
from handlers.i18n import L, Localized, lang, tr
from models.campaigns.catalog import CampaignError
from models.campaigns.run import RunSummary
from models.campaigns.tables import Campaign, CampaignRun
from models.money import format_fen
from models.referral.reward_tables import CouponTemplate

TEXT: Mapping[str, Localized] = {
    "preview_title": L(
        "活动预览：{name}（{campaign}）· {at} · 只是预览，不发放、不发送",
        "Dry run: {name} ({campaign}) · {at} · nothing is issued or sent",
    ),
    "run_title": L(
        "活动已运行：{name}（{campaign}）· 时间点 {at}（第 {run_id} 次运行）",
        "Campaign run: {name} ({campaign}) · slot {at} (run #{run_id})",
    ),
    "already_ran": L(
        "活动 {name}（{campaign}）在 {at} 这个时间点已经运行过，没有重复运行。",
        "Campaign {name} ({campaign}) already ran for the slot {at}; it was not run again.",
    ),
    "arms": L(
        "目标客户 {audience} 人：发送 {treatment}，活动对照组 {holdout}，全局对照组 {control}，"
        "排除 {excluded}",
        "Audience {audience}: treatment {treatment}, holdout {holdout}, global control "
        "{control}, excluded {excluded}",
    ),
    "exclusions": L("排除原因：{reasons}", "Excluded because: {reasons}"),
    "channels": L("发送渠道：{channels}", "Channels: {channels}"),
    "no_channels": L("发送渠道：无（没有可发送的客户）", "Channels: none (nobody to send to)"),
    "stages_as_of": L("阶段与分级：依据 {day} 的生命周期结果", "Stages and grades as of {day}"),
    "no_stages": L(
        "阶段与分级：生命周期还没有运行过（fission lifecycle run），"
        "按阶段或分级选人的活动没有目标客户",
        "Stages and grades: the lifecycle has never run (fission lifecycle run); a campaign "
        "that selects by stage or grade has nobody",
    ),
    "samples": L("示例消息（姓名已打码）：", "Sample messages (names masked):"),
    "sample": L("{n}. [{platform}] {customer}：{text}", "{n}. [{platform}] {customer}: {text}"),
    "no_samples": L(
        "示例消息：无（没有会收到消息的客户）", "Sample messages: none (nobody to send to)"
    ),
    "queued": L(
        "已发放优惠券 {coupons} 张，{treatment} 条消息已排队，由发送队列按渠道限速发出"
        "（安静时段内顺延）。",
        "{coupons} coupons issued, {treatment} messages queued for the delivery workers "
        "(rate-limited per channel, held during quiet hours).",
    ),
    "list_empty": L("还没有活动。", "No campaigns yet."),
    "list_line": L(
        "{campaign}　{name}　{state}　{schedule}　{last}",
        "{campaign}  {name}  {state}  {schedule}  {last}",
    ),
    "on": L("已启用", "on"),
    "off": L("未启用", "off"),
    "manual": L("手动运行", "run by hand"),
    "schedule": L("计划 {cron}", "schedule {cron}"),
    "once": L("单次 {at}", "once at {at}"),
    "next": L("（下次 {at}）", " (next {at})"),
    "never_ran": L("尚未运行", "never run"),
    "last_run": L(
        "上次 {at}：目标 {audience}，发送 {treatment}",
        "last {at}: audience {audience}, sent {treatment}",
    ),
    "card_title": L("{name}（{campaign}）　{state}", "{name} ({campaign})  {state}"),
    "enabled_since": L("已启用（自 {at}）", "on (since {at})"),
    "audience": L("目标客户：{parts}", "Audience: {parts}"),
    "everyone": L("全部客户", "every customer"),
    "aud_stages": L("阶段 {v}", "stages {v}"),
    "aud_grades": L("分级 {v}", "grades {v}"),
    "aud_tags": L("标签 {v}", "tags {v}"),
    "aud_regions": L("地区 {v}", "regions {v}"),
    "aud_industries": L("行业 {v}", "industries {v}"),
    "aud_min": L("最近一单在 {n} 天前或更早", "last order {n}+ days ago"),
    "aud_max": L("最近一单在 {n} 天内", "last order within {n} days"),
    "not_opted_out": L("（已退订的客户从不发送）", " (customers who opted out never get one)"),
    "coupon": L(
        "优惠券：{name}（{template_key}，满 {min_spend} 可用，有效 {days} 天）",
        "Coupon: {name} ({template_key}, min. spend {min_spend}, valid {days} days)",
    ),
    "no_coupon": L("优惠券：无（只发消息）", "Coupon: none (a message only)"),
    "message": L("消息：{text}", "Message: {text}"),
    "rules": L(
        "冷却期 {cooldown} 天 · 活动对照组 {holdout}% · 全局对照组 {control}% · "
        "频次上限 {max} 条/{days} 天 · 转化窗口 {conversion} 天",
        "cooldown {cooldown} days · holdout {holdout}% · global control {control}% · "
        "at most {max} messages per {days} days · conversion window {conversion} days",
    ),
    "runs": L("最近运行：", "Recent runs:"),
    "run_line": L(
        "　{at}　目标 {audience}　发送 {treatment}　活动对照 {holdout}　全局对照 {control}"
        "　排除 {excluded}",
        "  {at}  audience {audience}  sent {treatment}  holdout {holdout}  control {control}  "
        "excluded {excluded}",
    ),
    "enabled": L(
        "已启用活动 {name}（{campaign}）。{next}", "Campaign {name} ({campaign}) is on.{next}"
    ),
    "enabled_next": L("下次运行：{at}。", " Next run: {at}."),
    "enabled_manual": L("它没有计划时间，需要手动运行。", " It has no schedule: run it by hand."),
    "already_on": L(
        "活动 {name}（{campaign}）本来就是启用的。", "Campaign {name} ({campaign}) was already on."
    ),
    "disabled": L(
        "已停用活动 {name}（{campaign}），不会再按计划运行。",
        "Campaign {name} ({campaign}) is off.",
    ),
    "already_off": L(
        "活动 {name}（{campaign}）本来就没有启用。", "Campaign {name} ({campaign}) was already off."
    ),
}

ERRORS: Mapping[str, Localized] = {
    "unknown": L(
        "没有活动“{ref}”。可用的活动：{keys}",
        "No campaign “{ref}”. Campaigns: {keys}",
    ),
    "ambiguous": L(
        "“{ref}”对应多个活动：{keys}，请用活动键。",
        "“{ref}” matches several campaigns: {keys}; use the key.",
    ),
    "disabled": L(
        "活动 {campaign} 还没有启用，不能运行。可以先预览，确认后启用："
        "fission campaign enable {campaign}",
        "Campaign {campaign} is off and cannot run. Preview it, then switch it on: "
        "fission campaign enable {campaign}",
    ),
    "bad_audience": L(
        "活动 {campaign} 的目标客户设置无效：{error}",
        "Campaign {campaign} has an invalid audience: {error}",
    ),
}

EXCLUSION_LABELS: Mapping[str, Localized] = {
    "opted_out": L("已退订", "opted out"),
    "cooldown": L("冷却期内", "in cooldown"),
    "frequency_cap": L("超过频次上限", "frequency cap"),
    "monthly_limit": L("企业微信本月群发次数已满", "WeCom monthly limit"),
    "unreachable": L("无法触达", "unreachable"),
}

PLATFORM_LABELS: Mapping[str, Localized] = {
    "wecom": L("企业微信", "WeCom"),
    "wechat": L("公众号", "Official Account"),
    "feishu": L("飞书", "Feishu"),
    "console": L("模拟器", "simulator"),
}


def moment(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def error_text(error: CampaignError, locale: str) -> str:
    return tr(ERRORS, error.code, locale, **error.details)


def platform_label(platform: str, locale: str) -> str:
    label = PLATFORM_LABELS.get(platform)
    return label[lang(locale)] if label else platform


def summary_text(summary: RunSummary, locale: str, tz: tzinfo) -> str:
    """A run's or a dry run's summary; the dry run with its sample messages."""
    values = {"name": summary.name, "campaign": summary.key, "at": moment(summary.slot, tz)}
    if summary.already_ran:
        return tr(TEXT, "already_ran", locale, **values)
    sep = "，" if lang(locale) == "zh-CN" else ", "
    excluded = sum(summary.excluded.values())
    lines = [
        tr(TEXT, "preview_title", locale, **values)
        if summary.dry_run
        else tr(TEXT, "run_title", locale, **values, run_id=summary.run_id),
        tr(
            TEXT,
            "arms",
            locale,
            audience=summary.audience,
            treatment=summary.treatment,
            holdout=summary.holdout,
            control=summary.control,
            excluded=excluded,
        ),
        tr(
            TEXT,
            "exclusions",
            locale,
            reasons=sep.join(
                f"{EXCLUSION_LABELS[reason][lang(locale)]} {n}"
                for reason, n in summary.excluded.items()
            ),
        ),
    ]
    channels = sep.join(
        f"{platform_label(p, locale)} {n}" for p, n in summary.platforms.items() if n
    )
    lines.append(
        tr(TEXT, "channels", locale, channels=channels)
        if channels
        else tr(TEXT, "no_channels", locale)
    )
    if summary.stages_as_of is not None:
        lines.append(tr(TEXT, "stages_as_of", locale, day=summary.stages_as_of.isoformat()))
    else:
        lines.append(tr(TEXT, "no_stages", locale))
    if summary.dry_run:
        if summary.samples:
            lines.append(tr(TEXT, "samples", locale))
            lines += [
                tr(
                    TEXT,
                    "sample",
                    locale,
                    n=n,
                    platform=platform_label(s.platform, locale),
                    customer=s.customer,
                    text=_indented(s.text),
                )
                for n, s in enumerate(summary.samples, 1)
            ]
        else:
            lines.append(tr(TEXT, "no_samples", locale))
    else:
        lines.append(
            tr(TEXT, "queued", locale, coupons=summary.coupons, treatment=summary.treatment)
        )
    return "\n".join(lines)


def campaign_line(
    campaign: Campaign,
    last: CampaignRun | None,
    upcoming: datetime | None,
    locale: str,
    tz: tzinfo,
) -> str:
    return tr(
        TEXT,
        "list_line",
        locale,
        campaign=campaign.key,
        name=campaign.name,
        state=tr(TEXT, "on" if campaign.enabled else "off", locale),
        schedule=_schedule(campaign, upcoming, locale, tz),
        last=_last_run(last, locale, tz),
    )


def campaign_card(
    campaign: Campaign,
    template: CouponTemplate | None,
    runs: Sequence[CampaignRun],
    upcoming: datetime | None,
    marketing: MarketingSettings,
    locale: str,
    tz: tzinfo,
) -> str:
    state = (
        tr(TEXT, "enabled_since", locale, at=moment(campaign.enabled_at, tz))
        if campaign.enabled and campaign.enabled_at is not None
        else tr(TEXT, "on" if campaign.enabled else "off", locale)
    )
    lines = [
        tr(TEXT, "card_title", locale, name=campaign.name, campaign=campaign.key, state=state),
        tr(TEXT, "audience", locale, parts=_audience(campaign, locale)),
        (
            tr(
                TEXT,
                "coupon",
                locale,
                name=template.name,
                template_key=template.key,
                min_spend=format_fen(template.min_spend_fen),
                days=template.validity_days,
            )
            if template is not None
            else tr(TEXT, "no_coupon", locale)
        ),
        tr(TEXT, "message", locale, text=_indented(campaign.message)),
        _schedule(campaign, upcoming, locale, tz),
        tr(
            TEXT,
            "rules",
            locale,
            cooldown=campaign.cooldown_days,
            holdout=campaign.holdout_pct,
            control=marketing.control_pct,
            max=marketing.max_messages,
            days=marketing.per_days,
            conversion=campaign.conversion_days,
        ),
    ]
    if runs:
        lines.append(tr(TEXT, "runs", locale))
        lines += [
            tr(
                TEXT,
                "run_line",
                locale,
                at=moment(run.slot, tz),
                audience=run.audience,
                treatment=run.treatment,
                holdout=run.holdout,
                control=run.control,
                excluded=sum(int(n) for n in run.excluded.values()),
            )
            for run in runs
        ]
    else:
        lines.append(tr(TEXT, "never_ran", locale))
    return "\n".join(lines)


def switched_text(
    campaign: Campaign, changed: bool, upcoming: datetime | None, locale: str, tz: tzinfo
) -> str:
    values = {"name": campaign.name, "campaign": campaign.key}
    if not campaign.enabled:
        return tr(TEXT, "disabled" if changed else "already_off", locale, **values)
    if not changed:
        return tr(TEXT, "already_on", locale, **values)
    nxt = (
        tr(TEXT, "enabled_next", locale, at=moment(upcoming, tz))
        if upcoming is not None
        else tr(TEXT, "enabled_manual", locale)
    )
    return tr(TEXT, "enabled", locale, **values, next=nxt)


def _schedule(campaign: Campaign, upcoming: datetime | None, locale: str, tz: tzinfo) -> str:
    parts = []
    if campaign.schedule:
        parts.append(tr(TEXT, "schedule", locale, cron=campaign.schedule))
    if campaign.run_once_at is not None:
        parts.append(tr(TEXT, "once", locale, at=moment(campaign.run_once_at, tz)))
    text = "，".join(parts) if lang(locale) == "zh-CN" else ", ".join(parts)
    text = text or tr(TEXT, "manual", locale)
    if upcoming is not None:
        text += tr(TEXT, "next", locale, at=moment(upcoming, tz))
    return text


def _last_run(run: CampaignRun | None, locale: str, tz: tzinfo) -> str:
    if run is None:
        return tr(TEXT, "never_ran", locale)
    return tr(
        TEXT,
        "last_run",
        locale,
        at=moment(run.slot, tz),
        audience=run.audience,
        treatment=run.treatment,
    )


def _audience(campaign: Campaign, locale: str) -> str:
    try:
        audience = Audience.model_validate(campaign.audience)
    except ValidationError:  # edited by hand in the database: show it as it is
        return str(campaign.audience)
    zh = lang(locale) == "zh-CN"
    join = "、".join if zh else ", ".join
    parts = []
    if audience.stages:
        stages = join(stage_name(stage, locale) for stage in audience.stages)
        parts.append(tr(TEXT, "aud_stages", locale, v=stages))
    for name, values in (
        ("aud_grades", audience.grades),
        ("aud_tags", audience.tags),
        ("aud_regions", audience.regions),
        ("aud_industries", audience.industries),
    ):
        if values:
            parts.append(tr(TEXT, name, locale, v=join(values)))
    if audience.last_order_min_days is not None:
        parts.append(tr(TEXT, "aud_min", locale, n=audience.last_order_min_days))
    if audience.last_order_max_days is not None:
        parts.append(tr(TEXT, "aud_max", locale, n=audience.last_order_max_days))
    text = ("；" if zh else "; ").join(parts) or tr(TEXT, "everyone", locale)
    return text + tr(TEXT, "not_opted_out", locale)


def _indented(text: str) -> str:
    """A multi-line message inside a list: its later lines indented under the first."""
    return text.replace("\n", "\n　　")
