"""A process that takes send tokens from the shared budget as fast as it is given them and
prints the epoch time of each token it got (JSON), for test_outbox_rate.py.

`python rate_probe.py DATABASE_URL RATE`: connects, prints `ready`, then reads one line
`START SECONDS` (epoch time, duration) and takes tokens from START for SECONDS. Several at once
show that the budget holds across processes."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from sqlalchemy import text

from models.campaigns.rate_budget import RateBudgets
from models.db import Database


async def probe(url: str, rate: float) -> list[float]:
    db = Database.from_url(url)
    budgets = RateBudgets(db, {"feishu": rate})
    got: list[float] = []
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        print("ready", flush=True)
        start, seconds = map(float, sys.stdin.readline().split())
        await asyncio.sleep(max(0.0, start - time.time()))
        while time.time() < start + seconds:
            grant = await budgets.take("feishu", "probe", 1)
            if grant.granted:
                got.append(time.time())
            else:
                await asyncio.sleep(grant.wait)
    finally:
        await db.dispose()
    return got


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1], float(sys.argv[2])))))
