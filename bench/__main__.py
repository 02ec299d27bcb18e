"""`python -m bench [lifecycle|import|outbox] [--scale S] [--backend sqlite|postgresql|all]`.

Runs the chosen benchmarks (default: all, on both backends, at full scale), prints every
figure next to its same-run baseline with PASS/FAIL against the issue's targets, and saves the
figures as JSON under bench/out/. Exit status: 0 all targets met, 1 a target missed or a
check failed, 2 bad arguments or an unreachable PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.harness import (
    BACKENDS,
    PG_DSN,
    Options,
    Result,
    load_average,
    postgres_reachable,
    save,
)
from bench.import_orders import bench_import
from bench.lifecycle import bench_lifecycle
from bench.outbox import bench_outbox

Bench = Callable[[str, Options, Path], Awaitable[Result]]
BENCHES: dict[str, Bench] = {
    "lifecycle": bench_lifecycle,
    "import": bench_import,
    "outbox": bench_outbox,
}


def _scale(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError(f"scale must be in (0, 10], got {raw}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[2])
    parser.add_argument("bench", nargs="?", choices=[*BENCHES, "all"], default="all")
    parser.add_argument(
        "--scale",
        type=_scale,
        default=None,
        help="multiply every size (default: $BENCH_SCALE or 1 = 1M customers/10M orders on "
        "PostgreSQL, 100k/1M on SQLite, 1M-row orders CSV)",
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument(
        "--explain",
        type=float,
        metavar="SECONDS",
        help="PostgreSQL: print the EXPLAIN ANALYZE plan of every measured statement slower "
        "than SECONDS (auto_explain); for finding where time goes",
    )
    parser.add_argument(
        "--bare-customers",
        action="store_true",
        help="import: also time the orders file into an empty database (bare customers)",
    )
    args = parser.parse_args(argv)
    if args.scale is None:
        try:
            args.scale = _scale(os.environ.get("BENCH_SCALE", "1"))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"BENCH_SCALE: {exc}")
    return args


def _failed(result: Result) -> bool:
    f = result.figures
    checks = [
        f.get(key, "ok") for key in ("check", "rerun_check", "reimport_check", "into_stored_check")
    ]
    return f.get("verdict") != "PASS" or any(check != "ok" for check in checks)


def summary_line(result: Result) -> str:
    f = result.figures
    if result.bench == "lifecycle" and f.get("ratio") is not None:
        figure = (
            f"first run {f['first_run_s']}s = {f['ratio']}x bare aggregate {f['baseline_s']}s "
            f"({f['ratio_vs_fastest_form']}x its fastest form); "
            f"re-run {f.get('rerun_ratio', '-')}x, next day {f.get('next_day_ratio', '-')}x"
        )
    elif result.bench == "import" and "rows_per_s" in f:
        figure = (
            f"{f['rows_per_s']:,} rows/s ({f['vs_bare_load']}x bare load, "
            f"{f['vs_parse']}x csv.reader); re-import {f.get('reimport_rows_per_s', 0):,} rows/s; "
            f"next file into the stored orders {f.get('into_stored_rows_per_s', 0):,} rows/s"
        )
    elif result.bench == "outbox" and "rate_limited" in f:
        speeds = ", ".join(f"{k} {v['per_s']:,}/s" for k, v in f["unlimited"].items())
        limited = f["rate_limited"]
        figure = f"{speeds}; rate {limited['measured_per_s']}/s = {limited['vs_rate']}x the limit"
    else:
        figure = str(f.get("check", "no figures"))
    flagged = (
        "  (a check failed, see above)" if f.get("verdict") == "PASS" and _failed(result) else ""
    )
    return f"  {result.bench:<9} {result.backend:<10} {f.get('verdict')}  {figure}{flagged}"


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    benches = list(BENCHES) if args.bench == "all" else [args.bench]
    backends = list(BACKENDS) if args.backend == "all" else [args.backend]
    if "postgresql" in backends:
        why = await postgres_reachable()
        if why is not None:
            print(
                f"PostgreSQL at {PG_DSN} is unreachable ({why}); set FISSION_BENCH_PG_DSN "
                "or run with --backend sqlite",
                file=sys.stderr,
            )
            return 2
    options = Options(scale=args.scale, explain_s=args.explain, bare_customers=args.bare_customers)
    print(
        f"benchmarks {', '.join(benches)} on {', '.join(backends)}, scale {args.scale:g}; "
        f"{os.cpu_count()} CPUs, load {load_average()}",
        flush=True,
    )
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="fission-bench-") as workdir:
        for name in benches:
            for backend in backends:
                result = await BENCHES[name](backend, options, Path(workdir))
                result.figures["scale"] = args.scale
                results.append(result)
    print(f"\nsummary ({time.perf_counter() - started:.0f}s in all, load {load_average()}):")
    for result in results:
        print(summary_line(result))
    print(f"figures saved to {save(results)}")
    return 1 if any(_failed(result) for result in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
