"""Access tokens: one fetch shared by every concurrent sender, refreshed early, kept in the
database so several processes share one token.

WeChat invalidates the previous access token a few minutes after a new one is fetched, so N
processes each fetching their own would knock each other out. The token lives in
`platform_tokens`; on PostgreSQL the refresh holds that row's lock (`FOR UPDATE`), so of several
processes refreshing at once one fetches and the others read its result. SQLite deployments are
one process, where the in-process lock is enough — and SQLite's database-wide write lock must not
be held across an HTTP call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from models.channels import PlatformToken
from models.db import Database
from models.upsert import dialect_insert

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[tuple[str, int]]]  # (token, expires_in seconds)
EXPIRED = datetime(1970, 1, 1, tzinfo=UTC)


class TokenCache:
    def __init__(
        self,
        db: Database,
        *,
        platform: str,
        app_id: str,
        kind: str,
        fetch: Fetch,
        clock: Callable[[], datetime],
        refresh_margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self._db = db
        self._key = {"platform": platform, "app_id": app_id, "kind": kind}
        self._fetch = fetch
        self._clock = clock
        self._margin = refresh_margin
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = EXPIRED

    def _fresh(self, expires_at: datetime) -> bool:
        return expires_at - self._margin > self._clock()

    async def get(self) -> str:
        if self._token is not None and self._fresh(self._expires_at):
            return self._token
        async with self._lock:
            if self._token is not None and self._fresh(self._expires_at):
                return self._token
            self._token, self._expires_at = await self._load_or_fetch()
            return self._token

    async def invalidate(self, token: str) -> None:
        """Forget `token` after the platform called it invalid — only if it is still the current
        one, so a token another sender just refreshed is not thrown away."""
        async with self._lock:
            if self._token == token:
                self._token, self._expires_at = None, EXPIRED
        async with self._db.uow() as uow:
            await uow.session.execute(
                update(PlatformToken)
                .where(*self._where(), PlatformToken.token == token)
                .values(expires_at=EXPIRED, updated_at=self._clock())
            )
            await uow.commit()

    async def _load_or_fetch(self) -> tuple[str, datetime]:
        async with self._db.uow() as uow:
            session = uow.session
            locking = self._db.dialect == "postgresql"
            if locking:
                await session.execute(
                    dialect_insert(session, PlatformToken)
                    .values(**self._key, token="", expires_at=EXPIRED, updated_at=self._clock())
                    .on_conflict_do_nothing()
                )
            query = select(PlatformToken.token, PlatformToken.expires_at).where(*self._where())
            row = (await session.execute(query.with_for_update() if locking else query)).first()
            if row is not None and row.token and self._fresh(row.expires_at):
                await uow.commit()
                return row.token, row.expires_at
            token, expires_in = await self._fetch()
            expires_at = self._clock() + timedelta(seconds=expires_in)
            await session.execute(
                dialect_insert(session, PlatformToken)
                .values(**self._key, token=token, expires_at=expires_at, updated_at=self._clock())
                .on_conflict_do_update(
                    index_elements=["platform", "app_id", "kind"],
                    set_={"token": token, "expires_at": expires_at, "updated_at": self._clock()},
                )
            )
            await uow.commit()
            log.info("%s access token refreshed for %s", self._key["platform"], self._key["app_id"])
            return token, expires_at

    def _where(self) -> tuple[Any, ...]:
        return (
            PlatformToken.platform == self._key["platform"],
            PlatformToken.app_id == self._key["app_id"],
            PlatformToken.kind == self._key["kind"],
        )
