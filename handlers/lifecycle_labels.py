"""Words for the lifecycle receipt: what a rule id and its metrics mean to a staff member.

Rule ids and metric keys are the ones `models/lifecycle/classify.py` stores with every stage
assignment. An id or key not listed here is shown as it is, so a new rule never breaks a card.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from models.money import format_money

RULE_LABELS: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "churned.closed": "账户已注销或取消合作",
        "churned.inactive": "长时间没有下单，已超过流失期限",
        "prospect.qualified": "还没有下单，但有意向信号（合格线索）",
        "prospect.no_order": "还没有下单",
        "declining.inactive": "较长时间没有下单",
        "declining.usage_drop": "近期功能使用量比上一期明显下降",
        "declining.support_drop": "近期客服联系次数比上一期明显下降",
        "mature.signals": "满足成熟客户的多项信号",
        "growing.repeat_orders": "近期多次复购",
        "growing.repeat_aov": "近期复购金额明显高于首单",
        "growing.core_features": "近期使用了多项核心功能",
        "new.first_order": "首单在新客户期内",
        "hold.grey_zone": "暂无新信号，保持原阶段（短期波动不降级）",
        "default.growing": "已下单、暂无其他信号，按成长客户对待",
    },
    "en": {
        "churned.closed": "account closed",
        "churned.inactive": "no order for longer than the churn limit",
        "prospect.qualified": "no order yet, but showing interest (qualified lead)",
        "prospect.no_order": "no order yet",
        "declining.inactive": "no order for a long while",
        "declining.usage_drop": "feature use dropped against the previous window",
        "declining.support_drop": "support contacts dropped against the previous window",
        "mature.signals": "meets enough mature-customer signals",
        "growing.repeat_orders": "several repeat orders recently",
        "growing.repeat_aov": "recent repeat orders well above the first order",
        "growing.core_features": "used several core features recently",
        "new.first_order": "first order within the new-customer period",
        "hold.grey_zone": "no new signal; keeps the previous stage (a dip does not demote)",
        "default.growing": "has ordered, no other signal: treated as growing",
    },
}

METRIC_LABELS: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "last_order_on": "最近一单",
        "first_order_on": "首单日期",
        "orders": "有效订单",
        "reasons": "意向信号",
        "views_recent": "近期浏览",
        "campaign_joins": "参加活动",
        "lead_forms": "留资",
        "usage_recent": "近期功能使用",
        "usage_previous": "上一期功能使用",
        "support_recent": "近期客服联系",
        "support_previous": "上一期客服联系",
        "signals": "成熟信号",
        "revenue_90d_fen": "近90天营收",
        "revenue_rank": "营收排名",
        "revenue_ranked": "参与排名",
        "referrals": "成功推荐",
        "repeat_orders_recent": "近期复购",
        "repeat_revenue_recent_fen": "近期复购金额",
        "first_order_fen": "首单金额",
        "core_features_recent": "近期核心功能",
    },
    "en": {
        "last_order_on": "last order",
        "first_order_on": "first order on",
        "orders": "paid orders",
        "reasons": "interest signals",
        "views_recent": "recent views",
        "campaign_joins": "campaigns joined",
        "lead_forms": "lead forms",
        "usage_recent": "recent feature use",
        "usage_previous": "previous feature use",
        "support_recent": "recent support contacts",
        "support_previous": "previous support contacts",
        "signals": "mature signals",
        "revenue_90d_fen": "revenue, last 90 days",
        "revenue_rank": "revenue rank",
        "revenue_ranked": "ranked customers",
        "referrals": "converted referrals",
        "repeat_orders_recent": "recent repeat orders",
        "repeat_revenue_recent_fen": "recent repeat revenue",
        "first_order_fen": "first order",
        "core_features_recent": "recent core features",
    },
}

# Names that appear inside list-valued metrics (`reasons`, `signals`).
VALUE_LABELS: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "views": "多次浏览",
        "campaign_join": "参加活动",
        "lead_form": "留下联系方式",
        "no_lapse": "连续三个月都有下单",
        "top_revenue": "近90天营收居前",
        "referrals": "成功推荐新客户",
    },
    "en": {
        "views": "repeated views",
        "campaign_join": "joined a campaign",
        "lead_form": "left contact details",
        "no_lapse": "ordered in each of the last three months",
        "top_revenue": "top revenue in the last 90 days",
        "referrals": "converted referrals",
    },
}

_SEPARATOR = {"zh-CN": "，", "en": ", "}
_LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}


def lang_of(locale: str) -> str:
    return "en" if locale.lower().startswith("en") else "zh-CN"


def rule_label(rule: str, locale: str = "zh-CN") -> str:
    return RULE_LABELS[lang_of(locale)].get(rule, rule)


_DAYS_BEFORE = {"zh-CN": "{day}（{days} 天前）", "en": "{day} ({days} days before)"}


def _day(value: Any, as_of: date | None, lang: str) -> str | None:
    """`2024-03-01（75 天前）` for a stored local date, counted back from the run's date."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    if as_of is None:
        return value
    return _DAYS_BEFORE[lang].format(day=value, days=(as_of - day).days)


def _value(key: str, value: Any, lang: str, as_of: date | None) -> str:
    if key.endswith("_on") and (shown := _day(value, as_of, lang)) is not None:
        return shown
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        names = VALUE_LABELS[lang]
        return _LIST_SEPARATOR[lang].join(names.get(str(v), str(v)) for v in value) or "-"
    return str(value)


def format_metrics(
    metrics: Mapping[str, Any], locale: str = "zh-CN", as_of: date | None = None
) -> str:
    """`近90天营收 ¥3,600.00，营收排名 3` — known keys in words, unknown ones as `key=value`;
    dates with how long before `as_of` (the run's date) they were."""
    lang = lang_of(locale)
    labels = METRIC_LABELS[lang]
    # A fixed order (PostgreSQL's JSONB does not keep the order keys were written in).
    known = [key for key in labels if key in metrics]
    keys = known + sorted(key for key in metrics if key not in labels)
    parts = []
    for key in keys:
        value = metrics[key]
        shown = _value(key, value, lang, as_of)
        parts.append(f"{labels[key]} {shown}" if key in labels else f"{key}={shown}")
    return _SEPARATOR[lang].join(parts)
