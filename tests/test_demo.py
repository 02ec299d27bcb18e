"""The demo database: every stage and grade shows up, a seed reproduces the data, and the
command never writes over customers it did not create."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from config.rules import GradingRules, LifecycleRules
from models import ActivityEvent, Customer, FollowUp, Order, StageTransition
from models.customer_card import build_card, find_customers
from models.db import Database
from models.demo import DemoDatabaseNotEmpty, create_demo_data, wipe_all_data
from models.demo_history import classify_history, history_dates, pick_examples
from models.demo_shapes import allocate

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2024, 6, 30)


async def _fingerprint(db: Database) -> str:
    """A digest of every generated value that a seed must reproduce."""
    digest = hashlib.sha256()
    async with db.uow() as uow:
        session = uow.session
        queries = (
            select(
                Customer.external_id,
                Customer.name,
                Customer.phone,
                Customer.region,
                Customer.industry,
                Customer.status,
                Customer.created_at,
                Customer.marketing_opt_out,
            ).order_by(Customer.external_id),
            select(Order.order_no, Customer.external_id, Order.amount_fen, Order.paid_at)
            .join(Customer, Customer.id == Order.customer_id)
            .order_by(Order.order_no),
            select(
                Customer.external_id,
                ActivityEvent.kind,
                ActivityEvent.occurred_at,
                ActivityEvent.detail,
            )
            .join(Customer, Customer.id == ActivityEvent.customer_id)
            .order_by(Customer.external_id, ActivityEvent.occurred_at, ActivityEvent.kind),
            select(Customer.external_id, FollowUp.note, FollowUp.created_at)
            .join(Customer, Customer.id == FollowUp.customer_id)
            .order_by(Customer.external_id, FollowUp.created_at),
        )
        for query in queries:
            for row in (await session.execute(query)).all():
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


async def test_same_seed_same_data_other_seed_other_data(db: Database) -> None:
    first = await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=80, seed=7)
    print_a = await _fingerprint(db)
    await wipe_all_data(db)
    again = await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=80, seed=7)
    assert await _fingerprint(db) == print_a
    assert again == first
    await wipe_all_data(db)
    await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=80, seed=8)
    assert await _fingerprint(db) != print_a


async def test_refuses_a_database_with_customers(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="REAL-1", name="真实客户"))
        await uow.commit()
    with pytest.raises(DemoDatabaseNotEmpty):
        await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=10)
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Customer))
    assert count == 1


def test_archetypes_are_allocated_in_proportion() -> None:
    labels = allocate(200)
    assert len(labels) == 200
    # 7% + 7% prospects, 21% + 4% churned of 200
    assert labels.count("prospect_warm") == 14 and labels.count("churned_quiet") == 42
    # even a tiny demo gets one customer of each kind
    assert len(set(allocate(13))) == 13


def test_history_runs_monthly_then_on_the_reference_date() -> None:
    assert history_dates(date(2024, 6, 30)) == [
        date(2024, 1, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
        date(2024, 5, 1),
        date(2024, 6, 1),
        date(2024, 6, 30),
    ]
    # across a year end, and no duplicate when the reference date is a first of month
    assert history_dates(date(2024, 2, 1), months=3) == [
        date(2023, 12, 1),
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]


async def test_every_stage_and_grade_occurs(db: Database) -> None:
    stats = await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=200, seed=7)
    summary = await classify_history(
        db, as_of=AS_OF, tz=SHANGHAI, rules=LifecycleRules(), grading=GradingRules()
    )
    assert summary.as_of == AS_OF
    assert sum(summary.counts.values()) == stats.customers == 200
    # Archetypes of 200 (allocate): prospects 14 + 14 never order; churned 42 quiet + 8 closed;
    # declining 16 quiet + 10 usage drop + 6 support drop; 18 new. Each is shaped well inside
    # its rule, so these counts are exact.
    assert summary.counts["prospect"] == 28
    assert summary.counts["churned"] == 50
    assert summary.counts["declining"] == 32
    assert summary.counts["new"] == 18
    # 16 mature customers order big every ≤ 20 days; a few steady buyers may join them
    assert summary.counts["mature"] >= 16
    assert summary.counts["growing"] >= 40
    assert summary.counts["growing"] + summary.counts["mature"] == 72
    # grades: 172 customers have paid orders; A = top 20%, B = next 30%
    assert sum(summary.grades.values()) == 172
    assert all(summary.grades[grade] > 0 for grade in ("A", "B", "C"))
    assert summary.grades["A"] < summary.grades["B"] < summary.grades["C"]

    examples = await pick_examples(db)
    assert examples.most_history is not None and examples.surname is not None
    async with db.uow() as uow:
        transitions = await uow.session.scalar(
            select(func.count())
            .select_from(StageTransition)
            .join(Customer, Customer.id == StageTransition.customer_id)
            .where(Customer.external_id == examples.most_history)
        )
    assert transitions is not None and transitions >= 3
    (match,) = await find_customers(db, examples.most_history)
    card = await build_card(db, match.customer_id, tz=SHANGHAI)
    assert len(card.transitions) == transitions
    assert [t.as_of for t in card.transitions] == sorted(t.as_of for t in card.transitions)


def _customer_count(url: str) -> int:
    async def count() -> int:
        db = Database.from_url(url)
        try:
            async with db.uow() as uow:
                return int(
                    await uow.session.scalar(select(func.count()).select_from(Customer)) or 0
                )
        finally:
            await db.dispose()

    return asyncio.run(count())


def _add_real_customer(url: str) -> None:
    async def add() -> None:
        db = Database.from_url(url)
        try:
            async with db.uow() as uow:
                uow.session.add(Customer(external_id="REAL-1", name="真实客户"))
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(add())


def test_demo_command_refuses_without_reset(db_url: str) -> None:
    _add_real_customer(db_url)
    runner = CliRunner()
    env = {"FISSION_LOCALE": "zh-CN", "FISSION_DATABASE_URL": "sqlite+aiosqlite:///./unused.db"}
    args = ["demo", "--database-url", db_url, "--customers", "30", "--as-of", "2024-06-30"]

    refused = runner.invoke(main, args, env=env)
    assert refused.exit_code == 1
    assert "已经有 1 位客户" in refused.output and "--reset" in refused.output
    assert "Traceback" not in refused.output
    assert _customer_count(db_url) == 1

    reset = runner.invoke(main, [*args, "--reset"], env=env)
    assert reset.exit_code == 0, reset.output
    assert _customer_count(db_url) == 30
    assert "已写入 30 位客户" in reset.output
    assert "客户生命周期（截至 2024-06-30）" in reset.output  # the lifecycle summary table
    assert "2024-01-01, 2024-02-01" in reset.output  # the monthly history runs
    # commands to try, pointed at the demo database rather than the configured one
    assert f"FISSION_DATABASE_URL={db_url.split('://')[0]}" in reset.output
    assert "customer show C0000" in reset.output


def test_reset_is_refused_on_the_configured_database(db_url: str) -> None:
    result = CliRunner().invoke(
        main,
        ["demo", "--database-url", db_url, "--reset", "--customers", "5"],
        env={"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"},
    )
    assert result.exit_code == 2
    assert "不能用在配置的正式数据库" in result.output


def test_bad_database_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["demo", "--database-url", "mysql://x/y"])
    assert result.exit_code == 2
    assert "sqlite+aiosqlite://" in result.output
