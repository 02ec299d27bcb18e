"""A campaign message as the customer reads it: their own name, the coupon in yuan, its last
local day, a link and the shop — and a batch read in one query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fakes.inbox import FakeInbox
from outbox_world import RUN_AT, TZ, Clock, deliveries, drain_into, seed_run
from sqlalchemy import event, update

from models import Coupon, ReferralCode, ReferralProgram
from models.campaigns.render import CouponTerms, MessageStyle, Recipient, prepare, render_message
from models.db import Database

ZH = MessageStyle(locale="zh-CN", tz=TZ, public_base_url="https://f.example")
EN = MessageStyle(locale="en", tz=TZ, public_base_url="https://f.example")
# 23:30 UTC on 15 July is already 16 July in Shanghai.
EXPIRES = datetime(2024, 7, 15, 23, 30, tzinfo=UTC)


def coupon(**overrides: Any) -> CouponTerms:
    fields: dict[str, Any] = {
        "name": "回归礼券",
        "value_fen": 5000,
        "percent_off": None,
        "max_discount_fen": None,
        "min_spend_fen": 20000,
        "expires_at": EXPIRES,
    }
    return CouponTerms(**{**fields, **overrides})


def text(template: str, recipient: Recipient, style: MessageStyle = ZH) -> str:
    return render_message(template, recipient, style).text


def test_the_customer_reads_their_own_name_unmasked_and_the_coupon_in_yuan() -> None:
    message = render_message(
        "{name}您好！送您{coupon}，{expiry}前有效。{link}",
        Recipient(name="欧阳娜娜", coupon=coupon(), referral_code="AB12CD"),
        ZH,
    )
    assert message.text == (
        "欧阳娜娜您好！送您回归礼券（¥50.00，满¥200.00可用），2024年7月16日前有效。"
        "https://f.example/r/AB12CD"
    )
    assert message.variables == {
        "name": "欧阳娜娜",
        "coupon": "回归礼券（¥50.00，满¥200.00可用）",
        "expiry": "2024年7月16日",
        "link": "https://f.example/r/AB12CD",
        "shop": "本店",
    }


def test_an_unknown_name_reads_as_a_friendly_greeting() -> None:
    assert text("{name}您好，好久不见", Recipient(name=None)) == "亲爱的顾客您好，好久不见"
    assert text("{name}您好", Recipient(name="  ")) == "亲爱的顾客您好"
    assert text("Hi {name}!", Recipient(name=None), EN) == "Hi friend!"


@pytest.mark.parametrize(
    ("terms", "zh", "en"),
    [
        (
            coupon(name="老客回馈券 ¥30", value_fen=3000, min_spend_fen=10000),
            "老客回馈券 ¥30（满¥100.00可用）",
            "老客回馈券 ¥30 (min. spend ¥100.00)",
        ),
        (
            coupon(name="新品券", value_fen=1250, min_spend_fen=0),
            "新品券（¥12.50）",
            "新品券 (¥12.50)",
        ),
        (
            coupon(name="满300减30", value_fen=3000, min_spend_fen=30000),
            "满300减30（¥30.00，满¥300.00可用）",
            "满300减30 (¥30.00, min. spend ¥300.00)",
        ),
        (
            coupon(
                name="会员折扣",
                value_fen=None,
                percent_off=15,
                max_discount_fen=2000,
                min_spend_fen=0,
            ),
            "会员折扣（85折，最多减¥20.00）",
            "会员折扣 (15% off, up to ¥20.00)",
        ),
    ],
)
def test_the_coupon_shows_its_face_value_and_terms_once(
    terms: CouponTerms, zh: str, en: str
) -> None:
    assert text("{coupon}", Recipient(name="张三", coupon=terms)) == zh
    assert text("{coupon}", Recipient(name="张三", coupon=terms), EN) == en


def test_the_expiry_is_the_coupons_last_local_day() -> None:
    assert text("{expiry}", Recipient(name="x", coupon=coupon())) == "2024年7月16日"
    assert text("{expiry}", Recipient(name="x", coupon=coupon()), EN) == "2024-07-16"


def test_the_link_is_the_shop_when_configured_else_the_customers_own_page() -> None:
    shop = MessageStyle(
        "zh-CN", TZ, "https://f.example", shop_name="好物小铺", shop_url="https://shop.example/m"
    )
    assert text("{link} {shop}", Recipient(name="x", referral_code="AB12CD"), shop) == (
        "https://shop.example/m 好物小铺"
    )
    assert text("{link} {shop}", Recipient(name="x", referral_code="AB12CD")) == (
        "https://f.example/r/AB12CD 本店"
    )
    assert text("{link}", Recipient(name="x")) == "https://f.example"
    assert text("{shop}", Recipient(name="x"), EN) == "our shop"


def test_other_braces_are_left_as_written() -> None:
    assert text("{name}：{未知} {price}", Recipient(name="张三")) == "张三：{未知} {price}"


async def test_a_claimed_batch_is_rendered_in_one_query(db: Database) -> None:
    seeded = await seed_run(db, [f"客户{i}" for i in range(20)])
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.engine.connect() as conn:
            prepared = await prepare(conn, seeded.delivery_ids, ZH, Clock(RUN_AT)())
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    assert len(statements) == 1
    assert sorted(prepared) == seeded.delivery_ids
    assert prepared[seeded.delivery_ids[3]].message.text.startswith("客户3您好")


async def test_sent_messages_carry_the_referral_link_and_a_gone_coupon_is_not_offered(
    db: Database, inbox: FakeInbox
) -> None:
    seeded = await seed_run(db, ["张三", "李四"])
    async with db.uow() as uow:
        program = ReferralProgram(
            key="p",
            name="老带新",
            title="好友福利",
            segment={},
            channels=[],
            inviter_reward={},
            invitee_reward={},
            milestones={},
        )
        uow.session.add(program)
        await uow.session.flush()
        uow.session.add(
            ReferralCode(code="ZS8K2P", program_id=program.id, customer_id=seeded.customer_ids[0])
        )
        await uow.session.execute(
            update(Coupon)
            .where(Coupon.customer_id == seeded.customer_ids[1])
            .values(status="revoked", revoked_at=Clock(RUN_AT)(), revoke_reason="manual")
        )
        await uow.commit()
    await drain_into(inbox, db)

    [sent] = inbox.texts("ou_C1")
    assert "https://fission.example.com/r/ZS8K2P" in sent
    assert inbox.texts("ou_C2") == []
    rows = await deliveries(db)
    assert [(r.status, r.reason) for r in rows] == [("sent", None), ("skipped", "coupon_revoked")]
