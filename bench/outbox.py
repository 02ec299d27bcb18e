"""The outbox: deliveries per second through real `fission worker` processes.

Data: 100k customers (× scale), each holding a campaign coupon, generated set-based. Each
scenario then queues one delivery per customer the way a campaign run does (a run, its members,
one INSERT … SELECT of deliveries) while its workers wait, idle, for it; the clock starts at
that commit and stops at the last recorded outcome.

- unlimited: the rows drained into an unlimited local fake (bench/outbox_fake.py) by 1, 2 and
  4 worker processes (`fission worker --concurrency 1` each), and by 4 loops in one process
  (`--concurrency 4`). PostgreSQL target: >= 1,000 deliveries/s with 4 workers. SQLite runs one
  worker (no target).
- rate: a configured limit (`[marketing] rate_per_second`, 500/s × scale, at least 20/s) shared
  by 2 worker processes (1 on SQLite); the measured rate from the first to the last send,
  initial burst excluded, must be within ±5% of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from bench.harness import Options, Result, bench_database, load_average, seconds
from bench.outbox_fake import FakeApi
from models.base import UTCDateTime
from models.campaigns.rate_budget import BURST_SECONDS
from models.db import Database

CUSTOMERS = 100_000
TARGET_PER_S = 1000.0
RATE_TOLERANCE = 0.05
REPO = Path(__file__).resolve().parent.parent
_TIMES = (
    bindparam("now", type_=UTCDateTime()),
    bindparam("later", type_=UTCDateTime()),
)

_SERIES = {
    "postgresql": "SELECT g AS n FROM generate_series(1, :n) AS g",
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
    "SELECT n FROM s",
}


async def generate(db: Database, customers: int) -> None:
    """Customers B1…Bn, each with a 14-day campaign coupon, in three statements."""
    now = datetime.now(UTC)
    async with db.engine.begin() as conn:
        series = _SERIES[db.dialect]
        await conn.execute(
            text(
                "INSERT INTO customers (external_id, name, status, source, marketing_opt_out, "
                "created_at, updated_at) "
                "SELECT 'B' || n, '客户' || n, 'open', 'import', false, :now, :now "
                f"FROM ({series}) x"
            ).bindparams(*_TIMES[:1]),
            {"n": customers, "now": now},
        )
        await conn.execute(
            text(
                "INSERT INTO coupons (code, template_id, customer_id, source, status, name, "
                "value_fen, min_spend_fen, issued_at, expires_at, created_at, updated_at) "
                "SELECT 'BX' || c.id, t.id, c.id, 'campaign', 'issued', t.name, t.value_fen, "
                "t.min_spend_fen, :now, :later, :now, :now "
                "FROM customers c, coupon_templates t WHERE t.key = 'winback_30'"
            ).bindparams(*_TIMES),
            {"now": now, "later": now + timedelta(days=14)},
        )
        await conn.execute(text("ANALYZE"))


async def queue_run(db: Database, rows: int, slot: int) -> int:
    """A run of winback_declining: members and one queued delivery for the first `rows`
    customers. Returns the run's id."""
    now = datetime.now(UTC)
    async with db.engine.begin() as conn:
        campaign = await conn.scalar(
            text("SELECT id FROM campaigns WHERE key = 'winback_declining'")
        )
        run_id = await conn.scalar(
            text(
                "INSERT INTO campaign_runs (campaign_id, slot, status, audience, treatment, "
                "holdout, control, excluded, started_at) "
                "VALUES (:c, :now, 'running', :rows, :rows, 0, 0, '{}', :now) RETURNING id"
            ).bindparams(*_TIMES[:1]),
            {"c": campaign, "now": now + timedelta(seconds=slot), "rows": rows},
        )
        chosen = f"SELECT id, customer_id FROM coupons ORDER BY customer_id LIMIT {int(rows)}"
        await conn.execute(
            text(
                "INSERT INTO campaign_members (run_id, customer_id, arm, coupon_id) "
                f"SELECT :run, customer_id, 'treatment', id FROM ({chosen}) x"
            ),
            {"run": run_id},
        )
        await conn.execute(
            text(
                "INSERT INTO deliveries (run_id, campaign_id, customer_id, platform, app_id, "
                "route, recipient, body, status, attempts, next_attempt_at, deadline_at, "
                "created_at, updated_at) "
                "SELECT :run, :c, m.customer_id, 'feishu', 'bench', 'feishu', "
                "'ou_' || m.customer_id, '{}', 'queued', 0, :now, :later, :now, :now "
                "FROM campaign_members m WHERE m.run_id = :run"
            ).bindparams(*_TIMES),
            {"run": run_id, "c": campaign, "now": now, "later": now + timedelta(hours=48)},
        )
    return int(run_id)


async def _finished(db: Database, run_id: int) -> int:
    async with db.engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM deliveries WHERE run_id = :run "
                    "AND status NOT IN ('queued', 'sending')"
                ),
                {"run": run_id},
            )
            or 0
        )


async def _sent_times(db: Database, run_id: int) -> tuple[int, list[datetime]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT status, updated_at FROM deliveries WHERE run_id = :run").columns(
                updated_at=UTCDateTime()
            ),
            {"run": run_id},
        )
        done = [(status, at) for status, at in rows]
    sent = sum(1 for status, _ in done if status == "sent")
    return sent, sorted(at for _, at in done)


