"""The outbox's statements: claiming due deliveries, keeping a claim alive, handing rows back,
and recording what the platform said — every write to a delivery's status during sending is
here (the worker loop that calls them is jobs/delivery.py).

A claim is one statement: the due rows — `queued` or `failed` with `next_attempt_at` passed,
or `sending` whose lease lapsed (the worker that held them died) — are marked `sending` with a
lease, the claim's token in `claimed_by` and one more attempt, and returned. On PostgreSQL the
rows are picked `FOR UPDATE SKIP LOCKED`, so any number of workers in any number of processes
claim disjoint batches without waiting for each other. SQLite has no row locks and one writer
at a time: the same statement is atomic there, and a deployment on SQLite runs one worker.

Every later write is fenced on the claim: `claimed_by` = the token and status `sending`. A
worker that stalled past its lease and whose rows another worker re-claimed (a new token)
cannot overwrite the newer attempt's result.

A delivery's token is unique per claim (worker name + a counter), not per worker, so even the
same worker re-claiming its own lapsed row gets a new fence.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam, func, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.campaigns.outcomes import (
    ClaimedDelivery,
    Dead,
    Outcome,
    Retry,
    Sent,
    Skipped,
    WaitingStaff,
)
from models.campaigns.tables import Delivery

QUEUED, SENDING, FAILED = "queued", "sending", "failed"
DEADLINE = "deadline"
ERROR_CHARS = 500


async def claim_due(
    conn: AsyncConnection,
    *,
    claimer: str,
    now: datetime,
    lease: timedelta,
    routes: Sequence[str],
    limit: int,
) -> list[ClaimedDelivery]:
    """Claim up to `limit` due deliveries of `routes`: first those whose lease lapsed, then
    the queued and retrying ones, oldest due first. Each branch walks its partial index
    (`ix_deliveries_lease`, `ix_deliveries_due`) and stops at `limit` rows, so a claim costs
    the same with a hundred or ten million deliveries behind it."""
    if not routes or limit < 1:
        return []
    lapsed = (
        select(Delivery.id)
        .where(Delivery.status == SENDING, Delivery.lease_until < now, Delivery.route.in_(routes))
        .order_by(Delivery.lease_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    due = (
        select(Delivery.id)
        .where(
            Delivery.status.in_((QUEUED, FAILED)),
            Delivery.next_attempt_at <= now,
            Delivery.route.in_(routes),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    picked = union_all(select(lapsed.c.id), select(due.c.id)).subquery()
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(select(picked.c.id).limit(limit).scalar_subquery()))
        .values(
            status=SENDING,
            attempts=Delivery.attempts + 1,
            lease_until=now + lease,
            claimed_by=claimer,
            updated_at=now,
        )
        .returning(
            Delivery.id,
            Delivery.run_id,
            Delivery.campaign_id,
            Delivery.customer_id,
            Delivery.platform,
            Delivery.app_id,
            Delivery.route,
            Delivery.recipient,
            Delivery.sender,
            Delivery.attempts,
            Delivery.deadline_at,
        )
    )
    rows = (await conn.execute(claim)).all()
    claimed = [ClaimedDelivery(**row._asdict()) for row in rows]
    return sorted(claimed, key=lambda d: d.id)


async def extend_lease(conn: AsyncConnection, claimer: str, until: datetime) -> int:
    """The heartbeat of a claim in progress: its rows stay claimed until `until`."""
    result = await conn.execute(
        update(Delivery)
        .where(Delivery.claimed_by == claimer, Delivery.status == SENDING)
        .values(lease_until=until)
    )
    return int(result.rowcount)


async def release(
    conn: AsyncConnection, claimer: str, ids: Sequence[int], at: datetime, now: datetime
) -> int:
    """Hand claimed rows back unsent (quiet hours, shutting down): queued again for `at`,
    and the claim's attempt is not counted."""
    if not ids:
        return 0
    result = await conn.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(list(ids)),
            Delivery.claimed_by == claimer,
            Delivery.status == SENDING,
        )
        .values(
            status=QUEUED,
            attempts=Delivery.attempts - 1,
            next_attempt_at=at,
            lease_until=None,
            updated_at=now,
        )
    )
    return int(result.rowcount)


