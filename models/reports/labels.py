"""Words the reports show, in Simplified Chinese (default) and English.

Segment names and default goals follow seed 000's 裂变管理表格 (新客户 → 增加客户数量, …);
incentive categories follow its 激励措施 (优惠券和折扣, 积分奖励, 专属权益, 现金奖励).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ZH = "zh-CN"
EN = "en"

SEGMENT_LABELS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "new": "新客户",
        "returning": "老客户",
        "high": "高价值客户",
        "low": "低价值客户",
        "active": "活跃客户",
        "dormant": "沉睡客户",
        "all": "全部客户",
    },
    EN: {
        "new": "New customers",
        "returning": "Returning customers",
        "high": "High-value customers",
        "low": "Low-value customers",
        "active": "Active customers",
        "dormant": "Dormant customers",
        "all": "All customers",
    },
}

DEFAULT_GOALS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "new": "增加客户数量",
        "returning": "提高客户粘性",
        "high": "提高客户粘性",
        "low": "增加客户数量",
        "active": "提高客户粘性",
        "dormant": "提高客户活跃度",
        "all": "增加客户数量",
    },
    EN: {
        "new": "Grow the customer base",
        "returning": "Increase loyalty",
        "high": "Increase loyalty",
        "low": "Grow the customer base",
        "active": "Increase loyalty",
        "dormant": "Reactivate",
        "all": "Grow the customer base",
    },
}

# Lifecycle stages (seed 004), as the customer card and the exports name them.
STAGE_LABELS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "prospect": "潜在客户",
        "new": "新客户",
        "growing": "成长客户",
        "mature": "成熟客户",
        "declining": "衰退客户",
        "churned": "流失客户",
    },
    EN: {
        "prospect": "prospect",
        "new": "new",
        "growing": "growing",
        "mature": "mature",
        "declining": "declining",
        "churned": "churned",
    },
}

CHANNEL_LABELS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "link": "分享链接",
        "wecom_contact": "企业微信加好友",
        "wecom_group": "企业微信群",
        "wechat_qr": "公众号二维码",
        "feishu_group": "飞书群",
        "api": "官网/App",
        "console": "模拟器",
    },
    EN: {
        "link": "Shared link",
        "wecom_contact": "WeCom contact",
        "wecom_group": "WeCom group",
        "wechat_qr": "Official Account QR",
        "feishu_group": "Feishu group",
        "api": "Website/app",
        "console": "Simulator",
    },
}

REJECT_LABELS: Mapping[str, Mapping[str | None, str]] = {
    ZH: {
        "self_referral": "自我推荐",
        "existing_customer": "已是老客户",
        "already_attributed": "已被他人邀请",
        "inviter_cap": "超出邀请上限",
        "budget_exhausted": "预算用尽",
        "expired": "已过期",
        "suspected_fraud": "疑似作弊",
        "order_refunded": "订单已退款",
        "order_changed": "订单已变更",
        None: "未注明原因",
    },
    EN: {
        "self_referral": "self-referral",
        "existing_customer": "already a customer",
        "already_attributed": "invited by someone else",
        "inviter_cap": "inviter over cap",
        "budget_exhausted": "budget exhausted",
        "expired": "expired",
        "suspected_fraud": "suspected fraud",
        "order_refunded": "order refunded",
        "order_changed": "order changed",
        None: "no reason given",
    },
}

INCENTIVE_LABELS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "coupon": "优惠券和折扣",
        "points": "积分奖励",
        "privilege": "专属权益",
        "cash": "现金奖励",
    },
    EN: {
        "coupon": "Coupons and discounts",
        "points": "Points",
        "privilege": "Privileges",
        "cash": "Cash reward",
    },
}

STATUS_LABELS: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "clicked": "已点击",
        "joined": "已加入",
        "converted": "已转化",
        "rewarded": "已奖励",
        "rejected": "已拒绝",
    },
    EN: {
        "clicked": "clicked",
        "joined": "joined",
        "converted": "converted",
        "rewarded": "rewarded",
        "rejected": "rejected",
    },
}

# Free text pieces, keyed by what they say.
TEXT: Mapping[str, Mapping[str, str]] = {
    ZH: {
        "none": "—",
        "no_invitations": "暂无邀请",
        "no_rejections": "无拒绝",
        "rejected": "拒绝 {n}（{reasons}）",
        "waiting_order": "已加入待下单 {n}",
        "review_pending": "待人工审核 {n}",
        "list_sep": "、",
        "part_sep": "；",
        "no_program": "无匹配活动",
        "incentive": "{categories}（{program}）",
        "more_channels": "{channels}等 {n} 个渠道",
        "as_of_note": "统计截至 {as_of}（{tz}）",
        "period_note": "统计区间 {since} 至 {as_of}（{tz}）",
        "total": "合计",
    },
    EN: {
        "none": "—",
        "no_invitations": "no invitations yet",
        "no_rejections": "no rejections",
        "rejected": "{n} rejected ({reasons})",
        "waiting_order": "{n} joined, no order yet",
        "review_pending": "{n} awaiting review",
        "list_sep": ", ",
        "part_sep": "; ",
        "no_program": "no matching program",
        "incentive": "{categories} ({program})",
        "more_channels": "{channels} and more ({n} channels)",
        "as_of_note": "As of {as_of} ({tz})",
        "period_note": "From {since} to {as_of} ({tz})",
        "total": "Total",
    },
}


def pick(table: Mapping[str, Mapping[str, str]], locale: str) -> Mapping[str, str]:
    """The labels of `locale`, Chinese for anything but English."""
    return table[EN] if locale == EN else table[ZH]


def label(table: Mapping[str, Mapping[str, str]], locale: str, key: str) -> str:
    """One label; an unknown key (a channel added later, say) shows as itself."""
    return pick(table, locale).get(key, key)


def reject_label(locale: str, reason: str | None) -> str:
    labels = REJECT_LABELS[EN] if locale == EN else REJECT_LABELS[ZH]
    return labels.get(reason) or reason or labels[None]


def _stage_words() -> dict[str, str]:
    """Every way to name a stage: `declining`, `衰退客户`, `衰退`, `新`."""
    words: dict[str, str] = {}
    for names in STAGE_LABELS.values():
        for stage, name in names.items():
            words[name.casefold()] = stage
            if name.endswith("客户") and len(name) > 2:
                words[name[: -len("客户")]] = stage
    words.update({stage: stage for stage in STAGE_LABELS[EN]})
    words["新"] = "new"
    return words


_STAGE_WORDS = _stage_words()
_GRADE_WORD = re.compile(r"([ABC])\s*(级|类|等)?(客户)?", re.IGNORECASE)


def parse_stage(word: str) -> str | None:
    """The stage a word names (Chinese or English, with or without 客户), or None."""
    return _STAGE_WORDS.get(word.strip().casefold())


def parse_grade(word: str) -> str | None:
    """`A`, `a`, `A级`, `B类客户` → the grade letter, or None."""
    m = _GRADE_WORD.fullmatch(word.strip())
    return m[1].upper() if m else None
