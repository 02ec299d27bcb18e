"""Seed 004 §3's 客户关系生命周期管理动态跟踪表, one row per customer: 客户名称, 联系方式 (masked),
当前阶段, 进入当前阶段时间, 阶段转移记录, 首单日期, 最近下单日期, 累计订单数, 累计消费金额, 客单价,
近30天活跃度, 当前策略, 责任人, 跟进记录, 下次跟进时间, and 客户编号 last (the seed's 客户ID).

One statement: customers joined to their stage, their paid-order totals, their stage history
(one aggregated string per customer), their active days and their latest follow-up — each a
grouped subquery over its table, never a query per customer. Python only formats each row.

- Stage, since and history are the latest lifecycle run's; order figures count every paid,
  non-refunded order (as the customer card does).
- 近30天活跃度: the days, among the 30 ending on the export date, on which the customer
  ordered or did anything recorded (activity events), in the configured zone.
- 当前策略 is the stage's playbook (goal: actions); 责任人 the customer's owner, else the
  playbook's owner role; 跟进记录 the latest follow-up (and how many there are);
  下次跟进时间 the date promised then, else the stage's cadence after it (as on the card).
- Rows come by stage (seed 004's order), then by total spent, most recent order, customer id —
  the order `/stage` lists them in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, String, case, cast, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.selectable import Subquery

from models.activity import ActivityEvent, Order
from models.clock import day_start, local_date
from models.customer import Customer
from models.customer_card import average_fen
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
from models.lifecycle.localdays import age_days
from models.masking import mask_name, mask_phone
from models.reports.labels import EN, STAGE_LABELS, label, pick
from models.reports.sheets import Column
from models.staff import FollowUp, Staff
from models.stages import STAGES, CustomerGrade, StageAssignment, StageTransition

ACTIVE_WINDOW_DAYS = 30
# Inside the aggregated history: entries, and the fields of one entry (dates, ids, stage keys
# never hold either character).
_ENTRY_SEP = ";"
_FIELD_SEP = "|"

TEXT = {
    "zh-CN": {
        "title": "客户生命周期跟踪表",
        "note": "阶段截至 {as_of}；订单为全部有效订单；活跃度为截至 {today} 的 30 天（{tz}）",
        "no_run": (
            "尚未分阶段：请先运行 fission lifecycle run；活跃度为截至 {today} 的 30 天（{tz}）"
        ),
        "unclassified": "未分类",
        "strategy": "{goal}：{actions}",
        "actions_sep": "；",
        "unassigned": "未分配（建议：{role}）",
        "nobody": "未分配",
        "follow_up": "{day} {staff}：{note}",
        "follow_ups_more": "（共 {n} 条）",
        "unknown": "未知",
    },
    "en": {
        "title": "Customer lifecycle tracking",
        "note": (
            "Stages as of {as_of}; orders: every paid order; activity: the 30 days to {today} "
            "({tz})"
        ),
        "no_run": (
            "Not classified yet: run fission lifecycle run first; activity: the 30 days to "
            "{today} ({tz})"
        ),
        "unclassified": "unclassified",
        "strategy": "{goal}: {actions}",
        "actions_sep": "; ",
        "unassigned": "unassigned (playbook: {role})",
        "nobody": "unassigned",
        "follow_up": "{day} {staff}: {note}",
        "follow_ups_more": " ({n} in all)",
        "unknown": "unknown",
    },
}


def columns(locale: str) -> tuple[Column, ...]:
    en = locale == EN
    return (
        *person_columns(locale),
        Column("Stage" if en else "当前阶段"),
        Column("In stage since" if en else "进入当前阶段时间", "date"),
        Column("Stage history" if en else "阶段转移记录"),
        Column("First order" if en else "首单日期", "date"),
        Column("Last order" if en else "最近下单日期", "date"),
        Column("Orders" if en else "累计订单数", "int"),
        Column("Total spent" if en else "累计消费金额", "money"),
        Column("Average order" if en else "客单价", "money"),
        Column("Active days (30d)" if en else "近30天活跃度", "int", " days" if en else "天"),
        Column("Strategy" if en else "当前策略"),
        Column("Owner" if en else "责任人"),
        Column("Follow-ups" if en else "跟进记录"),
        Column("Next follow-up" if en else "下次跟进时间", "date"),
        id_column(locale),
    )


def paid_totals() -> Subquery:
    """Each customer's paid, non-refunded orders: count, total, first and last."""
    return (
        select(
            Order.customer_id.label("customer_id"),
            func.count().label("orders"),
            func.sum(Order.amount_fen).label("total_fen"),
            func.min(Order.paid_at).label("first_paid_at"),
            func.max(Order.paid_at).label("last_paid_at"),
        )
        .where(Order.status == "paid")
        .group_by(Order.customer_id)
        .subquery("export_paid")
    )


