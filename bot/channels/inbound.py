"""The inbound event store: persist and de-duplicate a callback *before* acknowledging it, and
track the work done after the answer.

`accept` inserts with the platform's id under a unique `(platform, app_id, event_id)`; a repeat
delivery inserts nothing and is answered without doing anything. A new row is born `working`
(claimed by the process that accepted it). If that process dies, the row's lease runs out and
`claim` lets any process (on start-up, or the periodic sweep) take it again; after
`max_attempts` it stays `failed` for an operator to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.channels import InboundEvent
from models.db import Database
from models.reach import touch_last_seen


@dataclass(frozen=True)
class StoredEvent:
    id: int
    platform: str
    app_id: str
    event_id: str
    kind: str
    payload: dict[str, Any]
    attempts: int


class InboundStore:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 3,
    ) -> None:
        self._db = db
        self._clock = clock
        self.lease = lease
        self.max_attempts = max_attempts

    async def accept(
        self, *, platform: str, app_id: str, event_id: str, kind: str, payload: dict[str, Any]
    ) -> StoredEvent | None:
        """Store a new event, claimed for work; None if this event was stored before."""
        now = self._clock()
        insert: Any = (
            postgresql.insert(InboundEvent)
            if self._db.dialect == "postgresql"
            else sqlite.insert(InboundEvent)
        )
        async with self._db.uow() as uow:
            row_id = (
                await uow.session.execute(
                    insert.values(
                        platform=platform,
                        app_id=app_id,
                        event_id=event_id[:128],
                        kind=kind,
                        payload=payload,
                        status="working",
                        attempts=1,
                        received_at=now,
                        started_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["platform", "app_id", "event_id"])
                    .returning(InboundEvent.id)
                )
            ).scalar_one_or_none()
            await uow.commit()
        if row_id is None:
            return None
        return StoredEvent(row_id, platform, app_id, event_id, kind, payload, attempts=1)

    async def seen(self, *, platform: str, app_id: str, kind: str, value: str) -> None:
        """A callback that starts no work still shows the user is around (the Official
        Account's 48 h window): their identity's last-seen time moves to now."""
        async with self._db.uow() as uow:
            await touch_last_seen(
                uow.session,
                platform=platform,
                app_id=app_id,
                kind=kind,
                value=value,
                at=self._clock(),
            )
            await uow.commit()

    async def claim(self, row_id: int) -> StoredEvent | None:
        """Take an unfinished event whose previous worker is gone (or that waits for a retry)."""
        now = self._clock()
        async with self._db.uow() as uow:
            row = (
                await uow.session.execute(
                    update(InboundEvent)
                    .where(InboundEvent.id == row_id, self._claimable(now))
                    .values(status="working", attempts=InboundEvent.attempts + 1, started_at=now)
                    .returning(
                        InboundEvent.id,
                        InboundEvent.platform,
                        InboundEvent.app_id,
                        InboundEvent.event_id,
                        InboundEvent.kind,
                        InboundEvent.payload,
                        InboundEvent.attempts,
                    )
                )
            ).first()
            await uow.commit()
        if row is None:
            return None
        return StoredEvent(*row)

    async def claimable_ids(self, limit: int = 100) -> list[int]:
        now = self._clock()
        async with self._db.uow() as uow:
            rows = await uow.session.execute(
                select(InboundEvent.id)
                .where(self._claimable(now))
                .order_by(InboundEvent.id)
                .limit(limit)
            )
            return list(rows.scalars())

    async def give_up_abandoned(self) -> int:
        """Rows left `working` by a dead process after their last attempt become `failed`."""
        now = self._clock()
        async with self._db.uow() as uow:
            result = await uow.session.execute(
                update(InboundEvent)
                .where(
                    InboundEvent.status == "working",
                    InboundEvent.attempts >= self.max_attempts,
                    InboundEvent.started_at < now - self.lease,
                )
                .values(status="failed", last_error="abandoned", finished_at=now)
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def finish(self, row_id: int) -> None:
        await self._set(row_id, status="done", last_error=None)

    async def failed(self, event: StoredEvent, error: str) -> None:
        """Back to `pending` for another try, or `failed` for good after the last attempt."""
        final = event.attempts >= self.max_attempts
        await self._set(event.id, status="failed" if final else "pending", last_error=error[:500])

    async def _set(self, row_id: int, *, status: str, last_error: str | None) -> None:
        async with self._db.uow() as uow:
            await uow.session.execute(
                update(InboundEvent)
                .where(InboundEvent.id == row_id)
                .values(status=status, last_error=last_error, finished_at=self._clock())
            )
            await uow.commit()

    def _claimable(self, now: datetime) -> Any:
        return (InboundEvent.attempts < self.max_attempts) & or_(
            InboundEvent.status == "pending",
            (InboundEvent.status == "working") & (InboundEvent.started_at < now - self.lease),
        )
