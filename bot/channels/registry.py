"""The channels of one running app, built from settings by the composition root.

Owns what the channels share: the HTTP session, the rate limiter, the background task set, the
event store and worker. `start()` (app start-up) picks up events left unfinished by an earlier
process and starts the periodic sweep; `stop()` lets running work finish for a moment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.channels.apis import build_apis
from bot.channels.base import CallbackRequest, CallbackResponse
from bot.channels.channel import Channel, ChannelDeps
from bot.channels.dispatcher import Dispatcher, Handlers
from bot.channels.feishu.adapter import FeishuChannel
from bot.channels.inbound import InboundStore
from bot.channels.media import MediaCache
from bot.channels.outbound.errors import SendResult
from bot.channels.outbound.http import HttpTransport
from bot.channels.outbound.log import OutboundLog
from bot.channels.outbound.ratelimit import RateLimiter
from bot.channels.tasks import BackgroundTasks
from bot.channels.telemetry import NoTelemetry, Telemetry
from bot.channels.wechat.adapter import WeChatChannel
from bot.channels.wecom.adapter import WeComChannel
from bot.channels.wecom.robot import GroupRobot
from bot.channels.worker import EventWorker, Processor
from bot.channels.wxcrypto import WxCallbackCrypto
from config import Settings
from handlers.events import HandlerContext, Reply
from models.db import Database

log = logging.getLogger(__name__)

TEMP_MEDIA_TTL = 2 * 24 * 3600.0  # WeChat/WeCom temporary media live 3 days
FEISHU_IMAGE_TTL = 30 * 24 * 3600.0


@dataclass(frozen=True)
class ChannelOptions:
    max_body_bytes: int = 256 * 1024
    max_skew: timedelta = timedelta(minutes=5)
    passive_budget: float = 3.0  # WeChat waits 5 s
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 3
    sweep_interval: float = 60.0
    http_timeout: float = 10.0
    http_retry_delays: tuple[float, ...] = (0.2, 1.0)
    rate_limit_max_wait: float = 2.0
    quota_backoff: float = 60.0
    drain_seconds: float = 5.0


class RelayTelemetry:
    """Forwards to whichever telemetry the web layer installs (metrics), NoTelemetry before."""

    def __init__(self) -> None:
        self.target: Telemetry = NoTelemetry()

    def callback(self, platform: str, result: str) -> None:
        self.target.callback(platform, result)

    def command(self, platform: str, kind: str, seconds: float) -> None:
        self.target.command(platform, kind, seconds)

    def delivery(self, platform: str, result: str) -> None:
        self.target.delivery(platform, result)


@dataclass
class ChannelRegistry:
    options: ChannelOptions
    http: HttpTransport
    limiter: RateLimiter
    tasks: BackgroundTasks
    worker: EventWorker
    telemetry: RelayTelemetry
    settings: Settings
    channels: dict[str, Channel] = field(default_factory=dict)
    _sweeper: asyncio.Task[None] | None = None

    def get(self, platform: str) -> Channel | None:
        return self.channels.get(platform)

    async def handle(self, platform: str, request: CallbackRequest) -> CallbackResponse | None:
        channel = self.channels.get(platform)
        if channel is None:
            return None
        return await channel.handle(request)

    async def push(
        self, platform: str, user_id: str, replies: list[Reply], key: str
    ) -> list[SendResult]:
        """Send neutral replies to a platform user; see `Channel.push`."""
        channel = self.channels.get(platform)
        if channel is None:
            raise LookupError(f"{platform} is not configured")
        return await channel.push(user_id, replies, key)

    def robot(self, webhook_key: str) -> GroupRobot:
        """A WeCom group robot by its webhook key (base URL from FISSION_WECOM_API_BASE)."""
        return GroupRobot(
            webhook_key,
            base_url=self.settings.wecom_api_base,
            http=self.http,
            limiter=self.limiter,
            quota_backoff=self.options.quota_backoff,
        )

    async def start(self) -> None:
        try:
            resumed = await self.worker.resume()
        except Exception:  # the app still serves; the periodic sweep tries again
            log.exception("could not pick up unfinished inbound events at start-up")
            resumed = 0
        if resumed:
            log.info("picked up %d unfinished inbound events", resumed)
        # Kept apart from `tasks`, which holds event work only (so `tasks.join()` can finish).
        self._sweeper = asyncio.get_running_loop().create_task(
            self.worker.sweep_forever(self.options.sweep_interval), name="inbound-sweep"
        )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.tasks.drain(self.options.drain_seconds)
        await self.http.close()


def build_channels(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime],
    dispatcher: Dispatcher | None = None,
    options: ChannelOptions | None = None,
    extras: dict[str, object] | None = None,
) -> ChannelRegistry:
    """Every platform whose credentials are configured; the rest answer 404."""
    options = options or ChannelOptions()
    http = HttpTransport(timeout=options.http_timeout, retry_delays=options.http_retry_delays)
    limiter = RateLimiter(max_wait=options.rate_limit_max_wait)
    tasks = BackgroundTasks()
    store = InboundStore(db, clock, lease=options.lease, max_attempts=options.max_attempts)
    processors: dict[str, Processor] = {}
    worker = EventWorker(store, tasks, processors)
    telemetry = RelayTelemetry()
    ctx = HandlerContext(
        db=db, settings=settings, now=clock, extras=extras if extras is not None else {}
    )
    deps = ChannelDeps(
        store=store,
        worker=worker,
        outbound=OutboundLog(db, clock),
        handlers=Handlers(ctx, telemetry, dispatcher),
        telemetry=telemetry,
        clock=clock,
        max_skew=options.max_skew,
    )
    registry = ChannelRegistry(options, http, limiter, tasks, worker, telemetry, settings)

    apis = build_apis(
        settings, db, clock=clock, http=http, limiter=limiter, quota_backoff=options.quota_backoff
    )
    wecom = settings.wecom
    if wecom is not None and apis.wecom is not None and wecom.token and wecom.aes_key:
        channel: Channel = WeComChannel(
            wecom.corp_id,
            deps,
            crypto=WxCallbackCrypto(wecom.token, wecom.aes_key, wecom.corp_id, enterprise=True),
            api=apis.wecom,
            media=MediaCache(TEMP_MEDIA_TTL),
        )
        registry.channels["wecom"] = channel
    elif wecom is not None:
        log.warning("wecom: token and EncodingAESKey missing, /wecom/callback is off")

    wechat = settings.wechat
    if wechat is not None and apis.wechat is not None and wechat.token:
        channel = WeChatChannel(
            wechat.app_id,
            deps,
            token=wechat.token,
            crypto=(
                WxCallbackCrypto(wechat.token, wechat.aes_key, wechat.app_id, enterprise=False)
                if wechat.aes_key
                else None
            ),
            api=apis.wechat,
            media=MediaCache(TEMP_MEDIA_TTL),
            passive_budget=options.passive_budget,
        )
        registry.channels["wechat"] = channel
    elif wechat is not None:
        log.warning("wechat: token missing, /wechat/callback is off")

    feishu = settings.feishu
    if feishu is not None and apis.feishu is not None:
        channel = FeishuChannel(
            feishu.app_id,
            deps,
            api=apis.feishu,
            verification_token=feishu.verification_token,
            encrypt_key=feishu.encrypt_key,
            media=MediaCache(FEISHU_IMAGE_TTL),
        )
        registry.channels["feishu"] = channel

    for platform, channel in registry.channels.items():
        processors[platform] = channel.process
    return registry
