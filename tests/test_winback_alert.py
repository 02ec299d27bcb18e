"""The daily win-back check through the scheduler's job slot and the real channels against the
fake WeCom and Feishu APIs: a finished run whose win-back rate is below its campaign's line is
alerted to the managers once, with the figures; every finished run is judged once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from campaign_runs_world import DAY, HOUR, T0, Member, add_run, arm, bought
from fakes.harness import Harness, channel_app
from sqlalchemy import select

from config import load_settings
from jobs.scheduler import JobScheduler
from jobs.tasks import JOBS, WINBACK, latest_slot
from models.campaigns.tables import CampaignRun
from models.db import Database
from models.staff import Staff, StaffIdentity

TZ = ZoneInfo("Asia/Shanghai")
# 16 days after the runs of T0, 10:00 in Shanghai: their 14-day windows have closed.
SLOT = datetime(2024, 5, 23, 10, 0, tzinfo=TZ)
MESSAGE_SEND = "/cgi-bin/message/send"


async def add_staff(db: Database, name: str, role: str, *identities: tuple[str, str]) -> None:
    async with db.uow() as uow:
        staff = Staff(name=name, role=role)
        uow.session.add(staff)
        await uow.session.flush()
        for platform, user_id in identities:
            uow.session.add(StaffIdentity(staff_id=staff.id, platform=platform, user_id=user_id))
        await uow.commit()


async def seed(db: Database) -> dict[str, int]:
    await add_staff(db, "钱经理", "manager", ("wecom", "qianjl"))
    await add_staff(db, "孙管理", "admin", ("feishu", "ou_sun"), ("console", "admin-1"))
    await add_staff(db, "赵敏", "agent", ("wecom", "zhaomin"))
    await add_staff(db, "周经理", "manager")  # no chat identity at all
    async with db.uow() as uow:
        s = uow.session
        runs = {
            # 1 of 20 declining customers bought again: 5%, below the 10% line.
            "poor": await add_run(
                s,
                [Member("treatment", sent_after=HOUR, orders=bought(3 * DAY), coupon="redeemed")]
                + [Member("treatment", sent_after=HOUR, coupon="issued")] * 19
                + arm("holdout", 3, 1),
            ),
            # 3 of 10 churned customers came back: 30%, fine.
            "good": await add_run(
                s,
                [Member("treatment", stage="churned", sent_after=HOUR, orders=bought(DAY))] * 3
                + [Member("treatment", stage="churned", sent_after=HOUR)] * 7,
                key="comeback_churned",
            ),
            # Ten days old: still counting.
            "young": await add_run(s, arm("treatment", 10, 0), started_at=T0 + 10 * DAY),
        }
        await uow.commit()
    return runs


async def evaluated(db: Database) -> dict[int, datetime | None]:
    async with db.uow() as uow:
        rows = await uow.session.execute(select(CampaignRun.id, CampaignRun.evaluated_at))
        return {row.id: row.evaluated_at for row in rows}


async def check(h: Harness, slot: datetime = SLOT) -> tuple[str, str | None]:
    scheduler = JobScheduler(h.db, h.registry.settings, clock=lambda: slot, channels=h.registry)
    result = await scheduler.run_job(WINBACK, slot.astimezone(UTC))
    return result.outcome, result.error


def test_the_winback_check_runs_at_ten_every_morning() -> None:
    trigger = JOBS[WINBACK].trigger(load_settings(timezone="Asia/Shanghai"))
    assert latest_slot(trigger, SLOT + timedelta(hours=3)) == SLOT


async def test_managers_are_alerted_once_when_a_run_wins_back_too_few(db: Database) -> None:
    runs = await seed(db)
    async with channel_app(db) as h:
        assert await check(h) == ("succeeded", None)

        [to_manager] = [call.json for call in h.wecom.calls(MESSAGE_SEND)]
        assert to_manager["touser"] == "qianjl"
        text = to_manager["markdown"]["content"]
        assert text.splitlines()[0] == "**挽回率预警：衰退客户挽回**"
        assert (
            "2024-05-07 10:00 运行的“衰退客户挽回”（winback_declining）观察期已结束："
            "挽回率 5.0%，低于预警线 10.0%。"
        ) in text
        assert "实验组 20 人（已送达 20）：转化 5.0%（1 人），人均收入 ¥5.00" in text
        assert "活动对照组 3 人：转化 33.3%（1 人），人均收入 ¥33.33" in text
        assert "提升（比活动对照组）：−28.3 个百分点" in text
        assert "优惠券核销率：5.0%（1/20）" in text
        assert "挽回率：5.0%（衰退/流失客户 20 人中 1 人回购），低于预警线 10.0%，需复盘" in text
        assert "请复盘原因并调整动作" in text
        [to_admin] = h.feishu.delivered
        assert to_admin["receive_id"] == "ou_sun"
        assert "挽回率预警：衰退客户挽回" in json.dumps(
            json.loads(to_admin["content"]), ensure_ascii=False
        )

        judged = await evaluated(db)
        assert judged[runs["poor"]] is not None and judged[runs["good"]] is not None
        assert judged[runs["young"]] is None

        # The next morning: nothing new to judge, nothing sent again.
        assert await check(h, SLOT + timedelta(days=1)) == ("succeeded", None)
        assert len(h.wecom.calls(MESSAGE_SEND)) == 1 and len(h.feishu.delivered) == 1
        # Once the young run's windows close it is judged too (0 of 10: alerted).
        assert await check(h, SLOT + timedelta(days=10)) == ("succeeded", None)
        assert len(h.wecom.calls(MESSAGE_SEND)) == 2
        assert (await evaluated(db))[runs["young"]] is not None


async def test_a_run_whose_alert_did_not_go_out_is_tried_again_next_day(db: Database) -> None:
    runs = await seed(db)
    async with channel_app(db) as h:
        h.wecom.fail_next(MESSAGE_SEND, "server_error")  # a POST is not retried at once
        outcome, error = await check(h)
        assert outcome == "failed"
        assert error == "RuntimeError: winback: 1 message(s) not sent: wecom failed 502"
        assert len(h.feishu.delivered) == 1
        judged = await evaluated(db)
        assert judged[runs["poor"]] is None and judged[runs["good"]] is not None

        assert await check(h, SLOT + timedelta(days=1)) == ("succeeded", None)
        sent = h.wecom.calls(MESSAGE_SEND)
        assert [call.json["touser"] for call in sent] == ["qianjl", "qianjl"]  # failed, sent
        assert len(h.feishu.delivered) == 1  # the admin already had it
        assert (await evaluated(db))[runs["poor"]] is not None
