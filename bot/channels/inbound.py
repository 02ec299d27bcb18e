"""The inbound event store: persist and de-duplicate a callback *before* acknowledging it, and
track the work done after the answer.

`accept` inserts with the platform's id under a unique `(platform, app_id, event_id)`; a repeat
delivery inserts nothing and is answered without doing anything. A new row is born `working`
(claimed by the process that accepted it). If that process dies, the row's lease runs out and
`claim` lets any process (on start-up, or the periodic sweep) take it again; after
`max_attempts` it stays `failed` for an operator to look at.

A lease runs from `started_at`: set by the claim, moved forward by `renew` while the attempt's
handler is still running (bot/channels/worker.py), so a live slow handler is never claimed
again. Each attempt is known by the `attempts` count its claim set: `renew`, `finish` and
`failed` change the row only while it is still `working` under that count, so an attempt that
lost its row (stalled past its lease, and claimed again) cannot overwrite the next one's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from models.channels import LAST_ERROR_MAX, InboundEvent
from models.db import Database
from models.reach import touch_last_seen
from models.upsert import dialect_insert


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
        self,
        *,
        platform: str,
        app_id: str,
        event_id: str,
        kind: str,
        payload: dict[str, Any],
        work: bool = True,
    ) -> StoredEvent | None:
        """Store a new event, claimed for work (or, `work=False`, done at once: an event with
        nothing to do); None if this event was stored before."""
        now = self._clock()
        state: dict[str, Any] = (
            {"status": "working", "attempts": 1, "started_at": now}
            if work
            else {"status": "done", "attempts": 0, "finished_at": now}
        )
        insert = dialect_insert(self._db.dialect, InboundEvent)
        async with self._db.uow() as uow:
            row_id = (
                await uow.session.execute(
                    insert.values(
                        platform=platform,
                        app_id=app_id,
                        event_id=event_id[:128],
                        kind=kind,
                        payload=payload,
                        received_at=now,
                        **state,
                    )
                    .on_conflict_do_nothing(index_elements=["platform", "app_id", "event_id"])
                    .returning(InboundEvent.id)
                )
            ).scalar_one_or_none()
            await uow.commit()
        if row_id is None:
            return None
        return StoredEvent(
            row_id, platform, app_id, event_id, kind, payload, attempts=state["attempts"]
        )

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

    async def renew(self, event: StoredEvent) -> bool:
        """Restart the lease of `event`'s attempt; False once the row is no longer its own."""
        return await self._update_own(event, started_at=self._clock())

    async def finish(self, event: StoredEvent) -> bool:
        """Done; False (nothing changed) when another attempt has the row by now."""
        return await self._update_own(
            event, status="done", last_error=None, finished_at=self._clock()
        )

    async def failed(self, event: StoredEvent, error: str) -> bool:
        """Back to `pending` for another try, or `failed` for good after the last attempt;
        False (nothing changed) when another attempt has the row by now."""
        final = event.attempts >= self.max_attempts
        return await self._update_own(
            event,
            status="failed" if final else "pending",
            last_error=error[:LAST_ERROR_MAX],
            finished_at=self._clock(),
        )

    async def _update_own(self, event: StoredEvent, **values: Any) -> bool:
        async with self._db.uow() as uow:
            result = await uow.session.execute(
                update(InboundEvent)
                .where(
                    InboundEvent.id == event.id,
                    InboundEvent.attempts == event.attempts,
                    InboundEvent.status == "working",
                )
                .values(**values)
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0) == 1

    def _claimable(self, now: datetime) -> Any:
        return (InboundEvent.attempts < self.max_attempts) & or_(
            InboundEvent.status == "pending",
            (InboundEvent.status == "working") & (InboundEvent.started_at < now - self.lease),
        )
