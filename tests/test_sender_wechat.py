"""Campaign messages to Official Account followers through the sender, against the fake API with
WeChat's rules on (strict): a customer-service message inside the 48 h window, the configured
template message outside it (or when WeChat says 45015/45047 despite our clock), skipped as
`outside_window` without a template; refusals dead-lettered, quota retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fakes.harness import WECHAT_APP
from sender_world import Platforms, SenderWorld, deliveries, drain, scene

from bot.channels.senders.wechat import WeChatSender
from models.campaigns.outcomes import Dead, Retry, Sent, Skipped
from models.db import Database

NOW = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
TEMPLATE = "tpl-coupon-001"
MARKETING = {
    "wechat_template_id": TEMPLATE,
    "wechat_template_fields": {
        "first": "{name}您好，送您一张优惠券",
        "keyword1": "{coupon}",
        "keyword2": "{expiry}前有效",
    },
}
CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"


@asynccontextmanager
async def strict_scene(
    db: Database, *, template: bool = True
) -> AsyncIterator[tuple[Platforms, SenderWorld]]:
    """WeChat's rules on in the fake; the template message configured and known, or not."""
    async with scene(db, NOW, **({"marketing": MARKETING} if template else {})) as (p, world):
        p.wechat.strict = True
        if template:
            p.wechat.templates.add(TEMPLATE)
        yield p, world


def sender_for(p: Platforms, db: Database) -> WeChatSender:
    assert p.apis.wechat is not None
    return WeChatSender(
        p.apis.wechat,
        app_id=WECHAT_APP,
        db=db,
        clock=p.clock,
        marketing=p.settings.marketing,
    )


async def follower(
    world: SenderWorld, p: Platforms, openid: str, seen: datetime | None, **kw: str
) -> int:
    """A follower last seen at `seen` (by us and by WeChat), queued for the campaign."""
    p.wechat.follow(openid, seen)
    return await world.delivery(
        platform="wechat",
        app_id=WECHAT_APP,
        route="wechat_cs",
        recipient=openid,
        now=NOW,
        last_seen_at=seen,
        **kw,
    )


async def test_inside_the_window_a_cs_message_outside_it_the_template(db: Database) -> None:
    async with strict_scene(db) as (p, world):
        recent = await follower(world, p, "oRecent", NOW - timedelta(hours=47), name="李雷")
        dormant = await follower(world, p, "oDormant", NOW - timedelta(days=40), name="韩梅梅")
        never = await follower(world, p, "oNever", None, name="张三")

        outcomes = await drain(db, sender_for(p, db), NOW)
        assert outcomes[recent] == Sent()
        assert isinstance(outcomes[dormant], Sent)
        assert outcomes[dormant].route == "wechat_template"
        assert [(m["kind"], m["openid"]) for m in p.wechat.delivered] == [
            ("cs", "oRecent"),
            ("template", "oDormant"),
            ("template", "oNever"),
        ]
        assert p.wechat.delivered[0]["text"]["content"].startswith(
            "李雷您好，好久不见！送您一张30元回归券，6月30日前有效，下单时自动可用。"
        )
        template = p.wechat.delivered[1]
        assert template["template_id"] == TEMPLATE
        assert template["data"] == {
            "first": "韩梅梅您好，送您一张优惠券",
            "keyword1": "30元回归券",
            "keyword2": "6月30日前有效",
        }
        assert template["url"] == "https://shop.example.com/c/winback"
        rows = {r.id: r for r in await deliveries(db)}
        assert (rows[recent].status, rows[recent].route) == ("sent", "wechat_cs")
        assert (rows[dormant].status, rows[dormant].route) == ("sent", "wechat_template")
        assert rows[dormant].platform_message_id == template["msgid"]
        assert rows[never].route == "wechat_template"


async def test_the_window_closes_while_a_message_waits_for_quiet_hours(db: Database) -> None:
    async with strict_scene(db) as (p, world):
        clock = p.clock
        late = await follower(world, p, "oLate", NOW - timedelta(hours=47))
        # Sent two hours later than planned: 49 h since the last interaction.
        p.advance(hours=2)
        outcomes = await drain(db, sender_for(p, db), clock.now)
        assert isinstance(outcomes[late], Sent)
        assert outcomes[late].route == "wechat_template"
        assert p.wechat.calls(CUSTOM) == []


async def test_without_a_template_outside_the_window_is_skipped(db: Database) -> None:
    async with strict_scene(db, template=False) as (p, world):
        dormant = await follower(world, p, "oDormant", NOW - timedelta(days=3))
        assert await drain(db, sender_for(p, db), NOW) == {dormant: Skipped("outside_window")}
        assert p.wechat.requests == []
        [row] = await deliveries(db)
        assert (row.status, row.reason) == ("skipped", "outside_window")


async def test_wechat_saying_45015_or_45047_despite_our_clock_takes_the_template(
    db: Database,
) -> None:
    async with strict_scene(db) as (p, world):
        # We saw them an hour ago; WeChat's record of their last interaction is older.
        stale = await follower(world, p, "oStale", NOW - timedelta(hours=1))
        p.wechat.follow("oStale", NOW - timedelta(days=5))
        # A follower who already got the 20 replies WeChat allows per interaction.
        chatty = await follower(world, p, "oChatty", NOW - timedelta(hours=1))
        p.wechat.follow("oChatty", NOW - timedelta(hours=1), replies_used=20)
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert {o.route for o in outcomes.values() if isinstance(o, Sent)} == {"wechat_template"}
        assert [m["openid"] for m in p.wechat.delivered] == ["oStale", "oChatty"]
        assert {m["kind"] for m in p.wechat.delivered} == {"template"}
        assert set(outcomes) == {stale, chatty}


async def test_refusals_are_dead_with_reasons_and_quota_is_retried(db: Database) -> None:
    async with strict_scene(db) as (p, world):
        gone = await follower(world, p, "oGone", NOW - timedelta(days=3))
        p.wechat.unfollow("oGone")
        refusing = await follower(world, p, "oRefusing", NOW - timedelta(days=3))
        p.wechat.refusing_templates.add("oRefusing")
        unknown = await world.delivery(
            platform="wechat", app_id=WECHAT_APP, route="wechat_cs", recipient="oNobody", now=NOW
        )
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert outcomes == {
            gone: Dead("not_follower", 43004, "require subscribe"),
            refusing: Dead("refused", 43101, "user refuse to accept the msg"),
            unknown: Dead("invalid_user", 40003, "invalid openid"),
        }
        assert p.wechat.delivered == []

        quota = await follower(world, p, "oQuota", NOW - timedelta(hours=1))
        p.wechat.fail_next(CUSTOM, "quota")
        outcomes = await drain(db, sender_for(p, db), NOW)
        assert outcomes == {quota: Retry(45009, "reach max api daily quota limit", 60.0)}
        [row] = await deliveries(db, [quota])
        assert (row.status, row.error_code) == ("failed", 45009)


async def test_a_template_send_is_not_repeated_after_its_answer_was_lost(db: Database) -> None:
    async with strict_scene(db) as (p, world):
        dormant = await follower(world, p, "oDormant", NOW - timedelta(days=3))
        p.wechat.fail_next(TEMPLATE_SEND, "lost_answer")
        outcomes = await drain(db, sender_for(p, db), NOW)
        # WeChat took it, a gateway answered 502: no quick retry may show it twice.
        assert outcomes == {dormant: Retry(502, "HTTP 502")}
        assert len(p.wechat.delivered) == 1
