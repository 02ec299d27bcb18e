"""The 09:00 follow-up reminder, through the scheduler's job slot and the real channels against
the fake WeCom and Feishu APIs: who is due by the stage cadence, overdue first, masked, capped;
one message per owner per slot; owners without a chat identity skipped and counted."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from chatkit import as_text, make_ctx, say
from fakes.harness import Harness, channel_app

from config import load_settings
from jobs.scheduler import JobScheduler
from jobs.tasks import JOBS, REMINDERS, JobContext, latest_slot
from models.customer import Customer
from models.db import Database
from models.staff import FollowUp, Staff, StaffIdentity
from models.stages import StageAssignment

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2024, 6, 3)  # a Monday
SLOT = datetime(2024, 6, 3, 9, 0, tzinfo=TZ)
MESSAGE_SEND = "/cgi-bin/message/send"


def local(day: date, hour: int = 15, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


class World:
    """Staff and customers written straight into the tables."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.customers = 0

    async def staff(self, name: str, *identities: tuple[str, str], active: bool = True) -> int:
        async with self.db.uow() as uow:
            staff = Staff(name=name, role="agent", active=active)
            uow.session.add(staff)
            await uow.session.flush()
            for platform, user_id in identities:
                uow.session.add(
                    StaffIdentity(staff_id=staff.id, platform=platform, user_id=user_id)
                )
            await uow.commit()
            return staff.id

    async def customer(
        self,
        owner: int | None,
        stage: str,
        *follow_ups: tuple[datetime, date | None],
        since: date = date(2024, 1, 2),
        name: str | None = None,
        external_id: str | None = None,
    ) -> str:
        """A customer in `stage` since `since`, with follow-ups (logged at, next date)."""
        self.customers += 1
        n = self.customers
        external_id = external_id or f"C{n:03d}"
        async with self.db.uow() as uow:
            customer = Customer(
                external_id=external_id,
                name=name or f"客户{n:02d}",
                phone=f"1380000{n:04d}",
                owner_staff_id=owner,
            )
            uow.session.add(customer)
            await uow.session.flush()
            uow.session.add(
                StageAssignment(
                    customer_id=customer.id, stage=stage, since=since, rule="test", metrics={}
                )
            )
            for logged, next_due in follow_ups:
                uow.session.add(
                    FollowUp(
                        customer_id=customer.id,
                        staff_id=owner,
                        note="回访",
                        created_at=logged,
                        next_due_on=next_due,
                    )
                )
            await uow.commit()
        return external_id


async def run_reminders(h: Harness, slot: datetime = SLOT) -> str:
    scheduler = JobScheduler(h.db, h.registry.settings, clock=lambda: slot, channels=h.registry)
    result = await scheduler.run_job(REMINDERS, slot.astimezone(UTC))
    return result.outcome


def wecom_messages(h: Harness) -> list[dict[str, Any]]:
    return [call.json for call in h.wecom.calls(MESSAGE_SEND)]


def test_the_reminder_slot_is_nine_every_morning() -> None:
    trigger = JOBS[REMINDERS].trigger(load_settings(timezone="Asia/Shanghai"))
    assert latest_slot(trigger, local(TODAY, 10, 30)) == SLOT
    assert latest_slot(trigger, local(TODAY, 8, 59)) == local(TODAY - timedelta(days=1), 9)


