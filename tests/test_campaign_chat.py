"""`/campaign`（活动）in chat, through the dispatcher: managers list, preview and run campaigns;
agents and customers do not see the command."""

from __future__ import annotations

from campaign_world import (
    WINBACK,
    Person,
    configure,
    console,
    platform_settings,
    row_counts,
    seed,
)
from chatkit import NOW as CHAT_NOW
from chatkit import as_text, make_ctx, say
from sqlalchemy import select

from models import CampaignRun, Delivery, Staff, StaffIdentity
from models.db import Database


async def _staff(db: Database) -> None:
    async with db.uow() as uow:
        for name, role, user in (("钱经理", "manager", "manager-1"), ("赵敏", "agent", "agent-1")):
            staff = Staff(name=name, role=role)
            uow.session.add(staff)
            await uow.session.flush()
            uow.session.add(StaffIdentity(staff_id=staff.id, platform="console", user_id=user))
        await uow.commit()


async def test_a_manager_lists_previews_and_runs_a_campaign(db: Database) -> None:
    await seed(
        db,
        [
            Person("D1", name="张伟", ids=(console("c-1"),)),
            Person("D2", name="李娜", ids=(("feishu", "ou-2", None),)),
            Person("D3", opted_out=True, ids=(console("c-3"),)),
        ],
    )
    await _staff(db)
    ctx = make_ctx(db, **platform_settings())
    manager = {"user": "manager-1"}

    listing = as_text(await say(ctx, "活动", **manager))
    assert listing.splitlines() == [
        "winback_declining　衰退客户挽回　未启用　计划 0 10 * * 2　尚未运行",
        "comeback_churned　流失客户回归　未启用　计划 0 10 1 * *　尚未运行",
    ]
    refused = as_text(await say(ctx, "/活动 运行 衰退客户挽回", **manager))
    assert refused.startswith("活动 winback_declining 还没有启用，不能运行。")

    await configure(db, WINBACK, enabled=True, holdout_pct=0)
    # 张伟 has his own referral page: the message links to it, and so does the sample.
    invited = as_text(await say(ctx, "邀请", user="c-1")).splitlines()
    link = invited[1]
    assert link.startswith("http://127.0.0.1:8080/r/")
    before = await row_counts(db)
    preview = as_text(await say(ctx, "活动 预览 衰退客户挽回", **manager)).splitlines()
    assert preview[:4] == [
        "活动预览：衰退客户挽回（winback_declining）· 2024-06-03 10:00 · 只是预览，不发放、不发送",
        "目标客户 3 人：发送 2，活动对照组 0，全局对照组 0，排除 1",
        "排除原因：已退订 1，冷却期内 0，超过频次上限 0，企业微信本月群发次数已满 0，无法触达 0",
        "发送渠道：飞书 1，模拟器 1",
    ]
    # What the delivery worker will send (models/campaigns/render.py), the name masked.
    assert preview[6:8] == [
        "1. [模拟器] 张*：张*您好，好久不见！送您一张老客回馈券 ¥30（满¥100.00可用），"
        f"2024年6月17日前有效，下单时自动可用。{link}",
        "\u3000\u3000回复“退订”即不再接收优惠消息。",
    ]
    assert preview[8].startswith("2. [飞书] 李*：李*您好，")
    assert await row_counts(db) == before

    ran = as_text(await say(ctx, "/campaign run winback_declining", **manager))
    assert ran.splitlines()[0] == (
        "活动已运行：衰退客户挽回（winback_declining）· 时间点 2024-06-03 10:00（第 1 次运行）"
    )
    assert ran.splitlines()[-1] == (
        "已发放优惠券 2 张，2 条消息已排队，由发送队列按渠道限速发出（安静时段内顺延）。"
    )
    async with db.uow() as uow:
        slots = list(await uow.session.scalars(select(CampaignRun.slot)))
        queued = list(await uow.session.scalars(select(Delivery.platform)))
    assert slots == [CHAT_NOW] and sorted(queued) == ["console", "feishu"]
    again = as_text(await say(ctx, "活动 运行 winback_declining", **manager))
    assert again.endswith("这个时间点已经运行过，没有重复运行。")

    shown = as_text(await say(ctx, "活动 查看 winback_declining", **manager)).splitlines()
    assert shown[0].startswith("衰退客户挽回（winback_declining）　已启用（自 ")
    assert shown[-1].startswith("　2024-06-03 10:00　目标 3　发送 2")


async def test_wrong_words_get_the_usage_and_others_do_not_see_the_command(db: Database) -> None:
    await _staff(db)
    ctx = make_ctx(db, **platform_settings())
    manager = {"user": "manager-1"}

    missing = as_text(await say(ctx, "活动 运行", **manager)).splitlines()
    assert missing[:2] == [
        "请在“运行”后面写上活动键或名称。",
        "用法：/campaign [列表 | 查看 <活动> | 预览 <活动> | 运行 <活动> | 报告 <活动>]",
    ]
    unknown_verb = as_text(await say(ctx, "活动 删除 winback_declining", **manager))
    assert unknown_verb.startswith("不认识“删除”。可以用：列表、查看、预览、运行")
    unknown = as_text(await say(ctx, "活动 预览 双十一", **manager))
    assert unknown == "没有活动“双十一”。可用的活动：winback_declining、comeback_churned"
    in_group = as_text(await say(ctx, "/活动", group=True, **manager))
    assert in_group == "为保护客户隐私，请私聊我使用 /campaign。"
    english = make_ctx(db, locale="en", **platform_settings())
    listed = as_text(await say(english, "/campaign list", **manager))
    assert listed.splitlines()[0] == (
        "winback_declining  衰退客户挽回  off  schedule 0 10 * * 2  never run"
    )
    assert "/campaign（活动）" in as_text(await say(ctx, "帮助", **manager))

    for who in ({"user": "agent-1"}, {"user": "cust-1"}):
        reply = as_text(await say(ctx, "活动", **who))
        assert reply.startswith("我还不认识“活动”。")
        assert "/campaign" not in as_text(await say(ctx, "帮助", **who))
