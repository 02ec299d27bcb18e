"""The delivery workers run for as long as the app runs (`fission serve`), wake at once on
PostgreSQL when a run queues deliveries, and stop without losing a delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fakes.inbox import FakeInbox, InboxSender
from outbox_world import (
    RUN_AT,
    Clock,
    deliveries,
    outbox_settings,
    seed_run,
    statuses,
    until,
    url_of,
)

from jobs.delivery import DeliveryWorkers
from jobs.senders import SenderRegistry
from jobs.web import attach_workers
from models.db import Database


@pytest.fixture
async def sender(inbox: FakeInbox) -> AsyncIterator[InboxSender]:
    stand_in = InboxSender(inbox.url)
    yield stand_in
    await stand_in.close()


async def test_the_apps_workers_send_what_is_queued_and_stop_with_the_app(
    db: Database, inbox: FakeInbox, sender: InboxSender
) -> None:
    await seed_run(db, ["张三", "李四"])
    settings = outbox_settings(url_of(db), outbox={"poll_seconds": 0.1})
    workers = DeliveryWorkers(db, settings, SenderRegistry([sender]), clock=Clock(RUN_AT))
    app = web.Application()
    attach_workers(app, workers)

    async with TestServer(app):
        await until(lambda: len(inbox.delivered) == 2)
        await until(lambda: workers.stats["sent"] == 2)
        assert workers.concurrency == (1 if db.dialect == "sqlite" else 2)

    assert await statuses(db) == {"sent": 2}
    assert workers.stats["sent"] == 2


async def test_postgresql_wakes_idle_workers_when_a_run_queues_deliveries(
    db: Database, inbox: FakeInbox, sender: InboxSender
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no NOTIFY: its one worker polls")
    settings = outbox_settings(url_of(db), outbox={"poll_seconds": 120})
    workers = DeliveryWorkers(db, settings, SenderRegistry([sender]), clock=Clock(RUN_AT))
    await workers.start()
    try:
        await until(lambda: workers.listening, seconds=10)
        await seed_run(db, ["张三", "李四", "王五"])  # long before the next poll
        await until(lambda: len(inbox.delivered) == 3, seconds=10)
    finally:
        await workers.stop()


async def test_stopping_finishes_the_send_in_flight_and_hands_the_rest_back(
    db: Database, inbox: FakeInbox, sender: InboxSender
) -> None:
    await seed_run(db, ["张三", "李四", "王五", "赵六"])
    inbox.delay = 0.5
    settings = outbox_settings(
        url_of(db),
        marketing={"rate_per_second": {"feishu": 2.0}},  # one at a time
        outbox={"shutdown_seconds": 5},
    )
    workers = DeliveryWorkers(db, settings, SenderRegistry([sender]), clock=Clock(RUN_AT))
    await workers.start()
    await until(lambda: bool(inbox.in_flight))

    await workers.stop()

    rows = await deliveries(db)
    assert [(r.status, r.attempts) for r in rows] == [
        ("sent", 1),
        ("queued", 0),
        ("queued", 0),
        ("queued", 0),
    ]
    assert workers.stats == {"sent": 1, "stopping": 3}
