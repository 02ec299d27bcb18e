"""Campaign messages to Feishu users through the sender, against the fake open API: one message
per delivery even when a worker dies between sending and recording (Feishu's `uuid`), the
rate limit's reset honoured, permanent refusals dead-lettered with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fakes.harness import FEISHU_APP, Clock
from sender_world import deliveries, drain, platforms, scene

from bot.channels.senders import build_senders
from bot.channels.senders.feishu import FeishuSender
from models.campaigns.outcomes import Dead, Retry, Sent
from models.db import Database

NOW = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
MESSAGES = "/open-apis/im/v1/messages"


def texts(fake_delivered: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(m["receive_id"], json.loads(m["content"])["text"]) for m in fake_delivered]


async def test_each_delivery_reaches_its_user_once_even_after_a_crash(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        clock = p.clock
        assert p.apis.feishu is not None
        sender = FeishuSender(p.apis.feishu, app_id=FEISHU_APP)
        first = await world.delivery(
            platform="feishu", app_id=FEISHU_APP, route="feishu", recipient="ou_a", now=NOW
        )
        second = await world.delivery(
            platform="feishu",
            app_id=FEISHU_APP,
            route="feishu",
            recipient="ou_b",
            now=NOW,
            name="李雷",
        )

        # The worker sends, then dies before recording anything.
        crashed = await drain(db, sender, NOW, record=False)
        assert all(isinstance(o, Sent) for o in crashed.values())
        # After the claim's lease another worker sends the same deliveries again.
        p.advance(minutes=10)
        again = await drain(db, sender, clock.now)
        assert again == crashed  # the same Feishu message ids
        assert len(p.feishu.calls(MESSAGES)) == 4
        tail = "您好，好久不见！送您一张30元回归券，6月30日前有效，下单时自动可用。"
        tail += "https://shop.example.com/c/winback\n回复“退订”即不再接收优惠消息。"
        assert texts(p.feishu.delivered) == [("ou_a", "王小明" + tail), ("ou_b", "李雷" + tail)]
        assert [m["receive_id_type"] for m in p.feishu.delivered] == ["open_id", "open_id"]
        rows = await deliveries(db, [first, second])
        assert [(r.status, r.platform_message_id) for r in rows] == [
            ("sent", p.feishu.delivered[0]["message_id"]),
            ("sent", p.feishu.delivered[1]["message_id"]),
        ]


async def test_a_rate_limit_waits_for_the_reset_the_platform_named(db: Database) -> None:
    async with scene(db, NOW) as (p, world):
        assert p.apis.feishu is not None
        sender = FeishuSender(p.apis.feishu, app_id=FEISHU_APP)
        ids = [
            await world.delivery(
                platform="feishu", app_id=FEISHU_APP, route="feishu", recipient=f"ou_{n}", now=NOW
            )
            for n in range(3)
        ]
        p.feishu.rate_limit_reset = 17
        p.feishu.fail_next(MESSAGES, "rate_limit")
        outcomes = await drain(db, sender, NOW)
        # The first answer named 17 s; the rest of the batch does not knock again meanwhile.
        assert outcomes[ids[0]] == Retry(99991400, "request trigger frequency limit", 17.0)
        waits = [o.retry_after if isinstance(o, Retry) else None for o in outcomes.values()]
        assert all(wait is not None and wait > 16 for wait in waits)
        assert len(p.feishu.calls(MESSAGES)) == 1
        assert p.feishu.delivered == []
        rows = await deliveries(db, ids)
        assert {r.status for r in rows} == {"failed"}


async def test_users_the_bot_cannot_reach_are_dead_lettered_and_5xx_is_retried(
    db: Database,
) -> None:
    async with scene(db, NOW) as (p, world):
        assert p.apis.feishu is not None
        sender = FeishuSender(p.apis.feishu, app_id=FEISHU_APP)
        p.feishu.unavailable.add("ou_left")
        p.feishu.foreign_ids.add("ou_other_app")
        busy, left, foreign, elsewhere = [
            await world.delivery(
                platform="feishu", app_id=app, route="feishu", recipient=recipient, now=NOW
            )
            for recipient, app in (
                ("ou_busy", FEISHU_APP),
                ("ou_left", FEISHU_APP),
                ("ou_other_app", FEISHU_APP),
                ("ou_x", "cli_retired_app"),
            )
        ]
        p.feishu.fail_next(MESSAGES, "server_error", "server_error", "server_error")
        outcomes = await drain(db, sender, NOW)
        assert outcomes[left] == Dead(
            "not_available", 230013, "Bot has NO availability to this user."
        )
        assert outcomes[foreign] == Dead("invalid_user", 99992361, "open_id cross app")
        assert outcomes[busy] == Retry(500, "HTTP 500")  # after the transport's own retries
        rows = {r.id: r for r in await deliveries(db)}
        assert (rows[elsewhere].status, rows[elsewhere].reason) == ("skipped", "unreachable")
        assert p.feishu.delivered == []


async def test_the_senders_built_from_settings_cover_the_configured_platforms(
    db: Database,
) -> None:
    clock = Clock(NOW)
    async with platforms(db, clock) as p:
        senders = build_senders(p.settings, db, clock=clock, apis=p.apis)
        assert [s.routes for s in senders] == [
            ("wecom_task",),
            ("wechat_cs", "wechat_template"),
            ("feishu",),
        ]
        only_feishu = p.settings.model_copy(update={"wecom_corp_id": None, "wechat_app_id": None})
        assert [s.routes for s in build_senders(only_feishu, db, clock=clock, apis=p.apis)] == [
            ("feishu",)
        ]
