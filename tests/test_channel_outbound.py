"""The outbound choke point against the fake platform APIs: shared and refreshed tokens,
one refresh on an invalid token, back-off on quota and rate limits, retries on 5xx, and
idempotent sends."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator

import pytest
from fakes.feishu import FakeFeishu
from fakes.harness import PNG, Clock, channel_app
from fakes.wechat import FakeWeChat
from fakes.wecom import FakeWeCom

from bot.channels.feishu import api as feishu_api
from bot.channels.feishu.render import post_content
from bot.channels.outbound.caller import FEISHU_RULES, WECHAT_RULES, WECOM_RULES, ApiCaller
from bot.channels.outbound.deliver import deliver
from bot.channels.outbound.errors import ApiError, OutsideWindow, RateLimited, TransientError
from bot.channels.outbound.http import HttpTransport
from bot.channels.outbound.log import OutboundLog
from bot.channels.outbound.ratelimit import RateLimiter
from bot.channels.outbound.tokens import TokenCache
from bot.channels.telemetry import NoTelemetry
from bot.channels.wechat import api as wechat_api
from bot.channels.wecom import api as wecom_api
from bot.channels.wecom.robot import GroupRobot
from handlers.events import ImageReply, Reply, TextReply
from models.db import Database

CUSTOM = "/cgi-bin/message/custom/send"
MESSAGES = "/open-apis/im/v1/messages"


@pytest.fixture
async def http() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport(timeout=3.0, retry_delays=(0.01, 0.01))
    yield transport
    await transport.close()


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wxapp", "secret")
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def feishu() -> AsyncIterator[FakeFeishu]:
    fake = FakeFeishu("cli_app", "secret", "ou_bot")
    await fake.start()
    yield fake
    await fake.close()


def base(fake: FakeWeChat | FakeFeishu | FakeWeCom) -> str:
    assert fake.server is not None
    return str(fake.server.make_url("")).rstrip("/")


def wechat_client(
    db: Database, http: HttpTransport, fake: FakeWeChat, clock: Clock, limiter: RateLimiter
) -> wechat_api.WeChatApi:
    url = base(fake)
    tokens = TokenCache(
        db,
        platform="wechat",
        app_id="wxapp",
        kind="access_token",
        fetch=lambda: wechat_api.fetch_token(http, url, "wxapp", "secret"),
        clock=clock,
    )
    caller = ApiCaller(
        WECHAT_RULES, app_id="wxapp", base_url=url, http=http, limiter=limiter, tokens=tokens
    )
    return wechat_api.WeChatApi(caller)


def feishu_client(
    db: Database, http: HttpTransport, fake: FakeFeishu, clock: Clock, limiter: RateLimiter
) -> feishu_api.FeishuApi:
    url = base(fake)
    tokens = TokenCache(
        db,
        platform="feishu",
        app_id="cli_app",
        kind="tenant_access_token",
        fetch=lambda: feishu_api.fetch_token(http, url, "cli_app", "secret"),
        clock=clock,
    )
    caller = ApiCaller(
        FEISHU_RULES, app_id="cli_app", base_url=url, http=http, limiter=limiter, tokens=tokens
    )
    return feishu_api.FeishuApi(caller)


async def test_concurrent_senders_share_one_token_fetch(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    await asyncio.gather(*(api.send_custom(f"o{i}", "text", {"content": "hi"}) for i in range(12)))
    assert wechat.token_fetches == 1
    assert len(wechat.calls(CUSTOM)) == 12


async def test_a_second_process_uses_the_token_stored_by_the_first(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    clock = Clock()
    first = wechat_client(db, http, wechat, clock, RateLimiter())
    second = wechat_client(db, http, wechat, clock, RateLimiter())  # its own memory cache
    await first.send_custom("o1", "text", {"content": "a"})
    await second.send_custom("o2", "text", {"content": "b"})
    assert wechat.token_fetches == 1
    tokens = {call.query["access_token"] for call in wechat.calls(CUSTOM)}
    assert len(tokens) == 1


async def test_the_token_is_refreshed_five_minutes_before_it_expires(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    clock = Clock()
    wechat.expires_in = 7200
    api = wechat_client(db, http, wechat, clock, RateLimiter())
    await api.send_custom("o1", "text", {"content": "a"})
    clock.advance(seconds=7200 - 301)  # still 5 min 1 s left: keep it
    await api.send_custom("o1", "text", {"content": "b"})
    assert wechat.token_fetches == 1
    clock.advance(seconds=2)  # 4 min 59 s left: refresh before using it
    await api.send_custom("o1", "text", {"content": "c"})
    assert wechat.token_fetches == 2


async def test_an_invalid_token_is_refreshed_once_and_the_call_retried(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    await api.send_custom("o1", "text", {"content": "a"})
    wechat.expire_tokens()  # the platform answers 42001 for the cached token
    await api.send_custom("o1", "text", {"content": "b"})
    assert wechat.token_fetches == 2
    codes = [c.query["access_token"] for c in wechat.calls(CUSTOM)]
    assert codes[1] == codes[0] != codes[2]  # rejected once, then the new token


async def test_an_invalid_token_twice_is_an_error_not_a_loop(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    wechat.fail_next(CUSTOM, "invalid_token", "invalid_token", "invalid_token")
    with pytest.raises(ApiError) as failed:
        await api.send_custom("o1", "text", {"content": "a"})
    assert failed.value.code == 40001
    assert len(wechat.calls(CUSTOM)) == 2
    assert wechat.token_fetches == 2


async def test_quota_spent_backs_off_without_calling_again(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    wechat.fail_next(CUSTOM, "quota")
    with pytest.raises(RateLimited) as limited:
        await api.send_custom("o1", "text", {"content": "a"})
    assert (limited.value.code, limited.value.retry_after) == (45009, 60.0)
    for _ in range(5):
        with pytest.raises(RateLimited):
            await api.send_custom("o1", "text", {"content": "again"})
    assert len(wechat.calls(CUSTOM)) == 1  # the four… five later calls never left the process


async def test_feishu_rate_limit_honours_the_reset_header(
    db: Database, http: HttpTransport, feishu: FakeFeishu
) -> None:
    api = feishu_client(db, http, feishu, Clock(), RateLimiter())
    feishu.fail_next(MESSAGES, "rate_limit")
    with pytest.raises(RateLimited) as limited:
        await api.send_message("oc_1", "text", {"text": "a"}, key="k1")
    assert (limited.value.code, limited.value.retry_after) == (99991400, 7.0)
    with pytest.raises(RateLimited):
        await api.send_message("oc_1", "text", {"text": "b"}, key="k2")
    assert len(feishu.calls(MESSAGES)) == 1


async def test_feishu_invalid_token_is_refreshed_once(
    db: Database, http: HttpTransport, feishu: FakeFeishu
) -> None:
    api = feishu_client(db, http, feishu, Clock(), RateLimiter())
    await api.send_message("oc_1", "text", {"text": "a"}, key="k1")
    feishu.expire_tokens()
    message_id = await api.send_message("oc_1", "text", {"text": "b"}, key="k2")
    assert message_id.startswith("om_")
    assert feishu.token_fetches == 2


async def test_server_errors_are_retried_for_reads_but_never_for_sends(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    wechat.users["o1"] = {"unionid": "oU1"}
    wechat.fail_next("/cgi-bin/user/info", "server_error")
    assert (await api.user_info("o1"))["unionid"] == "oU1"  # one 503, then fine
    wechat.fail_next("/cgi-bin/user/info", "server_error", "server_error", "server_error")
    with pytest.raises(TransientError):
        await api.user_info("o1")
    assert len(wechat.calls("/cgi-bin/user/info")) == 5  # 2, then three tries and no more
    # A 503 on a send may still have been delivered: report it, do not send again.
    wechat.fail_next(CUSTOM, "server_error")
    with pytest.raises(TransientError):
        await api.send_custom("o1", "text", {"content": "b"})
    assert len(wechat.calls(CUSTOM)) == 1


async def test_outside_window_and_template_messages(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    api = wechat_client(db, http, wechat, Clock(), RateLimiter())
    wechat.fail_next(CUSTOM, "outside_window")
    with pytest.raises(OutsideWindow):
        await api.send_custom("oDormant", "text", {"content": "回来看看"})
    msgid = await api.send_template(
        "oDormant",
        "TPL-1",
        {"first": "您有一张优惠券", "remark": "7 天内有效"},
        url="https://example.com/c",
    )
    assert msgid != ""
    [template] = wechat.calls("/cgi-bin/message/template/send")
    assert template.json == {
        "touser": "oDormant",
        "template_id": "TPL-1",
        "data": {"first": {"value": "您有一张优惠券"}, "remark": {"value": "7 天内有效"}},
        "url": "https://example.com/c",
    }


async def test_delivery_with_the_same_key_is_sent_once(
    db: Database, http: HttpTransport, feishu: FakeFeishu
) -> None:
    clock = Clock()
    api = feishu_client(db, http, feishu, clock, RateLimiter())
    log = OutboundLog(db, clock)
    content = post_content("本周活动", ["邀请 3 位好友得 50 元券", "截止周日"])

    async def send_post() -> str:
        return await api.send_message(
            "ou_1", "post", content, key="campaign:7:ou_1", receive_id_type="open_id"
        )

    results = [
        await deliver(
            log,
            NoTelemetry(),
            key="campaign:7:ou_1",
            platform="feishu",
            app_id="cli_app",
            recipient="ou_1",
            kind="post",
            send=send_post,
        )
        for _ in range(3)
    ]
    assert [r.status for r in results] == ["sent", "duplicate", "duplicate"]
    [message] = feishu.delivered
    assert (message["msg_type"], message["receive_id_type"]) == ("post", "open_id")
    assert (
        json.loads(message["content"])["zh_cn"]["content"][0][0]["text"]
        == "邀请 3 位好友得 50 元券"
    )


async def test_a_failed_delivery_may_be_retried_and_then_succeeds(
    db: Database, http: HttpTransport, wechat: FakeWeChat
) -> None:
    clock = Clock()
    api = wechat_client(db, http, wechat, clock, RateLimiter())
    log = OutboundLog(db, clock)
    wechat.fail_next(CUSTOM, "server_error")

    async def send() -> None:
        await api.send_custom("o1", "text", {"content": "hi"})

    first = await deliver(
        log,
        NoTelemetry(),
        key="k",
        platform="wechat",
        app_id="wxapp",
        recipient="o1",
        kind="text",
        send=send,
    )
    second = await deliver(
        log,
        NoTelemetry(),
        key="k",
        platform="wechat",
        app_id="wxapp",
        recipient="o1",
        kind="text",
        send=send,
    )
    assert (first.status, second.status) == ("failed", "sent")


async def test_group_robot_sends_at_most_twenty_a_minute(db: Database, http: HttpTransport) -> None:
    fake = FakeWeCom("wwcorp", "secret")
    url = await fake.start()
    try:
        limiter = RateLimiter(max_wait=0.1)
        robot = GroupRobot("robot-key-1", base_url=url, http=http, limiter=limiter)
        for i in range(20):
            await robot.send_text(f"第 {i} 条")
        with pytest.raises(RateLimited):
            await robot.send_text("第 21 条")
        other = GroupRobot("robot-key-2", base_url=url, http=http, limiter=limiter)
        await other.send_image(PNG)  # another robot has its own 20 a minute
    finally:
        await fake.close()
    sent = fake.calls("/cgi-bin/webhook/send")
    assert len(sent) == 21
    assert sent[0].query == {"key": "robot-key-1"}
    assert sent[0].json == {"msgtype": "text", "text": {"content": "第 0 条"}}
    image = sent[20].json["image"]
    assert base64.b64decode(image["base64"]) == PNG
    assert image["md5"] == hashlib.md5(PNG).hexdigest()


async def test_wecom_app_message_needs_no_second_token_for_a_second_member(
    db: Database, http: HttpTransport
) -> None:
    fake = FakeWeCom("wwcorp", "secret")
    url = await fake.start()
    try:
        tokens = TokenCache(
            db,
            platform="wecom",
            app_id="wwcorp",
            kind="access_token",
            fetch=lambda: wecom_api.fetch_token(http, url, "wwcorp", "secret"),
            clock=Clock(),
        )
        caller = ApiCaller(
            WECOM_RULES,
            app_id="wwcorp",
            base_url=url,
            http=http,
            limiter=RateLimiter(),
            tokens=tokens,
        )
        api = wecom_api.WeComApi(caller, agent_id=1000002)
        assert (await api.send_app_message("a", "text", {"content": "x"})).startswith("msg")
        await api.send_app_message("b", "text", {"content": "y"})
        assert fake.token_fetches == 1
    finally:
        await fake.close()


async def test_push_outside_a_callback_sends_each_piece_once(db: Database) -> None:
    async with channel_app(db) as h:
        replies: list[Reply] = [TextReply("本周有新活动"), ImageReply(PNG, cache_key="p9")]
        for _ in range(2):  # a re-run of the same campaign step
            feishu = await h.registry.push("feishu", "ou_member", replies, "campaign:3:ou_member")
            wechat = await h.registry.push("wechat", "oFollower", replies[:1], "campaign:3:oF")
        assert [r.status for r in feishu] == ["duplicate", "duplicate"]
        assert [r.status for r in wechat] == ["duplicate"]
        assert [(m["receive_id_type"], m["msg_type"]) for m in h.feishu.delivered] == [
            ("open_id", "text"),
            ("open_id", "image"),
        ]
        [custom] = h.wechat.calls(CUSTOM)
        assert custom.json["text"] == {"content": "本周有新活动"}
        with pytest.raises(LookupError):
            await h.registry.push("console", "u1", replies, "k")
