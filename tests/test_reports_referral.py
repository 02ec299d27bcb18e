"""The referral management table (seed 000 §6), computed from a hand-built population.

Population (tests/reports_population.py), T = 2024-06-30 in Asia/Shanghai:
- A: first order 10 days before T, grade A → new, high, active; code in "newbie"; invited E1
  (converted), E2 (rewarded), E3 (joined), E4 (rejected: self-referral) via a WeCom group, and D
  after the end of T (not counted);
- B: returning, grade C, last order 29 days before T → returning, low, active; code in
  "everyone"; invited E5, E6 (rejected: existing customer) and E7 (converted, held for review)
  through the link, plus one anonymous click row (not an invitation);
- C: returning, grade B, last order in March → returning, high, dormant; a code, no invitations;
- D and E1…E7: no orders, no grade → new, low, dormant.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from zoneinfo import ZoneInfo

from reports_population import Builder, T, build_main_population, local

from config.reports import ReferralReportRules
from models.db import Database
from models.reports import (
    ReferralTable,
    ReportPeriod,
    referral_table,
    referral_table_sheet,
    to_text,
)
from models.reports.export import display_width

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = ReferralReportRules()


async def _table(
    db: Database,
    *,
    since: date | None = None,
    rules: ReferralReportRules = RULES,
    locale: str = "zh-CN",
) -> ReferralTable:
    async with db.uow() as uow:
        await build_main_population(uow.session)
        await uow.commit()
    async with db.uow() as uow:
        period = ReportPeriod(as_of=T, tz=SHANGHAI, since=since)
        return await referral_table(uow.session, period=period, rules=rules, locale=locale)


def _summary(table: ReferralTable) -> dict[str, tuple[int, int, int, int, Fraction | None]]:
    return {
        r.segment: (r.customers, r.participants, r.invitations, r.conversions, r.success_rate)
        for r in table.rows
    }


async def test_every_customer_type_row_is_counted_from_the_data(db: Database) -> None:
    table = await _table(db)
    assert [r.customer_type for r in table.rows] == [
        "新客户",
        "老客户",
        "高价值客户",
        "低价值客户",
        "活跃客户",
        "沉睡客户",
        "全部客户",
    ]
    assert _summary(table) == {
        "new": (9, 1, 4, 2, Fraction(1, 2)),
        "returning": (2, 2, 3, 1, Fraction(1, 3)),
        "high": (2, 2, 4, 2, Fraction(1, 2)),
        "low": (9, 1, 3, 1, Fraction(1, 3)),
        "active": (2, 2, 7, 3, Fraction(3, 7)),
        "dormant": (9, 1, 0, 0, None),
        "all": (11, 3, 7, 3, Fraction(3, 7)),
    }


async def test_goals_incentives_channels_and_feedback_read_as_seed_000(db: Database) -> None:
    table = await _table(db)
    text = {r.segment: (r.goal, r.incentive, r.channels, r.feedback) for r in table.rows}
    assert text["new"] == (
        "增加客户数量",
        "优惠券和折扣（新人有礼）",
        "企业微信群 4",
        "已加入待下单 1；拒绝 1（自我推荐 1）",
    )
    # The switched-off "old_friends" program would target returning customers; the first
    # in-date program that does not constrain new/returning is "vip".
    assert text["returning"] == (
        "提高客户粘性",
        "专属权益、优惠券和折扣（VIP专享）",
        "分享链接 3",
        "拒绝 2（已是老客户 2）；待人工审核 1",
    )
    assert text["high"][1] == "专属权益、优惠券和折扣（VIP专享）"
    assert text["low"][:2] == ("增加客户数量", "优惠券和折扣（新人有礼）")
    assert text["active"] == (
        "提高客户粘性",
        "优惠券和折扣（新人有礼）",
        "企业微信群 4、分享链接 3",
        "已加入待下单 1；拒绝 3（已是老客户 2、自我推荐 1）；待人工审核 1",
    )
    # No invitations yet: the channels the mapped program is set up for (the first three).
    assert text["dormant"] == (
        "提高客户活跃度",
        "现金奖励（唤醒计划）",
        "公众号二维码、分享链接、飞书群等 4 个渠道",
        "暂无邀请",
    )
    assert text["all"][1] == "积分奖励、现金奖励（全民推荐）"
    assert table.row("all").program_key == "everyone"


async def test_since_limits_invitations_codes_and_participants(db: Database) -> None:
    table = await _table(db, since=date(2024, 6, 15))
    summary = _summary(table)
    # C's code is from April and C made no invitation since: no longer a participant; B's
    # invitation of May 10 falls before the period.
    assert summary["all"] == (11, 2, 6, 3, Fraction(1, 2))
    assert summary["returning"] == (2, 1, 2, 1, Fraction(1, 2))
    assert table.row("returning").feedback == "拒绝 1（已是老客户 1）；待人工审核 1"


async def test_goals_and_thresholds_come_from_configuration(db: Database) -> None:
    rules = ReferralReportRules(new_within_days=5, goals={"dormant": "唤醒沉睡客户"})
    table = await _table(db, rules=rules)
    # A's first order is 10 days old: returning once "new" means 5 days.
    assert (table.row("new").customers, table.row("returning").customers) == (8, 3)
    assert table.row("dormant").goal == "唤醒沉睡客户"
    assert table.row("active").goal == "提高客户粘性"


async def test_segment_boundaries_refunds_and_time_zone(db: Database) -> None:
    async with db.uow() as uow:
        b = Builder(uow.session)
        await b.retire_existing_programs()
        # first order exactly 30 days before T: still new; 31 days: returning
        await b.customer("N30", grade="A", orders=(local(2024, 5, 31),))
        await b.customer("N31", grade="B", orders=(local(2024, 5, 30),))
        # last order 59 days before T (00:30 local, still 16:30 UTC the day before): active
        await b.customer("L59", grade="C", orders=(local(2023, 1, 1), local(2024, 5, 2, 0, 30)))
        # last order 60 days before T (23:30 local): dormant
        await b.customer("L60", orders=(local(2023, 1, 1), local(2024, 5, 1, 23, 30)))
        # a refunded order does not count
        await b.customer("REF", orders=(local(2023, 1, 1),), refunded=(local(2024, 6, 10),))
        # an order after the end of T does not count: no order yet
        await b.customer("LATE", orders=(local(2024, 7, 1, 0, 30),))
        await uow.commit()
    async with db.uow() as uow:
        period = ReportPeriod(as_of=T, tz=SHANGHAI)
        table = await referral_table(uow.session, period=period, rules=RULES)
    sizes = {r.segment: r.customers for r in table.rows}
    assert sizes == {
        "new": 2,  # N30, LATE
        "returning": 4,  # N31, L59, L60, REF
        "high": 2,  # N30 (A), N31 (B)
        "low": 4,  # L59 (C) and three without a grade
        "active": 3,  # N30, N31, L59
        "dormant": 3,  # L60, REF, LATE
        "all": 6,
    }
    assert all(r.invitations == 0 and r.feedback == "暂无邀请" for r in table.rows)


async def test_table_renders_with_seed_headers_and_english_locale(db: Database) -> None:
    table = await _table(db)
    text = to_text(referral_table_sheet(table))
    lines = text.splitlines()
    assert lines[0] == "客户裂变管理表"
    assert lines[1].split() == [
        "客户类型",
        "客户数",
        "裂变目标",
        "裂变激励措施",
        "裂变渠道",
        "裂变活动参与人数",
        "邀请数",
        "转化数",
        "裂变成功率",
        "客户反馈",
    ]
    new_row = lines[3]
    assert new_row.startswith("新客户")
    assert "50.0%  已加入待下单 1；拒绝 1（自我推荐 1）" in new_row
    assert lines[7].startswith("活跃客户") and "42.9%" in lines[7]
    # Columns line up in display cells (a Chinese character is two cells wide).
    goal_at = display_width(lines[1][: lines[1].index("裂变目标")])
    for line in lines[3:10]:
        assert display_width(line[: line.index("提高" if "提高" in line else "增加")]) == goal_at
    assert lines[-1] == "统计截至 2024-06-30（Asia/Shanghai）"


async def test_english_locale(db: Database) -> None:
    table = await _table(db, locale="en")
    sheet = referral_table_sheet(table, "en")
    assert [c.header for c in sheet.columns][:3] == ["Customer type", "Customers", "Goal"]
    row = table.row("returning")
    assert (row.customer_type, row.goal) == ("Returning customers", "Increase loyalty")
    assert row.feedback == "2 rejected (already a customer 2); 1 awaiting review"
    assert row.channels == "Shared link 3"
