"""CSV import of a 1M-row orders file against the cost of just reading and bulk-loading it.

Files: `orders_csv.py` writes a customers file (100k) and an orders file (1M rows over ~100k
of those customers), all times `scale`. Path measured: the customers file is imported first,
then the orders (every order finds its customer) — the usual order of operations. With
`--bare-customers` the other path (orders for customers not imported yet, each creating a bare
customer record) is timed too, in a fresh database.

Baselines in the same run on the same file:
- parse (better of two): `csv.reader` over the file, nothing else (the floor for any Python
  importer);
- bare load (once): the same rows, as text, bulk-loaded into a plain table without indexes
  in 50k-row batches in one transaction — asyncpg binary COPY on PostgreSQL, `executemany` on
  SQLite (the importer's own staging paths), without validation or merge.
Target: the import at least 30k rows/s. A re-import of the same file (nothing changes) is
timed as well.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bench.harness import (
    Options,
    Result,
    bench_database,
    best_of,
    load_average,
    peak_rss_mib,
    seconds,
    timed,
)
from bench.observe import explain_slow, print_plans, statement_timeout, statement_times, timed_out
from bench.orders_csv import write_customers, write_orders
from models.db import Database
from models.importing import ImportResult, import_csv

ROWS, CUSTOMERS = 1_000_000, 100_000
TARGET_ROWS_PER_S = 30_000
TZ = ZoneInfo("Asia/Shanghai")
SEED = 11
BATCH = 50_000
PLAIN = "bench_plain_orders"
# Ceiling per SQL statement on PostgreSQL: far above any healthy statement (~30 s for the
# merge of 1M orders), low enough that a pathological plan ends as a reported failure.
LIMIT_S = 300.0
COLUMNS = ["order_no", "customer_external_id", "amount", "paid_at", "status"]


def sizes(scale: float) -> tuple[int, int]:
    return max(100, round(ROWS * scale)), max(10, round(CUSTOMERS * scale))


def parse_only(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def batches(path: Path) -> Iterator[list[tuple[str, ...]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch: list[tuple[str, ...]] = []
        for row in reader:
            batch.append(tuple(row))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


async def bare_load(db: Database, path: Path) -> int:
    loaded = 0
    async with db.engine.connect() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {PLAIN}"))
        await conn.commit()
        async with conn.begin():
            columns = ", ".join(f"{name} TEXT" for name in COLUMNS)
            await conn.execute(text(f"CREATE TABLE {PLAIN} ({columns})"))
            driver: Any = (await conn.get_raw_connection()).driver_connection
            insert = f"INSERT INTO {PLAIN} VALUES ({', '.join('?' for _ in COLUMNS)})"
            for batch in batches(path):
                if db.dialect == "postgresql":
                    await driver.copy_records_to_table(PLAIN, records=batch, columns=COLUMNS)
                else:
                    await conn.exec_driver_sql(insert, batch)
                loaded += len(batch)
        await conn.execute(text(f"DROP TABLE {PLAIN}"))
        await conn.commit()
    return loaded


async def _import(db: Database, kind: str, path: Path) -> ImportResult:
    return await import_csv(db, kind, path, tz=TZ)


def _rate(rows: int, spent: float) -> int:
    return round(rows / spent)


def _counts(found: ImportResult) -> str:
    return f"imported {found.imported:,}, updated {found.updated:,}, rejected {found.rejected:,}"


async def bench_import(backend: str, options: Options, workdir: Path) -> Result:
    rows, customers = sizes(options.scale)
    result = Result("import", backend)
    f = result.figures
    f.update(rows=rows, customers=customers, load_before=load_average())
    customers_csv, orders_csv = workdir / "customers.csv", workdir / "orders.csv"
    if not orders_csv.exists():  # shared by both backends of one run
        await asyncio.to_thread(write_customers, customers_csv, customers, SEED)
        distinct = await asyncio.to_thread(write_orders, orders_csv, rows, customers, SEED)
        (workdir / "orders.distinct").write_text(str(distinct))
    distinct = int((workdir / "orders.distinct").read_text())
    f.update(distinct_customers=distinct, file_mib=round(orders_csv.stat().st_size / 2**20, 1))
    print(
        f"[import/{backend}] {rows:,} orders over {distinct:,} customers "
        f"({f['file_mib']} MiB); load {f['load_before']}",
        flush=True,
    )

    async with bench_database(backend, workdir) as db, statement_timeout(db, LIMIT_S):
        try:
            await _measure(db, options, workdir, rows, customers, f)
        except DBAPIError as exc:
            if not timed_out(exc):
                raise
            statement = " ".join(str(exc.statement).split())[:100]
            f.update(verdict="FAIL", check=f"TIMED OUT after {LIMIT_S:.0f}s in: {statement}")
            print(f"  {f['check']}", flush=True)
    if options.bare_customers:
        await _bare_customers(backend, workdir, workdir / "orders.csv", rows, f)
    f.update(load_after=load_average(), peak_rss_mib=peak_rss_mib())
    print(f"  load {f['load_after']}, peak RSS {f['peak_rss_mib']} MiB", flush=True)
    return result


async def _measure(
    db: Database, options: Options, workdir: Path, rows: int, customers: int, f: dict[str, Any]
) -> None:
    customers_csv, orders_csv = workdir / "customers.csv", workdir / "orders.csv"
    spent, found = await timed(lambda: _import(db, "customers", customers_csv))
    f.update(customers_s=seconds(spent), customers_rows_per_s=_rate(customers, spent))
    print(
        f"  customers file first: {spent:.2f}s, {_rate(customers, spent):,} rows/s "
        f"({_counts(found)})",
        flush=True,
    )

    parse, _, parsed = await best_of(2, lambda: asyncio.to_thread(parse_only, orders_csv), None)
    load, loaded = await timed(lambda: bare_load(db, orders_csv))
    f.update(parse_s=seconds(parse), bare_load_s=seconds(load))
    print(
        f"  baselines: csv.reader only {parse:.2f}s ({_rate(parsed, parse):,} rows/s); "
        f"bare load {load:.2f}s ({_rate(loaded, load):,} rows/s)",
        flush=True,
    )

    async with explain_slow(db, options.explain_s) as plans:
        with statement_times(db) as statements:
            spent, found = await timed(lambda: _import(db, "orders", orders_csv))
    rate = _rate(rows, spent)
    verdict = "PASS" if rate >= TARGET_ROWS_PER_S else "FAIL"
    ok = found.imported == rows and found.rejected == 0
    f.update(
        import_s=seconds(spent),
        rows_per_s=rate,
        vs_parse=round(spent / parse, 2),
        vs_bare_load=round(spent / load, 2),
        target=f">= {TARGET_ROWS_PER_S:,} rows/s",
        verdict=verdict,
        check="ok" if ok else _counts(found),
        statements=statements.figures(),
    )
    print(
        f"  import: {spent:.2f}s, {rate:,} rows/s -> {verdict} "
        f"(target >= {TARGET_ROWS_PER_S:,}); {spent / parse:.1f}x csv.reader, "
        f"{spent / load:.1f}x bare load; {_counts(found)}",
        flush=True,
    )
    print(statements.report(), flush=True)
    print_plans(plans)

    spent, again = await timed(lambda: _import(db, "orders", orders_csv))
    unchanged = again.imported == 0 and again.updated == 0 and again.rejected == 0
    f.update(
        reimport_s=seconds(spent),
        reimport_rows_per_s=_rate(rows, spent),
        reimport_check="ok" if unchanged else _counts(again),
    )
    print(
        f"  re-import: {spent:.2f}s, {_rate(rows, spent):,} rows/s; {_counts(again)}",
        flush=True,
    )

    # The file above went into an empty orders table, as a business's history does when it
    # moves in (PostgreSQL then builds the table's indexes after the load). A later file of
    # the same size meets a table that already holds them: shown, not judged.
    later_csv = workdir / "orders_next_year.csv"
    if not later_csv.exists():
        await asyncio.to_thread(write_orders, later_csv, rows, customers, SEED, year=1)
    spent, later = await timed(lambda: _import(db, "orders", later_csv))
    f.update(
        into_stored_s=seconds(spent),
        into_stored_rows_per_s=_rate(rows, spent),
        into_stored_check="ok"
        if later.imported == rows and later.rejected == 0
        else _counts(later),
    )
    print(
        f"  next year's file, into the {rows:,} orders stored: {spent:.2f}s, "
        f"{_rate(rows, spent):,} rows/s; {_counts(later)}",
        flush=True,
    )


async def _bare_customers(
    backend: str, workdir: Path, orders_csv: Path, rows: int, f: dict[str, Any]
) -> None:
    """The orders file into an empty database: every customer number becomes a bare record."""
    async with bench_database(backend, workdir) as db:
        spent, bare = await timed(lambda: _import(db, "orders", orders_csv))
        f.update(
            bare_customers_import_s=seconds(spent),
            bare_customers_rows_per_s=_rate(rows, spent),
            bare_customers_created=bare.bare_customers,
        )
        print(
            f"  orders before customers (bare customers): {spent:.2f}s, "
            f"{_rate(rows, spent):,} rows/s; {_counts(bare)}, "
            f"{bare.bare_customers:,} bare customers",
            flush=True,
        )
