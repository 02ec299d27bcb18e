"""Campaign messages to WeCom customers through the sender, against the fake API: one
mass-message task per run and sending staff member, the staff member told what to send, the
customers the platform leaves out dead, and no second task for a delivery claimed again."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes.harness import WECOM_CORP
from sender_world import Platforms, SenderWorld, deliveries, drain, scene
from sqlalchemy import func, select

from bot.channels.senders.wecom import WeComTaskSender
from models import WecomMassTask, WecomTaskDelivery
from models.campaigns.outcomes import Dead, Retry, Skipped, WaitingStaff
from models.db import Database

NOW = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
ADD = "/cgi-bin/externalcontact/add_msg_template"
APP_MESSAGE = "/cgi-bin/message/send"
SHARED = (
    "您好，好久不见！送您一张30元回归券，6月30日前有效，下单时自动可用。"
    "https://shop.example.com/c/winback\n回复“退订”即不再接收优惠消息。"
)


def sender_for(p: Platforms, db: Database, locale: str = "zh-CN") -> WeComTaskSender:
    assert p.apis.wecom is not None
    return WeComTaskSender(p.apis.wecom, app_id=WECOM_CORP, db=db, clock=p.clock, locale=locale)


async def customer_of(
    world: SenderWorld, p: Platforms, staff: str, external: str, *, contact: bool = True, **kw: str
) -> int:
    if contact:
        p.wecom.mass.contacts[staff].add(external)
    return await world.delivery(
        platform="wecom",
        app_id=WECOM_CORP,
        route="wecom_task",
        recipient=external,
        sender=staff,
        now=NOW,
        **kw,
    )


async def task_rows(db: Database) -> list[tuple[str, str | None, str, int]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(
                WecomMassTask.sender,
                WecomMassTask.msgid,
                WecomMassTask.status,
                WecomMassTask.customers,
            ).order_by(WecomMassTask.id)
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows.all()]


async def test_one_task_per_staff_member_with_one_text_and_a_notice(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        lisi = [
            await customer_of(world, p, "lisi", f"wmL{n}", name=name)
            for n, name in enumerate(("王小明", "李雷", "韩梅梅"))
        ]
        zhang = [await customer_of(world, p, "zhangsan", f"wmZ{n}") for n in range(2)]

        outcomes = await drain(db, sender_for(p, db), NOW)
        tasks = list(p.wecom.mass.tasks.values())
        assert [(t.sender, t.customers, t.text) for t in tasks] == [
            ("lisi", ["wmL0", "wmL1", "wmL2"], SHARED),
            ("zhangsan", ["wmZ0", "wmZ1"], SHARED),
        ]
        rows = await task_rows(db)
        assert rows == [
            ("lisi", tasks[0].msgid, "waiting", 3),
            ("zhangsan", tasks[1].msgid, "waiting", 2),
        ]
        by_task = {o.task_id for o in outcomes.values() if isinstance(o, WaitingStaff)}
        assert len(by_task) == 2
        assert {outcomes[i] for i in lisi} != {outcomes[i] for i in zhang}
        lisi_task = outcomes[lisi[0]]
        assert isinstance(lisi_task, WaitingStaff)
        stored = await deliveries(db)
        assert {(r.status, r.task_id) for r in stored if r.id in lisi} == {
            ("waiting_staff", lisi_task.task_id)
        }
        # Each staff member is told, in the app, what waits for them and where.
        notices = {c.json["touser"]: c.json["text"]["content"] for c in p.wecom.calls(APP_MESSAGE)}
        assert notices["lisi"] == (
            "【待发送】活动「衰退客户挽回」有 3 位客户的消息等你发送。"
            "请打开企业微信「客户联系 → 群发助手」，核对内容后点“发送”；"
            "72 小时内未发送将自动取消。"
        )
        assert "有 2 位客户" in notices["zhangsan"]
        # Nothing has reached a customer: the staff members have not sent anything yet.
        assert p.wecom.mass.received == {}


async def test_customers_left_out_by_the_platform_are_dead(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        kept = await customer_of(world, p, "lisi", "wmKept")
        gone = await customer_of(world, p, "lisi", "wmGone", contact=False)
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert outcomes[gone] == Dead("not_contact")
        assert isinstance(outcomes[kept], WaitingStaff)
        assert [t.customers for t in p.wecom.mass.tasks.values()] == [["wmKept"]]
        assert (await task_rows(db))[0][2:] == ("waiting", 1)

        # Nobody of the list can get it: the platform makes no task at all.
        strangers = [
            await customer_of(world, p, "wangwu", f"wmS{n}", contact=False) for n in range(2)
        ]
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert {outcomes[i] for i in strangers} == {
            Dead("not_sendable", 41048, "no customer to send")
        }
        assert len(p.wecom.mass.tasks) == 1
        assert [row[0] for row in await task_rows(db)] == ["lisi"]


async def test_a_delivery_claimed_again_after_a_crash_joins_no_second_task(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        ids = [await customer_of(world, p, "lisi", f"wm{n}") for n in range(3)]
        # The task is made; the worker dies before recording the outcomes.
        first = await drain(db, sender_for(p, db), NOW, record=False)
        p.advance(minutes=10)  # the claims' lease has passed
        again = await drain(db, sender_for(p, db), clock.now)
        assert again == first
        assert len(p.wecom.calls(ADD)) == 1
        assert len(p.wecom.mass.tasks) == 1
        assert {r.status for r in await deliveries(db, ids)} == {"waiting_staff"}


async def test_a_lost_answer_is_retried_into_one_stored_task(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        ids = [await customer_of(world, p, "lisi", f"wm{n}") for n in range(2)]
        p.wecom.fail_next(ADD, "lost_answer")
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert set(outcomes.values()) == {Retry(502, "HTTP 502")}
        assert len(p.wecom.calls(ADD)) == 1  # not repeated by the transport
        p.advance(minutes=2)
        outcomes = await drain(db, sender_for(p, db), clock.now)
        assert all(isinstance(o, WaitingStaff) for o in outcomes.values())
        # The documented window: the platform made a task whose answer was lost, and the
        # retry made another. Only the second is ours; WeCom lets a customer get one a day.
        assert len(p.wecom.mass.tasks) == 2
        assert [row[2] for row in await task_rows(db)] == ["waiting"]
        async with db.uow() as uow:
            members = await uow.session.scalar(select(func.count()).select_from(WecomTaskDelivery))
        assert members == len(ids)


async def test_an_unknown_customer_is_found_by_halving_the_list(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        ids = [await customer_of(world, p, "lisi", f"wm{n}") for n in range(4)]
        p.wecom.mass.invalid_ids.add("wm2")
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert outcomes[ids[2]] == Dead("invalid_user", 40096, "invalid external userid")
        assert all(isinstance(outcomes[i], WaitingStaff) for i in (ids[0], ids[1], ids[3]))
        assert sorted(c for t in p.wecom.mass.tasks.values() for c in t.customers) == [
            "wm0",
            "wm1",
            "wm3",
        ]
        assert sorted(row[3] for row in await task_rows(db)) == [1, 2]


async def test_deliveries_nobody_can_send_are_skipped(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        no_staff = await world.delivery(
            platform="wecom", app_id=WECOM_CORP, route="wecom_task", recipient="wmA", now=NOW
        )
        other_corp = await world.delivery(
            platform="wecom",
            app_id="ww-another-corp",
            route="wecom_task",
            recipient="wmB",
            sender="lisi",
            now=NOW,
        )
        assert await drain(db, sender_for(p, db, locale="en"), NOW) == {
            no_staff: Skipped("no_sender"),
            other_corp: Skipped("unreachable"),
        }
        assert p.wecom.requests == []


async def test_the_notice_speaks_english_when_asked(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        await customer_of(world, p, "lisi", "wmA")
        await drain(db, sender_for(p, db, locale="en"), NOW)
        [call] = p.wecom.calls(APP_MESSAGE)
        assert call.json["text"]["content"] == (
            "[To send] The campaign “衰退客户挽回” has a message for 1 of your customers "
            "waiting for you. Open WeCom › Customer Contact › Group Messaging Assistant, check "
            "it and tap Send; it is cancelled if not sent within 72 hours."
        )
