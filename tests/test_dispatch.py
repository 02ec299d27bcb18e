"""The dispatcher: when the bot speaks, who the sender is, and what gets stored."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from chatkit import NOW, as_text, make_ctx, message, say, seed_people
from sqlalchemy import func, select

from handlers.dispatch import dispatch_join, dispatch_message
from handlers.events import SENDER_MEMBER, JoinEvent
from models.customer import Customer, CustomerIdentity
from models.db import Database
from models.referral.tables import Invitation


async def _customers(db: Database) -> list[Customer]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Customer).order_by(Customer.id))).all())


async def _identities(db: Database) -> list[tuple[int, str, str, str, str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(
                CustomerIdentity.customer_id,
                CustomerIdentity.platform,
                CustomerIdentity.app_id,
                CustomerIdentity.kind,
                CustomerIdentity.value,
            ).order_by(CustomerIdentity.id)
        )
        return [tuple(row) for row in rows]


async def test_groups_answer_only_slash_commands_and_mentions(db: Database) -> None:
    ctx = make_ctx(db)
    assert await say(ctx, "大家好，今天有活动吗", user="g-user", group=True) == []
    assert await say(ctx, "帮助", user="g-user", group=True) == []  # no slash, no @mention
    assert await _customers(db) == []  # ignored chatter stores nothing
    slash = as_text(await say(ctx, "/help", user="g-user", group=True))
    mention = as_text(await say(ctx, "帮助", user="g-user", group=True, to_me=True))
    assert slash.startswith("你可以对我说：")
    assert mention == slash
    wide_slash = as_text(await say(ctx, "／帮助", user="g-user", group=True))
    assert wide_slash == slash


async def test_private_chat_needs_no_slash_and_unknown_text_says_what_to_type(
    db: Database,
) -> None:
    ctx = make_ctx(db)
    assert as_text(await say(ctx, "帮助")) == as_text(await say(ctx, "/help"))
    assert as_text(await say(ctx, "HELP")) == as_text(await say(ctx, "/help"))
    text = as_text(await say(ctx, "你好呀"))
    assert text == (
        "我还不认识“你好呀”。可以发送：邀请、积分、优惠券、我的邀请、退订、订阅、帮助\n"
        "发送“帮助”查看每个命令的用法。"
    )  # customers are not told about staff commands
    assert as_text(await say(ctx, "/")).startswith("我还不认识“/”")
    long_word = as_text(await say(ctx, "/" + "x" * 60))
    assert "x" * 21 not in long_word  # the echo is cut short
    assert await say(ctx, "   ") == []


async def test_unknown_sender_becomes_a_chat_customer_once(db: Database) -> None:
    ctx = make_ctx(db)
    await say(ctx, "帮助", user="ou_abc", platform="feishu", app_id="cli_1", name="小林")
    await say(ctx, "帮助", user="ou_abc", platform="feishu", app_id="cli_1", name="小林")
    customers = await _customers(db)
    assert [(c.external_id, c.name, c.source) for c in customers] == [
        ("feishu:ou_abc", "小林", "chat")
    ]
    assert await _identities(db) == [(customers[0].id, "feishu", "cli_1", "open_id", "ou_abc")]


async def test_union_id_links_one_person_across_apps(db: Database) -> None:
    ctx = make_ctx(db)
    await say(ctx, "帮助", user="o-openid", platform="wechat", app_id="wx1", union_id="U-1")
    await say(ctx, "帮助", user="wm-ext", platform="wecom", app_id="corp1", union_id="U-1")
    await say(ctx, "帮助", user="o-other", platform="wechat", app_id="wx1")
    customers = await _customers(db)
    assert len(customers) == 2
    first = customers[0].id
    assert await _identities(db) == [
        (first, "wechat", "wx1", "openid", "o-openid"),
        (first, "wechat", "wx1", "unionid", "U-1"),
        (first, "wecom", "corp1", "external_userid", "wm-ext"),
        (first, "wecom", "corp1", "unionid", "U-1"),
        (customers[1].id, "wechat", "wx1", "openid", "o-other"),
    ]


async def test_simultaneous_first_messages_make_one_customer(db: Database) -> None:
    ctx = make_ctx(db)
    replies = await asyncio.gather(*(say(ctx, "帮助", user="same-person") for _ in range(4)))
    assert all(as_text(r).startswith("你可以对我说：") for r in replies)
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Customer))
        ids = await uow.session.scalar(select(func.count()).select_from(CustomerIdentity))
    assert (count, ids) == (1, 1)


async def test_staff_are_not_customers_until_they_need_to_be(db: Database) -> None:
    await seed_people(db)
    ctx = make_ctx(db)
    before = len(await _customers(db))
    await say(ctx, "/help", user="agent-1")
    await say(ctx, "/stage 衰退", user="agent-1")
    assert len(await _customers(db)) == before
    await say(ctx, "退订", user="agent-1")  # a customer command: now they are one
    customers = await _customers(db)
    assert len(customers) == before + 1
    assert customers[-1].external_id == "console:agent-1"
    assert customers[-1].marketing_opt_out is True


async def test_a_failure_gets_an_apology_not_a_traceback() -> None:
    """Nothing listens on port 1: the database is unreachable, as in an outage."""
    unreachable = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        ctx = make_ctx(unreachable)
        replies = await say(ctx, "积分")
        assert as_text(replies) == "抱歉，刚才没有处理成功，请稍后再试。"
        assert await say(ctx, "group chatter", group=True) == []  # silence needs no database
        event = JoinEvent(
            platform="console",
            app_id="",
            event_id="j",
            user_id="u",
            channel="console",
            occurred_at=NOW,
        )
        with pytest.raises(OSError):  # a join is raised, so the adapter keeps it for a retry
            await dispatch_join(ctx, event)
    finally:
        await unreachable.dispose()


async def test_english_locale_replies_in_english(db: Database) -> None:
    ctx = make_ctx(db, locale="en")
    text = as_text(await say(ctx, "hello"))
    assert text.startswith("I don't know “hello”. You can send: /")
    assert as_text(await say(ctx, "帮助")).startswith("Here is what I can do:")


async def test_a_member_account_that_is_not_staff_is_refused_and_stored_nowhere(
    db: Database,
) -> None:
    ctx = make_ctx(db, locale="en")
    member = replace(message("/points", user="lisi", platform="wecom"), sender_kind=SENDER_MEMBER)
    assert as_text(await dispatch_message(ctx, member)) == (
        "You are not registered as staff yet. Ask an administrator to add you:\n"
        "fission staff add --platform wecom --user-id lisi --name NAME --role agent"
    )
    assert await _customers(db) == []
    assert await _identities(db) == []


async def test_a_newcomer_who_added_themselves_is_a_plain_join(db: Database) -> None:
    ctx = make_ctx(db)
    await say(ctx, "帮助", user="ou_self", platform="feishu", app_id="cli_1")  # a customer now
    event = JoinEvent(
        platform="feishu",
        app_id="cli_1",
        event_id="j-self",
        user_id="ou_self",
        channel="feishu_group",
        occurred_at=NOW,
        added_by_user_id="ou_self",
    )
    [welcome] = await dispatch_join(ctx, event)
    assert as_text([welcome]).startswith("欢迎加入！")
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Invitation))
    assert count == 0
