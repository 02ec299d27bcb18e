"""The platform API clients, built once from settings: one per configured platform, each behind
the outbound choke point (`ApiCaller`: tokens shared through the database, rate limits, error
codes). The channel registry answers chats with them; the campaign senders and the WeCom result
poller reach customers and staff with them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from bot.channels.feishu import api as feishu_api
from bot.channels.outbound.caller import FEISHU_RULES, WECHAT_RULES, WECOM_RULES, ApiCaller
from bot.channels.outbound.http import HttpTransport
from bot.channels.outbound.ratelimit import RateLimiter
from bot.channels.outbound.tokens import Fetch, TokenCache
from bot.channels.wechat import api as wechat_api
from bot.channels.wecom import api as wecom_api
from config import Settings
from models.db import Database

_RULES = {"wecom": WECOM_RULES, "wechat": WECHAT_RULES, "feishu": FEISHU_RULES}


@dataclass(frozen=True)
class PlatformApis:
    """None where the platform's credentials are not configured."""

    wecom: wecom_api.WeComApi | None
    wechat: wechat_api.WeChatApi | None
    feishu: feishu_api.FeishuApi | None


def build_apis(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime],
    http: HttpTransport,
    limiter: RateLimiter,
    quota_backoff: float = 60.0,
) -> PlatformApis:
    def caller(platform: str, app_id: str, base: str, fetch: Fetch) -> ApiCaller:
        kind = "tenant_access_token" if platform == "feishu" else "access_token"
        tokens = TokenCache(
            db, platform=platform, app_id=app_id, kind=kind, fetch=fetch, clock=clock
        )
        return ApiCaller(
            _RULES[platform],
            app_id=app_id,
            base_url=base,
            http=http,
            limiter=limiter,
            tokens=tokens,
            quota_backoff=quota_backoff,
        )

    wecom = wechat = feishu = None
    if (w := settings.wecom) is not None:
        fetch_wecom = partial(wecom_api.fetch_token, http, w.api_base, w.corp_id, w.secret)
        wecom = wecom_api.WeComApi(caller("wecom", w.corp_id, w.api_base, fetch_wecom), w.agent_id)
    if (o := settings.wechat) is not None:
        fetch_wechat = partial(wechat_api.fetch_token, http, o.api_base, o.app_id, o.secret)
        wechat = wechat_api.WeChatApi(caller("wechat", o.app_id, o.api_base, fetch_wechat))
    if (f := settings.feishu) is not None:
        fetch_feishu = partial(feishu_api.fetch_token, http, f.api_base, f.app_id, f.app_secret)
        feishu = feishu_api.FeishuApi(caller("feishu", f.app_id, f.api_base, fetch_feishu))
    return PlatformApis(wecom=wecom, wechat=wechat, feishu=feishu)


@asynccontextmanager
async def outbound_apis(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime],
    limiter: RateLimiter | None = None,
    http: HttpTransport | None = None,
) -> AsyncIterator[PlatformApis]:
    """The clients with an HTTP session of their own, closed on the way out (a job, a worker)."""
    http = http or HttpTransport()
    try:
        yield build_apis(settings, db, clock=clock, http=http, limiter=limiter or RateLimiter())
    finally:
        await http.close()
