"""`fission campaign sync|list|show|enable|disable` and the audience a configured campaign
selects (stages, grades, tags, region, industry, last-order window), through the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from campaign_world import Person, cli_env, console, fission, seed
from sqlalchemy import select

from models import Campaign, CampaignMember, CouponTemplate
from models.db import Database

CONFIG = """
[[coupon_templates]]
key = "vip_20"
name = "VIP 专享券 ¥20"
value_fen = 2000
validity_days = 10

[[campaigns]]
key = "vip_east"
name = "华东老客关怀"
audience = { stages = ["declining", "churned"], grades = ["A", "B"], tags = ["vip"], \
regions = ["华东"], industries = ["零售"], last_order_min_days = 30, last_order_max_days = 120 }
coupon_template = "vip_20"
message = "{name}您好，{coupon}已到账，{expiry}前有效。"
holdout_pct = 0
{enabled}
"""


def config(enabled: str = "enabled = true") -> str:
    return CONFIG.replace("{enabled}", enabled)


def vip(ext: str, **changes: object) -> Person:
    """A customer the campaign above selects, unless `changes` says otherwise."""
    values: dict[str, object] = {
        "stage": "declining",
        "grade": "A",
        "tags": ("vip",),
        "region": "华东",
        "industry": "零售",
        "last_order_days": 45,
        "ids": (console(f"c-{ext}"),),
    }
    return Person(ext, **(values | changes))  # type: ignore[arg-type]


PEOPLE = [
    vip("in"),
    vip("in-churned", stage="churned", grade="B", last_order_days=100),
    vip("in-30-days", last_order_days=30),  # age 30 ≥ 30
    vip("in-120-days", last_order_days=120),  # age 120 ≤ 120
    vip("in-two-tags", tags=("new", "vip")),
    vip("out-grade-c", grade="C"),
    vip("out-no-grade", grade=None),
    vip("out-other-tag", tags=("new",)),
    vip("out-no-tag", tags=()),
    vip("out-region", region="华南"),
    vip("out-industry", industry="教育"),
    vip("out-recent-order", last_order_days=29),
    vip("out-old-order", last_order_days=121),
    vip("out-no-order", last_order_days=None),
    vip("out-growing", stage="growing"),
    vip("out-no-stage", stage=None),
]


async def test_sync_then_run_selects_exactly_the_configured_audience(
    db: Database, tmp_path: Path
) -> None:
    ids = await seed(db, PEOPLE)
    env = cli_env(db.engine.url.render_as_string(hide_password=False))

    def cli(*args: str, toml: str | None = None) -> tuple[int, str, str]:
        return fission(tmp_path, env, *args, config=toml)

    code, out, err = await asyncio.to_thread(cli, "campaign", "sync", toml=config())
    assert (code, err) == (0, "")
    assert out == ("活动：新增 1，更新 0，未变 0，启用 1，停用 0；优惠券模板：新增 1，更新 0\n")
    async with db.uow() as uow:
        campaign = await uow.session.scalar(select(Campaign).where(Campaign.key == "vip_east"))
        template = await uow.session.scalar(
            select(CouponTemplate).where(CouponTemplate.key == "vip_20")
        )
    assert campaign is not None and template is not None
    assert campaign.coupon_template_id == template.id
    assert campaign.enabled and campaign.enabled_at is not None
    assert campaign.audience["tags"] == ["vip"] and "cooldown_days" not in campaign.audience

    code, out, _ = await asyncio.to_thread(cli, "campaign", "show", "华东老客关怀")
    assert code == 0
    assert out.splitlines()[:3] == [
        f"华东老客关怀（vip_east）　已启用（自 {_local(campaign.enabled_at)}）",
        "目标客户：阶段 衰退客户、流失客户；分级 A、B；标签 vip；地区 华东；行业 零售；"
        "最近一单在 30 天前或更早；最近一单在 120 天内（已退订的客户从不发送）",
        "优惠券：VIP 专享券 ¥20（vip_20，满 ¥0.00 可用，有效 10 天）",
    ]

    code, out, err = await asyncio.to_thread(
        cli, "campaign", "run", "vip_east", "--now", "2024-06-04T10:00"
    )
    assert (code, err) == (0, ""), out
    async with db.uow() as uow:
        members = set(await uow.session.scalars(select(CampaignMember.customer_id)))
    assert {ext for ext, customer in ids.items() if customer in members} == {
        "in",
        "in-churned",
        "in-30-days",
        "in-120-days",
        "in-two-tags",
    }

    code, out, _ = await asyncio.to_thread(cli, "campaign", "list")
    assert code == 0
    assert out.splitlines() == [
        "winback_declining　衰退客户挽回　未启用　计划 0 10 * * 2　尚未运行",
        "comeback_churned　流失客户回归　未启用　计划 0 10 1 * *　尚未运行",
        "vip_east　华东老客关怀　已启用　手动运行　上次 2024-06-04 10:00：目标 5，发送 5",
    ]


async def test_sync_again_edit_and_the_on_off_switch(db: Database, tmp_path: Path) -> None:
    env = cli_env(db.engine.url.render_as_string(hide_password=False))

    def cli(*args: str, toml: str | None = None) -> tuple[int, str, str]:
        return fission(tmp_path, env, *args, config=toml)

    await asyncio.to_thread(cli, "campaign", "sync", toml=config())
    _, again, _ = await asyncio.to_thread(cli, "campaign", "sync")
    assert again.startswith("活动：新增 0，更新 0，未变 1，启用 0，停用 0；")

    _, off, _ = await asyncio.to_thread(cli, "campaign", "disable", "vip_east")
    assert off == "已停用活动 华东老客关怀（vip_east），不会再按计划运行。\n"
    _, off_again, _ = await asyncio.to_thread(cli, "campaign", "disable", "华东老客关怀")
    assert off_again == "活动 华东老客关怀（vip_east）本来就没有启用。\n"
    # The file says `enabled = true` explicitly: a sync switches it back on.
    _, synced, _ = await asyncio.to_thread(cli, "campaign", "sync")
    assert "未变 1，启用 1，停用 0" in synced
    # Without `enabled` in the file the switch is the CLI's: an edit keeps it.
    edited = config("").replace("holdout_pct = 0", "holdout_pct = 20")
    await asyncio.to_thread(cli, "campaign", "disable", "vip_east")
    _, synced, _ = await asyncio.to_thread(cli, "campaign", "sync", toml=edited)
    assert synced.startswith("活动：新增 0，更新 1，未变 0，启用 0，停用 0；")
    async with db.uow() as uow:
        campaign = await uow.session.scalar(select(Campaign).where(Campaign.key == "vip_east"))
    assert campaign is not None and (campaign.enabled, campaign.holdout_pct) == (False, 20)

    _, on, _ = await asyncio.to_thread(cli, "campaign", "enable", "WINBACK_DECLINING")
    assert on.startswith("已启用活动 衰退客户挽回（winback_declining）。下次运行：")


async def test_configuration_errors_name_the_campaign_and_exit_2(
    db: Database, tmp_path: Path
) -> None:
    env = cli_env(db.engine.url.render_as_string(hide_password=False))
    unknown = config().replace('coupon_template = "vip_20"', 'coupon_template = "vip_99"')
    code, out, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "sync", config=unknown
    )
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "活动配置无效：",
        "活动 vip_east：没有优惠券模板 vip_99（已有：comeback_50, friend_20, inviter_20, "
        "milestone_3_50, vip_20, winback_30；"
        "请在 [[coupon_templates]] 中添加）/ campaign 'vip_east': unknown coupon template "
        "'vip_99'",
    ]
    no_coupon = (
        config()
        .replace('coupon_template = "vip_20"\n', "")
        .replace('name = "华东老客关怀"', 'name = "衰退客户挽回"')
    )
    code, _, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "sync", config=no_coupon
    )
    assert code == 2
    assert "活动 vip_east, winback_declining 重名“衰退客户挽回”" in err
    assert "活动 vip_east 的消息用了 {coupon}、{expiry}，但没有设置 coupon_template" in err
    async with db.uow() as uow:  # nothing of a refused sync was kept
        keys = set(await uow.session.scalars(select(Campaign.key)))
        templates = set(await uow.session.scalars(select(CouponTemplate.key)))
    assert keys == {"winback_declining", "comeback_churned"}
    assert "vip_20" not in templates

    code, _, err = await asyncio.to_thread(fission, tmp_path, env, "campaign", "show", "双十一")
    assert (code, err) == (
        2,
        "没有活动“双十一”。可用的活动：winback_declining、comeback_churned\n",
    )
    code, _, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", "winback_declining"
    )
    assert code == 2
    assert err.startswith("活动 winback_declining 还没有启用，不能运行。")
    code, _, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", "winback_declining", "--now", "tuesday"
    )
    assert code == 2 and err.startswith("--now 不是有效时间")


def _local(moment: object) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert isinstance(moment, datetime)
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
