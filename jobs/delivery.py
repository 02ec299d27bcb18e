"""The delivery workers: N concurrent loops per process draining the campaign outbox.

Each loop claims a batch of due deliveries (models/campaigns/outbox.py), renders them in one
query with the send-time checks (models/campaigns/render.py), takes send tokens from the shared
per-platform budget (models/campaigns/rate_budget.py), hands the messages to the sender of
their route in chunks and records each outcome, fenced on the claim. A heartbeat extends the
claim's lease while the batch is in hand; a worker killed at any point leaves its rows
`sending` until the lease lapses, and then any worker claims them again. Loops wake every
`poll_seconds`, and at once on PostgreSQL when a run inserts deliveries (NOTIFY
`fission_outbox`, migration 0017). `stop()` lets sends in flight finish for
`shutdown_seconds`, hands rows not yet sent back, and abandons the rest to their lease.

The window for a duplicate: a worker killed after the platform accepted a message and before
the outcome was committed leaves the row `sending`; after the lease the message goes out again.
That window is closed where the platform de-duplicates: Feishu drops a second message with the
same `uuid` within an hour, so the Feishu sender sends `ClaimedDelivery.idempotency_key` (stable
across attempts) as the uuid and a re-send after a crash is a no-op. WeCom mass-message tasks
and Official Account messages have no such key: there the window stays (one batch's messages,
at most, per crash).

## Why a loop of our own, not procrastinate or PgQueuer

Read for this (procrastinate 3.10.0 and PgQueuer 1.6.0, installed into a scratch venv):
- Neither runs on SQLite, the default database: procrastinate's connectors are psycopg 3
  (async), psycopg2/aiopg and a psycopg2 SQLAlchemy bridge (sync); PgQueuer drives asyncpg or
  psycopg. A SQLite deployment would need this loop anyway — two engines for one job.
- The delivery row is the domain record (status, attempts, deadline, platform message id, WeCom
  task, reason), written by the campaign run's transaction. A queue library keeps its own job
  row, so every delivery would live twice and the two would have to agree. procrastinate cannot
  even enqueue inside that transaction: the run's connection is asyncpg under SQLAlchemy, its
  async connector is psycopg 3. PgQueuer could (same driver), into its own `pgqueuer` table.
- What they would carry for us is small next to what they leave out. Retries: procrastinate's
  RetryStrategy is wait + linear + exponential with no jitter and no deadline; PgQueuer's
  DatabaseRetryEntrypointExecutor is exponential to a cap, by attempt count. Neither takes the
  platform's "retry after", and both would need the deadline → dead-letter rule added.
  Stalled-job reclaim: PgQueuer re-picks a job whose heartbeat is stale (our lease + heartbeat,
  the same idea); procrastinate finds stalled jobs but leaves retrying them to a periodic task
  the application writes. Rate limits across processes: PgQueuer 1.6 has per-entrypoint
  concurrency limits only, procrastinate none — the shared token bucket is ours either way.
  Many machines: both claim with FOR UPDATE SKIP LOCKED in one statement, which is exactly
  `claim_due`.
So the loop is this module and the statements of models/campaigns/outbox.py, over the table we
already have, the same on both databases. Measured (`make bench BENCH_ARGS=outbox`, figures in
bench/README.md): at scale 0.05 on a loaded 2-core machine, 1,788 deliveries/s through 4 worker
processes on PostgreSQL (3,980/s with 4 loops in one), 2,801/s for SQLite's one worker, and a
configured rate held to 1.00× by 2 processes sharing its budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from config import Settings
from jobs.senders import SenderRegistry
from models.campaigns.outbox import (
    DEADLINE,
    RetryPolicy,
    claim_due,
    extend_lease,
    quiet_until,
    record,
    release,
)
from models.campaigns.outcomes import (
    ClaimedDelivery,
    Dead,
    Outcome,
    RenderedMessage,
    Retry,
    RouteSender,
    Skipped,
)
from models.campaigns.rate_budget import RateBudgets
from models.campaigns.render import MessageStyle, prepare
from models.db import Database

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "fission_outbox"
Batch = list[tuple[ClaimedDelivery, RenderedMessage]]


def system_clock() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


class DeliveryWorkers:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        senders: SenderRegistry,
        *,
        clock: Callable[[], datetime] = system_clock,
        concurrency: int | None = None,
        name: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        options = settings.outbox
        self.db = db
        self.senders = senders
        self.clock = clock
        # SQLite: one writer at a time, so one worker (DESIGN §5).
        wanted = concurrency if concurrency is not None else options.concurrency
        self.concurrency = 1 if db.dialect == "sqlite" else wanted
        self.name = name or worker_name()
        self.stats: Counter[str] = Counter()
        # PostgreSQL: whether NOTIFY currently wakes the loops (else they only poll).
        self.listening = False
        self._options = options
        self._tz = settings.tz
        self._quiet = settings.marketing.quiet_window()
        self._style = MessageStyle.from_settings(settings)
        self._lease = timedelta(seconds=options.lease_seconds)
        self._budgets = RateBudgets(db, settings.marketing.rate_per_second)
        self._retry = retry or RetryPolicy(options.retry_base_seconds, options.retry_cap_seconds)
        self._claims = itertools.count(1)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None

    # -- running ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping.clear()
        self._loops = [
            asyncio.create_task(self._loop(i), name=f"delivery-worker-{i}")
            for i in range(self.concurrency)
        ]
        if self.db.dialect == "postgresql":
            self._listener = asyncio.create_task(self._listen(), name="delivery-notify")
        log.info(
            "%d delivery worker(s) started as %s; routes: %s",
            self.concurrency,
            self.name,
            ", ".join(self.senders.routes) or "none (deliveries stay queued)",
        )

    async def stop(self) -> None:
        """Stop claiming; wait up to `shutdown_seconds` for sends in flight (rows not yet
        handed to a sender go back to the queue), then cancel what is left: those rows come
        back to any worker when their lease lapses."""
        self._stopping.set()
        self._wake.set()
        tasks = [*self._loops, *([self._listener] if self._listener else [])]
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=self._options.shutdown_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._loops, self._listener = [], None
        log.info("delivery workers stopped: %s", dict(self.stats))

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Handle due deliveries until none is left (one loop); how many were claimed."""
        total = 0
        while (claimed := await self.drain_batch()) > 0:
            total += claimed
        return total

    async def _loop(self, index: int) -> None:
        while not self._stopping.is_set():
            try:
                claimed = await self.drain_batch(index)
            except Exception:
                log.exception("delivery worker %s:%d: a batch failed", self.name, index)
                claimed = 0
            if claimed == 0 and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._options.poll_seconds)
                self._wake.clear()

    async def _listen(self) -> None:
        """PostgreSQL: wake the loops when a run has inserted deliveries. Polling stays the
        safety net; a lost connection is re-opened."""
        while not self._stopping.is_set():
            try:
                async with self.db.engine.connect() as conn:
                    driver = (await conn.get_raw_connection()).driver_connection
                    assert driver is not None
                    await self._notifications(driver)
            except Exception as exc:
                log.warning("outbox NOTIFY listener: %s; polling meanwhile", type(exc).__name__)
            if not self._stopping.is_set():
                await self._pause(self._options.poll_seconds * 5)

    async def _notifications(self, driver: Any) -> None:
        """Listen on an asyncpg connection until stopping or until the connection is lost."""
        lost = asyncio.Event()

        def notified(*_args: object) -> None:
            self._wake.set()

        driver.add_termination_listener(lambda _conn: lost.set())
        await driver.add_listener(NOTIFY_CHANNEL, notified)
        self.listening = True
        waits = [asyncio.create_task(event.wait()) for event in (lost, self._stopping)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.listening = False
            for wait in waits:
                wait.cancel()
            if not lost.is_set():
                await driver.remove_listener(NOTIFY_CHANNEL, notified)

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by `stop()`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), max(seconds, 0.0))

    # -- one batch ----------------------------------------------------------------------------
    async def drain_batch(self, index: int = 0) -> int:
        """Claim one batch and see it through; how many deliveries were claimed."""
        claimer = f"{self.name}:{index}:{next(self._claims)}"
        async with self.db.engine.begin() as conn:
            batch = await claim_due(
                conn,
                claimer=claimer,
                now=self.clock(),
                lease=self._lease,
                routes=self.senders.routes,
                limit=self._options.batch_size,
            )
        if not batch:
            return 0
        heartbeat = asyncio.create_task(self._heartbeat(claimer), name=f"lease {claimer}")
        try:
            await self._handle(claimer, batch)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        return len(batch)

    async def _heartbeat(self, claimer: str) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                async with self.db.engine.begin() as conn:
                    await extend_lease(conn, claimer, self.clock() + self._lease)
            except Exception as exc:  # the next beat tries again; past the lease, others may
                log.warning("lease of %s not renewed: %s", claimer, type(exc).__name__)

    async def _handle(self, claimer: str, batch: list[ClaimedDelivery]) -> None:
        now = self.clock()
        opens_at = quiet_until(now, self._quiet, self._tz)
        if opens_at is not None:
            await self._release(claimer, batch, opens_at, "quiet_hours")
            return
        settled: list[tuple[ClaimedDelivery, Outcome]] = []
        live = []
        for delivery in batch:
            if delivery.deadline_at < now:  # due at the deadline: one last try
                settled.append((delivery, Dead(DEADLINE, error="not sent before its deadline")))
            else:
                live.append(delivery)
        async with self.db.engine.connect() as conn:
            prepared = await prepare(conn, [d.id for d in live], self._style, now)
        groups: dict[tuple[str, str, str], Batch] = {}
        for delivery in live:
            ready = prepared.get(delivery.id)
            if ready is None:  # its campaign or customer is gone
                settled.append((delivery, Skipped("unreachable")))
            elif ready.opted_out:
                settled.append((delivery, Skipped("opted_out")))
            elif ready.coupon_gone is not None:
                settled.append((delivery, Skipped(ready.coupon_gone)))
            else:
                key = (delivery.route, delivery.platform, delivery.app_id)
                groups.setdefault(key, []).append((delivery, ready.message))
        await self._record(claimer, settled)
        for (route, platform, app_id), group in groups.items():
            sender = self.senders.get(route)
            assert sender is not None, route  # only routes with a sender are claimed
            await self._send_group(claimer, sender, platform, app_id, group)

    async def _send_group(
        self, claimer: str, sender: RouteSender, platform: str, app_id: str, group: Batch
    ) -> None:
        remaining = group
        while remaining:
            if self._stopping.is_set():
                await self._release(claimer, [d for d, _ in remaining], self.clock(), "stopping")
                return
            grant = await self._budgets.take(platform, app_id, len(remaining))
            if grant.granted == 0:
                await self._pause(grant.wait)
                continue
            chunk, remaining = remaining[: grant.granted], remaining[grant.granted :]
            outcomes = await self._send(sender, chunk)
            await self._record(claimer, list(zip((d for d, _ in chunk), outcomes, strict=True)))
            waits = [o.retry_after or 0.0 for o in outcomes if isinstance(o, Retry)]
            if max(waits, default=0.0) > 0:  # the platform said "slow down": all processes wait
                await self._budgets.pause(platform, app_id, max(waits))

    async def _send(self, sender: RouteSender, chunk: Batch) -> list[Outcome]:
        try:
            outcomes = await asyncio.wait_for(
                sender.send(chunk), self._options.send_timeout_seconds
            )
        except TimeoutError:
            return [Retry(None, "the sender did not answer in time")] * len(chunk)
        except Exception as exc:
            log.exception("sender for %s failed on %d deliveries", sender.routes, len(chunk))
            return [Retry(None, f"{type(exc).__name__}: {exc}")] * len(chunk)
        if len(outcomes) != len(chunk):
            log.error("sender for %s answered %d of %d", sender.routes, len(outcomes), len(chunk))
            return [Retry(None, "the sender's answer did not match the batch")] * len(chunk)
        return outcomes

    async def _record(self, claimer: str, results: list[tuple[ClaimedDelivery, Outcome]]) -> None:
        if not results:
            return
        async with self.db.engine.begin() as conn:
            await record(conn, claimer, results, self.clock(), self._retry)
        self.stats.update(type(outcome).__name__.lower() for _, outcome in results)

    async def _release(
        self, claimer: str, deliveries: list[ClaimedDelivery], at: datetime, why: str
    ) -> None:
        async with self.db.engine.begin() as conn:
            await release(conn, claimer, [d.id for d in deliveries], at, self.clock())
        self.stats[why] += len(deliveries)