async def test_each_owner_gets_their_due_customers_overdue_first(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(db)
    zhao = await world.staff("赵敏", ("wecom", "zhaomin"), ("console", "agent-1"))
    qian = await world.staff("钱多多", ("feishu", "ou_qian"))
    sun = await world.staff("孙一", ("console", "sun-1"))  # no platform to push to
    # Only on the Official Account, silent for over 48 hours: it refuses the message.
    zhou = await world.staff("周二", ("wechat", "o_zhou"))
    gone = await world.staff("李走", ("wecom", "lizou"), active=False)

    # Growing since today, never followed up: due today, after the equally due declining ones.
    await world.customer(zhao, "growing", since=TODAY, name="周七")
    # Declining: twice a week (every 3 days). Logged on Friday afternoon: due today.
    await world.customer(zhao, "declining", (local(days_ago(3)), None), name="张三")
    await world.customer(zhao, "declining", (local(days_ago(2)), None))  # not yet
    # A promised date wins over the cadence, either way.
    await world.customer(zhao, "mature", (local(days_ago(33)), date(2024, 6, 10)))
    await world.customer(zhao, "mature", (local(days_ago(20)), days_ago(5)), name="李四")
    # Growing: monthly. 44 days since the last call: 14 days overdue.
    await world.customer(zhao, "growing", (local(days_ago(44)), None), name="王五")
    # Never followed up: due since the stage began.
    await world.customer(zhao, "prospect", since=days_ago(4), name="赵六")
    await world.customer(zhao, "churned", (local(days_ago(14)), None))  # monthly: not yet
    # Only the latest follow-up counts.
    await world.customer(zhao, "new", (local(days_ago(40)), None), (local(days_ago(4)), None))
    # 00:30 on Friday in Shanghai is still Thursday in UTC: counted in local days, due today.
    await world.customer(zhao, "declining", (local(days_ago(3), 0, 30), None), name="欧阳娜娜")
    await world.customer(None, "declining")  # nobody's customer
    for _ in range(25):
        await world.customer(qian, "declining", since=date(2024, 5, 1))
    await world.customer(sun, "declining", (local(days_ago(9)), None))
    await world.customer(zhou, "declining", (local(days_ago(9)), None))
    await world.customer(gone, "declining", (local(days_ago(9)), None))

    async with channel_app(db) as h:
        h.wechat.fail_next("/cgi-bin/message/custom/send", "outside_window")
        with caplog.at_level(logging.INFO, logger="jobs.reminders"):
            assert await run_reminders(h) == "succeeded"

        [to_zhao] = wecom_messages(h)
        assert (to_zhao["touser"], to_zhao["msgtype"]) == ("zhaomin", "markdown")
        lines = to_zhao["markdown"]["content"].splitlines()
        assert lines[0] == "**今日待跟进客户（6 位）**"
        assert lines[2:8] == [
            "1. 王*　138****0006　C006　成长客户　已逾期 14 天（上次 2024-04-20）",
            "2. 李*　138****0005　C005　成熟客户　已逾期 5 天（上次 2024-05-14）",
            "3. 赵*　138****0007　C007　潜在客户　已逾期 4 天（从未跟进）",
            "4. 张*　138****0002　C002　衰退客户　今天到期（上次 2024-05-31）",
            "5. 欧***　138****0010　C010　衰退客户　今天到期（上次 2024-05-31）",
            "6. 周*　138****0001　C001　成长客户　今天到期（从未跟进）",
        ]
        assert "张三" not in to_zhao["markdown"]["content"]

        [to_qian] = h.feishu.delivered
        assert (to_qian["receive_id_type"], to_qian["receive_id"]) == ("open_id", "ou_qian")
        card = json.dumps(json.loads(to_qian["content"]), ensure_ascii=False)
        assert "今日待跟进客户（25 位）" in card
        assert "20. 客*" in card and "21. " not in card
        assert "还有 5 位未列出。" in card

        # The same slot again (a second process, a restart): nothing more is sent.
        assert await run_reminders(h) == "skipped"
        context = JobContext(h.db, h.registry.settings, lambda: SLOT, h.registry)
        await JOBS[REMINDERS].work(context, SLOT.astimezone(UTC))
        assert len(wecom_messages(h)) == 1 and len(h.feishu.delivered) == 1

        # The next morning is a new slot.
        assert await run_reminders(h, SLOT + timedelta(days=1)) == "succeeded"
        assert len(wecom_messages(h)) == 2

    assert (
        "reminders: 2 staff reminded of 33 customers due; 2 skipped, not reachable in chat "
        "(no identity on a configured platform, or outside the 48 h window); 0 not sent"
    ) in caplog.messages


async def test_a_failed_send_fails_the_slot_and_the_others_still_get_theirs(
    db: Database,
) -> None:
    world = World(db)
    zhao = await world.staff("赵敏", ("wecom", "zhaomin"))
    qian = await world.staff("钱多多", ("feishu", "ou_qian"))
    await world.customer(zhao, "declining", (local(days_ago(5)), None))
    await world.customer(qian, "declining", (local(days_ago(5)), None))
    async with channel_app(db) as h:
        h.wecom.fail_next(MESSAGE_SEND, "server_error")  # a POST is not retried at once
        scheduler = JobScheduler(h.db, h.registry.settings, clock=lambda: SLOT, channels=h.registry)
        result = await scheduler.run_job(REMINDERS, SLOT.astimezone(UTC))
        assert result.outcome == "failed"
        assert result.error == "RuntimeError: reminders: 1 message(s) not sent: wecom failed 502"
        assert len(h.feishu.delivered) == 1


async def test_long_lines_are_cut_to_fit_one_wecom_message(db: Database) -> None:
    world = World(db)
    zhao = await world.staff("赵敏", ("wecom", "zhaomin"))
    for n in range(20):
        await world.customer(zhao, "declining", external_id=f"SHOP-2024-{n:02d}-" + "x" * 48)
    async with channel_app(db) as h:
        assert await run_reminders(h) == "succeeded"
    [message] = wecom_messages(h)
    content = message["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    listed = [line for line in content.splitlines() if line[:1].isdigit()]
    assert 0 < len(listed) < 20
    assert f"还有 {20 - len(listed)} 位未列出。" in content


async def test_staff_ask_for_their_own_due_list_in_chat(db: Database) -> None:
    world = World(db)
    zhao = await world.staff("赵敏", ("console", "agent-1"))
    other = await world.staff("钱多多", ("console", "agent-2"))
    await world.customer(zhao, "declining", (local(days_ago(4)), None), name="张三")
    await world.customer(other, "declining", (local(days_ago(4)), None))
    ctx = make_ctx(db)  # chatkit's clock: Monday 3 June 2024, 10:00 in Shanghai

    text = as_text(await say(ctx, "待跟进", user="agent-1"))
    assert text.splitlines()[:2] == [
        "今日待跟进客户（1 位）",
        "1. 张*　138****0001　C001　衰退客户　已逾期 1 天（上次 2024-05-30）",
    ]
    async with db.uow() as uow:
        uow.session.add(
            FollowUp(customer_id=1, staff_id=zhao, note="回访", created_at=local(TODAY))
        )
        await uow.commit()
    assert as_text(await say(ctx, "/due", user="agent-1")) == "今天没有到期的跟进，做得好！"


async def test_two_processes_racing_for_the_slot_send_each_reminder_once(db: Database) -> None:
    world = World(db)
    zhao = await world.staff("赵敏", ("wecom", "zhaomin"))
    await world.customer(zhao, "declining", (local(days_ago(5)), None))
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        async with channel_app(db) as h:
            settings = h.registry.settings
            first, second = (
                JobScheduler(database, settings, clock=lambda: SLOT, channels=h.registry)
                for database in (db, other)
            )
            results = await asyncio.gather(
                first.run_job(REMINDERS, SLOT.astimezone(UTC)),
                second.run_job(REMINDERS, SLOT.astimezone(UTC)),
            )
            assert sorted(r.outcome for r in results) == ["skipped", "succeeded"]
            assert len(wecom_messages(h)) == 1
    finally:
        await other.dispose()
