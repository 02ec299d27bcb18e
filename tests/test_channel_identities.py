"""Platform identities through the real handlers: a person who follows the Official Account and
later adds a WeCom staff member is one customer (linked by WeChat's unionid); an unknown Feishu
sender becomes a bare 'chat' customer on first contact."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.harness import (
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    channel_app,
)
from fakes.signing import wechat_post
from sqlalchemy import select

from bot.channels.dispatcher import real_dispatcher
from models.customer import Customer, CustomerIdentity
from models.db import Database

DATA = Path(__file__).parent / "data"


async def test_one_person_on_two_platforms_is_one_customer(db: Database) -> None:
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        h.wechat.users["oFan"] = {"unionid": "oUNION-fan"}
        h.wecom.contacts["wmEXTERNAL0001"] = {"name": "王小二", "unionid": "oUNION-fan"}
        subscribe = (DATA / "wechat" / "subscribe_qrscene.xml").read_text("utf-8")
        path, body = wechat_post(
            subscribe.format(openid="oFan", scene="channel_expo"),
            token=WECHAT_TOKEN,
            timestamp=h.clock.timestamp(),
            aes_key=WECHAT_AES,
            app_id=WECHAT_APP,
        )
        assert (await h.client.post(path, data=body)).status == 200
        await h.settle()
        contact = (DATA / "wecom" / "add_external_contact.xml").read_text("utf-8")
        assert (await h.post_wecom(contact.format(state="channel_expo")))[0] == 200
        await h.settle()
        payload = json.loads((DATA / "feishu" / "message_p2p.json").read_text("utf-8"))
        assert await h.post_feishu(payload) == 200
        await h.settle()

        async with db.uow() as uow:
            rows = await uow.session.execute(
                select(
                    CustomerIdentity.platform,
                    CustomerIdentity.kind,
                    CustomerIdentity.value,
                    Customer.id,
                    Customer.source,
                ).join(Customer, Customer.id == CustomerIdentity.customer_id)
            )
            by_value = {row.value: row for row in rows}
        fan = by_value["oFan"]
        assert by_value["wmEXTERNAL0001"].id == fan.id  # linked through the unionid
        assert (by_value["oUNION-fan"].id, fan.source) == (fan.id, "chat")
        feishu_user = by_value["ou_84aad35d084aa403a838cf73ee18467"]
        assert feishu_user.id != fan.id
        assert by_value["on_8ed6aa67826108097d9ee143816345"].id == feishu_user.id
        assert {row.status for row in await h.inbound()} == {"done"}
        # Everyone got an answer: the follower (passive or API), the new contact's welcome
        # message, the Feishu user's reply in the private chat.
        assert len(h.wecom.calls("/cgi-bin/externalcontact/send_welcome_msg")) == 1
        assert len(h.feishu.delivered) == 1
