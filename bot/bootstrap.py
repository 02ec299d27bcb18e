"""The composition root: settings, database, clock — wired once, here.

Tests call `bootstrap()` with their own database and a fixed clock instead of patching modules.
Later pieces (platform clients, senders, the poster cache, the scheduler) join the container here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from config import Settings
from jobs.senders import SenderRegistry, load_senders
from models.db import Database

if TYPE_CHECKING:
    from bot.channels.dispatcher import Dispatcher
    from bot.channels.registry import ChannelRegistry


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = system_clock
    extras: dict[str, object] = field(default_factory=dict)
    # None: the real handlers.dispatch entry points, imported when first needed.
    dispatcher: Dispatcher | None = None
    # None: built from settings when the web app is set up (bot/web/callbacks.py).
    channels: ChannelRegistry | None = None
    # The campaign outbox's route senders, by route (jobs/delivery.py drains through them).
    senders: SenderRegistry = field(default_factory=SenderRegistry)

    async def close(self) -> None:
        await self.senders.close()
        await self.db.dispose()


def bootstrap(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] | None = None,
    dispatcher: Dispatcher | None = None,
) -> Container:
    database = db if db is not None else Database.from_url(settings.database_url)
    now = clock or system_clock
    return Container(
        settings=settings,
        db=database,
        clock=now,
        dispatcher=dispatcher,
        senders=platform_senders(settings, database, now),
    )


def platform_senders(
    settings: Settings, db: Database, clock: Callable[[], datetime]
) -> SenderRegistry:
    """The campaign senders of every configured platform (their HTTP session opens on first
    use and closes with the registry), plus any `[outbox] senders` factories."""
    from bot.channels.apis import build_apis
    from bot.channels.outbound.http import HttpTransport
    from bot.channels.outbound.ratelimit import RateLimiter
    from bot.channels.senders import build_senders

    http = HttpTransport()
    apis = build_apis(settings, db, clock=clock, http=http, limiter=RateLimiter())
    senders = build_senders(settings, db, clock=clock, apis=apis) + load_senders(settings)
    return SenderRegistry(senders, on_close=http.close)
