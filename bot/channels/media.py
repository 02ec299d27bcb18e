"""Uploaded images remembered by the reply's `cache_key`, so a poster is uploaded once and its
media id reused until it expires (WeChat/WeCom temporary media live 3 days)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable


class MediaCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._ids: dict[str, tuple[str, float]] = {}
        # One lock per image, so replies sent concurrently upload it once, not once each.
        self._locks: dict[str, asyncio.Lock] = {}

    async def get_or_upload(
        self, png: bytes, cache_key: str | None, upload: Callable[[], Awaitable[str]]
    ) -> str:
        key = cache_key or hashlib.sha256(png).hexdigest()
        async with self._locks.setdefault(key, asyncio.Lock()):
            hit = self._ids.get(key)
            if hit is not None and hit[1] > self._clock():
                return hit[0]
            media_id = await upload()
            self._ids[key] = (media_id, self._clock() + self._ttl)
            return media_id
