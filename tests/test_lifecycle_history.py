"""Stage history across several dates, and re-runs of the same date that change nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from lifecycle_world import TZ, T, World
from sqlalchemy import select, update

from models import (
    Customer,
    CustomerGrade,
    LifecycleRun,
    Order,
    StageAssignment,
    StageTransition,
)
from models.db import Database


def on(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


async def test_history_across_dates(db: Database) -> None:
    """DESIGN.md's example: 2024-03-01 new → 2024-04-15 growing → 2024-05-01 mature, then a
    customer who stops buying declines and churns."""
    world = World(db)
    await world.customer("alice")
    await world.customer("bob")  # never buys
    await world.add(world.order("alice", 0, 10_000, at=on(date(2024, 3, 1))))

    first = await world.run(date(2024, 3, 5))
    assert first.transitions == 2

    await world.add(
        world.order("alice", 0, 10_000, at=on(date(2024, 4, 1))),
        world.order("alice", 0, 10_000, at=on(date(2024, 4, 10))),
    )
    assert (await world.run(date(2024, 4, 15))).transitions == 1

    await world.referral("alice", converted_at=on(date(2024, 4, 20)))
    await world.add(world.order("alice", 0, 10_000, at=on(date(2024, 5, 1))))
    # alice turns mature; her friend (no order yet) gets a first verdict
    assert (await world.run(date(2024, 5, 1))).transitions == 2
    # 05-20: still an order in each window (05-01 | 04-01, 04-10 | 03-01): no change
    assert (await world.run(date(2024, 5, 20))).transitions == 0
    assert (await world.run(date(2024, 7, 1))).transitions == 1  # last order 61 days ago
    assert (await world.run(date(2024, 8, 15))).transitions == 1  # 106 days ago

    history = sorted(await world.transitions(), key=lambda row: (row[3], row[0]))
    assert history == [
        ("alice", None, "new", date(2024, 3, 5), "new.first_order"),
        ("bob", None, "prospect", date(2024, 3, 5), "prospect.no_order"),
        ("alice", "new", "growing", date(2024, 4, 15), "growing.repeat_orders"),
        ("alice", "growing", "mature", date(2024, 5, 1), "mature.signals"),
        ("alice-friend-2", None, "prospect", date(2024, 5, 1), "prospect.no_order"),
        ("alice", "mature", "declining", date(2024, 7, 1), "declining.inactive"),
        ("alice", "declining", "churned", date(2024, 8, 15), "churned.inactive"),
    ]
    got = await world.assignments()
    assert (got["alice"].stage, got["alice"].since) == ("churned", date(2024, 8, 15))
    assert got["alice"].metrics == {"last_order_on": "2024-05-01", "orders": 4}
    assert (got["bob"].stage, got["bob"].since) == ("prospect", date(2024, 3, 5))


async def test_since_is_kept_while_the_stage_holds(db: Database) -> None:
    world = World(db)
    await world.customer("carol")
    await world.add(world.order("carol", 0, 10_000, at=on(date(2024, 6, 1))))
    for day in (date(2024, 6, 2), date(2024, 6, 10), date(2024, 6, 30)):
        await world.run(day)
    row = (await world.assignments())["carol"]
    assert (row.stage, row.since) == ("new", date(2024, 6, 2))
    assert row.metrics == {"first_order_on": "2024-06-01"}


async def _snapshot(db: Database) -> tuple[list[tuple[object, ...]], ...]:
    async with db.uow() as uow:
        s = uow.session
        assignments = (
            await s.execute(select(StageAssignment.__table__).order_by("customer_id"))
        ).all()
        grades = (await s.execute(select(CustomerGrade.__table__).order_by("customer_id"))).all()
        history = (await s.execute(select(StageTransition.__table__).order_by("id"))).all()
    return (
        [tuple(r) for r in assignments],
        [tuple(r) for r in grades],
        [tuple(r) for r in history],
    )


async def test_same_date_twice_changes_nothing(db: Database) -> None:
    world = World(db)
    yesterday = T - timedelta(days=1)
    for name in ("new", "held", "grey", "prospect", "gone"):
        await world.customer(name)
    await world.add(
        world.order("new", 3, 5000),
        world.order("held", 40, 5000),
        world.order("grey", 40, 7000),
        world.order("gone", 200, 9000),
        world.event("prospect", "lead_form", 3),
        # yesterday's verdicts: "held" was mature (kept: grey zone), "grey" was new (becomes
        # growing by default — and must stay default.growing, not turn into a hold, on re-run)
        world.stored_stage("held", "mature", as_of=yesterday, rule="mature.signals"),
        world.stored_stage("grey", "new", as_of=yesterday, rule="new.first_order"),
    )
    first = await world.run()
    before = await _snapshot(db)
    second = await world.run()
    after = await _snapshot(db)

    assert first.transitions == 4  # new, grey, prospect, gone: first verdicts or changes
    assert second.transitions == 0
    assert (second.counts, second.grades) == (first.counts, first.grades)
    assert after == before  # every column, updated_at included
    got = await world.assignments()
    assert (got["held"].stage, got["held"].rule) == ("mature", "hold.grey_zone")
    assert (got["grey"].stage, got["grey"].rule) == ("growing", "default.growing")
    assert got["held"].since == yesterday - timedelta(days=20)

    async with db.uow() as uow:
        runs = (await uow.session.execute(select(LifecycleRun).order_by(LifecycleRun.id))).scalars()
        logged = [
            (r.as_of, r.transitions, r.counts, r.grades, r.finished_at is not None) for r in runs
        ]
    assert logged == [
        (T, 4, first.counts, first.grades, True),
        (T, 0, first.counts, first.grades, True),
    ]
    assert first.counts == {
        "prospect": 1,
        "new": 1,
        "growing": 1,
        "mature": 1,
        "declining": 0,
        "churned": 1,
    }
    assert first.grades == {"A": 1, "B": 1, "C": 2}


async def test_next_day_rewrites_only_customers_whose_verdict_changed(db: Database) -> None:
    """A day passing changes no stored row unless a customer's stage, rule or numbers change
    (receipts carry dates, and the run's date is kept once per run)."""
    world = World(db)
    for name in ("gone", "slipping", "steady"):
        await world.customer(name)
    await world.add(
        world.order("gone", 200, 9000),  # churned on T and on T+1: same receipt
        world.order("slipping", 59, 5000),  # 59 days on T (grey zone), 60 on T+1: declining
        world.order("steady", 10, 5000),  # new both days: same receipt
    )
    await world.run()
    before = {row[0]: row for row in (await _snapshot(db))[0]}
    grades_before = (await _snapshot(db))[1]
    nxt = await world.run(T + timedelta(days=1))
    after = {row[0]: row for row in (await _snapshot(db))[0]}
    ids = world.ids

    assert nxt.transitions == 1
    assert after[ids["gone"]] == before[ids["gone"]]  # updated_at included
    assert after[ids["steady"]] == before[ids["steady"]]
    assert after[ids["slipping"]] != before[ids["slipping"]]
    got = await world.assignments()
    assert (got["slipping"].stage, got["slipping"].since) == ("declining", T + timedelta(days=1))
    assert got["slipping"].metrics == {
        "last_order_on": (T - timedelta(days=59)).isoformat(),
        "orders": 1,
    }
    assert (await _snapshot(db))[1] == grades_before  # no order aged out of the year


async def test_a_refund_after_the_first_run_is_picked_up_on_re_run(db: Database) -> None:
    world = World(db)
    await world.customer("dave")
    await world.add(world.order("dave", 5, 5000))
    assert (await world.run()).grades == {"A": 1, "B": 0, "C": 0}
    async with db.uow() as uow:
        await uow.session.execute(update(Order).values(status="refunded"))
        await uow.commit()

    summary = await world.run()
    assert summary.transitions == 1
    assert summary.grades == {"A": 0, "B": 0, "C": 0}
    assert await world.transitions() == [
        ("dave", None, "new", T, "new.first_order"),
        ("dave", "new", "prospect", T, "prospect.no_order"),
    ]
    assert await world.grades() == {}


async def test_deleting_a_customer_deletes_their_stage_grade_and_history(db: Database) -> None:
    """The lifecycle tables carry no foreign key (migration 0007): a trigger on `customers`
    takes their rows along, as ON DELETE CASCADE did — one customer or many at once."""
    world = World(db)
    for name in ("alice", "bob", "carol"):
        await world.customer(name)
        await world.add(world.order(name, 3, 10_000))
    await world.run(T - timedelta(days=40))
    await world.run(T)  # a second transition each: new → growing/declining…
    doomed = [world.ids["alice"], world.ids["bob"]]

    async with db.uow() as uow:
        await uow.session.execute(Customer.__table__.delete().where(Customer.id.in_(doomed)))
        await uow.commit()

    (assignments, grades, history) = await _snapshot(db)
    assert {row[0] for row in assignments} == {world.ids["carol"]}
    assert {row[0] for row in grades} == {world.ids["carol"]}
    assert {row[1] for row in history} == {world.ids["carol"]}
    assert len(history) >= 1