@dataclass
class RetryPolicy:
    """Exponential back-off with full jitter, capped (procrastinate's RetryStrategy, plus
    jitter so retries of one run do not arrive together): attempt n waits a uniform random
    time up to min(cap, base · 2ⁿ⁻¹). A platform's own "retry after" wins. Nothing is tried
    after the delivery's deadline."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return self.rng.uniform(0.0, ceiling)

    def next_attempt(self, delivery: ClaimedDelivery, retry: Retry, now: datetime) -> datetime:
        wait = retry.retry_after if retry.retry_after is not None else None
        if wait is None:
            wait = self.delay(delivery.attempts)
        return min(now + timedelta(seconds=max(wait, 0.0)), delivery.deadline_at)


def outcome_values(
    delivery: ClaimedDelivery, outcome: Outcome, now: datetime, policy: RetryPolicy
) -> dict[str, Any]:
    """The row a delivery's outcome leaves behind (see `record`)."""
    values: dict[str, Any] = {
        "b_id": delivery.id,
        "b_status": None,
        "b_sent_at": None,
        "b_message_id": None,
        "b_task_id": None,
        "b_route": None,
        "b_next": None,
        "b_reason": None,
        "b_code": None,
        "b_error": None,
        "b_finished": now,
    }
    match outcome:
        case Sent(message_id=message_id, route=route):
            values.update(b_status="sent", b_sent_at=now, b_message_id=message_id, b_route=route)
        case WaitingStaff(task_id=task_id):
            values.update(b_status="waiting_staff", b_task_id=task_id, b_finished=None)
        case Retry(code=code, error=error) if now >= delivery.deadline_at:
            values.update(b_status="dead", b_reason=DEADLINE, b_code=code, b_error=error)
        case Retry(code=code, error=error):
            values.update(
                b_status=FAILED,
                b_next=policy.next_attempt(delivery, outcome, now),
                b_reason="transient",
                b_code=code,
                b_error=error,
                b_finished=None,
            )
        case Dead(reason=reason, code=code, error=error):
            values.update(b_status="dead", b_reason=reason, b_code=code, b_error=error or None)
        case Skipped(reason=reason):
            values.update(b_status="skipped", b_reason=reason)
    if values["b_error"] is not None:
        values["b_error"] = str(values["b_error"])[:ERROR_CHARS]
    if values["b_reason"] is not None:
        values["b_reason"] = str(values["b_reason"])[:40]
    return values


# The columns of an outcome (`outcome_values`), and their types in PostgreSQL's arrays.
_OUTCOME_COLUMNS = {
    "id": "bigint",
    "status": "varchar",
    "sent_at": "timestamptz",
    "message_id": "varchar",
    "task_id": "bigint",
    "route": "varchar",
    "next": "timestamptz",
    "reason": "varchar",
    "code": "bigint",
    "error": "varchar",
    "finished": "timestamptz",
}
# PostgreSQL: a chunk's outcomes in one statement, the columns passed as arrays.
_RECORD_PG = text(
    """
    UPDATE deliveries AS d SET
        status = v.status, sent_at = v.sent_at, platform_message_id = v.message_id,
        task_id = v.task_id, route = coalesce(v.route, d.route),
        next_attempt_at = coalesce(v.next, d.next_attempt_at), reason = v.reason,
        error_code = v.code, last_error = v.error, finished_at = v.finished,
        lease_until = NULL, updated_at = :now
    FROM unnest({arrays}) AS v({names})
    WHERE d.id = v.id AND d.claimed_by = :claim AND d.status = 'sending'
    """.format(
        arrays=", ".join(f"CAST(:{c} AS {t}[])" for c, t in _OUTCOME_COLUMNS.items()),
        names=", ".join(_OUTCOME_COLUMNS),
    )
).bindparams(bindparam("now", type_=Delivery.updated_at.type))
# Elsewhere (SQLite: in-process, no round trips to save) one UPDATE per delivery.
_RECORD_EACH = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("b_id"),
        Delivery.claimed_by == bindparam("b_claim"),
        Delivery.status == SENDING,
    )
    .values(
        status=bindparam("b_status"),
        sent_at=bindparam("b_sent_at"),
        platform_message_id=bindparam("b_message_id"),
        task_id=bindparam("b_task_id"),
        route=func.coalesce(bindparam("b_route", type_=Delivery.route.type), Delivery.route),
        next_attempt_at=func.coalesce(
            bindparam("b_next", type_=Delivery.next_attempt_at.type), Delivery.next_attempt_at
        ),
        reason=bindparam("b_reason"),
        error_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_finished"),
        lease_until=None,
        updated_at=bindparam("b_now"),
    )
)


async def record(
    conn: AsyncConnection,
    claimer: str,
    results: Sequence[tuple[ClaimedDelivery, Outcome]],
    now: datetime,
    policy: RetryPolicy,
) -> None:
    """Write each delivery's outcome, fenced on the claim: Sent → sent (sent_at, platform
    message id, the route it took); WaitingStaff → waiting_staff with the WeCom task; Retry →
    failed, next attempt by `policy`, or dead (reason `deadline`) once the deadline has
    passed; Dead → dead with reason and code; Skipped → skipped with the reason."""
    if not results:
        return
    rows = [outcome_values(d, outcome, now, policy) for d, outcome in results]
    if conn.dialect.name == "postgresql":
        arrays = {c: [row[f"b_{c}"] for row in rows] for c in _OUTCOME_COLUMNS}
        await conn.execute(_RECORD_PG, {**arrays, "claim": claimer, "now": now})
        return
    await conn.execute(_RECORD_EACH, [{**row, "b_claim": claimer, "b_now": now} for row in rows])


def quiet_until(now: datetime, window: tuple[time, time] | None, tz: tzinfo) -> datetime | None:
    """When the quiet hours around `now` end, or None if `now` is not in them. The window is
    local time and may wrap past midnight (21:00–09:00); start == end means no quiet hours."""
    if window is None:
        return None
    start, end = window
    if start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    quiet = start <= clock < end if start < end else clock >= start or clock < end
    if not quiet:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)
