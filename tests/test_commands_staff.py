"""Staff chat commands on both backends: card, stage lists, leaderboard, funnel, follow-ups,
assignment, staff admin — with roles, refusals and masking."""

from __future__ import annotations

import re
from datetime import timedelta

from chatkit import NOW, TODAY, People, as_text, follow_ups, make_ctx, say, seed_people
from sqlalchemy import select

from handlers.events import CardReply, TextReply
from models.customer import Customer
from models.db import Database
from models.referral.tables import Invitation, ReferralClick, ReferralCode, ReferralProgram
from models.staff import Staff, StaffIdentity

FULL_NAMES = ("张三", "张伟", "李四", "王五", "赵六")
FULL_PHONES = ("13812348888", "13900001111", "13700002222", "13600003333")


async def test_customer_card_is_masked_and_shows_the_playbook(db: Database) -> None:
    people = await seed_people(db)
    ctx = make_ctx(db)
    replies = await say(ctx, "/customer 张三", user="agent-1")
    assert len(replies) == 1 and isinstance(replies[0], CardReply)
    text = as_text(replies)
    assert "张*" in text and "138****8888" in text
    assert "张三" not in text and "13812348888" not in text
    assert "成长客户" in text
    assert "订单（截至 2024-06-03）：3 笔，合计 ¥370.50，客单价 ¥123.50" in text  # 100+120+150.50
    assert "策略（成长客户）：挖掘需求，提升价值" in text
    assert "负责：销售经理、产品经理　跟进节奏：每月1次" in text
    assert "电话回访，客户想了解高级功能" in text
    assert "下次跟进：2024-06-07" in text  # the date promised at the last follow-up
    assert "/followup C001" in replies[0].footer
    assert people.zhang  # the card is the one seeded
    assert "邀请码：暂无（客户发送“邀请”即可获得）" in text

    # Once the customer asked for their invite link, the card shows the code and the link.
    invite = as_text(await say(ctx, "邀请", user="cust-zhang"))
    link = re.search(r"https?://\S+/r/([A-Z0-9]+)", invite)
    assert link is not None, invite
    card = as_text(await say(ctx, "/customer C001", user="agent-1"))
    assert f"邀请码：{link[1]}（老带新默认活动）{link[0]}" in card

    # The playbook is configuration: an operator's own words replace the defaults.
    play = {"goal": "推荐年度套餐", "actions": ["演示新功能"], "owner": "大客户经理"}
    custom = make_ctx(db, playbook={"growing": {**play, "cadence_days": 14, "cadence": "每两周"}})
    text = as_text(await say(custom, "/customer C001", user="agent-1"))
    assert "策略（成长客户）：推荐年度套餐" in text
    assert "负责：大客户经理　跟进节奏：每两周" in text


async def test_customer_query_forms(db: Database) -> None:
    """By phone, by part of a name (a list), nobody, a glued Chinese name, no query, a group."""
    await seed_people(db)
    ctx = make_ctx(db)
    by_phone = as_text(await say(ctx, "客户 139-0000-1111", user="agent-1"))
    assert "C002" in by_phone and "139****1111" in by_phone
    several = as_text(await say(ctx, "/customer 张", user="agent-1"))
    assert "找到 2 位与“张”匹配的客户" in several
    assert "C001" in several and "C002" in several
    assert "/customer C001" in several
    nobody = as_text(await say(ctx, "/customer 不存在的人", user="agent-1"))
    assert "没有找到与“不存在的人”匹配的客户" in nobody
    glued = as_text(await say(ctx, "客户李四", user="agent-1"))
    assert "客户 C003" in glued and "李*" in glued
    usage = as_text(await say(ctx, "/customer", user="agent-1"))
    assert usage.startswith("用法：/customer <姓名|手机号|客户编号>")
    assert "也可以发送：客户 <姓名|手机号|客户编号>" in usage
    in_group = as_text(await say(ctx, "/customer 张三", user="agent-1", group=True))
    assert in_group == "为保护客户隐私，请私聊我使用 /customer。"