def _history(dialect: str) -> Subquery:
    """Each customer's transitions as one string; put in order in Python (SQLite's
    group_concat takes no ORDER BY)."""
    t = StageTransition
    day: ColumnElement[str] = (
        func.to_char(t.as_of, "YYYY-MM-DD") if dialect == "postgresql" else cast(t.as_of, String)
    )
    entry = day + _FIELD_SEP + cast(t.id, String) + _FIELD_SEP + t.to_stage
    return (
        select(
            t.customer_id.label("customer_id"),
            func.aggregate_strings(entry, _ENTRY_SEP).label("history"),
        )
        .group_by(t.customer_id)
        .subquery("export_history")
    )


def _active_days(today: date, env: ExportEnv, dialect: str) -> Subquery:
    tz = env.settings.tz
    start = day_start(today - timedelta(days=ACTIVE_WINDOW_DAYS - 1), tz)
    end = day_start(today + timedelta(days=1), tz)
    touches = union_all(
        select(Order.customer_id.label("customer_id"), Order.paid_at.label("at")).where(
            Order.status == "paid", Order.paid_at >= start, Order.paid_at < end
        ),
        select(ActivityEvent.customer_id, ActivityEvent.occurred_at).where(
            ActivityEvent.occurred_at >= start, ActivityEvent.occurred_at < end
        ),
    ).subquery("export_touches")
    day = age_days(touches.c.at, today, tz, dialect)
    return (
        select(touches.c.customer_id, func.count(func.distinct(day)).label("days"))
        .group_by(touches.c.customer_id)
        .subquery("export_active")
    )


def _latest_follow_up() -> Subquery:
    f = FollowUp
    newest_first = (f.created_at.desc(), f.id.desc())
    ranked = select(
        f.customer_id,
        f.staff_id,
        f.note,
        f.created_at,
        f.next_due_on,
        func.row_number().over(partition_by=f.customer_id, order_by=newest_first).label("nth"),
        func.count().over(partition_by=f.customer_id).label("follow_ups"),
    ).subquery("export_follow_ups")
    r = ranked.c
    return (
        select(r.customer_id, r.staff_id, r.note, r.created_at, r.next_due_on, r.follow_ups).where(
            r.nth == 1
        )
    ).subquery("export_latest_follow_up")


def _conditions(filters: ExportFilters) -> list[ColumnElement[bool]]:
    conditions = [filters.owner_condition(Customer.owner_staff_id)]
    if filters.stage is not None:
        conditions.append(StageAssignment.stage == filters.stage)
    if filters.grade is not None:
        conditions.append(CustomerGrade.grade == filters.grade)
    return conditions


def _statement(env: ExportEnv, filters: ExportFilters, dialect: str) -> Rows:
    paid, history = paid_totals(), _history(dialect)
    active, latest = _active_days(env.today, env, dialect), _latest_follow_up()
    owner, writer = aliased(Staff, name="owner"), aliased(Staff, name="writer")
    stage_order = case(
        {stage: n for n, stage in enumerate(STAGES)},
        value=StageAssignment.stage,
        else_=len(STAGES),
    )
    stmt = (
        select(
            Customer.external_id,
            Customer.name,
            Customer.phone,
            StageAssignment.stage,
            StageAssignment.since,
            history.c.history,
            paid.c.orders,
            paid.c.total_fen,
            paid.c.first_paid_at,
            paid.c.last_paid_at,
            active.c.days,
            owner.name.label("owner_name"),
            latest.c.note,
            latest.c.created_at.label("followed_at"),
            latest.c.next_due_on,
            latest.c.follow_ups,
            writer.name.label("writer_name"),
        )
        .select_from(Customer)
        .outerjoin(StageAssignment, StageAssignment.customer_id == Customer.id)
        .outerjoin(paid, paid.c.customer_id == Customer.id)
        .outerjoin(history, history.c.customer_id == Customer.id)
        .outerjoin(active, active.c.customer_id == Customer.id)
        .outerjoin(owner, owner.id == Customer.owner_staff_id)
        .outerjoin(latest, latest.c.customer_id == Customer.id)
        .outerjoin(writer, writer.id == latest.c.staff_id)
    )
    if filters.grade is not None:
        stmt = stmt.join(CustomerGrade, CustomerGrade.customer_id == Customer.id)
    return stmt.where(*_conditions(filters)).order_by(stage_order, *most_valuable_first(paid))


