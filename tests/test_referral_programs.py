"""Programs from fission.toml: validation, `fission program sync|list`, `fission rewards …`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError
from referral_world import QUIET_FRAUD, World, local
from sqlalchemy import select

from bot.cli import main
from config import load_settings
from config.referral import CouponTemplateConfig, ProgramConfig, RewardSpec
from models import ReferralProgram
from models.db import Database
from models.referral import on_order_paid, record_join, sync_programs
from models.referral.sync import ProgramConfigError

TOML = """
timezone = "Asia/Shanghai"

[[coupon_templates]]
key = "vip_50"
name = "VIP专享券 ¥50"
value_fen = 5000
min_spend_fen = 20000

[[programs]]
key = "vip"
name = "高价值客户专属邀请"
title = "邀好友，得积分"
priority = 10
starts_at = 2024-06-01T00:00:00
segment = { value = "high", activity = "active" }
inviter_reward = { kind = "points", points = 500 }
invitee_reward = { kind = "coupon", coupon_template = "vip_50" }
milestones = [{ at = 5, reward = { kind = "cash", amount_fen = 8800 } }]
cap_per_inviter_month = 20
budget_fen = 500000
"""


def test_reward_specs_name_what_is_missing() -> None:
    assert RewardSpec(kind="points", points=5).points == 5
    with pytest.raises(ValidationError, match="needs exactly `amount_fen`"):
        RewardSpec(kind="cash", points=5)
    with pytest.raises(ValidationError, match="percent_off together with max_discount_fen"):
        CouponTemplateConfig(key="p", name="折扣券", percent_off=15)
    with pytest.raises(ValidationError, match="milestone tiers must be distinct"):
        ProgramConfig.model_validate(
            {
                "key": "x",
                "name": "x",
                "milestones": [
                    {"at": 3, "reward": {"kind": "points", "points": 1}},
                    {"at": 3, "reward": {"kind": "points", "points": 2}},
                ],
            }
        )


def test_programs_load_from_fission_toml(tmp_path: Path) -> None:
    path = tmp_path / "fission.toml"
    path.write_text(TOML, encoding="utf-8")
    settings = load_settings(path)
    vip = settings.programs[0]
    assert (vip.key, vip.segment.value, vip.coupon_templates()) == ("vip", "high", {"vip_50"})
    assert settings.coupon_templates[0].min_spend_fen == 20000


async def test_sync_creates_updates_and_bumps_the_poster_version(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "fission.toml"
    path.write_text(TOML, encoding="utf-8")
    settings = load_settings(path)
    now = datetime(2024, 6, 1, tzinfo=UTC)

    async def sync(programs: list[ProgramConfig], **kw: Any) -> Any:
        async with db.uow() as uow:
            report = await sync_programs(
                uow.session,
                programs=programs,
                templates=settings.coupon_templates,
                timezone="Asia/Shanghai",
                now=now,
                **kw,
            )
            await uow.commit()
            return report

    first = await sync(settings.programs)
    same = await sync(settings.programs)
    reprioritised = await sync([settings.programs[0].model_copy(update={"priority": 5})])
    retitled = await sync([settings.programs[0].model_copy(update={"title": "新标题"})])
    pruned = await sync(settings.programs, deactivate_missing=True)

    assert (first.created, first.templates_created) == (["vip"], ["vip_50"])
    assert (same.unchanged, same.templates_created) == (["vip"], [])
    assert reprioritised.updated == ["vip"] and retitled.updated == ["vip"]
    assert pruned.deactivated == ["default"]
    async with db.uow() as uow:
        vip = (
            await uow.session.execute(select(ReferralProgram).where(ReferralProgram.key == "vip"))
        ).scalar_one()
    # Created as 1; the title change made 2 and changing it back 3. Priority changes never
    # count: posters show titles, not priorities.
    assert vip.version == 3
    # A naive start in fission.toml is local time: 00:00 Shanghai = 16:00 UTC the day before.
    assert vip.starts_at == datetime(2024, 5, 31, 16, tzinfo=UTC)
    assert vip.invitee_reward == {"kind": "coupon", "coupon_template": "vip_50"}
    assert vip.milestones == {"tiers": [{"at": 5, "reward": {"kind": "cash", "amount_fen": 8800}}]}

    with pytest.raises(ProgramConfigError, match="unknown coupon template 'nope'"):
        broken = ProgramConfig(
            key="b", name="b", inviter_reward=RewardSpec(kind="coupon", coupon_template="nope")
        )
        async with db.uow() as uow:
            await sync_programs(
                uow.session, programs=[broken], templates=[], timezone="Asia/Shanghai", now=now
            )


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fission.toml").write_text(TOML, encoding="utf-8")
    return CliRunner(
        env={"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN", "FISSION_CONFIG": None}
    )


def _run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(main, list(args))


def test_program_sync_and_list_commands(cli: CliRunner) -> None:
    synced = _run(cli, "program", "sync")
    listed = _run(cli, "program", "list")

    assert synced.exit_code == 0, synced.output
    assert synced.output.strip() == (
        "活动：新增 1，更新 0，未变 0，停用 0；优惠券模板：新增 1，更新 0"
    )
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split("  ")[:4] == ["vip", "高价值客户专属邀请", "进行中", "10"]
    assert "5→cash:¥88.00" in lines[1]
    assert lines[2].startswith("default  老带新默认活动  进行中  1000  30天  7天")


def test_program_sync_refuses_an_unknown_template(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "fission.toml").write_text(TOML.replace('"vip_50" }', '"vip_99" }'), "utf-8")
    result = _run(cli, "program", "sync")
    assert result.exit_code == 2
    assert "program 'vip': unknown coupon template 'vip_99'" in result.output


def test_rewards_settle_command(cli: CliRunner, db_url: str) -> None:
    async def convert() -> None:
        db = Database.from_url(db_url)
        try:
            async with db.uow() as uow:
                world = World(uow.session)
                program = await world.program(inviter_reward={"kind": "cash", "amount_fen": 1250})
                alice, bob = await world.customers("alice", "bob")
                code = await world.code(alice, program, local(6, 1))
                await record_join(
                    uow.session, invitee_customer_id=bob, code=code, channel="api", now=local(6, 1)
                )
                order = await world.order(bob, local(6, 2))
                await on_order_paid(uow.session, order=order, now=local(6, 2))
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(convert())
    early = _run(cli, "rewards", "settle", "--now", "2024-06-08")
    due = _run(cli, "rewards", "settle", "--now", "2024-06-09T10:00:00")
    bad = _run(cli, "rewards", "settle", "--now", "下周一")

    assert early.exit_code == 0 and "奖励结算 0 个" in early.output
    assert due.exit_code == 0, due.output
    assert due.output.strip() == (
        "结算完成（2024-06-09 10:00）：奖励结算 2 个（积分 0，红包 ¥17.50），发放优惠券 0 张，"
        "邀请完成 1 个，补记转化 0 个，超期自动审核 0 个，过期优惠券 0 张"
    )
    assert bad.exit_code == 2 and "--now 不是有效时间" in bad.output


def test_review_commands(cli: CliRunner, db_url: str) -> None:
    async def held() -> int:
        db = Database.from_url(db_url)
        try:
            async with db.uow() as uow:
                world = World(uow.session)
                program = await world.program(fraud_rules={**QUIET_FRAUD, "min_refunded_orders": 1})
                alice = await world.customer("alice", name="张三")
                bob = await world.customer("bob", name="李四")
                await world.order(bob, local(5, 1), status="refunded")
                code = await world.code(alice, program, local(6, 1))
                result = await on_order_paid(
                    uow.session,
                    order=await world.order(bob, local(6, 2)),
                    referral_code=code,
                    now=local(6, 2),
                )
                await uow.commit()
                assert result.invitation is not None
                return result.invitation.id
        finally:
            await db.dispose()

    invitation_id = asyncio.run(held())
    queue = _run(cli, "rewards", "reviews")
    approved = _run(cli, "rewards", "approve", str(invitation_id), "--by", "店长")
    again = _run(cli, "rewards", "deny", str(invitation_id))

    assert queue.output.strip() == (
        f"#{invitation_id} 活动 p  邀请人 张* → 好友 李*  信号：refunded_orders"
    )
    assert approved.exit_code == 0 and "已批准" in approved.output
    assert again.exit_code == 1 and "不在待审核状态" in again.output
    assert "没有待审核的转化" in _run(cli, "rewards", "reviews").output
