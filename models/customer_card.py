"""Finding a customer from what a staff member types, and the card that answers "who is this".

The card is plain data (frozen dataclasses, masked personal fields, money in fen, local dates)
so the CLI, the chat `/customer` command and the HTTP API render the same facts; text rendering
lives in `handlers/customer_card_text.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, true

from config.rules import GradingRules
from models.activity import Order
from models.clock import day_start, local_date
from models.customer import Customer
from models.db import Database
from models.lifecycle.grading import percentile_score
from models.masking import mask_name, mask_phone
from models.reach import Reach, reach_of
from models.referral.tables import ReferralCode, ReferralProgram
from models.staff import FollowUp, Staff
from models.stages import CustomerGrade, StageAssignment, StageTransition, latest_run_as_of

RECENT_FOLLOW_UPS = 3
# A query is read as a phone number when it holds nothing but digits and phone punctuation and
# at least this many digits (shorter digit strings are more likely part of an external id).
_PHONE_QUERY = re.compile(r"^\+?[\d\s\-()]+$")
_MIN_PHONE_DIGITS = 7
_NON_DIGITS = re.compile(r"\D")


class CustomerNotFound(LookupError):
    """No customer with that id (it may have been deleted since it was found)."""


@dataclass(frozen=True)
class CustomerMatch:
    """One line of a "which customer did you mean" list; personal data already masked."""

    customer_id: int
    external_id: str
    masked_name: str
    masked_phone: str
    stage: str | None
    matched_by: str  # "external_id" | "phone" | "name"


@dataclass(frozen=True)
class StageInfo:
    stage: str
    since: date
    as_of: date
    rule: str
    metrics: dict[str, Any]
    qualified: bool


@dataclass(frozen=True)
class GradeInfo:
    grade: str
    score: float
    orders_365d: int
    aov_fen: int
    ltv_fen: int
    as_of: date


@dataclass(frozen=True)
class OrderSummary:
    """Paid, non-refunded orders only; `aov_fen` is total / count rounded half up to a fen.

    Counted up to the end of `as_of`, the date the stage and grade beside them describe, so a
    card never puts numbers of two dates side by side; `later_count` paid orders came after it
    (the next run counts them). Without any run, `as_of` is None and every order counts."""

    as_of: date | None
    count: int
    total_fen: int
    aov_fen: int
    first_on: date | None
    last_on: date | None
    refunded_count: int
    later_count: int = 0


@dataclass(frozen=True)
class TransitionEntry:
    as_of: date
    from_stage: str | None
    to_stage: str
    rule: str


@dataclass(frozen=True)
class FollowUpEntry:
    created_at: datetime  # in the card's time zone
    staff_name: str | None
    note: str
    next_due_on: date | None


@dataclass(frozen=True)
class CodeEntry:
    """One of the customer's personal referral codes; its link is
    `models.referral.codes.referral_link(public_base_url, code)`."""

    code: str
    program_key: str
    program_name: str


@dataclass(frozen=True)
class CustomerCard:
    customer_id: int
    external_id: str
    masked_name: str
    masked_phone: str
    region: str | None
    industry: str | None
    status: str  # "open" | "closed"
    closed_on: date | None
    created_on: date
    marketing_opt_out: bool
    owner_name: str | None
    stage: StageInfo | None  # None: never classified
    grade: GradeInfo | None  # None: no grade (no orders, or never graded)
    orders: OrderSummary
    transitions: tuple[TransitionEntry, ...] = field(default=())  # oldest first
    follow_ups: tuple[FollowUpEntry, ...] = field(default=())  # newest first
    referral_codes: tuple[CodeEntry, ...] = field(default=())  # by program priority
    # Where campaign messages can reach them, most recently seen first, and the platform
    # staff set as preferred (None: the one they last spoke on).
    reach: tuple[Reach, ...] = field(default=())
    preferred_platform: str | None = None


def phone_digits(query: str) -> str | None:
    """The digits of `query` if it reads as a phone number (a leading +86/86 dropped)."""
    text = query.strip()
    if not _PHONE_QUERY.match(text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= _MIN_PHONE_DIGITS else None


def _normalised_phone() -> ColumnElement[str]:
    """The stored phone with the usual punctuation removed, computed in SQL on both backends."""
    expr: ColumnElement[str] = func.coalesce(Customer.phone, "")
    for char in (" ", "-", "+", "(", ")"):
        expr = func.replace(expr, char, "")
    return expr


async def find_customers(db: Database, query: str, *, limit: int = 10) -> list[CustomerMatch]:
    """Customers matching an exact external id, an exact phone number, or a name substring.

    Exact id and phone matches win: when there are any, name matches are not returned, so a
    query that is somebody's external id never turns into a list. Name matches are
    case-insensitive, whole-name matches first, at most `limit` of them.
    """
    text = query.strip()
    if not text:
        return []
    columns = (
        Customer.id,
        Customer.external_id,
        Customer.name,
        Customer.phone,
        StageAssignment.stage,
    )
    base = select(*columns).outerjoin(StageAssignment, StageAssignment.customer_id == Customer.id)
    matches: list[CustomerMatch] = []
    seen: set[int] = set()
    async with db.uow() as uow:
        exact = [(base.where(Customer.external_id == text), "external_id")]
        digits = phone_digits(text)
        if digits is not None:
            phone_expr = _normalised_phone()
            exact.append(
                (base.where(phone_expr.in_([digits, "86" + digits])).order_by(Customer.id), "phone")
            )
        for stmt, how in exact:
            for row in (await uow.session.execute(stmt.limit(limit))).all():
                if row.id not in seen:
                    seen.add(row.id)
                    matches.append(_match(row, how))
        if matches:
            return matches[:limit]
        name_stmt = (
            base.where(Customer.name.icontains(text, autoescape=True))
            .order_by(
                case((Customer.name == text, 0), else_=1),
                func.length(Customer.name),
                Customer.id,
            )
            .limit(limit)
        )
        rows = (await uow.session.execute(name_stmt)).all()
    return [_match(row, "name") for row in rows]


def _match(row: Any, how: str) -> CustomerMatch:
    return CustomerMatch(
        customer_id=row.id,
        external_id=row.external_id,
        masked_name=mask_name(row.name),
        masked_phone=mask_phone(row.phone),
        stage=row.stage,
        matched_by=how,
    )


async def build_card(
    db: Database, customer_id: int, *, tz: tzinfo, grading: GradingRules | None = None
) -> CustomerCard:
    """Everything staff may see about one customer, masked; raises `CustomerNotFound`."""
    async with db.uow() as uow:
        session = uow.session
        row = (
            await session.execute(
                select(Customer, Staff.name.label("owner_name"))
                .outerjoin(Staff, Staff.id == Customer.owner_staff_id)
                .where(Customer.id == customer_id)
            )
        ).first()
        if row is None:
            raise CustomerNotFound(customer_id)
        customer: Customer = row.Customer
        assignment = await session.get(StageAssignment, customer_id)
        grade = await session.get(CustomerGrade, customer_id)
        as_of = (await session.execute(latest_run_as_of())).scalar_one_or_none()
        score = (
            await percentile_score(session, grade, grading or GradingRules())
            if grade is not None
            else 0.0
        )
        paid = Order.status == "paid"
        counted = Order.paid_at < day_start(as_of + timedelta(days=1), tz) if as_of else true()
        totals = (
            await session.execute(
                select(
                    func.count(Order.id).filter(paid, counted),
                    func.coalesce(func.sum(Order.amount_fen).filter(paid, counted), 0),
                    func.min(Order.paid_at).filter(paid, counted),
                    func.max(Order.paid_at).filter(paid, counted),
                    func.count(Order.id).filter(Order.status == "refunded", counted),
                    func.count(Order.id).filter(paid, ~counted),
                ).where(Order.customer_id == customer_id)
            )
        ).one()
        transitions = (
            await session.execute(
                select(StageTransition)
                .where(StageTransition.customer_id == customer_id)
                .order_by(StageTransition.as_of, StageTransition.id)
            )
        ).scalars()
        follow_ups = (
            await session.execute(
                select(FollowUp, Staff.name.label("staff_name"))
                .outerjoin(Staff, Staff.id == FollowUp.staff_id)
                .where(FollowUp.customer_id == customer_id)
                .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
                .limit(RECENT_FOLLOW_UPS)
            )
        ).all()
        codes = (
            await session.execute(
                select(ReferralCode.code, ReferralProgram.key, ReferralProgram.name)
                .join(ReferralProgram, ReferralProgram.id == ReferralCode.program_id)
                .where(ReferralCode.customer_id == customer_id)
                .order_by(ReferralProgram.priority, ReferralCode.id)
            )
        ).all()
        reach = await reach_of(session, customer_id)
        count, total, first_at, last_at, refunded, later = totals
        return CustomerCard(
            customer_id=customer.id,
            external_id=customer.external_id,
            masked_name=mask_name(customer.name),
            masked_phone=mask_phone(customer.phone),
            region=customer.region,
            industry=customer.industry,
            status=customer.status,
            closed_on=local_date(customer.closed_at, tz) if customer.closed_at else None,
            created_on=local_date(customer.created_at, tz),
            marketing_opt_out=customer.marketing_opt_out,
            owner_name=row.owner_name,
            stage=_stage_info(assignment, as_of, tz),
            grade=_grade_info(grade, score, as_of, tz),
            orders=OrderSummary(
                as_of=as_of,
                count=int(count),
                total_fen=int(total),
                aov_fen=average_fen(int(total), int(count)),
                first_on=_local_day(first_at, tz),
                last_on=_local_day(last_at, tz),
                refunded_count=int(refunded),
                later_count=int(later),
            ),
            transitions=tuple(
                TransitionEntry(t.as_of, t.from_stage, t.to_stage, t.rule) for t in transitions
            ),
            follow_ups=tuple(
                FollowUpEntry(
                    created_at=f.FollowUp.created_at.astimezone(tz),
                    staff_name=f.staff_name,
                    note=f.FollowUp.note,
                    next_due_on=f.FollowUp.next_due_on,
                )
                for f in follow_ups
            ),
            referral_codes=tuple(CodeEntry(code, key, name) for code, key, name in codes),
            reach=reach,
            preferred_platform=customer.preferred_platform,
        )


def average_fen(total_fen: int, count: int) -> int:
    """Integer mean in fen, rounded half up (no floats anywhere near money); 0 for no orders."""
    if count <= 0:
        return 0
    return (2 * total_fen + count) // (2 * count)


def _local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return local_date(moment, tz) if moment is not None else None


def _stage_info(
    assignment: StageAssignment | None, as_of: date | None, tz: tzinfo
) -> StageInfo | None:
    """`as_of`: the latest run's date; without any run logged (rows written by hand), the day
    the row was written."""
    if assignment is None:
        return None
    return StageInfo(
        stage=assignment.stage,
        since=assignment.since,
        as_of=as_of or local_date(assignment.updated_at, tz),
        rule=assignment.rule,
        metrics=dict(assignment.metrics or {}),
        qualified=assignment.qualified,
    )


def _grade_info(
    grade: CustomerGrade | None, score: float, as_of: date | None, tz: tzinfo
) -> GradeInfo | None:
    if grade is None:
        return None
    return GradeInfo(
        grade=grade.grade,
        score=score,
        orders_365d=grade.orders_365d,
        aov_fen=grade.aov_fen,
        ltv_fen=grade.ltv_fen,
        as_of=as_of or local_date(grade.updated_at, tz),
    )
