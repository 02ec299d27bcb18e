"""The lifecycle benchmark's breakdown of a run: reading orders, writing stage rows, the rest.

The breakdown is how a reader of `make bench` sees where a run's time goes against the bare
aggregate, so every statement of a real run must land in the phase it belongs to."""

from __future__ import annotations

from bench.lifecycle_steps import AS_OF, PHASES, TZ, classify, phase_of, phases
from models.db import Database
from models.lifecycle.benchdata import generate_bench_data


async def test_every_statement_of_a_first_run_is_put_in_its_phase(db: Database) -> None:
    await generate_bench_data(
        db, customers=300, orders=3000, as_of=AS_OF, tz=TZ, seed=5, events=300
    )
    run = await classify(db, AS_OF, limit_s=60, explain_s=None)
    assert run.summary is not None and run.error is None

    by_phase: dict[str, list[str]] = {name: [] for name in PHASES}
    for _, sql in run.statements.entries:
        by_phase[phase_of(sql)].append(" ".join(sql.split()))
    orders, writes, rules = (by_phase[name] for name in PHASES)

    assert any("lc_order_metrics" in sql and "FROM orders" in sql for sql in orders)
    for table in ("stage_transitions", "stage_assignments", "customer_grades"):
        assert any(sql.startswith(f"INSERT INTO {table} ") for sql in writes), table
    assert not any("stage_" in sql or "customer_grades" in sql for sql in orders)
    assert any("activity_events" in sql for sql in rules)  # the events pass
    assert any("lc_results" in sql for sql in rules)  # the verdict
    assert not any(sql.startswith("INSERT INTO stage_") for sql in rules)

    spent = phases(run.statements)
    assert list(spent) == list(PHASES)
    assert all(seconds > 0 for seconds in spent.values()), spent
    total = sum(seconds for seconds, _ in run.statements.entries)
    assert abs(sum(spent.values()) - total) < 1e-9


def test_index_builds_and_statistics_of_stage_tables_count_as_writes() -> None:
    assert phase_of("CREATE INDEX ix_stage_assignments_stage ON public.stage_assignments") == (
        "writes"
    )
    assert phase_of(
        'ALTER TABLE customer_grades ADD CONSTRAINT "pk" PRIMARY KEY (customer_id)'
    ) == ("writes")
    assert phase_of("ANALYZE stage_assignments, customer_grades, stage_transitions") == "writes"
    assert phase_of("ANALYZE lc_order_metrics") == "rules"
    assert phase_of("UPDATE lc_order_metrics SET first_fen=(SELECT x FROM orders WHERE …)") == (
        "orders"
    )
