"""The outbox benchmark's data is what a campaign run leaves behind, on both backends: the
workers drain it, through the bench's sender, into the bench's unlimited fake."""

from __future__ import annotations

from outbox_world import outbox_settings, statuses, url_of

from bench.outbox import generate, queue_run
from bench.outbox_fake import BenchSender, FakeApi
from jobs.delivery import DeliveryWorkers
from jobs.senders import SenderRegistry
from models.db import Database


async def test_the_benchmarks_deliveries_are_drained_into_its_fake(db: Database) -> None:
    await generate(db, 120)
    await queue_run(db, 100, slot=1)
    api = FakeApi()
    base = await api.start()
    sender = BenchSender(base)
    settings = outbox_settings(url_of(db), api_base=base)
    try:
        drained = await DeliveryWorkers(db, settings, SenderRegistry([sender])).drain()
    finally:
        await sender.close()
        await api.close()

    assert drained == 100
    assert api.received == 100
    assert await statuses(db) == {"sent": 100}
