"""kill -9 at any point loses no delivery: a real `fission worker` is killed mid-batch while
the platform (a local fake, slow on purpose) holds messages it has accepted, another worker
takes over once the dead one's leases lapse, and every delivery ends sent.

A message goes out twice only inside the documented window — accepted by the platform, the
worker killed before it recorded the outcome — and not even then where the platform
de-duplicates on the delivery's key (Feishu's `uuid`)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.inbox import FakeInbox
from outbox_world import deliveries, seed_run, until

from models.db import Database

TESTS = Path(__file__).parent
N = 40

pytestmark = pytest.mark.slow


async def _worker(db_url: str, inbox: FakeInbox, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]),
        "FISSION_DATABASE_URL": db_url,
        "FISSION_FEISHU_API_BASE": inbox.url,
        "FISSION_OUTBOX__SENDERS": json.dumps(["fakes.inbox:build_senders"]),
        "FISSION_OUTBOX__LEASE_SECONDS": "2",
        "FISSION_OUTBOX__BATCH_SIZE": "8",
        "FISSION_OUTBOX__POLL_SECONDS": "0.2",
        "FISSION_MARKETING__QUIET_HOURS": "",
        "FISSION_MARKETING__RATE_PER_SECOND": "{}",
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()", "worker"]
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *command, "--concurrency", "2", cwd=log.parent, env=env, stdout=out, stderr=out
        )


@pytest.mark.parametrize("dedupe", [True, False], ids=["feishu-uuid", "no-platform-key"])
async def test_a_worker_killed_mid_batch_loses_nothing_and_resends_only_inside_the_window(
    db: Database, db_url: str, inbox: FakeInbox, tmp_path: Path, dedupe: bool
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several worker processes: PostgreSQL")
    inbox.dedupe, inbox.delay = dedupe, 0.4
    await seed_run(db, [f"客户{i}" for i in range(N)], at=datetime.now(UTC) - timedelta(minutes=1))
    log = tmp_path / "workers.log"

    first = await _worker(db_url, inbox, log)
    try:
        # mid-batch: messages accepted and held by the platform, others claimed or still queued
        await until(lambda: len(inbox.delivered) >= 10 and bool(inbox.in_flight), seconds=60)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        await first.wait()
    accepted = {m["uuid"] for m in inbox.delivered}
    rows = await deliveries(db)
    left_sending = {f"fission-delivery-{r.id}" for r in rows if r.status == "sending"}
    assert left_sending, "the kill should have caught claimed deliveries"
    assert len([r for r in rows if r.status == "sent"]) < N

    second = await _worker(db_url, inbox, log)
    try:

        async def all_sent() -> bool:
            return {r.status for r in await deliveries(db)} == {"sent"}

        async with asyncio.timeout(90):
            while not await all_sent():  # noqa: ASYNC110 (the leases lapse after 2 s)
                await asyncio.sleep(0.2)
    finally:
        second.terminate()
        assert await asyncio.wait_for(second.wait(), 30) == 0, log.read_text()

    rows = await deliveries(db)
    resent = {uuid for uuid, n in inbox.requested.items() if n > 1}
    # only what the platform had accepted and the dead worker had not recorded went again …
    assert resent <= left_sending & accepted
    assert resent, "a message the platform held at the kill is sent again"
    keys = [m["uuid"] for m in inbox.delivered]
    if dedupe:  # … and the platform dropped those repeats: each customer got one message
        assert sorted(keys) == sorted(f"fission-delivery-{r.id}" for r in rows)
        for row in rows:
            assert row.platform_message_id == inbox.by_uuid[f"fission-delivery-{row.id}"]
    else:  # without a platform key, the repeats are exactly the window's messages
        assert {k for k in keys if keys.count(k) > 1} == resent
        assert set(keys) == {f"fission-delivery-{r.id}" for r in rows}
