"""The stage rules of DESIGN.md §2.1 as one CASE over per-customer metrics, first match wins.

One statement writes every customer's verdict into the `lc_results` scratch table: the rule
that fired (a short stable id), the stage it implies, the numbers behind it as JSON (the
"receipt" a staff member reads when asking why), and what was stored before (the whole stored
row), so the history and the writes that follow are plain set operations.

Rule ids: churned.closed, churned.inactive, prospect.qualified, prospect.no_order,
declining.inactive, declining.usage_drop, declining.support_drop, mature.signals,
growing.repeat_orders, growing.repeat_aov, growing.core_features, new.first_order, and for the
grey zone hold.grey_zone (kept growing or mature) and default.growing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    FromClause,
    Select,
    String,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from config.rules import LifecycleRules
from models.customer import Customer
from models.lifecycle import scratch
from models.lifecycle.localdays import local_date_text, sql_int
from models.lifecycle.metrics import repeats_recent
from models.lifecycle.sqljson import json_name_list, json_object
from models.lifecycle.windows import Windows, exact
from models.stages import StageAssignment

# Rule id → stage. `hold.grey_zone` keeps the stored stage (growing or mature).
RULE_STAGES: dict[str, str] = {
    "churned.closed": "churned",
    "churned.inactive": "churned",
    "prospect.qualified": "prospect",
    "prospect.no_order": "prospect",
    "declining.inactive": "declining",
    "declining.usage_drop": "declining",
    "declining.support_drop": "declining",
    "mature.signals": "mature",
    "growing.repeat_orders": "growing",
    "growing.repeat_aov": "growing",
    "growing.core_features": "growing",
    "new.first_order": "new",
    "default.growing": "growing",
}
LADDER = tuple(RULE_STAGES)[:-1]  # the rule table in order; default.growing is the fallback
GREY_ZONE_RULES = ("hold.grey_zone", "default.growing")
HELD_STAGES = ("growing", "mature")


def _const(value: str) -> ColumnElement[str]:
    return literal(value, String)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, sql_int(1)), else_=sql_int(0))


def _zero(column: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(column, sql_int(0))


def ordered_in_90_days() -> ColumnElement[int]:
    o = scratch.order_metrics.c
    return o.orders_recent + o.orders_previous + o.orders_earliest


async def top_revenue_line(conn: AsyncConnection, rules: LifecycleRules) -> int | None:
    """The 90-day revenue at or above which a customer is in the top share of revenue
    (DESIGN.md §2.1: fewer than `share` × N customers with orders in the 90 days earned
    strictly more); None when nobody can be.

    With m = ⌈share × N⌉, "fewer than share × N ahead" means at most m − 1 ahead, which holds
    exactly for values ≥ the m-th largest. One bounded top-m sort instead of ranking every
    customer, and a number the verdict compares against rather than a rank to join back.
    """
    o = scratch.order_metrics.c
    active = select(o.revenue_90d_fen).where(ordered_in_90_days() > 0)
    counted = select(func.count()).select_from(active.subquery())
    n = int((await conn.execute(counted)).scalar_one())
    share = exact(rules.mature_top_revenue_share)
    m = (n * share.numerator + share.denominator - 1) // share.denominator
    if m < 1:
        return None
    line = active.order_by(o.revenue_90d_fen.desc()).offset(m - 1).limit(1)
    return int((await conn.execute(line)).scalar_one())


@dataclass(frozen=True)
class _Ladder:
    """Every customer's row of inputs, as expressions over `source`: `conditions` are the
    rungs in order (the rule table, then the grey zone's re-run and hold), `values` the
    numbers the receipts show and the stored row (prev_*)."""

    source: FromClause
    conditions: list[ColumnElement[bool]]
    values: dict[str, ColumnElement[Any]]


def _ladder(
    w: Windows,
    rules: LifecycleRules,
    same_day_rerun: bool,
    revenue_line: int | None,
    previous: FromClause,
) -> _Ladder:
    """`same_day_rerun`: the previous verdicts are from a run for this same T. `revenue_line`:
    see `top_revenue_line`. `previous`: the previous verdicts (see `write_verdicts`)."""
    c = Customer.__table__.c
    om = scratch.order_metrics
    o = om.c
    e = scratch.event_metrics.c
    r = scratch.referral_metrics.c
    p = previous.c

    ordered_90d = ordered_in_90_days()

    has_order = o.customer_id.is_not(None)
    views = _zero(e.views_recent)
    campaign_joins = _zero(e.campaign_joins)
    lead_forms = _zero(e.lead_forms)
    usage_recent, usage_previous = _zero(e.usage_recent), _zero(e.usage_previous)
    support_recent, support_previous = _zero(e.support_recent), _zero(e.support_previous)
    core_features = _zero(e.core_features_recent)
    referrals = _zero(r.referrals)

    by_views = views >= rules.qualified_min_views
    by_campaign = campaign_joins > 0
    by_lead_form = lead_forms > 0
    usage_ratio = exact(rules.usage_drop_ratio)
    usage_drop = and_(
        usage_previous >= rules.usage_min_previous,
        usage_recent * usage_ratio.denominator <= usage_previous * usage_ratio.numerator,
    )
    support_ratio = exact(rules.support_drop_ratio)
    support_drop = and_(
        support_previous >= rules.support_min_previous,
        (support_previous - support_recent) * support_ratio.denominator
        >= support_previous * support_ratio.numerator,
    )
    no_lapse = and_(o.orders_recent > 0, o.orders_previous > 0, o.orders_earliest > 0)
    top_revenue = (
        and_(ordered_90d > 0, o.revenue_90d_fen >= revenue_line)
        if revenue_line is not None
        else false()
    )
    has_referrals = referrals >= rules.mature_min_referrals
    signals = _flag(no_lapse) + _flag(top_revenue) + _flag(has_referrals)
    repeats = repeats_recent(w)
    first_fen_if_recent = case((o.first_at >= w.recent_start, o.first_fen), else_=sql_int(0))
    repeat_revenue = o.revenue_recent_fen - first_fen_if_recent
    aov_ratio = exact(rules.growing_repeat_aov_ratio)
    repeat_aov = and_(
        repeats >= 1,
        o.first_fen.is_not(None),
        repeat_revenue * aov_ratio.denominator >= o.first_fen * repeats * aov_ratio.numerator,
    )
    closed = and_(c.status == "closed", or_(c.closed_at.is_(None), c.closed_at < w.end))
    # Each rule's condition; LADDER gives their order, and the first that holds wins.
    conditions: dict[str, ColumnElement[bool]] = {
        "churned.closed": closed,
        "churned.inactive": and_(has_order, o.last_at < w.churned_before),
        "prospect.qualified": and_(~has_order, or_(by_views, by_campaign, by_lead_form)),
        "prospect.no_order": ~has_order,
        "declining.inactive": o.last_at < w.declining_before,
        "declining.usage_drop": usage_drop,
        "declining.support_drop": support_drop,
        "mature.signals": signals >= rules.mature_min_signals,
        "growing.repeat_orders": repeats >= rules.growing_min_repeat_orders,
        "growing.repeat_aov": repeat_aov,
        "growing.core_features": core_features >= rules.growing_min_core_features,
        "new.first_order": o.first_at >= w.new_since,
    }
    # Grey zone. A second run for the same T must not read its own first verdict as "the
    # previous stage" (default.growing would turn into hold.grey_zone), so a grey-zone verdict
    # already stored for this T stands.
    rerun_grey = p.rule.in_(GREY_ZONE_RULES) if same_day_rerun else false()
    held = p.stage.in_(HELD_STAGES)
    values: dict[str, ColumnElement[Any]] = {
        "customer_id": c.id,
        "prev_stage": p.stage,
        "prev_since": p.since,
        "prev_rule": p.rule,
        "prev_metrics": p.metrics,
        "prev_qualified": p.qualified,
        "orders": _zero(o.orders),
        "first_at": o.first_at,
        "last_at": o.last_at,
        "views": views,
        "campaign_joins": campaign_joins,
        "lead_forms": lead_forms,
        "usage_recent": usage_recent,
        "usage_previous": usage_previous,
        "support_recent": support_recent,
        "support_previous": support_previous,
        "core_features": core_features,
        "no_lapse": _flag(no_lapse),
        "top_revenue": _flag(top_revenue),
        "referrals": referrals,
        "revenue_90d_fen": o.revenue_90d_fen,
        "repeats": repeats,
        "repeat_revenue": repeat_revenue,
        "first_fen": o.first_fen,
    }
    joined = (
        Customer.__table__.outerjoin(om, o.customer_id == c.id)
        .outerjoin(scratch.event_metrics, e.customer_id == c.id)
        .outerjoin(scratch.referral_metrics, r.customer_id == c.id)
        .outerjoin(previous, p.customer_id == c.id)
    )
    rungs = [conditions[name] for name in LADDER] + [rerun_grey, held]
    return _Ladder(source=joined, conditions=rungs, values=values)


# Picks one of the outcomes listed per rung (the rule table's, the re-run's and the hold's,
# then the default's) for each customer.
Pick = Callable[[list[ColumnElement[Any]]], ColumnElement[Any]]


def _verdict(
    v: Any, pick: Pick, w: Windows, rules: LifecycleRules, tz: tzinfo, dialect: str
) -> Select[Any]:
    """The columns of `lc_results`: `v` names the ladder's values, `pick` chooses among
    outcomes by the rung that fired."""
    receipts = _receipts(v, w, rules, tz, dialect)
    grey = receipts["grey_zone"]
    rule = pick(
        [
            *(_const(name) for name in LADDER),
            v.prev_rule,
            _const("hold.grey_zone"),
            _const("default.growing"),
        ]
    )
    stage = pick(
        [
            *(_const(RULE_STAGES[name]) for name in LADDER),
            v.prev_stage,
            v.prev_stage,
            _const("growing"),
        ]
    )
    metrics = pick([*(receipts[name] for name in LADDER), grey, grey, grey])
    qualified = pick(
        [*(literal(name == "prospect.qualified", Boolean) for name in LADDER), *[false()] * 3]
    )
    changed = or_(v.prev_stage.is_(None), v.prev_stage != stage)
    since = case((changed, literal(w.as_of, Date)), else_=v.prev_since)
    return select(
        v.customer_id,
        stage,
        rule,
        metrics,
        qualified,
        since,
        v.prev_stage,
        v.prev_rule,
        v.prev_metrics,
        v.prev_qualified,
        v.prev_since,
    )


def _receipts(
    v: Any, w: Windows, rules: LifecycleRules, tz: tzinfo, dialect: str
) -> dict[str, ColumnElement[Any]]:
    """The JSON stored with each rule: the numbers behind the verdict."""

    def obj(*pairs: tuple[str, ColumnElement[Any]]) -> ColumnElement[Any]:
        return json_object(dialect, pairs)

    def names(*pairs: tuple[str, ColumnElement[bool]]) -> ColumnElement[Any]:
        return json_name_list(dialect, pairs)

    # Dates, not "days ago": a receipt then stays the same from one day's run to the next
    # unless the customer's numbers change, and unchanged rows are not rewritten.
    last_order_on = local_date_text(v.last_at, w.as_of, tz, dialect)
    inactive = obj(("last_order_on", last_order_on), ("orders", v.orders))
    return {
        "churned.closed": obj(("orders", v.orders)),
        "churned.inactive": inactive,
        "prospect.qualified": obj(
            (
                "reasons",
                names(
                    ("views", v.views >= rules.qualified_min_views),
                    ("campaign_join", v.campaign_joins > 0),
                    ("lead_form", v.lead_forms > 0),
                ),
            ),
            ("views_recent", v.views),
            ("campaign_joins", v.campaign_joins),
            ("lead_forms", v.lead_forms),
        ),
        "prospect.no_order": obj(("views_recent", v.views)),
        "declining.inactive": inactive,
        "declining.usage_drop": obj(
            ("usage_recent", v.usage_recent), ("usage_previous", v.usage_previous)
        ),
        "declining.support_drop": obj(
            ("support_recent", v.support_recent), ("support_previous", v.support_previous)
        ),
        "mature.signals": obj(
            (
                "signals",
                names(
                    ("no_lapse", v.no_lapse == 1),
                    ("top_revenue", v.top_revenue == 1),
                    ("referrals", v.referrals >= rules.mature_min_referrals),
                ),
            ),
            ("revenue_90d_fen", v.revenue_90d_fen),
            ("referrals", v.referrals),
        ),
        "growing.repeat_orders": obj(("repeat_orders_recent", v.repeats)),
        "growing.repeat_aov": obj(
            ("repeat_orders_recent", v.repeats),
            ("repeat_revenue_recent_fen", v.repeat_revenue),
            ("first_order_fen", v.first_fen),
        ),
        "growing.core_features": obj(("core_features_recent", v.core_features)),
        "new.first_order": obj(
            ("first_order_on", local_date_text(v.first_at, w.as_of, tz, dialect))
        ),
        "grey_zone": obj(("orders", v.orders), ("last_order_on", last_order_on)),
    }


async def write_verdicts(
    conn: AsyncConnection,
    w: Windows,
    rules: LifecycleRules,
    tz: tzinfo,
    *,
    same_day_rerun: bool,
    previous: FromClause = StageAssignment.__table__,
) -> None:
    """Every customer's verdict as of `w.as_of` into `lc_results`, beside the previous one
    read from `previous`: the stored stages (`stage_assignments`) in a run for a date after
    them, or each customer's stage at the date before when history is recomputed
    (`lc_state`, history.py)."""
    line = await top_revenue_line(conn, rules)
    dialect = conn.dialect.name
    ladder = _ladder(w, rules, same_day_rerun, line, previous)
    if dialect == "postgresql":
        # One statement, the rungs' conditions written out in each CASE that picks by them
        # (first match wins, as in the rule table): the joins and every receipt are then
        # computed by the parallel workers, and no table of inputs is written and read back.
        # Each CASE stops at the first condition that holds, so the five of them cost a few
        # comparisons per customer more than computing the rung once.
        def by_condition(outcomes: list[ColumnElement[Any]]) -> ColumnElement[Any]:
            *chosen, default = outcomes
            return case(*zip(ladder.conditions, chosen, strict=True), else_=default)

        values = SimpleNamespace(**ladder.values)
        query = _verdict(values, by_condition, w, rules, tz, dialect).select_from(ladder.source)
    else:
        # SQLite runs one process: the rung is computed once per customer into a materialized
        # CTE, and the verdict picks by its number.
        rung = case(
            *[(cond, sql_int(index)) for index, cond in enumerate(ladder.conditions)],
            else_=sql_int(len(ladder.conditions)),
        )
        inputs = select(
            rung.label("rung"), *[expr.label(name) for name, expr in ladder.values.items()]
        ).select_from(ladder.source)
        cte = inputs.cte("lc_inputs").prefix_with("MATERIALIZED")

        def by_rung(outcomes: list[ColumnElement[Any]]) -> ColumnElement[Any]:
            *chosen, default = outcomes
            return case(*[(cte.c.rung == i, x) for i, x in enumerate(chosen)], else_=default)

        query = _verdict(cte.c, by_rung, w, rules, tz, dialect)
    await scratch.fill(conn, scratch.results, query)
