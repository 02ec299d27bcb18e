"""Seed 002's 客户分级管理表格, from the stored grades: 客户名称, 联系方式, 购买频率, 单次消费金额,
客户生命周期价值, 等级, 备注 (the score and why), plus 客户编号 last, to act on a row.

The score is the one the card shows (`models.lifecycle.grading.percentile_score`): the weighted
mean of each metric's percentile rank among the graded customers. Here it is computed for all
of them in the same statement that streams the rows — three window ranks over
`customer_grades` — rather than by one count per customer. Rows come best first: by grade,
then by score, then by customer id; `/grade A` pages through the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from config.rules import GradingRules
from models.customer import Customer
from models.exports.table import (
    ExportEnv,
    ExportFilters,
    ExportRow,
    ExportTable,
    Rows,
    id_column,
    person_columns,
    run_note,
    stream_rows,
)
from models.lifecycle.grading import integer_weights
from models.lifecycle.localdays import sql_int
from models.lifecycle.windows import exact
from models.masking import mask_name, mask_phone
from models.money import format_fen
from models.reports.labels import EN, pick
from models.reports.sheets import Column
from models.stages import CustomerGrade

TEXT = {
    "zh-CN": {
        "title": "客户分级表",
        "note": (
            "分级截至 {as_of}（{tz}）；购买频率为近一年订单数，单次消费金额为平均每单金额，"
            "客户生命周期价值为累计消费"
        ),
        "no_run": "尚未分级：请先运行 fission lifecycle run",
        "score": (
            "得分 {score}（购买频率、单次消费、生命周期价值的百分位 {f}、{a}、{v} 的加权平均）"
        ),
        "a_share": "A 级：得分前 {a}%",
        "b_share": "B 级：得分前 {a}%–{ab}%",
        "c_share": "C 级：得分后 {c}%",
        "a_min": "A 级门槛：{rules}",
        "b_min": "B 级门槛：{rules}",
        "below_b": "未达 B 级门槛（{rules}）",
        "orders_min": "近一年≥{n} 单",
        "aov_min": "单次消费≥{amount}",
        "ltv_min": "累计≥{amount}",
        "none": "无",
        "sep": "；",
        "list_sep": "、",
    },
    "en": {
        "title": "Customer grades",
        "note": (
            "Grades as of {as_of} ({tz}); frequency = orders in the last year, order value = "
            "average per order, lifetime value = total paid"
        ),
        "no_run": "Not graded yet: run fission lifecycle run first",
        "score": (
            "score {score} (weighted mean of the percentile ranks {f}, {a}, {v} of frequency, "
            "order value and lifetime value)"
        ),
        "a_share": "A: top {a}% of scores",
        "b_share": "B: top {a}%–{ab}% of scores",
        "c_share": "C: bottom {c}% of scores",
        "a_min": "A thresholds: {rules}",
        "b_min": "B thresholds: {rules}",
        "below_b": "below the B thresholds ({rules})",
        "orders_min": "≥{n} orders a year",
        "aov_min": "order value ≥{amount}",
        "ltv_min": "lifetime ≥{amount}",
        "none": "none",
        "sep": "; ",
        "list_sep": ", ",
    },
}


def columns(locale: str) -> tuple[Column, ...]:
    en = locale == EN
    return (
        *person_columns(locale),
        Column("Purchase frequency" if en else "购买频率", "int", " orders/yr" if en else "次/年"),
        Column("Order value" if en else "单次消费金额", "money"),
        Column("Lifetime value" if en else "客户生命周期价值", "money"),
        Column("Grade" if en else "等级"),
        Column("Note" if en else "备注"),
        id_column(locale),
    )


@dataclass(frozen=True)
class GradeLine:
    """One graded customer, masked, with the score behind the grade."""

    external_id: str
    masked_name: str
    masked_phone: str
    grade: str
    orders_365d: int
    aov_fen: int
    ltv_fen: int
    graded: int  # N, the customers graded
    # graded customers whose value is at most this one's, per metric
    at_or_below: tuple[int, int, int]
    score: float


def _statement(rules: GradingRules, filters: ExportFilters) -> Rows:
    g = CustomerGrade
    graded = select(func.count()).select_from(CustomerGrade).correlate(None).scalar_subquery()
    ranked = select(
        g.customer_id,
        g.grade,
        g.orders_365d,
        g.aov_fen,
        g.ltv_fen,
        graded.label("n"),
        # values <= mine = N + 1 - rank in descending order (as in the grading run)
        func.rank().over(order_by=g.orders_365d.desc()).label("r_frequency"),
        func.rank().over(order_by=g.aov_fen.desc()).label("r_aov"),
        func.rank().over(order_by=g.ltv_fen.desc()).label("r_ltv"),
    ).subquery("export_graded")
    r = ranked.c
    below = r.n + 1
    le_frequency, le_aov, le_ltv = below - r.r_frequency, below - r.r_aov, below - r.r_ltv
    wf, wa, wl = integer_weights(rules)
    key = le_frequency * sql_int(wf) + le_aov * sql_int(wa) + le_ltv * sql_int(wl)
    return (
        select(
            Customer.external_id,
            Customer.name,
            Customer.phone,
            r.grade,
            r.orders_365d,
            r.aov_fen,
            r.ltv_fen,
            r.n,
            le_frequency.label("le_frequency"),
            le_aov.label("le_aov"),
            le_ltv.label("le_ltv"),
            key.label("score_key"),
        )
        .select_from(ranked)
        .join(Customer, Customer.id == r.customer_id)
        .where(*_conditions(r.grade, filters))
        .order_by(r.grade, key.desc(), Customer.id)
    )


def _conditions(
    grade: ColumnElement[str] | InstrumentedAttribute[str], filters: ExportFilters
) -> list[ColumnElement[bool]]:
    conditions = [filters.owner_condition(Customer.owner_staff_id)]
    if filters.grade is not None:
        conditions.append(grade == filters.grade)
    return conditions


async def _count(session: AsyncSession, filters: ExportFilters) -> int:
    """Rows the export will have, without ranking anybody."""
    stmt = (
        select(func.count())
        .select_from(CustomerGrade)
        .join(Customer, Customer.id == CustomerGrade.customer_id)
        .where(*_conditions(CustomerGrade.grade, filters))
    )
    return int(await session.scalar(stmt) or 0)


def _line(row: Row[Any], weights: int) -> GradeLine:
    """`weights`: the sum of the integer weights the score key was built with."""
    graded = int(row.n)
    return GradeLine(
        external_id=row.external_id,
        masked_name=mask_name(row.name),
        masked_phone=mask_phone(row.phone),
        grade=row.grade,
        orders_365d=int(row.orders_365d),
        aov_fen=int(row.aov_fen),
        ltv_fen=int(row.ltv_fen),
        graded=graded,
        at_or_below=(int(row.le_frequency), int(row.le_aov), int(row.le_ltv)),
        score=int(row.score_key) / (graded * weights) if graded else 0.0,
    )


def _percent(share: Fraction) -> str:
    return str(int(share * 100 + Fraction(1, 2)))


def _thresholds(orders: int, aov: int, ltv: int, text: Mapping[str, str]) -> str:
    parts = [text["orders_min"].format(n=orders)] if orders else []
    if aov:
        parts.append(text["aov_min"].format(amount=format_fen(aov)))
    if ltv:
        parts.append(text["ltv_min"].format(amount=format_fen(ltv)))
    return text["list_sep"].join(parts) or text["none"]


class _Rows:
    """SQL rows to grade lines and sheet rows; the rule texts are worked out once."""

    def __init__(self, rules: GradingRules, locale: str) -> None:
        self.weights = sum(integer_weights(rules))
        self.text = text = pick(TEXT, locale)
        if rules.mode == "thresholds":
            a = _thresholds(rules.a_min_orders, rules.a_min_aov_fen, rules.a_min_ltv_fen, text)
            b = _thresholds(rules.b_min_orders, rules.b_min_aov_fen, rules.b_min_ltv_fen, text)
            self.rules = {
                "A": text["a_min"].format(rules=a),
                "B": text["b_min"].format(rules=b),
                "C": text["below_b"].format(rules=b),
            }
        else:
            a_share, b_share = exact(rules.a_share), exact(rules.b_share)
            shares = {
                "a": _percent(a_share),
                "ab": _percent(a_share + b_share),
                "c": _percent(1 - a_share - b_share),
            }
            self.rules = {
                grade: text[f"{grade.lower()}_share"].format(**shares) for grade in ("A", "B", "C")
            }

    def line(self, row: Row[Any]) -> GradeLine:
        return _line(row, self.weights)

    def why(self, line: GradeLine) -> str:
        """备注: the score, its three percentile ranks, and the rule that gave the grade."""
        ranks = [
            f"{_percent(Fraction(n, line.graded))}%" if line.graded else "—"
            for n in line.at_or_below
        ]
        score = self.text["score"].format(
            score=f"{line.score:.2f}", f=ranks[0], a=ranks[1], v=ranks[2]
        )
        return self.text["sep"].join([score, self.rules[line.grade]])

    def __call__(self, row: Row[Any]) -> ExportRow:
        line = self.line(row)
        return (
            line.masked_name,
            line.masked_phone,
            line.orders_365d,
            line.aov_fen,
            line.ltv_fen,
            line.grade,
            self.why(line),
            line.external_id,
        )


async def grades_table(
    session: AsyncSession, env: ExportEnv, filters: ExportFilters
) -> ExportTable:
    rules, locale = env.settings.grading, env.locale
    stmt = _statement(rules, filters)
    return ExportTable(
        kind="grades",
        title=pick(TEXT, locale)["title"],
        columns=columns(locale),
        total=await _count(session, filters),
        batches=stream_rows(session, stmt, _Rows(rules, locale)),
        note=await run_note(session, pick(TEXT, locale), tz=str(env.settings.tz)),
    )


async def grade_page(
    session: AsyncSession, rules: GradingRules, grade: str, *, offset: int, limit: int
) -> tuple[int, list[GradeLine]]:
    """How many customers have `grade`, and `limit` of them from `offset` on, in the export's
    order (best score first)."""
    filters = ExportFilters(grade=grade)
    total = await _count(session, filters)
    stmt = _statement(rules, filters)
    rows = (await session.execute(stmt.offset(offset).limit(limit))).all()
    weights = sum(integer_weights(rules))
    return total, [_line(row, weights) for row in rows]
