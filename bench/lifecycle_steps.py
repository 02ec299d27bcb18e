"""The steps of the lifecycle benchmark: data, the bare aggregate, classification runs."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bench.observe import (
    StatementTimes,
    explain_slow,
    print_plans,
    statement_timeout,
    statement_times,
    timed_out,
)
from bench.pgbulk import indexes_built_after
from config.rules import GradingRules, LifecycleRules
from models.db import Database
from models.lifecycle import LifecycleSummary, run_lifecycle
from models.lifecycle.benchdata import generate_bench_data

AS_OF = date(2024, 6, 30)
TZ = ZoneInfo("Asia/Shanghai")
SEED = 7
GENERATED = ("customers", "orders", "activity_events")
STAGE_TABLES = ("stage_transitions", "stage_assignments", "customer_grades", "lifecycle_runs")
CLASSIFIER_WORK_MEM = "256MB"  # what run_lifecycle sets for its own transaction

_AGGREGATE = (
    "SELECT count(*), sum(n), sum(total) FROM ("
    "SELECT {key} AS customer_id, count(*) AS n, sum(amount_fen) AS total "
    "FROM orders GROUP BY {key}) AS per_customer"
)


async def generate(db: Database, customers: int, orders: int) -> None:
    """The benchmark data, then fresh planner statistics for the tables it filled."""
    async with indexes_built_after(db, GENERATED):
        await generate_bench_data(
            db,
            customers=customers,
            orders=orders,
            as_of=AS_OF,
            tz=TZ,
            seed=SEED,
            events=customers,
        )
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f"ANALYZE {', '.join(GENERATED)}"))
        else:
            for table in GENERATED:
                await conn.execute(text(f"ANALYZE {table}"))
            await conn.commit()


async def bare_aggregate(db: Database, key: str, work_mem: str | None) -> tuple[int, int, int]:
    async with db.engine.connect() as conn, conn.begin():
        if work_mem is not None:
            await conn.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))
        row = (await conn.execute(text(_AGGREGATE.format(key=key)))).one()
        return int(row[0]), int(row[1]), int(row[2])


def aggregate_forms(dialect: str) -> dict[str, tuple[str, str | None]]:
    """The query as written first, then the stricter form: name → (GROUP BY key, work_mem)."""
    if dialect == "postgresql":
        return {
            "as_written": ("customer_id", None),
            f"work_mem_{CLASSIFIER_WORK_MEM}": ("customer_id", CLASSIFIER_WORK_MEM),
        }
    return {"as_written": ("customer_id", None), "table_scan": ("customer_id + 0", None)}


async def forget_stages(db: Database, *, analyze: bool) -> None:
    """Empty everything a lifecycle run stores.

    PostgreSQL: TRUNCATE leaves the tables' statistics unknown, as on a fresh installation;
    with `analyze` they are then analyzed, so the planner knows them as empty — the state
    after a reset, or of any database analyzed (ANALYZE, vacuumdb) before its first big run.
    """
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(STAGE_TABLES)}"))
            if analyze:
                await conn.execute(text(f"ANALYZE {', '.join(STAGE_TABLES)}"))
        else:
            for table in STAGE_TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))


async def settle_stages(db: Database) -> None:
    """What autovacuum would do after a first run wrote a million rows (it is off on the
    benchmark server); SQLite has no equivalent to run."""
    if db.dialect != "postgresql":
        return
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text(f"VACUUM ANALYZE {', '.join(STAGE_TABLES)}"))


# What each statement of a run is spent on, by its SQL text. The stage rows' writes are what a
# run must store whatever its speed elsewhere: the rows, the indexes built after a first load,
# their statistics. Everything else (events, referrals, verdicts, grades, scratch tables)
# counts as evaluating the rules.
PHASES = ("orders", "writes", "rules")
_READS_ORDERS = re.compile(r"\bFROM orders\b")
_STAGE_TABLES = "stage_assignments|stage_transitions|customer_grades"
_WRITES_STAGES = re.compile(
    rf"^(?:(?:INSERT INTO|UPDATE|DELETE FROM) (?:{_STAGE_TABLES})\b"
    r"|CREATE (?:UNIQUE )?INDEX|DROP INDEX|ALTER TABLE|ANALYZE stage_assignments)"
)


def phase_of(sql: str) -> str:
    """`orders` (a pass over the orders table), `writes` (storing stage rows) or `rules`."""
    flat = " ".join(sql.split())
    if _WRITES_STAGES.match(flat):
        return "writes"
    if _READS_ORDERS.search(flat):
        return "orders"
    return "rules"


def phases(times: StatementTimes) -> dict[str, float]:
    """Seconds spent per phase (PHASES order), summed over the run's statements."""
    spent = dict.fromkeys(PHASES, 0.0)
    for seconds_, sql in times.entries:
        spent[phase_of(sql)] += seconds_
    return spent


@dataclass
class Run:
    seconds: float
    summary: LifecycleSummary | None  # None: the run failed, see `error`
    statements: StatementTimes = field(default_factory=StatementTimes)
    error: str | None = None


async def classify(db: Database, as_of: date, *, limit_s: float, explain_s: float | None) -> Run:
    """One `run_lifecycle`, timed, its statements timed, no statement over `limit_s`."""
    started = time.perf_counter()
    summary: LifecycleSummary | None = None
    error: str | None = None
    async with statement_timeout(db, limit_s), explain_slow(db, explain_s) as plans:
        with statement_times(db) as spent:
            try:
                summary = await run_lifecycle(
                    db,
                    as_of=as_of,
                    tz=TZ,
                    rules=LifecycleRules(),
                    grading=GradingRules(),
                )
            except DBAPIError as exc:
                if not timed_out(exc):
                    raise
                statement = " ".join(str(exc.statement).split())[:100]
                error = f"TIMED OUT: one statement ran over {limit_s:.0f}s: {statement}"
    print_plans(plans)
    return Run(time.perf_counter() - started, summary, spent, error)


def check_counts(summary: LifecycleSummary, customers: int) -> str:
    total = sum(summary.counts.values())
    return "ok" if total == customers else f"COUNTS SUM TO {total}, NOT {customers}"