async def test_stage_lists_top_customers_by_value(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    replies = await say(ctx, "/stage 衰退", user="agent-1")
    text = as_text(replies)
    assert "衰退客户（共 2 位）按累计消费排序，第 1/1 页：" in text
    lines = [line for line in text.splitlines() if re.match(r"^\d\. ", line)]
    assert lines[0].startswith("1. 李*　137****2222　C003　¥1,000.00，2 单")
    assert lines[1].startswith("2. 张*　139****1111　C002　¥50.00，1 单")
    assert "下一页" not in text  # one page only
    assert as_text(await say(ctx, "阶段 declining 1", user="agent-1")) == text
    assert as_text(await say(ctx, "/stage 衰退客户 第1页", user="agent-1")) == text


async def test_stage_with_bad_arguments_says_what_to_type(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    bad = as_text(await say(ctx, "/stage 休眠", user="agent-1"))
    assert (
        "没有“休眠”这个阶段。可选：潜在客户、新客户、成长客户、成熟客户、衰退客户、流失客户" in bad
    )
    assert "用法：/stage <阶段> [页码]" in bad
    past_the_end = as_text(await say(ctx, "/stage 衰退 500", user="agent-1"))
    assert past_the_end == "衰退客户只有 1 页（共 2 位），请发送 /stage 衰退 1。"
    not_a_page = as_text(await say(ctx, "/stage 衰退 下页", user="agent-1"))
    assert not_a_page.startswith("页码应为 1 到 100000 之间的整数，例如 2 或 第2页。")
    empty = as_text(await say(ctx, "/stage 流失", user="agent-1"))
    assert "目前没有流失客户" in empty


async def _referrals(db: Database, people: People) -> None:
    """张三 invited three friends through his code (joined, converted, rewarded) plus one
    self-referral that was rejected; 李四 converted one friend; 5 landing-page clicks."""
    day_before = NOW - timedelta(days=1)
    async with db.uow() as uow:
        s = uow.session
        program = await s.scalar(select(ReferralProgram).where(ReferralProgram.key == "default"))
        assert program is not None
        zhao = Customer(external_id="C005", name="赵六", phone="13600003333")
        s.add(zhao)
        zhang_code = ReferralCode(
            code="ZHANGabc", program_id=program.id, customer_id=people.zhang, created_at=day_before
        )
        li_code = ReferralCode(
            code="LIabc", program_id=program.id, customer_id=people.li, created_at=day_before
        )
        s.add_all([zhang_code, li_code])
        await s.flush()
        for n in range(5):
            s.add(
                ReferralClick(
                    code_id=zhang_code.id,
                    visitor_hash=f"v{n}",
                    day=TODAY - timedelta(days=1),
                    created_at=day_before,
                )
            )

        def invitation(code: ReferralCode, invitee: int, status: str, **extra: object) -> None:
            s.add(
                Invitation(
                    program_id=program.id,
                    code_id=code.id,
                    inviter_customer_id=code.customer_id,
                    invitee_customer_id=invitee,
                    channel=extra.pop("channel", "link"),
                    status=status,
                    created_at=day_before,
                    joined_at=day_before,
                    **extra,
                )
            )

        invitation(zhang_code, people.wang, "joined")
        invitation(zhang_code, people.zhangwei, "converted", converted_at=day_before)
        invitation(zhang_code, zhao.id, "rewarded", converted_at=day_before, rewarded_at=day_before)
        invitation(zhang_code, people.zhang, "rejected", reject_reason="self_referral")
        await s.flush()
        other = Customer(external_id="C006", name="周七", phone=None)
        s.add(other)
        await s.flush()
        invitation(li_code, other.id, "converted", converted_at=day_before, channel="wechat_qr")
        await uow.commit()


async def test_leaderboard_ranks_by_conversions_masked(db: Database) -> None:
    people = await seed_people(db)
    await _referrals(db, people)
    text = as_text(await say(make_ctx(db), "/top", user="agent-1"))
    lines = [line for line in text.splitlines() if re.match(r"^\d\. ", line)]
    assert lines[0] == "1. 张*　C001　成交 2　加入 3　邀请 4"
    assert lines[1] == "2. 李*　C003　成交 1　加入 1　邀请 1"
    assert "邀请排行榜（全部时间）" in text
    recent = as_text(await say(make_ctx(db), "排行 7", user="agent-1"))
    assert "近 7 天" in recent and "张*" in recent


async def test_funnel_counts_rates_and_chart(db: Database) -> None:
    people = await seed_people(db)
    await _referrals(db, people)
    replies = await say(make_ctx(db), "/funnel", user="manager-1")
    assert len(replies) == 1 and isinstance(replies[0], CardReply)
    card = replies[0]
    fields = dict(card.fields)
    # 5 clicks; joins = joined + converted + rewarded = 4; conversions 3; rewarded 1.
    assert (fields["点击"], fields["加入"], fields["成交"], fields["已奖励"]) == (
        "5",
        "4",
        "3",
        "1",
    )
    assert "点击→加入 80.0%" in card.body  # 4/5
    assert "加入→成交 75.0%" in card.body  # 3/4
    assert "成交→奖励 33.3%" in card.body  # 1/3
    assert card.image_png is not None and card.image_png.startswith(b"\x89PNG")
    bad = as_text(await say(make_ctx(db), "/funnel 上个月", user="manager-1"))
    assert "天数应为 1 到 3650 之间的整数" in bad and "用法：/funnel [天数]" in bad


async def test_follow_up_with_a_date_is_stored(db: Database) -> None:
    people = await seed_people(db)
    text = as_text(await say(make_ctx(db), "/followup 张三 电话沟通续费 下周三", user="agent-1"))
    assert text == "已记录对 张*（C001）的跟进。\n下次跟进：2024-06-12"
    rows = await follow_ups(db, people.zhang)
    assert rows[-1].note == "电话沟通续费"
    assert rows[-1].next_due_on == TODAY + timedelta(days=9)
    assert rows[-1].staff_id == people.agent
    assert rows[-1].created_at == NOW  # the message's time, not the database's


async def test_follow_up_without_date_follows_the_stage_cadence(db: Database) -> None:
    people = await seed_people(db)
    text = as_text(await say(make_ctx(db), "跟进 C002 约了下周面谈", user="agent-1"))
    # 约了下周面谈 is one word, not a date; declining customers: twice a week → 3 days.
    assert "下次跟进：2024-06-06（衰退客户建议每周2次跟进）" in text
    rows = await follow_ups(db, people.zhangwei)
    assert rows[-1].note == "约了下周面谈"
    assert rows[-1].next_due_on == TODAY + timedelta(days=3)


async def test_follow_up_bad_dates_and_missing_note(db: Database) -> None:
    people = await seed_people(db)
    ctx = make_ctx(db)
    past = as_text(await say(ctx, "/followup 张三 回访 2024-05-01", user="agent-1"))
    assert "下次跟进日期 2024-05-01 已经过去了" in past
    impossible = as_text(await say(ctx, "/followup 张三 回访 2月30日", user="agent-1"))
    assert "“2月30日”不是有效的日期" in impossible
    no_note = as_text(await say(ctx, "/followup 张三 明天", user="agent-1"))
    assert "请写上跟进记录" in no_note
    only_customer = as_text(await say(ctx, "/followup 张三", user="agent-1"))
    assert only_customer.startswith("用法：/followup <客户> <跟进内容> [下次日期]")
    assert len(await follow_ups(db, people.zhang)) == 1  # only the seeded one


async def test_assign_needs_a_manager(db: Database) -> None:
    people = await seed_people(db)
    ctx = make_ctx(db)
    refused = as_text(await say(ctx, "/assign 李四 赵敏", user="agent-1"))
    unknown = as_text(await say(ctx, "/nosuch 李四 赵敏", user="agent-1"))
    assert refused == unknown.replace("/nosuch", "/assign")
    done = as_text(await say(ctx, "/assign 李四 赵敏", user="manager-1"))
    assert done == "已将 李*（C003）分配给 赵敏。"
    by_id = as_text(await say(ctx, f"分配 C004 #{people.manager}", user="manager-1"))
    assert by_id == "已将 王*（C004）分配给 钱经理。"
    async with db.uow() as uow:
        li = await uow.session.get(Customer, people.li)
        wang = await uow.session.get(Customer, people.wang)
        assert li is not None and li.owner_staff_id == people.agent
        assert wang is not None and wang.owner_staff_id == people.manager
    nobody = as_text(await say(ctx, "/assign 李四 无名氏", user="manager-1"))
    assert "没有找到员工“无名氏”" in nobody


async def test_admin_manages_staff_from_chat(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    added = as_text(await say(ctx, "/staff add wx-77 周经理 经理 wecom", user="admin-1"))
    assert re.fullmatch(r"已添加员工 #\d+ 周经理（经理），wecom 账号 wx-77。", added)
    listing = as_text(await say(ctx, "/staff list", user="admin-1"))
    assert "周经理　经理　wecom:wx-77" in listing
    # The new manager is recognised on WeCom at once.
    assert "已将" in as_text(await say(ctx, "/assign 李四 赵敏", user="wx-77", platform="wecom"))
    removed = as_text(await say(ctx, "/staff remove wx-77 企业微信", user="admin-1"))
    assert "已移除 周经理 的 wecom 账号 wx-77" in removed and "已停用" in removed
    self_removal = as_text(await say(ctx, "/staff remove admin-1", user="admin-1"))
    assert "不能移除自己正在使用的账号" in self_removal
    refused = as_text(await say(ctx, "/staff list", user="manager-1"))
    assert refused.startswith("我还不认识“/staff”")
    async with db.uow() as uow:
        zhou = await uow.session.scalar(select(Staff).where(Staff.name == "周经理"))
        assert zhou is not None and zhou.active is False
        ids = await uow.session.scalars(
            select(StaffIdentity).where(StaffIdentity.staff_id == zhou.id)
        )
        assert list(ids) == []


async def test_customers_cannot_reach_staff_commands(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    for command in ("/customer 张三", "/stage 衰退", "/top", "/funnel", "/staff list"):
        word = command.split()[0]
        reply = as_text(await say(ctx, command, user="cust-zhang"))
        unknown = as_text(await say(ctx, "/zzz", user="cust-zhang"))
        assert reply == unknown.replace("/zzz", word), command
        assert "C00" not in reply


async def test_no_staff_reply_reveals_a_full_name_or_phone(db: Database) -> None:
    people = await seed_people(db)
    await _referrals(db, people)
    ctx = make_ctx(db)
    commands = [
        "/customer 张三",
        "/customer 张",
        "/customer 13900001111",
        "/customer C005",
        "/stage 衰退",
        "/stage 潜在",
        "/top",
        "/funnel",
        "/followup 李四 回访 明天",
        "/assign 赵六 钱经理",
    ]
    for command in commands:
        replies = await say(ctx, command, user="admin-1")
        text = as_text(replies)
        assert replies and all(isinstance(r, TextReply | CardReply) for r in replies)
        for secret in (*FULL_NAMES, *FULL_PHONES):
            assert secret not in text, (command, secret)


async def test_english_locale(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db, locale="en")
    text = as_text(await say(ctx, "/stage declining", user="agent-1"))
    assert "declining (2 in total) by total spent, page 1 of 1:" in text
    usage = as_text(await say(ctx, "/followup", user="agent-1"))
    assert usage.startswith("Usage: /followup <customer> <note> [next date]")
