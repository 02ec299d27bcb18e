"""Work after the acknowledgement survives failures: a crashed process's events are picked up
on start-up, a failed join is retried by the sweep, and gives up after the last attempt; what
is kept of a failure names no customer."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fakes.harness import WECOM_CORP, Clock, EchoDispatcher, channel_app
from fakes.signing import feishu_post
from sqlalchemy import select

from bot.channels.dispatcher import Dispatcher
from bot.channels.payloads import message_to_json
from handlers.events import ChatMessage, HandlerContext, JoinEvent, Reply
from models.channels import InboundEvent
from models.customer import Customer
from models.db import Database

DATA = Path(__file__).parent / "data"


async def test_an_event_left_working_by_a_dead_process_is_finished_on_start_up(
    db: Database,
) -> None:
    clock = Clock()
    msg = ChatMessage(
        platform="wecom",
        app_id=WECOM_CORP,
        event_id="900001",
        user_id="zhangsan",
        conversation_id="zhangsan",
        is_group=False,
        text="/points",
        is_to_me=True,
        received_at=clock.now - timedelta(minutes=10),
    )
    async with db.uow() as uow:
        uow.session.add(
            InboundEvent(
                platform="wecom",
                app_id=WECOM_CORP,
                event_id="900001",
                kind="message",
                payload={"event": message_to_json(msg), "route": {"touser": "zhangsan"}},
                status="working",
                attempts=1,
                received_at=clock.now - timedelta(minutes=10),
                started_at=clock.now - timedelta(minutes=10),
            )
        )
        await uow.commit()

    async with channel_app(db, clock=clock) as h:  # start-up runs the resume
        await h.settle()
        [row] = await h.inbound()
        assert (row.status, row.attempts) == ("done", 2)
        [sent] = h.wecom.calls("/cgi-bin/message/send")
        assert sent.json["text"] == {"content": "echo: /points"}
        # WeCom retries the same message after the restart: still nothing twice.
        xml = (DATA / "wecom" / "text_message.xml").read_text(encoding="utf-8")
        assert await h.post_wecom(xml.format(text="/points", msg_id="900001")) == (200, "")
        await h.settle()
        assert len(h.wecom.calls("/cgi-bin/message/send")) == 1


async def test_a_failed_join_is_kept_and_retried_until_it_succeeds(db: Database) -> None:
    payload = json.loads((DATA / "feishu" / "member_user_added.json").read_text("utf-8"))
    async with channel_app(db, echo=EchoDispatcher(fail_joins=1)) as h:
        headers, body = feishu_post(payload, encrypt_key="test key", timestamp=h.clock.timestamp())
        resp = await h.client.post("/feishu/events", data=body, headers=headers)
        assert resp.status == 200
        await h.settle()
        [row] = await h.inbound()
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error == "RuntimeError: join failed on purpose"
        assert h.feishu.delivered == []

        assert await h.registry.worker.resume() == 1  # what the periodic sweep does
        await h.settle()
        [row] = await h.inbound()
        assert (row.status, row.attempts, row.last_error) == ("done", 2, None)
        assert [j.user_id for j in h.echo.joins] == ["ou_zhaoliu", "ou_qianqi"]
        assert len(h.feishu.delivered) == 2


async def test_after_the_last_attempt_the_event_stays_failed(db: Database) -> None:
    payload = json.loads((DATA / "feishu" / "member_user_added.json").read_text("utf-8"))
    async with channel_app(db, echo=EchoDispatcher(fail_joins=10)) as h:
        headers, body = feishu_post(payload, encrypt_key="test key", timestamp=h.clock.timestamp())
        await h.client.post("/feishu/events", data=body, headers=headers)
        await h.settle()
        for _ in range(3):
            await h.registry.worker.resume()
            await h.settle()
        async with db.uow() as uow:
            row = (await uow.session.execute(select(InboundEvent))).scalar_one()
        assert (row.status, row.attempts) == ("failed", 3)
        assert h.echo.joins == []


async def test_a_failure_text_keeps_no_phone_or_name_from_the_sql(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def message(ctx: HandlerContext, msg: ChatMessage) -> list[Reply]:
        async with ctx.db.uow() as uow:  # the same customer twice: an IntegrityError
            for _ in range(2):
                uow.session.add(Customer(external_id="C-77", name="欧阳娜娜", phone="13812345678"))
                await uow.session.flush()
        return []

    async def join(ctx: HandlerContext, event: JoinEvent) -> list[Reply]:
        return []

    async with channel_app(db, dispatcher=Dispatcher(message=message, join=join)) as h:
        xml = (DATA / "wecom" / "text_message.xml").read_text(encoding="utf-8")
        assert await h.post_wecom(xml.format(text="/points", msg_id="900002")) == (200, "")
        await h.settle()
        [row] = await h.inbound()
        assert row.status == "pending"
        assert row.last_error is not None and "external_id" in row.last_error  # what failed
        for secret in ("13812345678", "12345678", "欧阳娜娜", "娜娜"):
            assert secret not in row.last_error
            assert secret not in caplog.text  # the logged traceback neither