class Workers:
    """`fission worker` processes, started and ready (idle) before the rows are queued."""

    def __init__(self, db: Database, api: str, log: Path) -> None:
        self.url = db.engine.url.render_as_string(hide_password=False)
        self.api = api
        self.log = log
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, processes: int, concurrency: int, rate: float | None) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "FISSION_DATABASE_URL": self.url,
            "FISSION_FEISHU_API_BASE": self.api,
            "FISSION_OUTBOX__SENDERS": json.dumps(["bench.outbox_fake:build_senders"]),
            "FISSION_MARKETING__QUIET_HOURS": "",
            "FISSION_MARKETING__RATE_PER_SECOND": json.dumps(
                {} if rate is None else {"feishu": rate}
            ),
            "FISSION_LOCALE": "en",
        }
        cli = [sys.executable, "-c", "from bot.cli import main; main()"]
        command = [*cli, "worker", "--concurrency", str(concurrency)]
        with self.log.open("ab") as err:
            for _ in range(processes):
                proc = await asyncio.create_subprocess_exec(
                    *command, cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=err
                )
                self.procs.append(proc)
        for proc in self.procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            if not line.startswith(b"Delivery worker running"):
                raise RuntimeError(f"a worker did not start: {line!r}; see {self.log}")

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs:
            await asyncio.wait_for(proc.communicate(), 60)
        self.procs = []


async def _drain(
    db: Database,
    api: str,
    log: Path,
    rows: int,
    slot: int,
    processes: int,
    concurrency: int,
    rate: float | None,
) -> dict[str, Any]:
    workers = Workers(db, api, log)
    await workers.start(processes, concurrency, rate)
    try:
        began = datetime.now(UTC)
        run_id = await queue_run(db, rows, slot)
        queued = datetime.now(UTC)
        limit = time.monotonic() + max(120.0, rows / (rate or 200.0) * 3)
        while await _finished(db, run_id) < rows:
            if time.monotonic() > limit:
                raise TimeoutError(f"{rows:,} deliveries not finished in time; see {log}")
            await asyncio.sleep(0.1)
    finally:
        await workers.stop()
    sent, times = await _sent_times(db, run_id)
    took = (times[-1] - queued).total_seconds()
    figures: dict[str, Any] = {
        "rows": rows,
        "queue_s": seconds((queued - began).total_seconds()),
        "drain_s": seconds(took),
        "per_s": round(rows / took),
        "check": "ok" if sent == rows else f"{rows - sent} not sent",
    }
    if rate is not None:
        burst = max(1, int(rate * BURST_SECONDS))
        span = (times[-1] - times[0]).total_seconds()
        measured = (len(times) - burst) / span if span > 0 else 0.0
        figures.update(
            rate=rate, measured_per_s=round(measured, 1), vs_rate=round(measured / rate, 3)
        )
    return figures


async def bench_outbox(backend: str, options: Options, workdir: Path) -> Result:
    customers = max(200, round(CUSTOMERS * options.scale))
    rate = max(20.0, round(500.0 * options.scale))
    result = Result("outbox", backend)
    f = result.figures
    f.update(customers=customers, load_before=load_average())
    print(
        f"[outbox/{backend}] {customers:,} deliveries per scenario; load {f['load_before']}",
        flush=True,
    )
    api = FakeApi()
    base = await api.start()
    log = workdir / f"outbox-workers-{backend}.log"
    scenarios = (
        [("1 worker", 1, 1), ("2 workers", 2, 1), ("4 workers", 4, 1), ("4 loops, 1 process", 1, 4)]
        if backend == "postgresql"
        else [("1 worker", 1, 1)]
    )
    try:
        async with bench_database(backend, workdir) as db:
            await generate(db, customers)
            slot = 0
            unlimited: dict[str, Any] = {}
            for label, processes, concurrency in scenarios:
                slot += 1
                figures = await _drain(db, base, log, customers, slot, processes, concurrency, None)
                unlimited[label] = figures
                print(
                    f"  {label}: {figures['per_s']:,} deliveries/s ({figures['drain_s']}s for "
                    f"{customers:,}; queued in {figures['queue_s']}s) {figures['check']}",
                    flush=True,
                )
            f["unlimited"] = unlimited
            rate_workers = 2 if backend == "postgresql" else 1
            rows = min(customers, int(rate * 12))
            limited = await _drain(db, base, log, rows, slot + 1, rate_workers, 1, rate)
            f["rate_limited"] = {**limited, "workers": rate_workers}
            print(
                f"  rate limit {rate:g}/s, {rate_workers} worker(s): measured "
                f"{limited['measured_per_s']}/s = {limited['vs_rate']}x the limit ({rows:,} rows)",
                flush=True,
            )
    finally:
        await api.close()
    checks = [s["check"] for s in f["unlimited"].values()] + [f["rate_limited"]["check"]]
    f["check"] = next((c for c in checks if c != "ok"), "ok")
    rate_ok = abs(f["rate_limited"]["vs_rate"] - 1) <= RATE_TOLERANCE
    speed_ok = backend != "postgresql" or f["unlimited"]["4 workers"]["per_s"] >= TARGET_PER_S
    f["target"] = f">= {TARGET_PER_S:,.0f}/s with 4 workers; rate within ±{RATE_TOLERANCE:.0%}"
    f["verdict"] = "PASS" if rate_ok and speed_ok else "FAIL"
    f["load_after"] = load_average()
    return result
