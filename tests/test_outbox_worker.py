"""The delivery workers send each queued campaign message once, through its route's sender, and
leave every delivery in the state its outcome says — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.inbox import BLOCKED, PATH, FakeInbox, InboxSender
from outbox_world import (
    RUN_AT,
    Clock,
    deliveries,
    local,
    outbox_settings,
    seed_run,
    statuses,
    until,
    url_of,
)
from sqlalchemy import update

from jobs.delivery import DeliveryWorkers, system_clock
from jobs.senders import SenderRegistry
from models import Customer, Delivery, WecomMassTask
from models.campaigns.outcomes import ClaimedDelivery, Outcome, RenderedMessage, WaitingStaff
from models.db import Database


class World:
    def __init__(self, db: Database, inbox: FakeInbox, clock: Clock, **settings: object) -> None:
        self.db, self.inbox, self.clock = db, inbox, clock
        self.settings = outbox_settings(url_of(db), **settings)  # type: ignore[arg-type]
        self.sender = InboxSender(inbox.url)

    def workers(self, name: str = "w1", *senders: object) -> DeliveryWorkers:
        registry = SenderRegistry([self.sender, *senders])  # type: ignore[list-item]
        return DeliveryWorkers(self.db, self.settings, registry, clock=self.clock, name=name)

    async def close(self) -> None:
        await self.sender.close()


@pytest.fixture
async def world(db: Database, inbox: FakeInbox) -> AsyncIterator[World]:
    w = World(db, inbox, Clock(RUN_AT))
    yield w
    await w.close()


async def test_each_due_delivery_is_sent_once_with_its_message_and_recorded(world: World) -> None:
    seeded = await seed_run(world.db, ["张三", "李四", None])

    assert await world.workers().drain() == 3
    assert await world.workers().drain() == 0  # nothing due any more

    assert sorted(world.inbox.requested.values()) == [1, 1, 1]
    texts = {c: world.inbox.texts(f"ou_{c}") for c in ("C1", "C2", "C3")}
    assert texts["C1"] == [
        "张三您好，好久不见！送您一张老客回馈券 ¥30（满¥100.00可用），2024年7月16日前有效，"
        "下单时自动可用。https://fission.example.com\n回复“退订”即不再接收优惠消息。"
    ]
    assert texts["C3"][0].startswith("亲爱的顾客您好，好久不见！")
    rows = await deliveries(world.db)
    by_uuid = world.inbox.by_uuid
    for row in rows:
        assert row.status == "sent"
        assert row.attempts == 1
        assert row.sent_at == world.clock.now
        assert row.platform_message_id == by_uuid[f"fission-delivery-{row.id}"]
        assert row.lease_until is None
    assert [r.id for r in rows] == seeded.delivery_ids


async def test_a_customer_who_opted_out_since_the_run_is_skipped_not_messaged(
    world: World,
) -> None:
    seeded = await seed_run(world.db, ["张三", "李四"])
    async with world.db.uow() as uow:
        await uow.session.execute(
            update(Customer)
            .where(Customer.id == seeded.customer_ids[1])
            .values(marketing_opt_out=True, opted_out_at=world.clock.now)
        )
        await uow.commit()

    await world.workers().drain()

    assert world.inbox.texts("ou_C2") == []
    rows = await deliveries(world.db)
    assert [(r.status, r.reason) for r in rows] == [("sent", None), ("skipped", "opted_out")]


async def test_a_transient_failure_is_retried_with_capped_jittered_back_off(world: World) -> None:
    await seed_run(world.db, ["张三"])
    world.inbox.fail_next(PATH, "server_error", "server_error")

    await world.workers().drain()
    [row] = await deliveries(world.db)
    assert (row.status, row.attempts, row.error_code, row.reason) == ("failed", 1, 500, "transient")
    assert row.last_error == "HTTP 500"
    # attempt 1 waits a random time up to the base (30 s)
    first_wait = row.next_attempt_at - world.clock.now
    assert timedelta(0) <= first_wait <= timedelta(seconds=30)
    assert await world.workers().drain() == 0  # not due before then

    world.clock.now = row.next_attempt_at
    await world.workers().drain()
    [row] = await deliveries(world.db)
    assert (row.status, row.attempts) == ("failed", 2)
    assert timedelta(0) <= row.next_attempt_at - world.clock.now <= timedelta(seconds=60)

    world.clock.now = row.next_attempt_at
    await world.workers().drain()
    [row] = await deliveries(world.db)
    assert (row.status, row.attempts) == ("sent", 3)
    assert world.inbox.requested["fission-delivery-1"] == 3
    assert len(world.inbox.texts("ou_C1")) == 1


async def test_a_rate_limit_answer_waits_exactly_as_long_as_the_platform_says(
    world: World,
) -> None:
    await seed_run(world.db, ["张三"])
    world.inbox.fail_next(PATH, "rate_limit")

    await world.workers().drain()

    [row] = await deliveries(world.db)
    assert (row.status, row.error_code) == ("failed", 99991400)
    assert row.next_attempt_at == world.clock.now + timedelta(seconds=7)


async def test_a_permanent_refusal_is_dead_with_its_reason_and_code(world: World) -> None:
    await seed_run(world.db, ["张三"])
    world.inbox.fail_next(PATH, "blocked")

    await world.workers().drain()
    world.clock.advance(days=1)
    await world.workers().drain()  # never tried again

    [row] = await deliveries(world.db)
    assert (row.status, row.reason, row.error_code) == ("dead", "blocked", BLOCKED)
    assert row.last_error == "the user has blocked the bot"
    assert world.inbox.requested["fission-delivery-1"] == 1


async def test_retries_stop_at_the_deadline(world: World) -> None:
    await seed_run(world.db, ["张三", "李四"], deadline=timedelta(minutes=10))
    world.inbox.fail_next(PATH, "server_error")

    await world.workers().drain()
    rows = await deliveries(world.db)
    assert [r.status for r in rows] == ["failed", "sent"]

    world.clock.advance(minutes=10)  # the deadline: one more failure is the last
    world.inbox.fail_next(PATH, "server_error")
    await world.workers().drain()

    failed = (await deliveries(world.db))[0]
    assert (failed.status, failed.reason, failed.error_code) == ("dead", "deadline", 500)


async def test_a_delivery_never_tried_before_its_deadline_is_not_sent_late(world: World) -> None:
    await seed_run(world.db, ["张三"], deadline=timedelta(hours=1))
    world.clock.advance(hours=2)  # everything was down meanwhile

    await world.workers().drain()

    [row] = await deliveries(world.db)
    assert (row.status, row.reason) == ("dead", "deadline")
    assert world.inbox.delivered == []


@pytest.mark.parametrize(
    ("window", "now", "opens"),
    [
        ("21:00-09:00", local(2, 22, 30), local(3, 9)),  # evening: the window wraps midnight
        ("21:00-09:00", local(3, 1, 15), local(3, 9)),  # after midnight, same morning
        ("12:00-14:00", local(2, 12, 0), local(2, 14)),  # a window within one day
    ],
)
async def test_quiet_hours_hold_messages_until_the_window_ends_without_counting_an_attempt(
    db: Database, inbox: FakeInbox, window: str, now: object, opens: object
) -> None:
    world = World(db, inbox, Clock(now), marketing={"quiet_hours": window})  # type: ignore[arg-type]
    try:
        await seed_run(db, ["张三", "李四"], at=now)  # type: ignore[arg-type]

        await world.workers().drain()
        assert inbox.delivered == []
        rows = await deliveries(db)
        assert {(r.status, r.attempts, r.next_attempt_at) for r in rows} == {("queued", 0, opens)}

        world.clock.now = opens - timedelta(minutes=1)  # type: ignore[operator]
        assert await world.workers().drain() == 0
        world.clock.now = opens  # type: ignore[arg-type]
        await world.workers().drain()
        assert await statuses(db) == {"sent": 2}
        assert {r.attempts for r in await deliveries(db)} == {1}
    finally:
        await world.close()


async def test_a_route_without_a_sender_is_left_queued(world: World) -> None:
    await seed_run(world.db, ["张三"], route="wechat_cs", platform="wechat")

    assert await world.workers().drain() == 0

    [row] = await deliveries(world.db)
    assert (row.status, row.attempts) == ("queued", 0)


class TaskSender:
    """A WeCom stand-in: every delivery joins the staff member's mass-message task."""

    routes = ("wecom_task",)

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        return [WaitingStaff(self.task_id) for _ in batch]


