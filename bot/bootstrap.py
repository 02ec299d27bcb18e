"""The composition root: settings, database, clock — wired once, here.

Tests call `bootstrap()` with their own database and a fixed clock instead of patching modules.
Later pieces (platform clients, senders, the poster cache, the scheduler) join the container here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from config import Settings
from models.db import Database


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = system_clock
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        await self.db.dispose()


def bootstrap(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Container:
    return Container(
        settings=settings,
        db=db if db is not None else Database.from_url(settings.database_url),
        clock=clock or system_clock,
    )
