"""WeCom app messages come from corp members, not customers: a staff member is answered as
staff, any other member gets a polite refusal and never becomes a customer — and a member's
userid is never mistaken for a customer's external_userid."""

from __future__ import annotations

from pathlib import Path

from fakes.harness import WECOM_CORP, Harness, channel_app
from sqlalchemy import select

from bot.channels.dispatcher import real_dispatcher
from models.customer import Customer, CustomerIdentity
from models.db import Database
from models.staff import Staff, StaffIdentity

TEXT_MESSAGE = (Path(__file__).parent / "data" / "wecom" / "text_message.xml").read_text("utf-8")
SEND = "/cgi-bin/message/send"


async def say(h: Harness, text: str, msg_id: str) -> None:
    """`zhangsan`, a corp member, writes to the app."""
    plain = TEXT_MESSAGE.replace("{text}", text).replace("{msg_id}", msg_id)
    assert await h.post_wecom(plain) == (200, "")
    await h.settle()


def sent_texts(h: Harness) -> list[str]:
    texts = []
    for call in h.wecom.calls(SEND):
        assert call.json["touser"] == "zhangsan"
        texts.append(call.json[call.json["msgtype"]]["content"])
    return texts


async def customers(db: Database) -> list[tuple[str, list[tuple[str, str]]]]:
    """(external id, [(identity kind, value)]) of every customer."""
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Customer.external_id, CustomerIdentity.kind, CustomerIdentity.value)
            .outerjoin(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
            .order_by(Customer.id, CustomerIdentity.id)
        )
        found: dict[str, list[tuple[str, str]]] = {}
        for external_id, kind, value in rows:
            found.setdefault(external_id, []).append((kind, value))
        return list(found.items())


async def test_a_member_who_is_not_staff_is_refused_politely_and_stays_nobody(
    db: Database,
) -> None:
    async with db.uow() as uow:  # an external contact whose id happens to equal the member's
        customer = Customer(external_id="C-EXT", name="客户甲")
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            CustomerIdentity(
                customer_id=customer.id,
                platform="wecom",
                app_id=WECOM_CORP,
                kind="external_userid",
                value="zhangsan",
            )
        )
        await uow.commit()
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        await say(h, "积分", "201")
        await say(h, "/customer 客户甲", "202")

        refusal = (
            "您还不是员工账号，请联系管理员用 fission staff add 添加：\n"
            "fission staff add --platform wecom --user-id zhangsan --name 姓名 --role agent"
        )
        assert sent_texts(h) == [refusal, refusal]
        assert await customers(db) == [("C-EXT", [("external_userid", "zhangsan")])]


async def test_a_staff_member_is_still_answered_as_staff(db: Database) -> None:
    async with db.uow() as uow:
        staff = Staff(name="张三", role="agent")
        uow.session.add(staff)
        await uow.session.flush()
        uow.session.add(StaffIdentity(staff_id=staff.id, platform="wecom", user_id="zhangsan"))
        await uow.commit()
    async with channel_app(db, dispatcher=real_dispatcher()) as h:
        await say(h, "帮助", "301")
        [help_text] = sent_texts(h)
        assert "/customer" in help_text and "/followup" in help_text  # staff commands shown
        assert await customers(db) == []

        await say(h, "积分", "302")  # a customer command: now the member is a customer too
        assert await customers(db) == [("wecom:member:zhangsan", [("userid", "zhangsan")])]
