"""Funnel (clicks → joins → conversions → rewarded) and K-factor per program, channel and
customer type, on the population of tests/reports_population.py (T = 2024-06-30).

Clicks: A's code 3 within T (a 4th on July 1 is after T), B's code 2. K-factor =
invitations / participants × conversions / invitations.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from zoneinfo import ZoneInfo

from reports_population import T, build_main_population

from config.reports import ReferralReportRules
from models.db import Database
from models.reports import FunnelReport, ReportPeriod, funnel_sheet, referral_funnel, to_text

SHANGHAI = ZoneInfo("Asia/Shanghai")

Line = tuple[str, int, int | None, int, int, int, int, int, Fraction | None]


async def _funnel(db: Database, since: date | None = None) -> FunnelReport:
    async with db.uow() as uow:
        await build_main_population(uow.session)
        await uow.commit()
    async with db.uow() as uow:
        period = ReportPeriod(as_of=T, tz=SHANGHAI, since=since)
        return await referral_funnel(uow.session, period=period, rules=ReferralReportRules())


def _lines(report: FunnelReport, dimension: str) -> list[Line]:
    return [
        (
            r.key,
            r.participants,
            r.clicks,
            r.invitations,
            r.joins,
            r.conversions,
            r.rewarded,
            r.rejected,
            r.k_factor,
        )
        for r in report.rows(dimension)
    ]


async def test_funnel_per_program(db: Database) -> None:
    report = await _funnel(db)
    # key, participants, clicks, invitations, joins, conversions, rewarded, rejected, K
    assert _lines(report, "program") == [
        ("newbie", 1, 3, 4, 3, 2, 1, 1, Fraction(2)),  # 4 invitations × 2/4
        ("vip", 1, 0, 0, 0, 0, 0, 0, Fraction(0)),  # C has a code, no invitations
        ("everyone", 1, 2, 3, 1, 1, 0, 2, Fraction(1)),  # 3 × 1/3
        ("wake", 0, 0, 0, 0, 0, 0, 0, None),  # running, nobody took part
        # "old_friends" is switched off and idle: not listed
    ]


async def test_funnel_per_channel(db: Database) -> None:
    report = await _funnel(db)
    assert _lines(report, "channel") == [
        ("link", 1, 5, 3, 1, 1, 0, 2, Fraction(1)),
        # group joins have no click stage
        ("wecom_group", 1, None, 4, 3, 2, 1, 1, Fraction(2)),
    ]


async def test_funnel_and_k_factor_per_customer_type(db: Database) -> None:
    report = await _funnel(db)
    assert _lines(report, "segment") == [
        ("new", 1, 3, 4, 3, 2, 1, 1, Fraction(2)),
        ("returning", 2, 2, 3, 1, 1, 0, 2, Fraction(1, 2)),  # 3/2 invitations each × 1/3
        ("high", 2, 3, 4, 3, 2, 1, 1, Fraction(1)),
        ("low", 1, 2, 3, 1, 1, 0, 2, Fraction(1)),
        ("active", 2, 5, 7, 4, 3, 1, 3, Fraction(3, 2)),
        ("dormant", 1, 0, 0, 0, 0, 0, 0, Fraction(0)),
        ("all", 3, 5, 7, 4, 3, 1, 3, Fraction(1)),
    ]
    everyone = report.rows("segment")[-1]
    assert everyone.invitations_per_participant == Fraction(7, 3)
    assert everyone.conversion_rate == Fraction(3, 7)


async def test_funnel_since_a_date(db: Database) -> None:
    report = await _funnel(db, since=date(2024, 6, 15))
    # B's click of May 9 and invitation of May 10 fall before the period; C's April code too.
    assert _lines(report, "program")[2] == ("everyone", 1, 1, 2, 1, 1, 0, 1, Fraction(1))
    assert _lines(report, "segment")[-1] == ("all", 2, 4, 6, 4, 3, 1, 2, Fraction(3, 2))


async def test_funnel_sheet_shows_rates_rounded_and_dashes(db: Database) -> None:
    report = await _funnel(db)
    lines = to_text(funnel_sheet(report, dimension="segment")).splitlines()
    assert lines[0] == "裂变漏斗"
    assert lines[1].split() == [
        "维度",
        "名称",
        "参与人数",
        "点击数",
        "邀请数",
        "加入数",
        "转化数",
        "已奖励",
        "拒绝数",
        "人均邀请",
        "转化率",
        "K因子",
    ]
    assert lines[-2].split() == [
        "客户类型",
        "全部客户",
        "3",
        "5",
        "7",
        "4",
        "3",
        "1",
        "3",
        "2.33",
        "42.9%",
        "1.00",
    ]
    assert lines[8].split()[-2:] == ["—", "0.00"]  # dormant: no invitations, K = 0
