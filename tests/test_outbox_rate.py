"""Send rates hold across every process: the shared token bucket in `rate_budgets`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest
from fakes.inbox import FakeInbox
from outbox_world import drain_into, seed_run, statuses

from models.campaigns.rate_budget import RateBudgets
from models.db import Database

TESTS = Path(__file__).parent


async def test_a_bucket_gives_its_burst_then_one_token_per_interval(db: Database) -> None:
    budgets = RateBudgets(db, {"feishu": 20.0})

    first = await budgets.take("feishu", "app", 10)
    assert first.granted == 4  # a fifth of a second's worth
    empty = await budgets.take("feishu", "app", 10)
    assert empty.granted == 0
    assert 0.0 < empty.wait <= 0.05
    await asyncio.sleep(empty.wait + 0.01)
    assert (await budgets.take("feishu", "app", 10)).granted == 1
    # another app of the platform has a bucket of its own; an unlimited platform none
    assert (await budgets.take("feishu", "other", 10)).granted == 4
    assert (await budgets.take("wechat", "app", 10)).granted == 10


async def test_a_platforms_slow_down_answer_holds_every_process_off(db: Database) -> None:
    budgets = RateBudgets(db, {"feishu": 20.0})
    await budgets.pause("feishu", "app", 2.0)

    elsewhere = RateBudgets(db, {"feishu": 20.0})  # another process's view
    grant = await elsewhere.take("feishu", "app", 1)
    assert grant.granted == 0
    assert 1.9 <= grant.wait <= 2.06


async def test_three_processes_share_one_rate_within_five_percent(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs one delivery worker")
    rate, seconds, warm_up = 30.0, 4.0, 0.5
    probe = [sys.executable, str(TESTS / "rate_probe.py"), db_url, str(rate)]
    pipes = asyncio.subprocess.PIPE
    probes = [
        await asyncio.create_subprocess_exec(*probe, stdin=pipes, stdout=pipes) for _ in range(3)
    ]
    for p in probes:  # every process connected
        assert p.stdout is not None
        assert await asyncio.wait_for(p.stdout.readline(), 60) == b"ready\n"
    start = time.time() + 0.3
    go = f"{start} {seconds}\n".encode()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate(go) for p in probes)), 60)
    assert [p.returncode for p in probes] == [0, 0, 0]
    times = sorted(t for out, _ in outputs for t in json.loads(out))

    window = [t for t in times if t >= start + warm_up]  # after the initial burst
    measured = len(window) / (start + seconds - (start + warm_up))
    shares = [len(json.loads(out)) for out, _ in outputs]
    assert abs(measured - rate) / rate <= 0.05, (measured, shares)
    assert min(shares) > 0  # every process got tokens: they shared one budget


async def test_workers_send_no_faster_than_the_configured_rate(
    db: Database, inbox: FakeInbox
) -> None:
    await seed_run(db, [f"客户{i}" for i in range(24)])
    began = time.monotonic()
    sender = await drain_into(inbox, db, marketing={"rate_per_second": {"feishu": 20.0}})
    took = time.monotonic() - began

    assert await statuses(db) == {"sent": 24}
    assert took >= (24 - 4) / 20.0 * 0.95  # the burst of 4, then 20 a second
    assert [len(batch) for batch in sender.batches][:1] == [4]
