"""In-process rate limits (sliding windows) and back-off after the platform said "stop".

Documented limits (DESIGN.md §4): WeCom app messages ~30/min per member, group robot 20/min per
robot, Feishu 5 QPS per chat and 50/s per app. A caller waits for a free slot only briefly;
past `max_wait` it gets `RateLimited` back at once, so a campaign is rescheduled instead of
holding a request open. After a quota/rate-limit answer the key is blocked until the reset the
platform named (or a default back-off): calls fail fast and nothing hammers the API.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.outbound.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    key: str
    count: int
    per_seconds: float


class RateLimiter:
    def __init__(
        self,
        *,
        max_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def block(self, key: str, seconds: float) -> None:
        until = self._clock() + max(seconds, 0.0)
        self._blocked_until[key] = max(until, self._blocked_until.get(key, 0.0))

    def blocked_for(self, key: str) -> float:
        return max(0.0, self._blocked_until.get(key, 0.0) - self._clock())

    async def acquire(self, platform: str, limits: tuple[Limit, ...]) -> None:
        waited = 0.0
        while True:
            wait = max((self._wait_for(limit) for limit in limits), default=0.0)
            if wait <= 0:
                now = self._clock()
                for limit in limits:
                    self._windows.setdefault(limit.key, deque()).append(now)
                return
            if waited + wait > self._max_wait:
                raise RateLimited(platform, None, "local rate limit reached", retry_after=wait)
            await self._sleep(wait)
            waited += wait

    def _wait_for(self, limit: Limit) -> float:
        window = self._windows.setdefault(limit.key, deque())
        now = self._clock()
        while window and window[0] <= now - limit.per_seconds:
            window.popleft()
        if len(window) < limit.count:
            return 0.0
        return window[0] + limit.per_seconds - now
