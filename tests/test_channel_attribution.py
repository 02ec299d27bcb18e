"""Referral hooks end to end through the real handlers: a callback signed and encrypted as the
platform sends it, posted to the running app, then the invitations in the database.

- a Feishu group join is attributed to the customer who added the members (`operator_id`);
  an unknown or staff operator makes a plain join;
- a WeCom customer-group join through a join way whose `state` is a bare code, and an Official
  Account `qrscene_<code>` subscription, are attributed to the code's owner.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fakes.harness import (
    FEISHU_APP,
    FEISHU_KEY,
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    WECOM_CORP,
    Harness,
    channel_app,
)
from fakes.signing import feishu_post, wechat_post
from sqlalchemy import func, select

from bot.channels.dispatcher import real_dispatcher
from models.customer import Customer, CustomerIdentity
from models.db import Database
from models.referral import get_or_create_code
from models.referral.tables import Invitation
from models.staff import Staff, StaffIdentity

DATA = Path(__file__).parent / "data"
SINCE = datetime(2023, 1, 1, tzinfo=UTC)


async def customer_on(db: Database, name: str, *, platform: str, app_id: str, user_id: str) -> int:
    """A known customer who has talked to the bot on `platform` before."""
    kind = {"feishu": "open_id", "wechat": "openid", "wecom": "external_userid"}[platform]
    async with db.uow() as uow:
        customer = Customer(external_id=f"X-{user_id}", name=name, created_at=SINCE)
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            CustomerIdentity(
                customer_id=customer.id, platform=platform, app_id=app_id, kind=kind, value=user_id
            )
        )
        await uow.commit()
        return customer.id


async def personal_code(db: Database, customer_id: int) -> str:
    async with db.uow() as uow:
        code = await get_or_create_code(uow.session, customer_id=customer_id, now=SINCE)
        await uow.commit()
    assert code is not None
    return code.code


async def staff_on(db: Database, platform: str, user_id: str) -> None:
    async with db.uow() as uow:
        staff = Staff(name="周运营", role="agent")
        uow.session.add(staff)
        await uow.session.flush()
        uow.session.add(StaffIdentity(staff_id=staff.id, platform=platform, user_id=user_id))
        await uow.commit()


async def invitations(db: Database) -> list[tuple[str, int, str, str]]:
    """(invitee external id, inviter id, channel, status), in order."""
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Customer.external_id, Invitation.inviter_customer_id)
            .add_columns(Invitation.channel, Invitation.status)
            .join(Customer, Customer.id == Invitation.invitee_customer_id)
            .order_by(Invitation.id)
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]


async def customer_count(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Customer)) or 0)


def members_added(operator_open_id: str, event_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        (DATA / "feishu" / "member_user_added.json").read_text(encoding="utf-8")
    )
    changed = copy.deepcopy(payload)
    changed["header"]["event_id"] = event_id
    changed["event"]["operator_id"] = {
        "union_id": f"on_{operator_open_id}",
        "user_id": f"uid_{operator_open_id}",
        "open_id": operator_open_id,
    }
    return changed


async def post_feishu(h: Harness, payload: dict[str, Any]) -> None:
    headers, body = feishu_post(payload, encrypt_key=FEISHU_KEY, timestamp=h.clock.timestamp())
    resp = await h.client.post("/feishu/events", data=body, headers=headers)
    assert (resp.status, await resp.json()) == (200, {"msg": "success"})
    await h.settle()


def feishu_texts(h: Harness) -> list[str]:
    return [json.loads(m["content"])["text"] for m in h.feishu.delivered]


async def test_feishu_group_add_by_a_customer_is_their_referral(db: Database) -> None:
    inviter = await customer_on(
        db, "陈小明", platform="feishu", app_id=FEISHU_APP, user_id="ou_chen"
    )
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        payload = members_added("ou_chen", "evt-added-by-customer")
        await post_feishu(h, payload)
        await post_feishu(h, payload)  # Feishu redelivers: still one invitation each

        assert await invitations(db) == [
            ("feishu:ou_zhaoliu", inviter, "feishu_group", "joined"),
            ("feishu:ou_qianqi", inviter, "feishu_group", "joined"),
        ]
        texts = feishu_texts(h)
        assert len(texts) == 2
        assert all(text.startswith("欢迎！你是 陈** 邀请来的好友。") for text in texts)


async def test_feishu_group_add_by_an_unknown_user_or_staff_is_a_plain_join(
    db: Database,
) -> None:
    await staff_on(db, "feishu", "ou_staff")
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        await post_feishu(h, members_added("ou_stranger", "evt-added-by-stranger"))
        staff_added = members_added("ou_staff", "evt-added-by-staff")
        for user in staff_added["event"]["users"]:
            user["user_id"]["open_id"] += "_2"
            user["user_id"]["union_id"] += "_2"
        await post_feishu(h, staff_added)

        assert await invitations(db) == []
        assert await customer_count(db) == 4  # the newcomers; neither operator
        welcome = "欢迎加入！发送“帮助”看看我能做什么，发送“邀请”领取你的专属邀请链接。"
        assert feishu_texts(h) == [welcome] * 4


async def test_wecom_group_join_way_state_is_the_code_owners_referral(db: Database) -> None:
    inviter = await customer_on(
        db, "李老客", platform="wecom", app_id=WECOM_CORP, user_id="wmLOYAL"
    )
    code = await personal_code(db, inviter)
    chat = json.loads((DATA / "wecom" / "groupchat_get.json").read_text(encoding="utf-8"))
    for member in chat["member_list"]:
        if member["userid"] == "wmNEWMEMBER":
            member["state"] = code
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        h.wecom.group_chats["wrGROUP0001"] = chat
        xml = (DATA / "wecom" / "change_external_chat_add_member.xml").read_text("utf-8")
        assert await h.post_wecom(xml) == (200, "")
        await h.settle()

        assert await invitations(db) == [("wecom:wmNEWMEMBER", inviter, "wecom_group", "joined")]


async def test_official_account_qrscene_is_the_code_owners_referral(db: Database) -> None:
    inviter = await customer_on(db, "王老客", platform="wechat", app_id=WECHAT_APP, user_id="oOld")
    code = await personal_code(db, inviter)
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        xml = (DATA / "wechat" / "subscribe_qrscene.xml").read_text("utf-8")
        path, body = wechat_post(
            xml.format(openid="oNewFan", scene=code),
            token=WECHAT_TOKEN,
            timestamp=h.clock.timestamp(),
            aes_key=WECHAT_AES,
            app_id=WECHAT_APP,
        )
        assert (await h.client.post(path, data=body)).status == 200
        await h.settle()

        assert await invitations(db) == [("wechat:oNewFan", inviter, "wechat_qr", "joined")]
