"""Callback signatures and freshness, compared in constant time.

WeChat and WeCom sign with sha1 over the sorted token/timestamp/nonce(/ciphertext); Feishu signs
with sha256(timestamp + nonce + encrypt_key + body). wechatpy and lark-oapi both compare with
`!=`, which leaks timing, so every check goes through `hmac.compare_digest` here.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from bot.channels.base import forbidden

# A callback older (or newer) than this is a replay or a badly wrong clock.
DEFAULT_MAX_SKEW = timedelta(minutes=5)


def wechat_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


def same(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def require_signature(expected: str, given: str | None) -> None:
    if not same(expected, given):
        raise forbidden("bad_signature", "签名校验失败 / signature mismatch")


def require_fresh(timestamp: str | None, now: datetime, max_skew: timedelta) -> None:
    """Reject a missing, non-numeric or stale (seconds since the epoch) timestamp."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise forbidden("stale", "缺少或无效的时间戳 / missing or invalid timestamp")
    skew = abs(now.timestamp() - int(timestamp))
    if skew > max_skew.total_seconds():
        raise forbidden("stale", "时间戳已过期 / timestamp outside the allowed window")