def most_valuable_first(
    paid: Subquery,
) -> tuple[ColumnElement[Any] | InstrumentedAttribute[int], ...]:
    """By total spent, then the most recent order (none last), then customer id: the order of
    the export within a stage, and of `/stage`."""
    return (
        func.coalesce(paid.c.total_fen, 0).desc(),
        case((paid.c.last_paid_at.is_(None), 1), else_=0),
        paid.c.last_paid_at.desc(),
        Customer.id,
    )


async def _count(session: AsyncSession, filters: ExportFilters) -> int:
    stmt = (
        select(func.count())
        .select_from(Customer)
        .outerjoin(StageAssignment, StageAssignment.customer_id == Customer.id)
    )
    if filters.grade is not None:
        stmt = stmt.join(CustomerGrade, CustomerGrade.customer_id == Customer.id)
    return int(await session.scalar(stmt.where(*_conditions(filters))) or 0)


def _history_text(raw: str | None, locale: str) -> str:
    if not raw:
        return ""
    entries = sorted(
        (day, int(ident), stage)
        for day, ident, stage in (entry.split(_FIELD_SEP) for entry in raw.split(_ENTRY_SEP))
    )
    return " → ".join(f"{day} {label(STAGE_LABELS, locale, stage)}" for day, _, stage in entries)


class _Rows:
    """Turns one SQL row into the sheet's row."""

    def __init__(self, env: ExportEnv) -> None:
        self.env = env
        self.text = pick(TEXT, env.locale)

    def __call__(self, row: Row[Any]) -> ExportRow:
        settings, locale, text = self.env.settings, self.env.locale, self.text
        tz = settings.tz
        play = settings.playbook.play(row.stage, locale) if row.stage else None
        orders, total = int(row.orders or 0), int(row.total_fen or 0)
        strategy = (
            text["strategy"].format(goal=play.goal, actions=text["actions_sep"].join(play.actions))
            if play
            else ""
        )
        if row.owner_name:
            owner = row.owner_name
        elif play:
            owner = text["unassigned"].format(role=play.owner)
        else:
            owner = text["nobody"]
        follow_up, next_due = "", None
        if row.followed_at is not None:
            followed_on = local_date(row.followed_at, tz)
            follow_up = text["follow_up"].format(
                day=followed_on,
                staff=row.writer_name or text["unknown"],
                note=" ".join(row.note.split()),
            )
            if row.follow_ups > 1:
                follow_up += text["follow_ups_more"].format(n=row.follow_ups)
            next_due = play.next_due(followed_on, row.next_due_on) if play else row.next_due_on
        return (
            mask_name(row.name),
            mask_phone(row.phone),
            label(STAGE_LABELS, locale, row.stage) if row.stage else text["unclassified"],
            row.since,
            _history_text(row.history, locale),
            local_date(row.first_paid_at, tz) if row.first_paid_at else None,
            local_date(row.last_paid_at, tz) if row.last_paid_at else None,
            orders,
            total,
            average_fen(total, orders) if orders else None,
            int(row.days or 0),
            strategy,
            owner,
            follow_up,
            next_due,
            row.external_id,
        )


async def lifecycle_table(
    session: AsyncSession, env: ExportEnv, filters: ExportFilters
) -> ExportTable:
    dialect = session.get_bind().dialect.name
    stmt = _statement(env, filters, dialect)
    return ExportTable(
        kind="lifecycle",
        title=pick(TEXT, env.locale)["title"],
        columns=columns(env.locale),
        total=await _count(session, filters),
        batches=stream_rows(session, stmt, _Rows(env)),
        note=await run_note(
            session, pick(TEXT, env.locale), today=env.today.isoformat(), tz=str(env.settings.tz)
        ),
    )
