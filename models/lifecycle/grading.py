"""A/B/C grades (DESIGN.md §2.2), from the same per-customer order metrics as the stages.

Who is graded: every customer with at least one paid, non-refunded order up to T (closed
accounts included: a grade measures what the customer bought). Nobody else has a grade; a grade
left from an earlier run for someone who no longer qualifies is deleted.

Metrics: frequency = orders in the last `frequency_window_days` (age 0 .. 364 by default);
AOV = lifetime paid total / paid orders, rounded half up to whole fen (the number shown is the
number ranked); LTV = lifetime paid total.

Percentile mode (default), with N graded customers:
- each metric becomes a percentile rank, the share of graded customers whose value is less
  than or equal to this one (SQL `CUME_DIST`): the best value scores 1, ties score alike, and a
  lone customer scores 1;
- score = weighted mean of the three ranks, in (0, 1]. It is compared in exact integers
  (weights scaled to whole numbers, ranks kept as counts over the common N), so two customers
  with the same metrics always have the same score and float rounding never splits a tie;
- grade by how many customers score strictly higher ("ahead"): A when ahead < `a_share` × N,
  B when ahead < (`a_share` + `b_share`) × N, else C. Tied customers therefore share the
  better grade and a cut never falls inside a group of equal scores. With 10 customers and
  distinct scores: 2 A, 3 B, 5 C. If the 2nd and 3rd tie, both are A (1 ahead of them), the
  4th and 5th are B (3 and 4 ahead), the 6th is C (5 ahead): 3 A, 2 B, 5 C.

Thresholds mode: A when all three A minimums are met, else B when all three B minimums are
met, else C (frequency, AOV, LTV in fen). The percentile score is still shown for reference.

The score is not stored: it moves for nearly every customer every day, and storing it would
rewrite every grade row nightly. `percentile_score` computes it from the stored rows.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from math import lcm
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.selectable import Subquery

from config.rules import GradingRules
from models.lifecycle import scratch
from models.lifecycle.localdays import sql_int
from models.lifecycle.store import save_changes, table_of
from models.lifecycle.windows import exact
from models.stages import GRADES, CustomerGrade


def integer_weights(rules: GradingRules) -> tuple[int, int, int]:
    """The three weights scaled to the smallest whole numbers with the same ratios."""
    weights = [exact(rules.weight_frequency), exact(rules.weight_aov), exact(rules.weight_ltv)]
    scale = lcm(*(w.denominator for w in weights))
    scaled = [int(w * scale) for w in weights]
    return scaled[0], scaled[1], scaled[2]


async def grade(conn: AsyncConnection, rules: GradingRules) -> None:
    o = scratch.order_metrics.c
    aov = (o.ltv_fen * 2 + o.orders) // (o.orders * 2)
    base = select(
        o.customer_id,
        o.orders_year.label("frequency"),
        aov.label("aov"),
        o.ltv_fen.label("ltv"),
    ).subquery("lc_grade_base")
    b = base.c
    frequency_rank, frame = _frequency_rank(conn, base)
    ranked = (
        select(
            b.customer_id,
            b.frequency,
            b.aov,
            b.ltv,
            # N, once: a scalar count is cheaper than a whole-table window over every row
            select(func.count())
            .select_from(scratch.order_metrics)
            .correlate(None)
            .scalar_subquery()
            .label("n"),
            # values <= mine = N - (values > mine) = N + 1 - rank in descending order
            frequency_rank.label("r_frequency"),
            func.rank().over(order_by=b.aov.desc()).label("r_aov"),
            func.rank().over(order_by=b.ltv.desc()).label("r_ltv"),
        )
        .select_from(frame)
        .subquery("lc_grade_ranks")
    )
    r = ranked.c
    wf, wa, wl = integer_weights(rules)
    below = r.n + 1
    key = (
        (below - r.r_frequency) * sql_int(wf)
        + (below - r.r_aov) * sql_int(wa)
        + (below - r.r_ltv) * sql_int(wl)
    )
    scored = select(r.customer_id, r.frequency, r.aov, r.ltv, r.n, key.label("score_key")).subquery(
        "lc_grade_scores"
    )
    s = scored.c
    placed = select(
        s.customer_id,
        s.frequency,
        s.aov,
        s.ltv,
        s.n,
        s.score_key,
        (func.rank().over(order_by=s.score_key.desc()) - 1).label("ahead"),
    ).subquery("lc_grade_places")
    g = placed.c

    if rules.mode == "thresholds":
        letter = case(
            (
                and_(
                    g.frequency >= rules.a_min_orders,
                    g.aov >= rules.a_min_aov_fen,
                    g.ltv >= rules.a_min_ltv_fen,
                ),
                literal("A", String),
            ),
            (
                and_(
                    g.frequency >= rules.b_min_orders,
                    g.aov >= rules.b_min_aov_fen,
                    g.ltv >= rules.b_min_ltv_fen,
                ),
                literal("B", String),
            ),
            else_=literal("C", String),
        )
    else:
        a_cut = exact(rules.a_share)
        b_cut = a_cut + exact(rules.b_share)
        letter = case(
            (_ahead_below(g.ahead, g.n, a_cut), literal("A", String)),
            (_ahead_below(g.ahead, g.n, b_cut), literal("B", String)),
            else_=literal("C", String),
        )
    cg = table_of(CustomerGrade).c
    graded = select(
        g.customer_id,
        letter,
        g.frequency,
        g.aov,
        g.ltv,
        cg.grade,
        cg.orders_365d,
        cg.aov_fen,
        cg.ltv_fen,
    ).select_from(placed.outerjoin(table_of(CustomerGrade), cg.customer_id == g.customer_id))
    await scratch.fill(conn, scratch.grades, graded)


def _frequency_rank(conn: AsyncConnection, base: Subquery) -> tuple[ColumnElement[int], Any]:
    """Each graded customer's rank by descending frequency, and what to select it from.

    PostgreSQL: the frequency takes few distinct values (orders in a year), so the rank comes
    from a histogram of them joined back (rank = 1 + customers with a higher value) rather
    than from sorting every graded customer once more (~1 s of 6 for 770k). SQLite sorts
    faster than it joins that histogram back: there, the window."""
    b = base.c
    if conn.dialect.name != "postgresql":
        return func.rank().over(order_by=b.frequency.desc()), base
    o = scratch.order_metrics.c
    histogram = (
        select(o.orders_year.label("frequency"), func.count().label("customers"))
        .group_by(o.orders_year)
        .subquery("lc_grade_frequencies")
    )
    h = histogram.c
    ranks = select(
        h.frequency,
        cast(
            func.sum(h.customers).over(order_by=h.frequency.desc()) - h.customers + 1,
            BigInteger,
        ).label("r_frequency"),
    ).subquery("lc_grade_frequency_ranks")
    return ranks.c.r_frequency, base.join(ranks, ranks.c.frequency == b.frequency)


def _ahead_below(
    ahead: ColumnElement[int], n: ColumnElement[int], share: Fraction
) -> ColumnElement[bool]:
    """`ahead < share × n`, in integers."""
    return ahead * share.denominator < n * share.numerator


async def save_grades(conn: AsyncConnection, now: datetime) -> int:
    """Rewrite changed grades, add new ones, delete those of customers no longer graded;
    returns the number added."""
    t = scratch.grades.c
    cg = table_of(CustomerGrade)
    inserted = await save_changes(conn, cg, scratch.grades, scratch.grade_rewrites, "grade", now)
    # Every graded customer now has a row; more rows than graded customers means stale ones
    # (all orders refunded, or a run for an earlier T). Rare: count before paying for the
    # anti-join that finds them.
    graded = (await conn.execute(select(func.count()).select_from(scratch.grades))).scalar_one()
    rows = (await conn.execute(select(func.count()).select_from(cg))).scalar_one()
    if rows > graded:
        still = select(t.customer_id).where(t.customer_id == CustomerGrade.customer_id)
        await conn.execute(delete(CustomerGrade).where(~exists(still)))
    return inserted


async def percentile_score(
    executor: AsyncSession | AsyncConnection, grade: CustomerGrade, rules: GradingRules
) -> float:
    """The score behind a stored grade, from the stored metrics of every graded customer:
    the weighted mean of the three percentile ranks (share of graded customers whose value is
    less than or equal to this one) — the number the run ranked by, as long as no run has
    happened since the row was read. One pass over `customer_grades`."""
    cg = CustomerGrade.__table__.c
    row = (
        await executor.execute(
            select(
                func.count(),
                func.count().filter(cg.orders_365d <= grade.orders_365d),
                func.count().filter(cg.aov_fen <= grade.aov_fen),
                func.count().filter(cg.ltv_fen <= grade.ltv_fen),
            )
        )
    ).one()
    graded, at_or_below = int(row[0]), [int(v) for v in row[1:]]
    if graded == 0:
        return 0.0
    weights = integer_weights(rules)
    key = sum(w * n for w, n in zip(weights, at_or_below, strict=True))
    return key / (graded * sum(weights))


async def grade_counts(conn: AsyncConnection) -> dict[str, int]:
    t = scratch.grades.c
    rows = await conn.execute(select(t.grade, func.count()).group_by(t.grade))
    found = {letter: int(n) for letter, n in rows.all()}
    return {letter: found.get(letter, 0) for letter in GRADES}
