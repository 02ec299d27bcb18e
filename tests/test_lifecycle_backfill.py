"""Runs for past dates in any order (a business moving in): the card never mixes dates.

A run for an earlier date than the latest stored one inserts that date into the history and
recomputes the stored dates after it in date order; the current stage and grade stay those of
the latest date. Seen through `fission lifecycle run --as-of`, `fission customer show` and
the API card, on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from api_support import AUTH, web_client
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifecycle_population import Spec, build, spec_strategy
from lifecycle_world import TZ, T, World
from sqlalchemy import delete, select

from bot.cli import main
from models import CustomerGrade, LifecycleRun, StageAssignment, StageTransition
from models.db import Database
from models.lifecycle.series import Step, date_series

EARLY = date(2024, 6, 30)
LATE = date(2024, 12, 31)
# Dates around the property populations' T (their orders and events are 130 days before T to
# 3 days after): grey zones, churn and new customers come and go between them.
PROPERTY_DATES = [T - timedelta(days=n) for n in (75, 40, 12, 0)] + [T + timedelta(days=20)]


def on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=TZ)


async def _shop(db: Database) -> World:
    """C1 buys in March, June and September (and once more after LATE); C2 never buys."""
    world = World(db)
    await world.customer("C1")
    await world.customer("C2")
    await world.add(
        world.order("C1", 0, 10_000, at=on(date(2024, 3, 1))),
        world.order("C1", 0, 10_000, at=on(date(2024, 6, 15))),
        world.order("C1", 0, 10_000, at=on(date(2024, 9, 1))),
        world.order("C1", 0, 10_000, at=on(date(2025, 2, 1))),
    )
    return world


def _cli(db_url: str, cwd: Path, *args: str) -> tuple[int, str]:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    with contextlib.chdir(cwd):  # no ./fission.toml from the working tree
        result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


async def _fission(db: Database, cwd: Path, *args: str) -> str:
    code, out = await asyncio.to_thread(_cli, db.engine.url.render_as_string(False), cwd, *args)
    assert code == 0, out
    return out


async def test_an_earlier_date_after_a_later_one_leaves_a_consistent_card(
    db: Database, tmp_path: Path
) -> None:
    await _shop(db)
    await _fission(db, tmp_path, "lifecycle", "run", "--as-of", LATE.isoformat())
    await _fission(db, tmp_path, "lifecycle", "run", "--as-of", EARLY.isoformat())

    c1 = await _fission(db, tmp_path, "customer", "show", "C1")
    # the latest date's stage, since a date no later than the data it is read from
    assert "阶段：流失客户（自 2024-12-31 起，依据 2024-12-31 的数据）" in c1
    # the history in date order, its last entry the current stage
    assert "阶段变化：2024-06-30 成长客户 → 2024-12-31 流失客户" in c1
    # totals of the same date, the later order named apart
    assert "订单（截至 2024-12-31）：3 笔，合计 ¥300.00，客单价 ¥100.00" in c1
    assert "首单 2024-03-01，最近一单 2024-09-01" in c1
    assert "2024-12-31 之后另有 1 笔（下次分类时计入）" in c1
    # the grade is the latest date's too: three orders in the year to 2024-12-31
    assert "分级：A（得分 1.00；近一年 3 单，客单价 ¥100.00，累计 ¥300.00；2024-12-31）" in c1

    c2 = await _fission(db, tmp_path, "customer", "show", "C2")
    assert "阶段：潜在客户（自 2024-06-30 起，依据 2024-12-31 的数据）" in c2
    assert "阶段变化：2024-06-30 潜在客户" in c2

    async with web_client(db, tmp_path) as client:
        card = await (await client.get("/api/v1/customers/C1", headers=AUTH)).json()
    assert card["stage"]["stage"] == "churned"
    assert (card["stage"]["since"], card["stage"]["as_of"]) == ("2024-12-31", "2024-12-31")
    assert card["grade"]["as_of"] == "2024-12-31"
    assert card["orders"] == {
        "as_of": "2024-12-31",
        "count": 3,
        "total_fen": 30_000,
        "aov_fen": 10_000,
        "first_on": "2024-03-01",
        "last_on": "2024-09-01",
        "refunded_count": 0,
        "later_count": 1,
    }


async def test_the_run_says_what_it_did_with_an_earlier_date(db: Database, tmp_path: Path) -> None:
    await _shop(db)
    await _fission(db, tmp_path, "lifecycle", "run", "--as-of", LATE.isoformat())
    out = await _fission(db, tmp_path, "lifecycle", "run", "--as-of", EARLY.isoformat(), "--json")
    summary = json.loads(out)
    assert summary["as_of"] == "2024-06-30"
    assert summary["transitions"] == 2  # both customers' first verdicts, now dated 2024-06-30
    assert summary["recomputed"] == ["2024-12-31"]

    out = await _fission(db, tmp_path, "lifecycle", "run", "--as-of", "2024-09-30")
    assert out.splitlines()[-1] == (
        "2024-09-30 早于已计算过的最近日期 2024-12-31：已把它插入阶段历史，并按日期顺序"
        "重算了其后已计算过的 1 个日期；当前阶段与分级仍依据 2024-12-31 的数据。"
    )


# --- the rule, on the stored rows ---------------------------------------------------------


async def _stored(db: Database) -> tuple[list[tuple[object, ...]], ...]:
    """Every stored row of the lifecycle tables, every column (ids and times included)."""
    tables = (
        (StageAssignment.__table__, "customer_id"),
        (CustomerGrade.__table__, "customer_id"),
        (StageTransition.__table__, "id"),
    )
    stored: list[list[tuple[object, ...]]] = []
    async with db.uow() as uow:
        for table, key in tables:
            rows = (await uow.session.execute(select(table).order_by(key))).all()
            stored.append([tuple(row) for row in rows])
    return tuple(stored)


async def _outcome(world: World) -> tuple[object, ...]:
    """What a run stores, without the ids and times that depend on when rows were written."""
    by_id = {v: k for k, v in world.ids.items()}
    assignments, grades, history = await _stored(world.db)
    return (
        sorted(((by_id[int(str(r[0]))], *r[1:6]) for r in assignments), key=str),
        sorted(((by_id[int(str(r[0]))], *r[1:5]) for r in grades), key=str),
        sorted(((by_id[int(str(r[1]))], *r[2:6]) for r in history), key=str),
    )


async def _forget_runs(db: Database) -> None:
    async with db.uow() as uow:
        for model in (StageTransition, StageAssignment, CustomerGrade, LifecycleRun):
            await uow.session.execute(delete(model))
        await uow.commit()


async def test_re_running_an_inserted_date_changes_nothing(db: Database) -> None:
    world = await _shop(db)
    await world.run(LATE)
    first = await world.run(EARLY)
    before = await _stored(db)
    again = await world.run(EARLY)
    assert await _stored(db) == before  # every column, ids and updated_at included
    assert (first.transitions, again.transitions) == (2, 0)
    assert again.recomputed == (LATE,)
    async with db.uow() as uow:
        logged = (
            (await uow.session.execute(select(LifecycleRun.as_of).order_by(LifecycleRun.id)))
            .scalars()
            .all()
        )
    # one row per date computed, in date order: the latest date's last
    assert logged == [LATE, EARLY, LATE, EARLY, LATE]


async def test_an_inserted_date_can_change_a_later_grey_zone_verdict(db: Database) -> None:
    """Mature on 2024-05-01 (an order in each of the three months before it, and the top
    revenue); on 2024-06-10 in the grey zone, which keeps a mature customer mature and makes
    anybody else growing. Run 06-10 alone: growing; insert 05-01 before it: mature on both."""
    world = World(db)
    await world.customer("steady")
    await world.add(
        *(world.order("steady", 0, at=on(day)) for day in (date(2024, 2, 26), date(2024, 3, 27)))
    )
    await world.add(world.order("steady", 0, at=on(date(2024, 4, 26))))
    may, june = date(2024, 5, 1), date(2024, 6, 10)

    await world.run(june)
    assert (await world.assignments())["steady"].rule == "default.growing"
    summary = await world.run(may)

    got = (await world.assignments())["steady"]
    assert (got.stage, got.rule, got.since) == ("mature", "hold.grey_zone", may)
    assert await world.transitions() == [("steady", None, "mature", may, "mature.signals")]
    assert summary.counts["mature"] == 1 and summary.recomputed == (june,)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    population=st.lists(spec_strategy, max_size=4),
    runs=st.lists(st.sampled_from(PROPERTY_DATES), min_size=1, max_size=5),
    again=st.sampled_from(PROPERTY_DATES),
)
async def test_runs_in_any_order_end_as_runs_in_date_order(
    db: Database, population: list[Spec], runs: list[date], again: date
) -> None:
    world = World(db)
    await world.clear()
    await build(world, population)

    for day in runs:
        await world.run(day)
    before = await _stored(db)
    if again in runs:
        await world.run(again)  # re-running a date changes nothing
        assert await _stored(db) == before
    any_order = await _outcome(world)

    await _forget_runs(db)
    for day in sorted(set(runs)):
        await world.run(day)
    assert await _outcome(world) == any_order


# --- fission lifecycle backfill ---------------------------------------------------------------


async def test_backfill_computes_a_series_of_past_dates_in_date_order(
    db: Database, tmp_path: Path
) -> None:
    world = await _shop(db)
    await _fission(db, tmp_path, "lifecycle", "run", "--as-of", LATE.isoformat())
    args = ("lifecycle", "backfill", "--from", "2024-01-31", "--to", EARLY.isoformat())
    out = await _fission(db, tmp_path, *args)

    lines = out.splitlines()
    assert lines[0].split() == [
        "日期",
        *("潜在客户", "新客户", "成长客户", "成熟客户", "衰退客户", "流失客户"),
        "阶段变化",
    ]
    # the same day of each month or the month's last day, --to, then the later date already
    # run, computed again after them
    assert [line.split()[0] for line in lines[1:8]] == [
        *("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"),
        "2024-12-31（重算）",
    ]
    assert lines[1].split()[1:] == ["2", "0", "0", "0", "0", "0", "2"]  # both prospects
    assert lines[-1] == "共计算 7 个日期；当前阶段与分级依据 2024-12-31 的数据。"

    c1 = await _fission(db, tmp_path, "customer", "show", "C1")
    assert "阶段：流失客户（自 2024-12-31 起，依据 2024-12-31 的数据）" in c1
    assert (
        "阶段变化：2024-01-31 潜在客户 → 2024-03-31 新客户 → 2024-04-30 衰退客户 "
        "→ 2024-05-31 流失客户 → 2024-06-30 成长客户 → 2024-12-31 流失客户"
    ) in c1

    # what running each date in turn would have stored
    backfilled = await _outcome(world)
    await _forget_runs(db)
    for month, day in ((1, 31), (2, 29), (3, 31), (4, 30), (5, 31), (6, 30), (12, 31)):
        await world.run(date(2024, month, day))
    assert await _outcome(world) == backfilled


async def test_backfill_again_changes_nothing_and_speaks_json(db: Database, tmp_path: Path) -> None:
    await _shop(db)
    monthly = ("lifecycle", "backfill", "--from", "2024-03-01", "--to", "2024-05-01")
    await _fission(db, tmp_path, *monthly)
    await _fission(db, tmp_path, "lifecycle", "run", "--as-of", LATE.isoformat())

    weekly = (*monthly, "--every", "week", "--json")
    rows = json.loads(await _fission(db, tmp_path, *weekly))
    # 03-01 … 04-26 weekly and 05-01 asked for; 04-01 and 12-31, run before, computed again
    assert [(row["as_of"][5:], row["asked"]) for row in rows] == [
        *(("03-01", True), ("03-08", True), ("03-15", True), ("03-22", True), ("03-29", True)),
        ("04-01", False),
        *(("04-05", True), ("04-12", True), ("04-19", True), ("04-26", True), ("05-01", True)),
        ("12-31", False),
    ]
    assert set(rows[0]) == {"as_of", "counts", "grades", "transitions", "asked"}
    assert rows[-1]["counts"]["churned"] == 1 and rows[-1]["grades"]["A"] == 1

    settled = await _stored(db)
    rows = json.loads(await _fission(db, tmp_path, *weekly))
    assert await _stored(db) == settled  # every column, ids and updated_at included
    assert {row["transitions"] for row in rows} == {0}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from", "2024-07-01", "--to", "2024-06-30"), "“2024-07-01” 晚于结束日期 2024-06-30"),
        (("--from", "2024-01-01", "--to", "2999-01-01"), "“2999-01-01” 晚于今天"),
        (
            (
                "--from",
                "2024-02-30",
            ),
            "“2024-02-30” 不是有效日期",
        ),
        (("--from", "2024-01-01", "--every", "quarter"), "'quarter' is not one of"),
        (
            (
                "--to",
                "2024-06-30",
            ),
            "Missing option '--from'",
        ),
    ],
)
def test_backfill_usage_errors_store_nothing(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/unused.db"
    code, out = _cli(url, tmp_path, "lifecycle", "backfill", *args)
    assert code == 2
    assert said in out and "Traceback" not in out
    assert not (tmp_path / "unused.db").exists()  # refused before any database is opened


def test_date_series() -> None:
    assert date_series(date(2024, 1, 31), date(2024, 5, 15), Step.MONTH) == [
        *(date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)),
        date(2024, 5, 15),
    ]
    assert date_series(date(2024, 12, 1), date(2025, 2, 1), Step.MONTH) == [
        *(date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)),
    ]
    assert date_series(date(2024, 6, 1), date(2024, 6, 20), Step.WEEK) == [
        *(date(2024, 6, 1), date(2024, 6, 8), date(2024, 6, 15), date(2024, 6, 20)),
    ]
    assert date_series(date(2024, 6, 1), date(2024, 6, 3), Step.DAY) == [
        *(date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)),
    ]
    assert date_series(date(2024, 6, 1), date(2024, 6, 1), Step.DAY) == [date(2024, 6, 1)]