async def test_a_wecom_task_waits_for_staff_with_its_task(world: World) -> None:
    seeded = await seed_run(world.db, ["张三", "李四"], route="wecom_task", platform="wecom")
    async with world.db.uow() as uow:
        task = WecomMassTask(run_id=seeded.run_id, app_id="corp", sender="zhangsan", customers=2)
        uow.session.add(task)
        await uow.commit()

    await world.workers("w1", TaskSender(task.id)).drain()

    rows = await deliveries(world.db)
    assert {(r.status, r.task_id, r.finished_at) for r in rows} == {
        ("waiting_staff", task.id, None)
    }


async def test_a_worker_whose_claim_lapsed_cannot_overwrite_the_next_attempt(
    db: Database, world: World
) -> None:
    """Worker A stalls past its lease; B claims the row again and sends it. A's late answer
    (the platform refused A's request) is not recorded over B's."""
    await seed_run(db, ["张三"])
    world.inbox.delay = 0.5
    world.inbox.fail_next(PATH, "blocked")  # what A's request gets
    stalled = asyncio.create_task(world.workers("A").drain_batch())
    await until(lambda: bool(world.inbox.requested))

    world.clock.advance(seconds=61)  # A's lease (60 s) has lapsed
    world.inbox.delay = 0.0
    assert await world.workers("B").drain_batch() == 1
    await stalled

    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.reason) == ("sent", 2, None)
    assert row.claimed_by is not None and row.claimed_by.startswith("B:")
    assert row.platform_message_id == world.inbox.by_uuid["fission-delivery-1"]


