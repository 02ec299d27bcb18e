"""Every inbound message or event through a customer's identity moves its last-seen time forward
(the Official Account's 48 h customer-service window, and the platform they last spoke on) —
through the real callbacks and handlers, on every platform."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chatkit import make_ctx, message
from fakes.harness import (
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    Clock,
    Harness,
    channel_app,
)
from fakes.signing import wechat_post
from sqlalchemy import select

from bot.channels.dispatcher import real_dispatcher
from handlers.dispatch import dispatch_message
from handlers.identities import resolve_customer
from models.customer import CustomerIdentity
from models.db import Database

DATA = Path(__file__).parent / "data"
START = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


async def last_seen(db: Database, platform: str, value: str) -> datetime | None:
    async with db.uow() as uow:
        return await uow.session.scalar(
            select(CustomerIdentity.last_seen_at).where(
                CustomerIdentity.platform == platform, CustomerIdentity.value == value
            )
        )


async def post_wechat(h: Harness, xml: str) -> None:
    path, body = wechat_post(
        xml,
        token=WECHAT_TOKEN,
        timestamp=h.clock.timestamp(),
        aes_key=WECHAT_AES,
        app_id=WECHAT_APP,
    )
    assert (await h.client.post(path, data=body)).status == 200
    await h.settle()


def wechat_xml(openid: str, kind: str, extra: str, created: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType>{extra}</xml>"
    )


async def test_official_account_messages_and_menu_clicks_open_the_window(db: Database) -> None:
    clock = Clock(START)
    async with channel_app(db, clock=clock, dispatcher=real_dispatcher()) as h:
        text = "<Content><![CDATA[积分]]></Content><MsgId>9101</MsgId>"
        await post_wechat(h, wechat_xml("oFan", "text", text, 1717380000))
        assert await last_seen(db, "wechat", "oFan") == START

        # An image is not a command, but the follower interacted: the window opens again.
        clock.advance(hours=30)
        image = "<PicUrl><![CDATA[http://x/p.jpg]]></PicUrl><MsgId>9102</MsgId>"
        await post_wechat(h, wechat_xml("oFan", "image", image, 1717488000))
        assert await last_seen(db, "wechat", "oFan") == START + timedelta(hours=30)

        clock.advance(hours=1)
        click = "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[M1]]></EventKey>"
        await post_wechat(h, wechat_xml("oFan", "event", click, 1717491600))
        assert await last_seen(db, "wechat", "oFan") == START + timedelta(hours=31)

        # Opening a link menu or reporting a location does not count (WeChat's own rule).
        clock.advance(hours=1)
        view = "<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[http://x]]></EventKey>"
        await post_wechat(h, wechat_xml("oFan", "event", view, 1717495200))
        assert await last_seen(db, "wechat", "oFan") == START + timedelta(hours=31)

        # An image from somebody never met creates nobody.
        await post_wechat(h, wechat_xml("oStranger", "image", image, 1717495201))
        assert await last_seen(db, "wechat", "oStranger") is None


async def test_feishu_messages_and_wecom_contact_events_are_seen(db: Database) -> None:
    clock = Clock(START)
    async with channel_app(db, clock=clock, dispatcher=real_dispatcher()) as h:
        payload = json.loads((DATA / "feishu" / "message_p2p.json").read_text("utf-8"))
        assert await h.post_feishu(payload) == 200
        await h.settle()
        assert await last_seen(db, "feishu", "ou_84aad35d084aa403a838cf73ee18467") == START

        contact = (DATA / "wecom" / "add_external_contact.xml").read_text("utf-8")
        assert (await h.post_wecom(contact.format(state="channel_expo")))[0] == 200
        await h.settle()
        # The event's own time (CreateTime), not when it was processed.
        assert await last_seen(db, "wecom", "wmEXTERNAL0001") == datetime.fromtimestamp(
            1700000100, UTC
        )


async def test_last_seen_only_moves_forward_and_group_chatter_counts(db: Database) -> None:
    ctx = make_ctx(db)
    async with db.uow() as uow:
        await resolve_customer(
            uow.session,
            platform="feishu",
            app_id="cli_x",
            user_id="ou_1",
            now=START,
            seen_at=START,
        )
        await uow.commit()

    # Chatter in a group the bot is not asked anything in: no reply, but seen.
    later = replace(
        message("大家好", user="ou_1", platform="feishu", app_id="cli_x", group=True),
        received_at=START + timedelta(hours=5),
    )
    assert await dispatch_message(ctx, later) == []
    assert await last_seen(db, "feishu", "ou_1") == START + timedelta(hours=5)

    # A message received earlier but handled later (a retried callback) changes nothing.
    early = replace(
        message("积分", user="ou_1", platform="feishu", app_id="cli_x"),
        received_at=START + timedelta(hours=1),
    )
    assert await dispatch_message(ctx, early)
    assert await last_seen(db, "feishu", "ou_1") == START + timedelta(hours=5)
