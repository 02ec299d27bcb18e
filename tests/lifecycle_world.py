"""A small customer world for the lifecycle and grading tests: orders and events by age in days.

`age` follows DESIGN.md §2.1: 0 is the reference date T itself, 30 is thirty local days before.
Times are local (Asia/Shanghai) at noon unless a test asks for another hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import column, delete, insert, select, table

from config.rules import GradingRules, LifecycleRules
from models import (
    ActivityEvent,
    Customer,
    CustomerGrade,
    LifecycleRun,
    Order,
    StageAssignment,
    StageTransition,
)
from models.base import Json, UTCDateTime
from models.db import Database
from models.lifecycle import LifecycleSummary, run_lifecycle
from models.lifecycle.grading import percentile_score

PROGRAMS = table(
    "referral_programs",
    *(column(n) for n in ("id", "key", "name", "title", "priority", "version")),
    *(column(n, Json) for n in ("segment", "channels", "inviter_reward", "invitee_reward")),
    column("milestones", Json),
    column("fraud_rules", Json),
    column("attribution_window_days"),
    column("hold_days"),
    column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)
CODES = table(
    "referral_codes",
    *(column(n) for n in ("id", "code", "program_id", "customer_id")),
    column("created_at", UTCDateTime()),
)
INVITATIONS = table(
    "invitations",
    *(column(n) for n in ("program_id", "code_id", "inviter_customer_id")),
    *(column(n) for n in ("invitee_customer_id", "channel", "status")),
    *(column(n, UTCDateTime()) for n in ("joined_at", "converted_at", "created_at", "updated_at")),
)

TZ = ZoneInfo("Asia/Shanghai")
T = date(2024, 6, 30)


def local(age: int, hour: int = 12, minute: int = 0, as_of: date = T) -> datetime:
    day = as_of - timedelta(days=age)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@dataclass(frozen=True)
class GradeView:
    grade: str
    score: float
    orders_365d: int
    aov_fen: int
    ltv_fen: int


class World:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.ids: dict[str, int] = {}
        self._orders = 0
        self._program_id: int | None = None
        self._codes = 0
        self._code_ids: dict[str, int] = {}
        self.grading = GradingRules()  # of the last run: scores are shown under its weights

    async def clear(self) -> None:
        async with self.db.uow() as uow:
            for referral_table in (INVITATIONS, CODES, PROGRAMS):
                await uow.session.execute(delete(referral_table))
            for model in (
                StageTransition,
                StageAssignment,
                CustomerGrade,
                LifecycleRun,
                ActivityEvent,
                Order,
                Customer,
            ):
                await uow.session.execute(delete(model))
            await uow.commit()
        self.ids.clear()
        self._code_ids.clear()
        self._program_id = None

    async def add(self, *objects: Any) -> None:
        async with self.db.uow() as uow:
            uow.session.add_all(objects)
            await uow.commit()

    async def customers(self, closed: dict[str, tuple[bool, datetime | None]]) -> None:
        """Several customers in one transaction: name → (closed, closed_at)."""
        async with self.db.uow() as uow:
            made = {
                name: Customer(
                    external_id=name,
                    status="closed" if is_closed else "open",
                    closed_at=closed_at,
                    created_at=local(400),
                )
                for name, (is_closed, closed_at) in closed.items()
            }
            uow.session.add_all(made.values())
            await uow.commit()
        self.ids.update({name: customer.id for name, customer in made.items()})

    async def customer(
        self, name: str, *, closed: bool = False, closed_at: datetime | None = None
    ) -> int:
        async with self.db.uow() as uow:
            customer = Customer(
                external_id=name,
                status="closed" if closed else "open",
                closed_at=closed_at,
                created_at=local(400),
            )
            uow.session.add(customer)
            await uow.commit()
        self.ids[name] = customer.id
        return customer.id

    def order(
        self,
        name: str,
        age: int,
        amount_fen: int = 10_000,
        *,
        status: str = "paid",
        hour: int = 12,
        minute: int = 0,
        at: datetime | None = None,
    ) -> Order:
        self._orders += 1
        return Order(
            order_no=f"{name}-{self._orders}",
            customer_id=self.ids[name],
            amount_fen=amount_fen,
            paid_at=at or local(age, hour, minute),
            status=status,
        )

    def event(self, name: str, kind: str, age: int, detail: str = "", minute: int = 0) -> Any:
        return ActivityEvent(
            customer_id=self.ids[name],
            kind=kind,
            occurred_at=local(age, 12, minute),
            detail=detail,
        )

    def stored_stage(self, name: str, stage: str, *, as_of: date, rule: str) -> StageAssignment:
        """A verdict stored by an earlier run for `as_of` (no run is logged: the stored rows
        then count as from another day than any T a test runs)."""
        return StageAssignment(
            customer_id=self.ids[name],
            stage=stage,
            since=as_of - timedelta(days=20),
            rule=rule,
            metrics={},
            qualified=False,
        )

    async def referral(
        self,
        inviter: str,
        *,
        status: str = "converted",
        converted_age: int | None = 10,
        converted_at: datetime | None = None,
    ) -> None:
        """A friend invited by `inviter`, converted `converted_age` days before T (or at
        `converted_at`). Written with the columns of migration 0002 only, so these tests do
        not depend on the referral package's models."""
        friend = await self.customer(f"{inviter}-friend-{len(self.ids)}")
        converted = converted_at or (local(converted_age) if converted_age is not None else None)
        now = local(0)
        async with self.db.uow() as uow:
            s = uow.session
            if self._program_id is None:
                self._program_id = (
                    await s.execute(
                        insert(PROGRAMS)
                        .values(
                            key="test",
                            name="test",
                            title="test",
                            segment={},
                            channels=[],
                            inviter_reward={},
                            invitee_reward={},
                            milestones={},
                            fraud_rules={},
                            attribution_window_days=30,
                            hold_days=7,
                            priority=100,
                            version=1,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(PROGRAMS.c.id)
                    )
                ).scalar_one()
            code_id = self._code_ids.get(inviter)
            if code_id is None:
                self._codes += 1
                code_id = (
                    await s.execute(
                        insert(CODES)
                        .values(
                            code=f"code{self._codes}",
                            program_id=self._program_id,
                            customer_id=self.ids[inviter],
                            created_at=now,
                        )
                        .returning(CODES.c.id)
                    )
                ).scalar_one()
                self._code_ids[inviter] = code_id
            await s.execute(
                insert(INVITATIONS).values(
                    program_id=self._program_id,
                    code_id=code_id,
                    inviter_customer_id=self.ids[inviter],
                    invitee_customer_id=friend,
                    channel="link",
                    status=status,
                    joined_at=local(40),
                    converted_at=converted,
                    created_at=now,
                    updated_at=now,
                )
            )
            await uow.commit()

    async def run(
        self,
        as_of: date = T,
        rules: LifecycleRules | None = None,
        grading: GradingRules | None = None,
    ) -> LifecycleSummary:
        self.grading = grading or GradingRules()
        return await run_lifecycle(
            self.db,
            as_of=as_of,
            tz=TZ,
            rules=rules or LifecycleRules(),
            grading=self.grading,
        )

    async def assignments(self) -> dict[str, StageAssignment]:
        by_id = {v: k for k, v in self.ids.items()}
        async with self.db.uow() as uow:
            rows = (await uow.session.execute(select(StageAssignment))).scalars().all()
        return {by_id[row.customer_id]: row for row in rows}

    async def grades(self) -> dict[str, GradeView]:
        """Stored grades, each with the score a card shows (under the last run's rules)."""
        by_id = {v: k for k, v in self.ids.items()}
        rules = self.grading
        async with self.db.uow() as uow:
            rows = (await uow.session.execute(select(CustomerGrade))).scalars().all()
            return {
                by_id[row.customer_id]: GradeView(
                    row.grade,
                    await percentile_score(uow.session, row, rules),
                    row.orders_365d,
                    row.aov_fen,
                    row.ltv_fen,
                )
                for row in rows
            }

    async def transitions(self) -> list[tuple[str, str | None, str, date, str]]:
        by_id = {v: k for k, v in self.ids.items()}
        async with self.db.uow() as uow:
            rows = (
                await uow.session.execute(
                    select(StageTransition).order_by(StageTransition.as_of, StageTransition.id)
                )
            ).scalars()
            return [(by_id[r.customer_id], r.from_stage, r.to_stage, r.as_of, r.rule) for r in rows]
