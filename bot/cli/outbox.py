"""`fission outbox`: the campaign deliveries by state, by campaign and platform, why some were
skipped or failed, and the latest errors."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import click

from bot.cli.common import get_settings, open_database, run
from config import Settings
from models.campaigns.outbox_report import OutboxReport, outbox_report
from models.campaigns.tables import DELIVERY_STATUSES
from models.reports.export import to_text
from models.reports.sheets import Column, Sheet

_TEXT = {
    "zh-CN": {
        "empty": "投递队列是空的：还没有活动消息。",
        "summary": "投递队列：共 {total} 条，其中 {due} 条已到发送时间",
        "by_campaign": "按活动和平台",
        "campaign": "活动",
        "platform": "平台",
        "reasons": "跳过、重试与失败的原因",
        "status": "状态",
        "reason": "原因",
        "count": "条数",
        "errors": "最近的错误",
        "when": "时间",
        "attempts": "次数",
        "code": "错误码",
        "error": "错误",
        "no_errors": "没有失败或待重试的投递。",
    },
    "en": {
        "empty": "The outbox is empty: no campaign message yet.",
        "summary": "Outbox: {total} deliveries, {due} of them due now",
        "by_campaign": "By campaign and platform",
        "campaign": "campaign",
        "platform": "platform",
        "reasons": "Why skipped, retrying or dead",
        "status": "status",
        "reason": "reason",
        "count": "count",
        "errors": "Latest errors",
        "when": "when",
        "attempts": "attempts",
        "code": "code",
        "error": "error",
        "no_errors": "No delivery is retrying or dead.",
    },
}
STATUS = {
    "zh-CN": {
        "queued": "待发送",
        "sending": "发送中",
        "waiting_staff": "待员工确认",
        "sent": "已发送",
        "delivered": "已送达",
        "failed": "待重试",
        "dead": "失败",
        "skipped": "已跳过",
    },
    "en": {
        "queued": "queued",
        "sending": "sending",
        "waiting_staff": "waiting for staff",
        "sent": "sent",
        "delivered": "delivered",
        "failed": "retrying",
        "dead": "dead",
        "skipped": "skipped",
    },
}
PLATFORM = {
    "zh-CN": {"wecom": "企业微信", "wechat": "公众号", "feishu": "飞书"},
    "en": {"wecom": "WeCom", "wechat": "Official Account", "feishu": "Feishu"},
}
REASON = {
    "zh-CN": {
        "opted_out": "已退订",
        "outside_window": "超出48小时互动窗口",
        "deadline": "超过发送期限",
        "transient": "临时错误",
        "unreachable": "无法触达",
        "coupon_revoked": "优惠券已作废",
        "coupon_redeemed": "优惠券已使用",
        "coupon_expired": "优惠券已过期",
    },
    "en": {},
}


def _lang(settings: Settings) -> str:
    return "en" if settings.locale.lower().startswith("en") else "zh-CN"


def format_report(report: OutboxReport, settings: Settings) -> str:
    lang = _lang(settings)
    text, status, platform = _TEXT[lang], STATUS[lang], PLATFORM[lang]
    if report.total == 0:
        return text["empty"] + "\n"
    seen = [s for s in DELIVERY_STATUSES if report.by_status.get(s)]
    parts = [text["summary"].format(total=f"{report.total:,}", due=f"{report.due_now:,}")]
    parts.append("  " + " · ".join(f"{status[s]} {report.by_status[s]:,}" for s in seen) + "\n")
    by_campaign = Sheet(
        text["by_campaign"],
        (
            Column(text["campaign"]),
            Column(text["platform"]),
            *(Column(status[s], "int") for s in seen),
        ),
        tuple(
            (
                row.campaign,
                platform.get(row.platform, row.platform),
                *(row.by_status.get(s, 0) for s in seen),
            )
            for row in report.campaigns
        ),
    )
    parts.append(to_text(by_campaign))
    if report.reasons:
        reasons = Sheet(
            text["reasons"],
            (Column(text["status"]), Column(text["reason"]), Column(text["count"], "int")),
            tuple(
                (status[r.status], REASON[lang].get(r.reason, r.reason), r.count)
                for r in report.reasons
            ),
        )
        parts.append(to_text(reasons))
    if not report.errors:
        parts.append(text["no_errors"] + "\n")
    else:
        errors = Sheet(
            text["errors"],
            tuple(
                Column(text[key], "int" if key == "attempts" else "text")
                for key in ("when", "campaign", "platform", "status", "attempts", "code", "error")
            ),
            tuple(
                (
                    e.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
                    e.campaign,
                    platform.get(e.platform, e.platform),
                    status[e.status],
                    e.attempts,
                    str(e.code) if e.code is not None else REASON[lang].get(e.reason or "", "-"),
                    e.error[:80],
                )
                for e in report.errors
            ),
        )
        parts.append(to_text(errors))
    return "\n".join(parts)


def _as_json(report: OutboxReport) -> str:
    data = asdict(report)
    for error in data["errors"]:
        error["at"] = error["at"].isoformat()
    return json.dumps(data, ensure_ascii=False, indent=2)


@click.command("outbox")
@click.option("--errors", default=10, show_default=True, type=click.IntRange(0, 1000))
@click.option("--json", "as_json", is_flag=True, help="机器可读 / machine-readable JSON")
def outbox_cmd(errors: int, as_json: bool) -> None:
    """活动消息投递队列 / campaign deliveries by state, and the latest errors."""
    settings = get_settings()

    async def go() -> OutboxReport:
        async with open_database(settings) as db, db.engine.connect() as conn:
            return await outbox_report(conn, datetime.now(UTC), errors)

    report = run(go)
    click.echo(_as_json(report) if as_json else format_report(report, settings).rstrip("\n"))