async def test_deliveries_are_claimed_oldest_due_first_in_batches(
    db: Database, inbox: FakeInbox
) -> None:
    world = World(db, inbox, Clock(RUN_AT), outbox={"batch_size": 2})
    try:
        await seed_run(db, ["a", "b", "c"], prefix="L")
        async with db.uow() as uow:  # the last one became due first
            await uow.session.execute(
                update(Delivery)
                .where(Delivery.id == 3)
                .values(next_attempt_at=RUN_AT - timedelta(hours=1))
            )
            await uow.commit()
        await world.workers().drain()
        assert world.sender.batches == [[1, 3], [2]]
    finally:
        await world.close()


async def test_a_heartbeat_keeps_a_slow_batch_claimed_past_its_first_lease(
    db: Database, inbox: FakeInbox
) -> None:
    await seed_run(db, ["张三"], at=datetime.now(UTC))
    world = World(db, inbox, Clock(datetime.now(UTC)), outbox={"lease_seconds": 1})
    world.clock = system_clock  # type: ignore[assignment]  # the lease runs in real time
    inbox.delay = 2.5
    try:
        slow = asyncio.create_task(world.workers("A").drain_batch())
        await until(lambda: bool(inbox.in_flight))
        await asyncio.sleep(1.5)  # past the first lease: the heartbeat has renewed it

        assert await world.workers("B").drain_batch() == 0
        assert await slow == 1
    finally:
        await world.close()
    [row] = await deliveries(db)
    assert (row.status, row.attempts) == ("sent", 1)
    assert inbox.requested["fission-delivery-1"] == 1


class BrokenSender:
    routes = ("feishu",)

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        raise RuntimeError("boom")


async def test_a_sender_that_breaks_leaves_its_deliveries_to_be_retried(db: Database) -> None:
    await seed_run(db, ["张三"])
    settings = outbox_settings(url_of(db))
    workers = DeliveryWorkers(db, settings, SenderRegistry([BrokenSender()]), clock=Clock(RUN_AT))

    await workers.drain()

    [row] = await deliveries(db)
    assert (row.status, row.reason, row.last_error) == ("failed", "transient", "RuntimeError: boom")
