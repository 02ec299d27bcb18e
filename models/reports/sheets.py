"""Reports as sheets: titled columns with a kind each, so one renderer serves the terminal,
CSV and XLSX alike. Personal data reaches a sheet only already masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from models.reports.funnel import FunnelReport
from models.reports.inviters import InviterRow
from models.reports.labels import EN, TEXT, pick
from models.reports.referral_table import ReferralTable
from models.reports.segments import ReportPeriod

Cell = str | int | Fraction | date | datetime | None
# Column kinds: "text", "int", "percent" (a fraction shown as 12.5%), "decimal" (0.00),
# "money" (integer fen shown as ¥1,234.50), "date", "datetime" (local, to the minute).
KINDS = ("text", "int", "percent", "decimal", "money", "date", "datetime")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"
    # What an "int" counts, shown after the number in XLSX only (`12次/年`): the cell stays a
    # number that sums and sorts; CSV and the terminal show the bare number.
    unit: str = ""


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


def _cols(locale: str, zh: list[tuple[str, str]], en: list[str]) -> tuple[Column, ...]:
    if locale == EN:
        return tuple(Column(h, kind) for h, (_zh, kind) in zip(en, zh, strict=True))
    return tuple(Column(h, kind) for h, kind in zh)


def period_note(period: ReportPeriod, locale: str) -> str:
    text = pick(TEXT, locale)
    tz = str(period.tz)
    if period.since is None:
        return text["as_of_note"].format(as_of=period.as_of.isoformat(), tz=tz)
    return text["period_note"].format(
        since=period.since.isoformat(), as_of=period.as_of.isoformat(), tz=tz
    )


def referral_table_sheet(table: ReferralTable, locale: str = "zh-CN") -> Sheet:
    columns = _cols(
        locale,
        [
            ("客户类型", "text"),
            ("客户数", "int"),
            ("裂变目标", "text"),
            ("裂变激励措施", "text"),
            ("裂变渠道", "text"),
            ("裂变活动参与人数", "int"),
            ("邀请数", "int"),
            ("转化数", "int"),
            ("裂变成功率", "percent"),
            ("客户反馈", "text"),
        ],
        [
            "Customer type",
            "Customers",
            "Goal",
            "Incentive",
            "Channels",
            "Participants",
            "Invitations",
            "Conversions",
            "Success rate",
            "Feedback",
        ],
    )
    rows = tuple(
        (
            r.customer_type,
            r.customers,
            r.goal,
            r.incentive,
            r.channels,
            r.participants,
            r.invitations,
            r.conversions,
            r.success_rate,
            r.feedback,
        )
        for r in table.rows
    )
    title = "Referral management" if locale == EN else "客户裂变管理表"
    return Sheet(title, columns, rows, period_note(table.period, locale))


_DIMENSION_LABELS = {
    "zh-CN": {"program": "活动", "channel": "渠道", "segment": "客户类型"},
    EN: {"program": "Program", "channel": "Channel", "segment": "Customer type"},
}


def funnel_sheet(
    report: FunnelReport, locale: str = "zh-CN", dimension: str | None = None
) -> Sheet:
    columns = _cols(
        locale,
        [
            ("维度", "text"),
            ("名称", "text"),
            ("参与人数", "int"),
            ("点击数", "int"),
            ("邀请数", "int"),
            ("加入数", "int"),
            ("转化数", "int"),
            ("已奖励", "int"),
            ("拒绝数", "int"),
            ("人均邀请", "decimal"),
            ("转化率", "percent"),
            ("K因子", "decimal"),
        ],
        [
            "Dimension",
            "Name",
            "Participants",
            "Clicks",
            "Invitations",
            "Joins",
            "Conversions",
            "Rewarded",
            "Rejected",
            "Invites/participant",
            "Conversion rate",
            "K-factor",
        ],
    )
    names = _DIMENSION_LABELS[EN if locale == EN else "zh-CN"]
    rows = tuple(
        (
            names[r.dimension],
            r.label,
            r.participants,
            r.clicks,
            r.invitations,
            r.joins,
            r.conversions,
            r.rewarded,
            r.rejected,
            r.invitations_per_participant,
            r.conversion_rate,
            r.k_factor,
        )
        for r in report.rows(dimension)
    )
    title = "Referral funnel" if locale == EN else "裂变漏斗"
    return Sheet(title, columns, rows, period_note(report.period, locale))


def inviters_sheet(rows: list[InviterRow], period: ReportPeriod, locale: str = "zh-CN") -> Sheet:
    columns = _cols(
        locale,
        [
            ("排名", "int"),
            ("客户编号", "text"),
            ("姓名", "text"),
            ("手机", "text"),
            ("邀请数", "int"),
            ("加入数", "int"),
            ("转化数", "int"),
            ("已奖励", "int"),
            ("成功率", "percent"),
        ],
        [
            "Rank",
            "Customer ID",
            "Name",
            "Phone",
            "Invitations",
            "Joins",
            "Conversions",
            "Rewarded",
            "Success rate",
        ],
    )
    data = tuple(
        (
            r.rank,
            r.external_id,
            r.masked_name,
            r.masked_phone,
            r.invitations,
            r.joins,
            r.conversions,
            r.rewarded,
            r.success_rate,
        )
        for r in rows
    )
    title = "Top inviters" if locale == EN else "邀请排行"
    return Sheet(title, columns, data, period_note(period, locale))
