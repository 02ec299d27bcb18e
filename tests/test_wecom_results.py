"""WeCom mass-message results read back by the scheduled poller, against the fake API, with
frozen time walked forward: deliveries wait for the staff member until they send, then are
recorded per customer (delivered, not a contact, over the monthly limit); the staff member is
reminded outside quiet hours, never more than WeCom's 3 times in 24 hours; a task nobody sent
in time is cancelled and its customers recorded as not confirmed."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from fakes.harness import WECOM_CORP
from sender_world import Platforms, SenderWorld, deliveries, drain, scene
from sqlalchemy import select

from bot.channels.senders.wecom import WeComTaskSender
from bot.channels.senders.wecom_poll import WeComPoller
from bot.cli import main
from jobs.scheduler import JobScheduler
from jobs.tasks import WECOM_POLL
from models import WecomMassTask
from models.campaigns.outcomes import Dead
from models.db import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 6, 4, 10, 0, tzinfo=SHANGHAI)  # a Tuesday, 10:00
REMIND = "/cgi-bin/externalcontact/remind_groupmsg_send"
CANCEL = "/cgi-bin/externalcontact/cancel_groupmsg_send"
RESULTS = "/cgi-bin/externalcontact/get_groupmsg_send_result"
APP_MESSAGE = "/cgi-bin/message/send"


def sender_for(p: Platforms, db: Database) -> WeComTaskSender:
    assert p.apis.wecom is not None
    return WeComTaskSender(p.apis.wecom, app_id=WECOM_CORP, db=db, clock=p.clock)


def poller_for(p: Platforms, db: Database) -> WeComPoller:
    assert p.apis.wecom is not None
    return WeComPoller(db, p.apis.wecom, app_id=WECOM_CORP, settings=p.settings, clock=p.clock)


async def queue(world: SenderWorld, p: Platforms, *externals: str) -> dict[str, int]:
    ids = {}
    for external in externals:
        p.wecom.mass.contacts["lisi"].add(external)
        ids[external] = await world.delivery(
            platform="wecom",
            app_id=WECOM_CORP,
            route="wecom_task",
            recipient=external,
            sender="lisi",
            now=p.clock.now,
        )
    return ids


async def task_status(db: Database) -> list[str]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(WecomMassTask.status)))


async def test_results_are_recorded_per_customer_once_the_staff_member_sends(
    db: Database,
) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        ids = await queue(world, p, "wmOk", "wmGone", "wmFull", "wmToday")
        # wmFull already got this month's 4 corp mass messages; wmToday one from lisi today.
        p.wecom.mass.received["wmFull"] = [
            (NOW - timedelta(days=d), "zhangsan", "…") for d in range(1, 3)
        ] + [(NOW - timedelta(days=d), "wangwu", "…") for d in range(1, 3)]
        p.wecom.mass.received["wmToday"] = [(NOW - timedelta(hours=1), "lisi", "…")]
        await drain(db, sender_for(p, db), clock.now)
        [task] = p.wecom.mass.tasks.values()

        # Ten minutes on: nobody has sent it, every delivery still waits for the staff member.
        p.advance(minutes=10)
        await JobScheduler(db, p.settings, clock=clock).run_job(WECOM_POLL, clock.now)
        assert {r.status for r in await deliveries(db)} == {"waiting_staff"}

        p.advance(minutes=50)
        p.wecom.mass.contacts["lisi"].discard("wmGone")  # the customer deleted lisi meanwhile
        assert p.wecom.mass.confirm(task.msgid)
        sent_at = clock.now
        p.advance(minutes=10)
        await JobScheduler(db, p.settings, clock=clock).run_job(WECOM_POLL, clock.now)
        rows = {r.recipient: r for r in await deliveries(db)}
        assert {k: (r.status, r.reason) for k, r in rows.items()} == {
            "wmOk": ("delivered", None),
            "wmGone": ("dead", "not_contact"),
            "wmFull": ("dead", "monthly_limit"),
            "wmToday": ("dead", "monthly_limit"),
        }
        assert rows["wmOk"].sent_at == sent_at.astimezone(UTC)
        assert rows["wmOk"].platform_message_id == task.msgid
        assert set(ids.values()) == {r.id for r in rows.values()}
        assert await task_status(db) == ["done"]
        assert [m[1:] for m in p.wecom.mass.received["wmOk"]] == [("lisi", task.text)]

        # A done task is not asked about again.
        calls = len(p.wecom.requests)
        p.advance(minutes=10)
        await JobScheduler(db, p.settings, clock=clock).run_job(WECOM_POLL, clock.now)
        assert len(p.wecom.requests) == calls


async def test_reminders_respect_quiet_hours_and_an_unsent_task_expires(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        await queue(world, p, "wmA", "wmB")
        await drain(db, sender_for(p, db), clock.now)
        [task] = p.wecom.mass.tasks.values()
        poller = poller_for(p, db)
        while clock.now < NOW + timedelta(hours=73):
            p.advance(minutes=30)
            await poller.poll()

        reminded = [at.astimezone(SHANGHAI).strftime("%a %H:%M") for at in task.reminders]
        assert reminded == [
            "Tue 18:30",
            "Wed 09:00",
            "Wed 17:30",
            "Thu 09:00",
            "Thu 17:30",
            "Fri 09:00",
        ]
        assert p.wecom.mass.refused_reminders == 0
        for at in task.reminders:
            assert sum(at <= other < at + timedelta(hours=24) for other in task.reminders) <= 3
        texts = [c.json["text"]["content"] for c in p.wecom.calls(APP_MESSAGE)]
        assert len(texts) == 1 + 6  # the notice when it was made, and each reminder
        assert texts[1] == (
            "【提醒】活动「衰退客户挽回」给 2 位客户的消息还没有发送。"
            "请在企业微信「客户联系 → 群发助手」中点“发送”；还剩约 64 小时，之后自动取消。"
        )

        # Friday 10:00, 72 hours on: cancelled, so a late tap sends nothing.
        assert [c.json for c in p.wecom.calls(CANCEL)] == [{"msgid": task.msgid}]
        assert {(r.status, r.reason) for r in await deliveries(db)} == {("dead", "not_confirmed")}
        assert await task_status(db) == ["expired"]
        assert not p.wecom.mass.confirm(task.msgid)
        assert p.wecom.mass.received == {}
        assert p.wecom.calls(RESULTS) == []


async def test_a_delivery_whose_worker_died_and_whose_task_expired_is_not_confirmed(
    db: Database,
) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        ids = await queue(world, p, "wmA")
        await drain(db, sender_for(p, db), clock.now, record=False)  # the worker dies
        p.advance(hours=73)
        await poller_for(p, db).poll()  # cancelled; the claimed row is the worker's to settle
        assert await task_status(db) == ["expired"]
        assert await drain(db, sender_for(p, db), clock.now) == {ids["wmA"]: Dead("not_confirmed")}
        assert len(p.wecom.mass.tasks) == 1


async def test_every_page_of_results_is_read(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        externals = await world.many(
            1001, platform="wecom", app_id=WECOM_CORP, route="wecom_task", now=NOW, sender="lisi"
        )
        p.wecom.mass.contacts["lisi"].update(externals)
        await drain(db, sender_for(p, db), NOW, batch_size=2000)
        [task] = p.wecom.mass.tasks.values()
        assert len(task.customers) == 1001
        p.advance(hours=1)
        p.wecom.mass.confirm(task.msgid)
        summary = await poller_for(p, db).poll()
        assert (summary.recorded, summary.done) == (1001, 1)
        assert [c.json["cursor"] for c in p.wecom.calls(RESULTS)] == ["", "1000"]
        assert {r.status for r in await deliveries(db)} == {"delivered"}


def test_the_poll_job_needs_wecom(db_url: str, tmp_path: Path) -> None:
    env = {"FISSION_DATABASE_URL": db_url}
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["jobs", "run", WECOM_POLL], env=env)
    assert result.exit_code == 2
    assert "任务 wecom_poll 未启用：它需要的平台没有配置。" in result.output
