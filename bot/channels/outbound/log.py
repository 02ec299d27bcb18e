"""The outbound log: one row per message, keyed by an idempotency key, so a replayed callback,
a restarted worker or a re-run job sends each message at most once.

A key already `sent` (or refused as outside the 48 h window) is never sent again; a `failed` or
`rate_limited` one may be tried again; one left `sending` by a crashed process is tried again
only after `stale_after`, because nobody can tell whether the platform received it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from bot.channels.outbound.errors import SENT, SendResult
from models.channels import OutboundMessage
from models.db import Database
from models.upsert import dialect_insert


class OutboundLog:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        stale_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self._db = db
        self._clock = clock
        self._stale_after = stale_after

    async def begin(
        self, key: str, *, platform: str, app_id: str, recipient: str, kind: str
    ) -> str | None:
        """Claim `key` for sending. None: go ahead. Otherwise the status that stops us."""
        now = self._clock()
        async with self._db.uow() as uow:
            session = uow.session
            insert = dialect_insert(session, OutboundMessage)
            inserted = await session.execute(
                insert.values(
                    idempotency_key=key,
                    platform=platform,
                    app_id=app_id,
                    recipient=recipient[:128],
                    kind=kind,
                    status="sending",
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(OutboundMessage.id)
            )
            if inserted.scalar_one_or_none() is None:
                retried = await session.execute(
                    update(OutboundMessage)
                    .where(
                        OutboundMessage.idempotency_key == key,
                        or_(
                            OutboundMessage.status.in_(("failed", "rate_limited")),
                            (OutboundMessage.status == "sending")
                            & (OutboundMessage.updated_at < now - self._stale_after),
                        ),
                    )
                    .values(status="sending", attempts=OutboundMessage.attempts + 1, updated_at=now)
                    .returning(OutboundMessage.id)
                )
                if retried.scalar_one_or_none() is None:
                    status = await session.scalar(
                        select(OutboundMessage.status).where(OutboundMessage.idempotency_key == key)
                    )
                    await uow.commit()
                    return status or "sending"
            await uow.commit()
        return None

    async def finish(self, key: str, result: SendResult) -> None:
        now = self._clock()
        async with self._db.uow() as uow:
            await uow.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.idempotency_key == key)
                .values(
                    status=result.status,
                    error_code=result.code,
                    error_message=result.detail[:500] or None,
                    platform_message_id=result.message_id,
                    updated_at=now,
                    sent_at=now if result.status == SENT else None,
                )
            )
            await uow.commit()
