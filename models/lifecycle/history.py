"""Recomputing the stage history from a date on: how runs for past dates fit in.

The rule. The stored stages, grades and history are always what running every logged date in
date order would store, on the data and settings as they are now:

- the current stage and grade are those of the latest date ever run (the "data as of" a card
  shows), and a stage's "since" is a date of the history, never after it;
- the history holds, per customer, one entry per date the stage changed, dated at that date and
  read in date order, so its last entry is the current stage;
- a run for a date after the latest one (the nightly run) is the plain run of `run_lifecycle`;
- a run for an earlier date inserts that date: it is computed from the stage each customer had
  at the date before it, then every logged date after it is computed again, in date order,
  each from the one before — a grey-zone verdict ("keep growing or mature") depends on the
  previous stage, so a date inserted before it can change it. The current stage changes only if
  the latest date's verdict does; the history from the inserted date on is what the dates
  give, entries that still hold are kept as they are;
- so runs in any order end in the same stored state as the same runs in date order, and
  re-running any date changes nothing but the run log (`lifecycle_runs`, one row per date
  computed, in date order, the latest date's last).

`fission lifecycle backfill` computes a series of past dates together with the logged dates
after the first of them, in one pass of this kind, rather than one such pass per date.

How, set-based per date: each customer's stage at the date before the first one comes from the
history (its latest entry before that date) into `lc_state`; each date's verdicts are computed
beside `lc_state` instead of beside `stage_assignments`, its stage changes noted in
`lc_changes`, and `lc_state` replaced by them. Only after the latest date are the stored rows
written, each compared with what is stored so that unchanged rows stay untouched: history rows
from the first date on that the new history does not hold are deleted and the missing ones
added, and the latest date's stages and grades saved as in a nightly run. All of it in the
run's one transaction: a reader sees the history before or after, never half of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from config.rules import GradingRules, LifecycleRules
from models.base import UTCDateTime
from models.lifecycle import scratch
from models.lifecycle.grading import save_grades
from models.lifecycle.run_date import LifecycleSummary, classify_date
from models.lifecycle.sqljson import json_object
from models.lifecycle.store import (
    finish_run,
    indexes_off_for_first_load,
    refresh_statistics,
    save_changes,
    stage_changes,
    start_run,
    table_of,
)
from models.lifecycle.windows import Windows
from models.stages import StageAssignment, StageTransition

_TABLES = scratch.ALL + scratch.HISTORY


async def recompute(
    conn: AsyncConnection,
    dates: Sequence[date],
    *,
    tz: tzinfo,
    rules: LifecycleRules,
    grading: GradingRules,
    now: datetime,
) -> list[LifecycleSummary]:
    """Compute `dates` (ascending, the last one the latest logged date or later) in order from
    the history before the first of them, then store the result; one summary per date."""
    computed: list[tuple[int, date, dict[str, int], dict[str, int]]] = []
    for index, day in enumerate(dates):
        # Logged first: on SQLite this first write also opens the transaction, so every read
        # after it sees one snapshot.
        run_id = await start_run(conn, day, now)
        if index == 0:
            await scratch.create_all(conn, _TABLES)
            await _rewind(conn, day)
        else:
            await scratch.empty(conn, *scratch.PER_DATE)
        windows = Windows.build(day, tz, rules, grading)
        counts, grades = await classify_date(
            conn, windows, rules, grading, tz, same_day_rerun=False, previous=scratch.state
        )
        changes = stage_changes(day)
        await conn.execute(insert(scratch.changes).from_select(_CHANGE_COLUMNS, changes))
        if index < len(dates) - 1:
            await scratch.empty(conn, scratch.state)
            await scratch.fill(conn, scratch.state, _verdicts(), analyze=True)
        computed.append((run_id, day, counts, grades))

    # The latest date's verdicts are in the scratch tables: store them and the history.
    unindexed = await indexes_off_for_first_load(conn, sum(computed[-1][2].values()))
    added = await _save_history(conn, dates[0], now)
    await scratch.fill(conn, scratch.final, _beside_stored())
    stages = table_of(StageAssignment)
    inserted = await save_changes(conn, stages, scratch.final, scratch.rewrites, "stage", now)
    inserted += await save_grades(conn, now)
    if unindexed is not None:
        await unindexed.put_back(conn)
    await refresh_statistics(conn, inserted + sum(added.values()))
    summaries = []
    for run_id, day, counts, grades in computed:
        await finish_run(conn, run_id, counts, grades, added.get(day, 0))
        summaries.append(LifecycleSummary(day, counts, grades, added.get(day, 0)))
    await scratch.drop_all(conn, _TABLES)
    return summaries


# The columns of `lc_changes` in the order `stage_changes` selects them.
_CHANGE_COLUMNS = ["customer_id", "from_stage", "to_stage", "rule", "as_of"]
# The columns of a verdict that are stored: stage, rule, metrics, qualified, since.
_VERDICT = [column.name for column in scratch.state.columns if column.name != "customer_id"]


async def _rewind(conn: AsyncConnection, first: date) -> None:
    """Each customer's stage at the date before `first`, from the history: their latest entry
    before it (the latest row of that date if there are several), since that entry's date.

    The rule and receipt of that verdict are not kept by the history and are not needed: the
    verdict for `first` reads only the previous stage and its date."""
    t = table_of(StageTransition).c
    ranked = (
        select(
            t.customer_id,
            t.to_stage,
            t.rule,
            t.as_of,
            func.row_number()
            .over(partition_by=t.customer_id, order_by=(t.as_of.desc(), t.id.desc()))
            .label("newest"),
        )
        .where(t.as_of < first)
        .subquery("lc_history_before")
    )
    k = ranked.c
    latest = select(
        k.customer_id, k.to_stage, k.rule, json_object(conn.dialect.name, []), false(), k.as_of
    ).where(k.newest == 1)
    await scratch.fill(conn, scratch.state, latest, analyze=True)


def _verdicts() -> Select[Any]:
    """The verdicts of the date just computed, as the previous stages of the next."""
    r = scratch.results.c
    return select(r.customer_id, *[r[name] for name in _VERDICT])


def _beside_stored() -> Select[Any]:
    """The latest date's verdicts beside the stored rows (not the previous date's stages, which
    `lc_results` carries), for `save_changes`."""
    r = scratch.results.c
    stored = table_of(StageAssignment)
    a = stored.c
    return select(
        r.customer_id, *[r[name] for name in _VERDICT], *[a[name] for name in _VERDICT]
    ).select_from(scratch.results.outerjoin(stored, a.customer_id == r.customer_id))


def _same_entry(stored: Table) -> ColumnElement[bool]:
    t, h = stored.c, scratch.changes.c
    return and_(
        t.customer_id == h.customer_id,
        t.as_of == h.as_of,
        t.to_stage == h.to_stage,
        t.rule == h.rule,
        t.from_stage.is_not_distinct_from(h.from_stage),
    )


async def _save_history(conn: AsyncConnection, first: date, now: datetime) -> dict[date, int]:
    """Make the stored history from `first` on the one in `lc_changes`: delete the entries it
    does not hold, add those it lacks. Returns the number added per date."""
    stored = table_of(StageTransition)
    h = scratch.changes.c
    same = _same_entry(stored)
    await conn.execute(delete(stored).where(stored.c.as_of >= first, ~exists().where(same)))
    missing = ~exists().where(same, stored.c.as_of >= first)
    per_date = select(h.as_of, func.count()).where(missing).group_by(h.as_of)
    added = {day: int(n) for day, n in (await conn.execute(per_date)).all()}
    if added:
        rows = select(*[h[name] for name in _CHANGE_COLUMNS], literal(now, UTCDateTime()))
        await conn.execute(
            insert(stored).from_select([*_CHANGE_COLUMNS, "created_at"], rows.where(missing))
        )
    return added
