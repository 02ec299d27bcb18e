"""The one outbound choke point (STYLE.md #9): every platform API call goes through
`ApiCaller.call`, which

- adds the access token (query `access_token` on WeChat/WeCom, `Authorization: Bearer` on Feishu);
- on an invalid-token answer (40001/40014/42001, Feishu 99991663/99991661) drops that token,
  fetches one new token and retries exactly once — never the unbounded recursion of wechatpy's
  `auto_retry`;
- honours rate limits before calling, and after a quota/rate-limit answer (45009, Feishu
  99991400 or HTTP 429 with `x-ogw-ratelimit-reset`) blocks the app for the reset time so the
  following calls fail fast instead of hammering the API;
- turns the platform's error codes into typed exceptions (`OutsideWindow` for 45015/45047);
- logs path and error code only — never query strings, tokens or secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.outbound.errors import ApiError, OutsideWindow, RateLimited
from bot.channels.outbound.http import HttpReply, HttpTransport, Upload
from bot.channels.outbound.ratelimit import Limit, RateLimiter
from bot.channels.outbound.tokens import TokenCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformRules:
    platform: str
    code_field: str  # "errcode" | "code"
    message_field: str  # "errmsg" | "msg"
    bearer_token: bool  # Feishu: Authorization header; WeChat/WeCom: ?access_token=
    invalid_token_codes: frozenset[int]
    rate_limit_codes: frozenset[int]
    outside_window_codes: frozenset[int] = frozenset()


WECHAT_RULES = PlatformRules(
    platform="wechat",
    code_field="errcode",
    message_field="errmsg",
    bearer_token=False,
    invalid_token_codes=frozenset({40001, 40014, 42001}),
    rate_limit_codes=frozenset({45009}),
    outside_window_codes=frozenset({45015, 45047}),
)
WECOM_RULES = PlatformRules(
    platform="wecom",
    code_field="errcode",
    message_field="errmsg",
    bearer_token=False,
    invalid_token_codes=frozenset({40001, 40014, 42001}),
    rate_limit_codes=frozenset({45009, 45033}),
)
FEISHU_RULES = PlatformRules(
    platform="feishu",
    code_field="code",
    message_field="msg",
    bearer_token=True,
    invalid_token_codes=frozenset({99991663, 99991661, 99991668}),
    rate_limit_codes=frozenset({99991400}),
)


class ApiCaller:
    def __init__(
        self,
        rules: PlatformRules,
        *,
        app_id: str,
        base_url: str,
        http: HttpTransport,
        limiter: RateLimiter,
        tokens: TokenCache | None,
        quota_backoff: float = 60.0,
    ) -> None:
        self.rules = rules
        self.app_id = app_id
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._limiter = limiter
        self._tokens = tokens
        self._quota_backoff = quota_backoff
        self.block_key = f"{rules.platform}:{app_id}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        upload: Upload | None = None,
        limits: tuple[Limit, ...] = (),
        authenticated: bool = True,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """The platform's JSON answer; `idempotent=False` for a call that must not be repeated
        after a 5xx or timeout (a message without de-duplication on the platform's side)."""
        platform = self.rules.platform
        for attempt in (1, 2):
            blocked = self._limiter.blocked_for(self.block_key)
            if blocked > 0:
                raise RateLimited(platform, None, "backing off after a rate limit", blocked)
            await self._limiter.acquire(platform, limits)
            token = None
            query = dict(params or {})
            headers: dict[str, str] = {}
            if authenticated:
                assert self._tokens is not None, "an authenticated call needs a token cache"
                token = await self._tokens.get()
                if self.rules.bearer_token:
                    headers["Authorization"] = f"Bearer {token}"
                else:
                    query["access_token"] = token
            reply = await self._http.request(
                platform,
                method,
                self.base_url + path,
                params=query or None,
                json_body=json_body,
                form=form,
                upload=upload,
                headers=headers or None,
                idempotent=idempotent,
            )
            code = _code(reply, self.rules)
            if code == 0 and reply.status < 400:
                return reply.body
            message = str(reply.body.get(self.rules.message_field, ""))[:200]
            log.warning("%s %s %s -> code %s (%s)", platform, method, path, code, message)
            if reply.status == 429 or code in self.rules.rate_limit_codes:
                retry_after = _reset_seconds(reply) or self._quota_backoff
                self._limiter.block(self.block_key, retry_after)
                raise RateLimited(platform, code, message, retry_after)
            if token is not None and code in self.rules.invalid_token_codes and attempt == 1:
                assert self._tokens is not None
                await self._tokens.invalidate(token)
                continue
            if code in self.rules.outside_window_codes:
                raise OutsideWindow(platform, code, message)
            raise ApiError(platform, code if code else reply.status, message)
        raise AssertionError("unreachable")  # pragma: no cover


def _code(reply: HttpReply, rules: PlatformRules) -> int:
    raw = reply.body.get(rules.code_field, 0)
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def _reset_seconds(reply: HttpReply) -> float | None:
    raw = reply.headers.get("x-ogw-ratelimit-reset") or reply.headers.get("Retry-After")
    try:
        return max(float(raw), 0.0) if raw else None
    except ValueError:
        return None
