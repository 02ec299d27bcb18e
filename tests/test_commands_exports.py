"""Staff get the seeds' tables in chat: `/export` answers with a file (through the real
dispatcher and, end to end, through the Feishu and WeCom fakes; the Official Account gets the
`fission export` command instead), and `/stage 衰退` / `/grade A` page through the same lists,
masked."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from chatkit import NOW, TODAY, as_text, make_ctx, say
from export_world import FULL_NAMES, FULL_PHONES, GRADE_HEADERS, build_shop
from fakes.harness import channel_app
from openpyxl import load_workbook
from test_channel_files import feishu_says
from test_channel_wechat import decrypt_reply
from test_channel_wechat import post as wechat_post
from test_channel_wechat import xml as wechat_xml
from test_channel_wecom_members import say as wecom_says

from bot.channels.dispatcher import real_dispatcher
from handlers.events import CardReply, FileReply, HandlerContext, TextReply
from models.activity import Order
from models.customer import Customer
from models.db import Database
from models.staff import Staff, StaffIdentity
from models.stages import CustomerGrade, StageAssignment

NUMBERED = re.compile(r"^(\d+)\. ")


def numbers(text: str) -> list[int]:
    return [int(m[1]) for line in text.splitlines() if (m := NUMBERED.match(line))]


def workbook_rows(reply: FileReply) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(reply.content)).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


async def export_file(ctx: HandlerContext, text: str, user: str = "manager-1") -> FileReply:
    replies = await say(ctx, text, user=user)
    assert len(replies) == 1 and isinstance(replies[0], FileReply), as_text(replies)
    return replies[0]


async def test_export_answers_a_manager_with_the_grades_workbook(db: Database) -> None:
    shop = await build_shop(db)
    ctx = make_ctx(db)
    reply = await export_file(ctx, "/export grades")
    day = ctx.now().astimezone(ctx.settings.tz).date()
    assert reply.filename == f"客户分级表-{day.isoformat()}.xlsx"
    assert reply.caption == "客户分级表：5 行，联系方式已脱敏。"
    assert reply.fallback == (
        f"这里无法直接发送文件。请在服务器上运行：fission export grades（生成 {reply.filename}）"
    )
    rows = workbook_rows(reply)
    assert rows[0] == GRADE_HEADERS
    stored = await shop.world.grades()
    exported = {row[-1]: row for row in rows[1:6]}
    assert {key: row[5] for key, row in exported.items()} == {k: g.grade for k, g in stored.items()}
    text = " ".join(str(cell) for row in rows for cell in row)
    assert not any(secret in text for secret in (*FULL_NAMES, *FULL_PHONES))

    # the same command in Chinese, with filters and as CSV
    reply = await export_file(ctx, "导出 生命周期 衰退 负责人=赵敏 csv")
    assert reply.filename == f"客户生命周期跟踪表-衰退客户-赵敏-{day.isoformat()}.csv"
    assert reply.caption == "客户生命周期跟踪表（衰退客户、赵敏）：1 行，联系方式已脱敏。"
    assert "fission export lifecycle --stage declining --owner 赵敏 --format csv" in reply.fallback
    rows_csv = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert [row[-1] for row in rows_csv[1:]] == ["C03"]
    assert reply.content.startswith(b"\xef\xbb\xbf")


async def test_export_says_what_to_type_for_what_it_cannot_do(db: Database) -> None:
    await build_shop(db)
    ctx = make_ctx(db)

    async def answer(text: str, user: str = "manager-1") -> str:
        replies = await say(ctx, text, user=user)
        assert all(isinstance(r, TextReply) for r in replies)
        return as_text(replies)

    assert (await answer("/export")).startswith("要导出哪张表？grades（客户分级表）")
    assert "用法：/export <grades|lifecycle|referral|invitations>" in await answer("/export 报表")
    assert (await answer("/export grades 衰退")).startswith("grades 不能按阶段筛选。")
    assert (await answer("/export lifecycle 休眠")).startswith("“休眠”不是可用的筛选条件。")
    assert await answer("/export lifecycle 负责人=周杰") == (
        "没有名为“周杰”的员工。负责人可选：赵敏、钱经理，或“未分配”。"
    )
    assert await answer("/export lifecycle 新 负责人=赵敏") == (
        "客户生命周期跟踪表（新客户、赵敏）：没有符合条件的行。"
    )
    # an agent is not offered the command, a group gets the privacy answer
    unknown = await answer("/zzz", user="agent-1")
    assert await answer("/export grades", user="agent-1") == unknown.replace("/zzz", "/export")
    group = as_text(await say(ctx, "/export grades", user="manager-1", group=True))
    assert group == "为保护客户隐私，请私聊我使用 /export。"


async def _staff_on(db: Database, platform: str, user_id: str) -> None:
    async with db.uow() as uow:
        manager = Staff(name="周经理", role="manager")
        uow.session.add(manager)
        await uow.session.flush()
        uow.session.add(StaffIdentity(staff_id=manager.id, platform=platform, user_id=user_id))
        await uow.commit()


async def test_feishu_and_wecom_staff_receive_the_export_as_a_file(db: Database) -> None:
    await build_shop(db)
    await _staff_on(db, "feishu", "ou_84aad35d084aa403a838cf73ee18467")
    await _staff_on(db, "wecom", "zhangsan")
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        await feishu_says(h, "/export lifecycle", "evt-export")
        [caption] = [json.loads(m["content"])["text"] for m in h.feishu.delivered[:1]]
        assert caption == "客户生命周期跟踪表：6 行，联系方式已脱敏。"
        [uploaded] = h.feishu.file_messages()
        assert uploaded.file_type == "xls" and uploaded.name.startswith("客户生命周期跟踪表-")
        ws = load_workbook(io.BytesIO(uploaded.content)).active
        assert [c.value for c in ws[1]][:3] == ["客户名称", "联系方式", "当前阶段"]
        assert ws.max_row >= 7  # header and six customers (and the note)

        await wecom_says(h, "导出 邀请记录", "901")
        await wecom_says(h, "/export grades A csv", "902")
        texts = [m["text"]["content"] for m in h.wecom.delivered if m["msgtype"] == "text"]
        assert texts[0] == "邀请记录：没有符合条件的行。"
        assert texts[1].startswith("客户分级表（A级）：")
        [media] = h.wecom.file_messages()
        assert media.kind == "file" and media.filename.endswith(".csv")
        assert media.content.decode("utf-8-sig").startswith("客户名称,联系方式,购买频率")


async def test_the_official_account_tells_staff_which_command_makes_the_file(
    db: Database,
) -> None:
    await build_shop(db)
    await _staff_on(db, "wechat", "oStaffManager")
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        message = wechat_xml("text.xml", openid="oStaffManager", text="/export grades", msg_id="5")
        status, text = await wechat_post(h, message)
        assert status == 200
        reply = decrypt_reply(text)["Content"]
        assert reply.startswith("客户分级表：5 行，联系方式已脱敏。\n这里无法直接发送文件。")
        assert "请在服务器上运行：fission export grades（生成 客户分级表-" in reply
        await h.settle()
        assert h.wechat.calls("/cgi-bin/media/upload") == []


async def _declining(db: Database, count: int) -> None:
    """`count` declining customers D01… of grade A who spent ¥0.01, ¥0.02, … (the last one the
    most), and the agent 赵敏 (console id agent-1)."""
    async with db.uow() as uow:
        s = uow.session
        agent = Staff(name="赵敏", role="agent")
        s.add(agent)
        await s.flush()
        s.add(StaffIdentity(staff_id=agent.id, platform="console", user_id="agent-1"))
        for n in range(1, count + 1):
            customer = Customer(external_id=f"D{n:02d}", name=f"欧阳{n}号", phone=f"139{n:08d}")
            s.add(customer)
            await s.flush()
            s.add(
                Order(
                    order_no=f"D{n}",
                    customer_id=customer.id,
                    amount_fen=n,
                    paid_at=NOW - timedelta(days=70),
                )
            )
            s.add(
                StageAssignment(
                    customer_id=customer.id,
                    stage="declining",
                    since=TODAY - timedelta(days=5),
                    rule="declining.inactive",
                    metrics={},
                )
            )
            s.add(
                CustomerGrade(
                    customer_id=customer.id, grade="A", orders_365d=1, aov_fen=n, ltv_fen=n
                )
            )
        await uow.commit()


async def test_stage_pages_through_the_whole_stage(db: Database) -> None:
    await _declining(db, 23)
    ctx = make_ctx(db)
    first = await say(ctx, "/stage 衰退", user="agent-1")
    assert isinstance(first[0], CardReply)
    assert first[0].title == "衰退客户（共 23 位）按累计消费排序，第 1/3 页："
    assert numbers(first[0].body) == list(range(1, 11))
    assert first[0].body.splitlines()[0].startswith("1. 欧****　139****0023　D23　¥0.23")
    assert first[0].footer.splitlines()[0] == "下一页：/stage 衰退 2"
    assert "导出全部" not in first[0].footer  # an agent cannot /export

    second = as_text(await say(ctx, "/stage 衰退 2", user="agent-1"))
    assert numbers(second) == list(range(11, 21))
    assert "D13　¥0.13" in second
    assert "下一页：/stage 衰退 3" in second
    third = as_text(await say(ctx, "阶段 declining 第3页", user="agent-1"))
    assert numbers(third) == [21, 22, 23] and "下一页" not in third
    assert "D01　¥0.01" in third
    past = as_text(await say(ctx, "/stage 衰退 4", user="agent-1"))
    assert past == "衰退客户只有 3 页（共 23 位），请发送 /stage 衰退 3。"
    for text in (first[0].as_text(), second, third):
        assert "欧阳" not in text and "13900000" not in text


async def test_grade_pages_through_a_grade_by_score(db: Database) -> None:
    await _declining(db, 12)
    ctx = make_ctx(db)
    first = as_text(await say(ctx, "/grade A", user="agent-1"))
    assert first.startswith("A 级客户（共 12 位）按得分排序，第 1/2 页：")
    assert numbers(first) == list(range(1, 11))
    top = first.splitlines()[1]
    assert top == "1. 欧****　139****0012　D12　得分 1.00，近一年 1 单，客单价 ¥0.12，累计 ¥0.12"
    assert "下一页：/grade A 2" in first
    second = as_text(await say(ctx, "分级 a 2", user="agent-1"))
    assert numbers(second) == [11, 12] and "D01" in second
    assert as_text(await say(ctx, "/grade B", user="agent-1")).startswith("目前没有 B 级客户。")
    assert "没有“D”这个等级" in as_text(await say(ctx, "/grade D", user="agent-1"))
    english = as_text(await say(make_ctx(db, locale="en"), "/grade A 2", user="agent-1"))
    assert english.startswith("Grade A (12 in total) by score, page 2 of 2:")


async def test_a_manager_is_shown_how_to_export_the_list(db: Database) -> None:
    await build_shop(db)
    ctx = make_ctx(db)
    stage = await say(ctx, "/stage 衰退", user="manager-1")
    assert isinstance(stage[0], CardReply)
    assert stage[0].footer.splitlines() == [
        "查看详情：/customer <客户编号>",
        "导出全部：/export lifecycle 衰退",
    ]
    grade = await say(ctx, "/grade A", user="manager-1")
    assert isinstance(grade[0], CardReply)
    assert grade[0].footer.endswith("导出全部：/export grades A")
    reply = await export_file(ctx, "/export lifecycle 衰退")  # what the footer says works
    assert reply.caption.startswith("客户生命周期跟踪表（衰退客户）：1 行")
