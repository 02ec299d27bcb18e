"""The running app wired to local fakes of the three platforms and a tiny echo dispatcher,
passed in through the composition root (nothing patched)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from bot.bootstrap import bootstrap
from bot.channels.dispatcher import Dispatcher
from bot.channels.registry import ChannelOptions, ChannelRegistry, build_channels
from bot.web.app import create_app
from config import load_settings
from fakes.feishu import FakeFeishu
from fakes.signing import feishu_post, wecom_post
from fakes.wechat import FakeWeChat
from fakes.wecom import FakeWeCom
from handlers.events import (
    CardReply,
    ChatMessage,
    FileReply,
    HandlerContext,
    ImageReply,
    JoinEvent,
    Reply,
    TextReply,
)
from models.channels import InboundEvent, OutboundMessage
from models.db import Database

# Published sample credentials (DESIGN.md §4), reused for the end-to-end app.
WECOM_CORP = "wx5823bf96d3bd56c7"
WECOM_TOKEN = "QDG6eK"
WECOM_AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECHAT_APP = "wx2c2769f8efd9abc2"
WECHAT_TOKEN = "spamtest"
WECHAT_AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
FEISHU_APP = "cli_a1b2c3d4"
FEISHU_TOKEN = "v-token-123"
FEISHU_KEY = "test key"
FEISHU_BOT = "ou_bot_fission"
# A 1×1 PNG: what a poster looks like to the transport.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
# What an export looks like to the transport (`/file`), and one over every platform's limit.
EXPORT = FileReply(
    b"PK\x03\x04 a workbook",
    "客户分级表-2026-12-05.xlsx",
    fallback="请在服务器上运行：fission export grades",
    caption="客户分级表：3 行",
)
TOO_BIG = FileReply(
    b"x" * (30 * 1024 * 1024 + 1), "客户生命周期跟踪表.csv", fallback="fission export lifecycle"
)

FAST = ChannelOptions(
    passive_budget=0.4,
    http_timeout=3.0,
    http_retry_delays=(0.01, 0.01),
    rate_limit_max_wait=0.2,
    quota_backoff=30.0,
    sweep_interval=3600.0,
    drain_seconds=2.0,
)


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def timestamp(self) -> str:
        return str(int(self.now.timestamp()))


@dataclass
class EchoDispatcher:
    """Answers `echo: <text>`; `/poster` → text + image, `/card` → a card, `/file` → EXPORT,
    `/bigfile` → TOO_BIG, `/quiet` → nothing; `/slow …` first waits `delay` seconds, then
    answers the rest (`/slow /poster`)."""

    delay: float = 0.0
    fail_joins: int = 0
    messages: list[ChatMessage] = field(default_factory=list)
    joins: list[JoinEvent] = field(default_factory=list)

    async def message(self, ctx: HandlerContext, msg: ChatMessage) -> list[Reply]:
        self.messages.append(msg)
        text = msg.text
        if text.startswith("/slow"):
            await asyncio.sleep(self.delay)
            text = text.removeprefix("/slow").strip() or text
        if text == "/poster":
            return [TextReply("你的邀请链接"), ImageReply(PNG, caption="海报", cache_key="p1")]
        if text == "/card":
            return [CardReply("客户卡片", (("阶段", "成长客户"),), body="张*", footer="f")]
        if text == "/file":
            return [EXPORT]
        if text == "/bigfile":
            return [TOO_BIG]
        if text == "/quiet":
            return []
        return [TextReply(f"echo: {text}")]

    async def join(self, ctx: HandlerContext, event: JoinEvent) -> list[Reply]:
        if self.fail_joins:
            self.fail_joins -= 1
            raise RuntimeError("join failed on purpose")
        self.joins.append(event)
        return [TextReply(f"欢迎 {event.referral_code or '-'}")]

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(message=self.message, join=self.join)


@dataclass
class Harness:
    client: TestClient[web.Request, web.Application]
    db: Database
    clock: Clock
    echo: EchoDispatcher
    registry: ChannelRegistry
    wecom: FakeWeCom
    wechat: FakeWeChat
    feishu: FakeFeishu

    async def settle(self) -> None:
        """Wait for the work started after the acknowledgements."""
        await asyncio.wait_for(self.registry.tasks.join(), timeout=10)

    async def post_wecom(self, plain_xml: str) -> tuple[int, str]:
        """`plain_xml` signed and encrypted as WeCom posts it to /wecom/callback, now."""
        path, body = wecom_post(
            plain_xml,
            token=WECOM_TOKEN,
            aes_key=WECOM_AES,
            corp_id=WECOM_CORP,
            timestamp=self.clock.timestamp(),
        )
        resp = await self.client.post(path, data=body)
        return resp.status, await resp.text()

    async def post_feishu(self, payload: dict[str, Any]) -> int:
        """`payload` encrypted and signed as Feishu posts it to /feishu/events, now."""
        headers, body = feishu_post(
            payload, encrypt_key=FEISHU_KEY, timestamp=self.clock.timestamp()
        )
        resp = await self.client.post("/feishu/events", data=body, headers=headers)
        return resp.status

    async def inbound(self) -> list[InboundEvent]:
        async with self.db.uow() as uow:
            rows = await uow.session.execute(select(InboundEvent).order_by(InboundEvent.id))
            return list(rows.scalars())

    async def outbound(self) -> list[OutboundMessage]:
        async with self.db.uow() as uow:
            rows = await uow.session.execute(select(OutboundMessage).order_by(OutboundMessage.id))
            return list(rows.scalars())


def decrypt_reply(text: str) -> dict[str, str]:
    """The fields of an encrypted Official Account passive reply, decrypted as WeChat does."""
    envelope = fromstring(text)
    crypto = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES, WECHAT_APP)
    plain = crypto.decrypt_message(
        {"Encrypt": envelope.findtext("Encrypt")},
        envelope.findtext("MsgSignature"),
        envelope.findtext("TimeStamp"),
        envelope.findtext("Nonce"),
    )
    return {child.tag: child.text or "" for child in fromstring(plain)}


def settings_for(
    db: Database, bases: dict[str, str], *, wechat_aes: bool = True, **extra: Any
) -> Any:
    return load_settings(
        database_url=str(db.engine.url.render_as_string(hide_password=False)),
        wecom_corp_id=WECOM_CORP,
        wecom_agent_id=1000002,
        wecom_secret="wecom-secret",
        wecom_token=WECOM_TOKEN,
        wecom_aes_key=WECOM_AES,
        wecom_api_base=bases["wecom"],
        wechat_app_id=WECHAT_APP,
        wechat_secret="wechat-secret",
        wechat_token=WECHAT_TOKEN,
        wechat_aes_key=WECHAT_AES if wechat_aes else None,
        wechat_api_base=bases["wechat"],
        feishu_app_id=FEISHU_APP,
        feishu_app_secret="feishu-secret",
        feishu_verification_token=FEISHU_TOKEN,
        feishu_encrypt_key=FEISHU_KEY,
        feishu_api_base=bases["feishu"],
        **extra,
    )


@asynccontextmanager
async def channel_app(
    db: Database,
    *,
    echo: EchoDispatcher | None = None,
    clock: Clock | None = None,
    options: ChannelOptions = FAST,
    wechat_aes: bool = True,
    dispatcher: Dispatcher | None = None,
) -> AsyncIterator[Harness]:
    """The app with all three platforms; `dispatcher` replaces the echo dispatcher."""
    echo = echo or EchoDispatcher()
    dispatcher = dispatcher or echo.dispatcher()
    clock = clock or Clock()
    wecom = FakeWeCom(WECOM_CORP, "wecom-secret")
    wechat = FakeWeChat(WECHAT_APP, "wechat-secret")
    feishu = FakeFeishu(FEISHU_APP, "feishu-secret", FEISHU_BOT)
    bases = {
        "wecom": await wecom.start(),
        "wechat": await wechat.start(),
        "feishu": await feishu.start(),
    }
    try:
        settings = settings_for(db, bases, wechat_aes=wechat_aes)
        container = bootstrap(settings, db=db, clock=clock, dispatcher=dispatcher)
        registry = build_channels(settings, db, clock=clock, dispatcher=dispatcher, options=options)
        container.channels = registry
        async with TestClient(TestServer(create_app(container))) as client:
            yield Harness(client, db, clock, echo, registry, wecom, wechat, feishu)
    finally:
        for fake in (wecom, wechat, feishu):
            await fake.close()
