"""The campaign report's figures from a synthetic population with hand-counted conversions, on
both backends, and its 95% intervals against the published figures."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

import pytest
from campaign_runs_world import DAY, HOUR, T0, Member, add_run, arm, bought
from chatkit import NOW, as_text, make_ctx, say, seed_people
from click.testing import CliRunner

from bot.cli import main
from models.campaigns.report import ArmFigures, campaign_report, find_campaign
from models.campaigns.uplift import newcombe_uplift, wilson_interval
from models.db import Database

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score):
# (x1, n1, x2, n2) → the 95% interval of p1 − p2, to the four places the paper prints.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_TABLE_II)
def test_uplift_interval_matches_newcombes_published_table(
    counts: tuple[int, int, int, int], interval: tuple[float, float]
) -> None:
    uplift = newcombe_uplift(*counts)
    assert uplift is not None
    assert (round(uplift.low, 4), round(uplift.high, 4)) == interval
    x1, n1, x2, n2 = counts
    assert uplift.difference == pytest.approx(x1 / n1 - x2 / n2)
    assert uplift.significant == (interval[0] > 0 or interval[1] < 0)


def test_an_interval_spanning_zero_is_not_significant_where_wald_would_say_it_is() -> None:
    # 5/56 against 0/29: Wald's interval (+1.5 to +16.4 points) excludes zero only because the
    # empty arm has no variance at all; the score interval does not pretend to know.
    uplift = newcombe_uplift(5, 56, 0, 29)
    assert uplift is not None and uplift.low < 0 < uplift.high
    assert not uplift.significant


def test_wilson_interval_of_a_single_rate() -> None:
    # Newcombe (1998) Table I, 81/263: 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert newcombe_uplift(3, 10, 0, 0) is None


async def test_report_counts_conversions_in_each_members_window(db: Database) -> None:
    treatment = [
        # Paid 13 days 23 hours after the message: inside the 14-day window.
        Member(
            "treatment",
            sent_after=DAY,
            orders=bought(DAY + 13 * DAY + 23 * HOUR, 10_000),
            coupon="redeemed",
        ),
        # Paid exactly 14 days after the message: the window has closed.
        Member("treatment", sent_after=DAY, orders=bought(15 * DAY), coupon="issued"),
        # Paid after the run began but before the message reached them: not the message's doing.
        Member("treatment", sent_after=DAY, orders=bought(23 * HOUR), coupon="issued"),
        # Two orders in the window: one conversion, both amounts count as revenue.
        Member(
            "treatment",
            sent_after=DAY,
            orders=((2 * DAY, 3_000, "paid"), (3 * DAY, 2_000, "paid")),
            coupon="redeemed",
        ),
        # Paid, then refunded: no conversion, no revenue.
        Member(
            "treatment", sent_after=DAY, orders=bought(2 * DAY, 9_900, "refunded"), coupon="issued"
        ),
        # Never reached (skipped): still in the arm, counted from the run's start.
        Member(
            "treatment",
            stage="churned",
            sent_after=None,
            orders=bought(3 * DAY, 4_000),
            coupon="issued",
        ),
        *[Member("treatment", stage="growing", sent_after=DAY, coupon="issued")] * 4,
    ]
    holdout = [
        Member("holdout", orders=bought(2 * DAY, 8_000)),
        Member("holdout", orders=bought(-DAY)),  # bought before the run
        Member("holdout", orders=bought(15 * DAY)),  # after the window
        Member("holdout"),
    ]
    control = [Member("control", orders=bought(10 * DAY, 5_000))] + [Member("control")] * 4
    excluded = [Member("excluded", reason="opted_out", orders=bought(DAY))]
    async with db.uow() as uow:
        await add_run(uow.session, treatment + holdout + control + excluded)
        await uow.commit()

    async with db.uow() as uow:
        campaign = await find_campaign(uow.session, "WINBACK_declining")
        assert campaign is not None and campaign.name == "衰退客户挽回"
        report = await campaign_report(uow.session, campaign)

    (run,) = report.runs
    assert run.arms.treatment == ArmFigures(
        members=10,
        converted=3,
        revenue_fen=19_000,
        reached=9,
        coupons=10,
        redeemed=2,
        winback_members=6,
        winback_converted=3,
    )
    # Holdout and control members are declining too: their win-back is the baseline.
    assert run.arms.holdout == ArmFigures(
        members=4, converted=1, revenue_fen=8_000, winback_members=4, winback_converted=1
    )
    assert run.arms.control == ArmFigures(
        members=5, converted=1, revenue_fen=5_000, winback_members=5, winback_converted=1
    )
    t = run.arms.treatment
    assert (t.conversion, t.redemption, t.winback_rate) == (
        Fraction(3, 10),
        Fraction(1, 5),
        Fraction(1, 2),
    )
    assert (t.revenue_per_member_fen, run.arms.holdout.revenue_per_member_fen) == (1_900, 2_000)
    vs_holdout = run.arms.vs_holdout
    assert vs_holdout is not None
    assert vs_holdout.difference == pytest.approx(0.05)
    assert not vs_holdout.significant
    # The last message went out a day after the start: its window closes 15 days after it.
    assert run.closes_at == T0 + 15 * DAY
    assert not run.is_final(T0 + 15 * DAY - HOUR) and run.is_final(T0 + 15 * DAY)


async def test_report_adds_up_the_runs_of_a_campaign(db: Database) -> None:
    async with db.uow() as uow:
        await add_run(uow.session, arm("treatment", 56, 56 - 14) + arm("holdout", 40, 24))
        await add_run(
            uow.session,
            arm("treatment", 14, 14) + arm("holdout", 40, 24),
            started_at=T0 + 7 * DAY,
        )
        # Another campaign's run and a run that failed are not part of the report.
        await add_run(uow.session, arm("treatment", 5, 5), key="comeback_churned")
        await add_run(uow.session, arm("treatment", 5, 0), started_at=T0 + DAY, status="failed")
        await uow.commit()

    async with db.uow() as uow:
        campaign = await find_campaign(uow.session, "衰退客户挽回")
        assert campaign is not None
        report = await campaign_report(uow.session, campaign)

    assert [run.started_at for run in report.runs] == [T0 + 7 * DAY, T0]
    total = report.total
    assert (total.treatment.members, total.treatment.converted) == (70, 56)
    assert (total.holdout.members, total.holdout.converted) == (80, 48)
    assert total.control == ArmFigures()
    # Newcombe's example (a): 56/70 − 48/80 = 20 points, 95% interval 5.24 to 33.39 points.
    uplift = total.vs_holdout
    assert uplift is not None and uplift.significant
    assert (round(uplift.low, 4), round(uplift.high, 4)) == (0.0524, 0.3339)
    assert total.vs_control is None


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    async def seed() -> None:
        db = Database.from_url(db_url)
        try:
            async with db.uow() as uow:
                # Newcombe's example (d) a week before his example (a), as two runs.
                await add_run(
                    uow.session,
                    arm("treatment", 56, 5) + arm("holdout", 29, 0) + arm("control", 20, 1),
                )
                await add_run(
                    uow.session,
                    arm("treatment", 70, 56) + arm("holdout", 80, 48),
                    started_at=T0 + 7 * DAY,
                )
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(seed())
    monkeypatch.chdir(tmp_path)
    return CliRunner(
        env={"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_CONFIG": None}
    )


def test_cli_report_marks_the_run_whose_interval_spans_zero(cli: CliRunner) -> None:
    result = cli.invoke(main, ["campaign", "report", "winback_declining"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "活动效果：衰退客户挽回（winback_declining）",
        "转化口径：发送后 14 天内付款（对照组从活动运行时算起）",
    ]
    arms = ("实验组", "活动对照组", "全局对照组")
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(arms)}
    # 61 of 126 treated bought (5 + 56), 48 of 109 held out: ¥100 orders, so ¥48.41 a head.
    assert rows["实验组"][1:6] == ["126", "126", "61", "48.4%", "¥48.41"]
    assert rows["活动对照组"][1:6] == ["109", "—", "48", "44.0%", "¥44.04"]
    assert rows["全局对照组"][1:6] == ["20", "—", "1", "5.0%", "¥5.00"]
    assert "提升（比活动对照组）：+4.4 个百分点（95% 置信区间 −8.3 ~ +16.8），尚不显著" in lines
    runs = [line.split() for line in lines if line.startswith("2024-05-")]
    # Example (a): +20.0 points, 5.24 to 33.39; example (d): +8.9 points, −3.81 to +19.26.
    assert runs[0][:2] == ["2024-05-14", "10:00"]
    assert runs[0][6:11] == ["+20.0", "+5.2", "~", "+33.4", "显著"]
    assert runs[1][:2] == ["2024-05-07", "10:00"]
    assert runs[1][6:11] == ["+8.9", "−3.8", "~", "+19.3", "尚不显著"]
    assert lines[-1].startswith("95% 置信区间：Newcombe 混合评分法")


def test_cli_report_names_the_campaigns_there_are(cli: CliRunner) -> None:
    result = cli.invoke(main, ["campaign", "report", "spring_sale"])
    assert result.exit_code == 1
    assert result.stderr == (
        "没有找到活动“spring_sale”。可选：衰退客户挽回（winback_declining）、"
        "流失客户回归（comeback_churned）\n"
    )
    result = cli.invoke(main, ["campaign", "report", "流失客户回归"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[1]
        == "“流失客户回归”（comeback_churned）还没有运行过，暂时没有效果数据。"
    )


async def test_chat_report_for_managers(db: Database) -> None:
    await seed_people(db)
    async with db.uow() as uow:
        await add_run(uow.session, arm("treatment", 70, 56) + arm("holdout", 80, 48))
        await add_run(
            uow.session,
            arm("treatment", 56, 5) + arm("holdout", 29, 0),
            started_at=NOW - 3 * DAY,
        )
        await uow.commit()
    ctx = make_ctx(db)

    text = as_text(await say(ctx, "活动 报告 衰退客户挽回", user="manager-1"))
    assert text.splitlines()[:3] == [
        "活动效果：衰退客户挽回（winback_declining）",
        "运行次数：2 次，最近一次 2024-05-31 10:00",
        "转化口径：发送后 14 天内付款（对照组从活动运行时算起）",
    ]
    assert "实验组 126 人（已送达 126）：转化 48.4%（61 人），人均收入 ¥48.41" in text
    assert "挽回率：48.4%（衰退/流失客户 126 人中 61 人回购）" in text
    # The latest run is three days old: its 14-day windows are still open.
    assert "观察期至 2024-06-14 结束，数字还会变化。" in text
    assert (
        "2024-05-31 10:00　人数 56/29/0　转化 8.9% / 0.0% / —　"
        "提升 +8.9 个百分点（尚不显著）　观察中"
    ) in text.splitlines()

    english = as_text(
        await say(make_ctx(db, locale="en"), "/campaign report winback_declining", user="manager-1")
    )
    assert "Uplift over holdout: +4.4 pts (95% CI −8.3 to +16.8), not yet significant" in english
    assert "Win-back rate: 48.4% (61 of 126 declining/churned bought again)" in english

    refused = as_text(await say(ctx, "/campaign report winback_declining", user="agent-1"))
    assert "活动效果" not in refused
    unknown = as_text(await say(ctx, "/campaign report 双十一", user="admin-1"))
    assert unknown.startswith("没有找到活动“双十一”。可选：衰退客户挽回（winback_declining）")
