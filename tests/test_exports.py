"""`fission export grades|lifecycle|referral|invitations` end to end through click, on both
backends: the seeds' headers, masking, number formats, the same numbers as the stored grades,
the customer card and `fission report referral`, filters, file names and the progress bar."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_terminal import run_fission
from click.testing import CliRunner, Result
from export_world import FULL_NAMES, FULL_PHONES, GRADE_HEADERS, PEOPLE, Shop, build_shop
from lifecycle_world import TZ
from openpyxl import load_workbook
from reports_population import local, seed_main_population
from sqlalchemy import select

from bot.cli import main
from config.rules import GradingRules
from models.customer import Customer
from models.customer_card import CustomerCard, build_card
from models.db import Database
from models.referral.reward_tables import CouponTemplate, Reward
from models.referral.tables import Invitation
from models.stages import STAGES

BOM = b"\xef\xbb\xbf"
LIFECYCLE_HEADERS = [
    "客户名称",
    "联系方式",
    "当前阶段",
    "进入当前阶段时间",
    "阶段转移记录",
    "首单日期",
    "最近下单日期",
    "累计订单数",
    "累计消费金额",
    "客单价",
    "近30天活跃度",
    "当前策略",
    "责任人",
    "跟进记录",
    "下次跟进时间",
    "客户编号",
]
# Seed 004's stages, in its order (models.stages.STAGES).
STAGE_WORDS = ["潜在客户", "新客户", "成长客户", "成熟客户", "衰退客户", "流失客户"]
STAGE_NAMES = dict(zip(STAGES, STAGE_WORDS, strict=True))


@pytest.fixture
def shop(db_url: str) -> Shop:
    async def build() -> Shop:
        db = Database.from_url(db_url)
        try:
            return await build_shop(db)
        finally:
            await db.dispose()

    return asyncio.run(build())


def export(
    db_url: str, tmp_path: Path, *args: str, locale: str = "zh-CN", **settings: str
) -> Result:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale, "FISSION_CONFIG": None}
    env |= {f"FISSION_{name.upper()}": value for name, value in settings.items()}
    with contextlib.chdir(tmp_path):  # no ./fission.toml; default file names land here
        return CliRunner(env=env).invoke(main, ["export", *args])


def sheet_rows(path: Path) -> list[list[Any]]:
    ws = load_workbook(path).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


def data_rows(path: Path) -> list[list[Any]]:
    """The table, without the note a blank row under it."""
    rows = sheet_rows(path)
    blank = next((n for n, row in enumerate(rows) if not any(row)), len(rows))
    return rows[:blank]


def by_id(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {row[-1]: row for row in rows[1:]}


def no_personal_data(rows: Iterator[Any] | list[Any]) -> bool:
    text = " ".join(str(cell) for row in rows for cell in row)
    return not any(secret in text for secret in (*FULL_NAMES, *FULL_PHONES))


async def cards(db_url: str) -> dict[str, CustomerCard]:
    db = Database.from_url(db_url)
    try:
        async with db.uow() as uow:
            ids = dict((await uow.session.execute(select(Customer.external_id, Customer.id))).all())
        return {key: await build_card(db, ids[key], tz=TZ) for key, _, _ in PEOPLE}
    finally:
        await db.dispose()


def test_export_is_a_fission_command(db_url: str, tmp_path: Path) -> None:
    result = export(db_url, tmp_path, "--help")
    assert result.exit_code == 0, result.output
    for kind in ("grades", "lifecycle", "referral", "invitations"):
        assert kind in result.output


def test_grades_have_seed_002s_columns_and_the_stored_grades_and_scores(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    result = export(db_url, tmp_path, "grades", "-o", "grades.xlsx")
    assert result.exit_code == 0, result.output
    assert result.output == "已导出 5 行：grades.xlsx\n"
    rows = data_rows(tmp_path / "grades.xlsx")
    assert rows[0] == GRADE_HEADERS
    stored = asyncio.run(shop.world.grades())  # with the score each card shows
    assert sorted(by_id(rows)) == sorted(stored) == ["C01", "C02", "C03", "C04", "C06"]
    for key, row in by_id(rows).items():
        grade = stored[key]
        assert row[2:6] == [
            grade.orders_365d,
            grade.aov_fen / 100,
            grade.ltv_fen / 100,
            grade.grade,
        ]
        assert row[6].startswith(f"得分 {grade.score:.2f}（"), row[6]
    # best first: by grade, then by score
    order = [(stored[r[-1]].grade, -stored[r[-1]].score) for r in rows[1:]]
    assert order == sorted(order)
    c01 = by_id(rows)["C01"]
    assert c01[:2] == ["张**", "138****5678"]
    assert c01[2] == 12 and c01[4] == 2400.0  # twelve orders of ¥200
    assert c01[5] == "A" and c01[6].endswith("A 级：得分前 20%")
    assert no_personal_data(rows)

    ws = load_workbook(tmp_path / "grades.xlsx").active
    assert ws.freeze_panes == "A2"
    assert ws["C2"].number_format == '0"次/年"'
    assert ws["D2"].number_format == ws["E2"].number_format == '"¥"#,##0.00'
    assert ws.column_dimensions["G"].width > ws.column_dimensions["F"].width  # 备注 is wide
    note = sheet_rows(tmp_path / "grades.xlsx")[-1][0]
    assert note.startswith(f"分级截至 {shop.today.isoformat()}（Asia/Shanghai）")


def test_grades_as_csv_for_one_grade(db_url: str, tmp_path: Path, shop: Shop) -> None:
    stored = asyncio.run(shop.world.grades())
    result = export(db_url, tmp_path, "grades", "--grade", "a级", "--format", "csv")
    assert result.exit_code == 0, result.output
    name = f"客户分级表-A级-{shop.today.isoformat()}.csv"
    assert result.output == f"已导出 {sum(g.grade == 'A' for g in stored.values())} 行：{name}\n"
    data = (tmp_path / name).read_bytes()
    assert data.startswith(BOM)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == GRADE_HEADERS
    assert {row[5] for row in rows[1:]} == {"A"}
    c01 = next(row for row in rows if row[-1] == "C01")
    assert c01[2:5] == ["12", "200.00", "2400.00"]  # plain numbers a spreadsheet reads


def test_with_fixed_thresholds_the_note_names_the_threshold_met(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    rules = GradingRules(mode="thresholds", a_min_orders=12, b_min_orders=3, b_min_ltv_fen=10_000)
    asyncio.run(shop.world.run(as_of=shop.today, grading=rules))
    result = export(
        db_url,
        tmp_path,
        "grades",
        "-o",
        "g.xlsx",
        grading__mode="thresholds",
        grading__a_min_orders="12",
        grading__b_min_orders="3",
        grading__b_min_ltv_fen="10000",
    )
    assert result.exit_code == 0, result.output
    notes = {key: row[5:7] for key, row in by_id(data_rows(tmp_path / "g.xlsx")).items()}
    assert notes["C01"][0] == "A" and notes["C01"][1].endswith("；A 级门槛：近一年≥12 单")
    assert notes["C02"][0] == "B"
    assert notes["C02"][1].endswith("；B 级门槛：近一年≥3 单、累计≥¥100.00")
    assert notes["C03"][0] == "C"
    assert notes["C03"][1].endswith("；未达 B 级门槛（近一年≥3 单、累计≥¥100.00）")


def test_lifecycle_has_one_row_per_customer_agreeing_with_the_customer_card(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    result = export(db_url, tmp_path, "lifecycle", "-o", "lc.xlsx")
    assert result.exit_code == 0, result.output
    rows = data_rows(tmp_path / "lc.xlsx")
    assert rows[0] == LIFECYCLE_HEADERS
    assert [row[2] for row in rows[1:]] == STAGE_WORDS  # seed 004's order of stages
    assert no_personal_data(rows)
    for key, card in asyncio.run(cards(db_url)).items():
        row = by_id(rows)[key]
        assert card.stage is not None
        assert row[:3] == [
            card.masked_name,
            card.masked_phone or None,
            STAGE_NAMES[card.stage.stage],
        ]
        assert row[3].date() == card.stage.since
        history = " → ".join(f"{t.as_of} {STAGE_NAMES[t.to_stage]}" for t in card.transitions)
        assert row[4] == history
        orders = card.orders
        assert [(d.date() if d else None) for d in row[5:7]] == [orders.first_on, orders.last_on]
        assert row[7:10] == [
            orders.count,
            orders.total_fen / 100,
            orders.aov_fen / 100 if orders.count else None,
        ]

    t = shop.today
    c02 = by_id(rows)["C02"]
    assert c02[4] == f"{t - timedelta(days=35)} 潜在客户 → {t} 成长客户"
    assert c02[7:11] == [3, 400.0, 133.33, 5]  # ¥400 / 3; active on 5 of the last 30 days
    assert c02[11] == "挖掘需求，提升价值：高级功能培训；交叉销售/追加推荐；客户访谈收集优化建议"
    assert c02[12] == "赵敏"
    assert c02[13] == f"{t - timedelta(days=1)} 赵敏：=发了 报价单 等回复（共 2 条）"
    assert c02[14].date() == t + timedelta(days=5)  # the date promised
    c03 = by_id(rows)["C03"]
    assert c03[13] == f"{t - timedelta(days=2)} 钱经理：询问停用原因"
    assert c03[14].date() == t + timedelta(days=1)  # declining: 3 days after the last one
    c05 = by_id(rows)["C05"]
    assert c05[1] is None and c05[5:11] == [None, None, 0, 0, None, 0]
    assert c05[12] == "未分配（建议：市场部、销售代表）"
    assert c05[13] is None and c05[14] is None

    ws = load_workbook(tmp_path / "lc.xlsx").active
    row_of_c02 = next(row for row in ws.iter_rows() if row[-1].value == "C02")
    formats = {cell.column_letter: cell.number_format for cell in row_of_c02}
    assert formats["D"] == formats["F"] == formats["O"] == "yyyy-mm-dd"
    assert formats["I"] == '"¥"#,##0.00'
    assert formats["K"] == '0"天"'


def test_lifecycle_filters_by_stage_grade_and_owner(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    def ids(*args: str) -> list[str]:
        result = export(db_url, tmp_path, "lifecycle", *args, "--format", "csv", "-o", "x.csv")
        assert result.exit_code == 0, result.output
        text = (tmp_path / "x.csv").read_text("utf-8-sig")
        return [row[-1] for row in list(csv.reader(io.StringIO(text)))[1:]]

    assert ids("--stage", "衰退") == ids("--stage", "declining") == ["C03"]
    assert ids("--stage", "成长客户") == ["C02"]
    grades = asyncio.run(shop.world.grades())
    assert sorted(ids("--grade", "A")) == sorted(k for k, g in grades.items() if g.grade == "A")
    assert ids("--owner", "赵敏") == ["C02", "C03"]
    assert ids("--owner", "未分配") == ["C05", "C04", "C01", "C06"]
    assert ids("--stage", "growing", "--owner", "赵敏") == ["C02"]
    assert ids("--stage", "new", "--owner", "赵敏") == []

    bad_stage = export(db_url, tmp_path, "lifecycle", "--stage", "休眠")
    assert bad_stage.exit_code == 2
    assert "没有“休眠”这个阶段，可选：潜在客户、新客户、成长客户" in bad_stage.output
    nobody = export(db_url, tmp_path, "lifecycle", "--owner", "周杰")
    assert nobody.exit_code == 2
    assert "没有名为“周杰”的员工，可选：赵敏、钱经理，或 未分配" in nobody.output
    assert not list(tmp_path.glob("客户生命周期跟踪表*"))  # nothing written for bad input


def test_referral_has_the_numbers_of_the_report(db_url: str, tmp_path: Path) -> None:
    asyncio.run(seed_main_population(db_url))
    period = ("--as-of", "2024-06-30")
    report = export(db_url, tmp_path, "referral", *period, "--format", "csv", "-o", "e.csv")
    assert report.exit_code == 0, report.output
    exported = list(csv.reader(io.StringIO((tmp_path / "e.csv").read_text("utf-8-sig"))))
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_CONFIG": None}
    with contextlib.chdir(tmp_path):
        shown = CliRunner(env=env).invoke(
            main, ["report", "referral", *period, "--format", "csv", "-o", "r.csv"]
        )
    assert shown.exit_code == 0, shown.output
    reported = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert exported[0] == ["客户类型", "裂变目标", "激励措施", "渠道", "参与人数", "成功率", "反馈"]
    same = [
        "客户类型",
        "裂变目标",
        "裂变激励措施",
        "裂变渠道",
        "裂变活动参与人数",
        "裂变成功率",
        "客户反馈",
    ]
    columns = [reported[0].index(header) for header in same]
    assert exported[1:] == [[row[i] for i in columns] for row in reported[1:]]
    assert exported[2][:2] == ["老客户", "提高客户粘性"] and exported[2][5] == "33.3%"
    assert export(db_url, tmp_path, "referral", *period, "-o", "e.xlsx").exit_code == 0
    ws = load_workbook(tmp_path / "e.xlsx").active
    assert ws["F2"].number_format == "0.0%" and ws["F2"].value == 0.5


async def _reward_e2s_invitation(url: str, invitee: int) -> None:
    """The inviter's ¥20 coupon (settled) and the invitee's 100 points (pending)."""
    db = Database.from_url(url)
    try:
        async with db.uow() as uow:
            s = uow.session
            invitation = await s.scalar(
                select(Invitation).where(Invitation.invitee_customer_id == invitee)
            )
            assert invitation is not None
            coupon = await s.scalar(
                select(CouponTemplate.id).where(CouponTemplate.key == "inviter_20")
            )
            given = {"granted_at": local(2024, 6, 22), "settle_after": local(2024, 6, 29)}
            common = {"program_id": invitation.program_id, "invitation_id": invitation.id}
            s.add_all(
                [
                    Reward(
                        **common,
                        **given,
                        customer_id=invitation.inviter_customer_id,
                        side="inviter",
                        kind="coupon",
                        coupon_template_id=coupon,
                        amount_fen=2000,
                        status="settled",
                    ),
                    Reward(
                        **common,
                        **given,
                        customer_id=invitee,
                        side="invitee",
                        kind="points",
                        points=100,
                        status="pending",
                    ),
                ]
            )
            await uow.commit()
    finally:
        await db.dispose()


def test_invitations_say_who_invited_whom_in_words(db_url: str, tmp_path: Path) -> None:
    ids = asyncio.run(seed_main_population(db_url))
    asyncio.run(_reward_e2s_invitation(db_url, ids.customers["E2"]))
    result = export(db_url, tmp_path, "invitations", "-o", "inv.xlsx")
    assert result.exit_code == 0, result.output
    rows = data_rows(tmp_path / "inv.xlsx")
    assert rows[0] == ["邀请人", "被邀请人", "邀请码", "渠道", "状态", "原因", "奖励", "时间"]
    assert len(rows) == 1 + 8  # every invitation with an invitee; the bare click is not one
    first = rows[1]  # oldest first
    assert first[:6] == ["李*（B）", "钱**（E5）", "RPT0002", "分享链接", "已拒绝", "已是老客户"]
    assert first[7].isoformat(timespec="minutes") == "2024-05-10T10:00"  # Shanghai time
    converted = next(row for row in rows if row[1] == "钱**（E1）")
    assert converted[:6] == ["张**（A）", "钱**（E1）", "RPT0001", "企业微信群", "已转化", None]
    rewarded = next(row for row in rows if row[1] == "钱**（E2）")
    assert rewarded[4] == "已奖励"
    assert rewarded[6] == "邀请人：邀请奖励券 ¥20（已发放）；被邀请人：100 积分（待发放）"
    rejected = next(row for row in rows if row[1] == "钱**（E4）")
    assert rejected[4:6] == ["已拒绝", "自我推荐"]
    in_review = next(row for row in rows if row[1] == "钱**（E7）")
    assert in_review[3:5] == ["分享链接", "已转化（待人工审核）"]
    secrets = ("张三丰", "13812345678", "李四", "13900001111")
    assert not any(s in str(cell) for row in rows for cell in row for s in secrets)
    ws = load_workbook(tmp_path / "inv.xlsx").active
    assert ws["H2"].number_format == "yyyy-mm-dd hh:mm"


def test_without_o_the_file_is_named_after_the_table_and_the_day(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    result = export(db_url, tmp_path, "grades")
    name = f"客户分级表-{shop.today.isoformat()}.xlsx"
    assert result.exit_code == 0, result.output
    assert result.output == f"已导出 5 行：{name}\n"
    assert (tmp_path / name).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []

    english = export(db_url, tmp_path, "lifecycle", "--stage", "衰退", locale="en")
    name = f"Customer lifecycle tracking-declining-{shop.today.isoformat()}.xlsx"
    assert english.output == f"exported 1 rows to {name}\n"
    rows = data_rows(tmp_path / name)
    assert rows[0][:4] == ["Customer", "Contact", "Stage", "In stage since"]
    assert rows[1][2] == "declining"
    assert rows[1][11].startswith("Find the cause, win them back: ")


def test_at_a_terminal_a_progress_bar_runs_on_stderr(
    db_url: str, tmp_path: Path, shop: Shop
) -> None:
    env = {**os.environ, "FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    args = ["export", "lifecycle", "-o", "lc.xlsx"]
    _, out, said = run_fission(args, env, tmp_path, terminal=True)
    assert out == "已导出 6 行：lc.xlsx\n"  # stdout says only what was written
    assert "导出中" in said and "100%" in said
    _, out, said = run_fission(args, env, tmp_path, terminal=False)
    assert (out, said) == ("已导出 6 行：lc.xlsx\n", "")  # no bar for a script
