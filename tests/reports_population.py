"""Small hand-built referral populations for the report tests (tests/test_reports_*.py).

Rows go straight into the tables so the expectations stay hand-computable; every date is a
local Asia/Shanghai time. The reference date is T = 2024-06-30.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Customer,
    CustomerGrade,
    Invitation,
    Order,
    ReferralClick,
    ReferralCode,
    ReferralProgram,
)
from models.db import Database

SHANGHAI = timezone(timedelta(hours=8))
T = date(2024, 6, 30)


# What each reward kind needs beside its kind (config.referral.RewardSpec).
REWARD_VALUES: dict[str, dict[str, Any]] = {
    "coupon": {"coupon_template": "friend_20"},
    "points": {"points": 100},
    "cash": {"amount_fen": 500},
    "privilege": {"privilege": "VIP专属客服"},
}


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@dataclass
class Ids:
    customers: dict[str, int] = field(default_factory=dict)
    programs: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)


class Builder:
    """Adds rows with the few fields a report reads; everything else takes its default."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.ids = Ids()
        self._orders = 0
        self._codes = 0

    async def retire_existing_programs(self) -> None:
        """Programs seeded by migrations (the default program) must not steal the mapping."""
        await self.session.execute(update(ReferralProgram).values(active=False))

    async def program(
        self,
        key: str,
        name: str,
        *,
        segment: dict[str, Any],
        inviter: str | None,
        invitee: str | None,
        channels: list[str],
        priority: int,
        active: bool = True,
    ) -> int:
        def reward(kind: str | None) -> dict[str, Any]:
            return {} if kind is None else {"kind": kind, **REWARD_VALUES[kind]}

        program = ReferralProgram(
            key=key,
            name=name,
            title=name,
            segment=segment,
            channels=channels,
            inviter_reward=reward(inviter),
            invitee_reward=reward(invitee),
            milestones={},
            priority=priority,
            active=active,
        )
        self.session.add(program)
        await self.session.flush()
        self.ids.programs[key] = program.id
        return program.id

    async def customer(
        self,
        key: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        grade: str | None = None,
        orders: tuple[datetime, ...] = (),
        refunded: tuple[datetime, ...] = (),
        created_at: datetime | None = None,
    ) -> int:
        customer = Customer(external_id=key, name=name, phone=phone)
        if created_at is not None:
            customer.created_at = created_at
        self.session.add(customer)
        await self.session.flush()
        self.ids.customers[key] = customer.id
        for paid_at, status in [(o, "paid") for o in orders] + [(o, "refunded") for o in refunded]:
            self._orders += 1
            self.session.add(
                Order(
                    order_no=f"O{self._orders}",
                    customer_id=customer.id,
                    amount_fen=10000,
                    paid_at=paid_at,
                    status=status,
                )
            )
        if grade is not None:
            self.session.add(
                CustomerGrade(
                    customer_id=customer.id,
                    grade=grade,
                    orders_365d=len(orders),
                    aov_fen=10000,
                    ltv_fen=10000 * len(orders),
                )
            )
        await self.session.flush()
        return customer.id

    async def code(self, customer: str, program: str, created_at: datetime) -> int:
        self._codes += 1
        code = ReferralCode(
            code=f"RPT{self._codes:04d}",
            program_id=self.ids.programs[program],
            customer_id=self.ids.customers[customer],
            created_at=created_at,
        )
        self.session.add(code)
        await self.session.flush()
        self.ids.codes[customer] = code.id
        return code.id

    async def clicks(self, customer: str, days: list[date]) -> None:
        for n, day in enumerate(days):
            self.session.add(
                ReferralClick(code_id=self.ids.codes[customer], visitor_hash=f"v{n}", day=day)
            )
        await self.session.flush()

    async def invite(
        self,
        inviter: str,
        invitee: str | None,
        *,
        status: str,
        channel: str,
        created_at: datetime,
        reason: str | None = None,
        review: str | None = None,
    ) -> None:
        code = await self._code_row(inviter)
        self.session.add(
            Invitation(
                program_id=code.program_id,
                code_id=code.id,
                inviter_customer_id=self.ids.customers[inviter],
                invitee_customer_id=self.ids.customers[invitee] if invitee else None,
                channel=channel,
                status=status,
                reject_reason=reason,
                review_status=review,
                visitor_hash=None if invitee else f"anon-{created_at.isoformat()}",
                created_at=created_at,
                joined_at=created_at if status in ("joined", "converted", "rewarded") else None,
            )
        )
        await self.session.flush()

    async def _code_row(self, customer: str) -> ReferralCode:
        code = await self.session.get(ReferralCode, self.ids.codes[customer])
        assert code is not None
        return code


async def build_main_population(session: AsyncSession) -> Ids:
    """Four inviter profiles and seven invitees; see tests/test_reports_referral.py for the
    hand-computed table."""
    b = Builder(session)
    await b.retire_existing_programs()
    await b.program(
        "newbie",
        "新人有礼",
        segment={"customer_type": "new"},
        inviter="coupon",
        invitee="coupon",
        channels=["wecom_group", "link"],
        priority=10,
    )
    await b.program(
        "vip",
        "VIP专享",
        segment={"value": "high"},
        inviter="privilege",
        invitee="coupon",
        channels=["wecom_contact"],
        priority=20,
    )
    await b.program(
        "everyone",
        "全民推荐",
        segment={},
        inviter="points",
        invitee="cash",
        channels=["link", "wechat_qr"],
        priority=30,
    )
    await b.program(
        "wake",
        "唤醒计划",
        segment={"activity": "dormant"},
        inviter="cash",
        invitee=None,
        channels=["wechat_qr", "link", "feishu_group", "api"],
        priority=40,
    )
    # Would win "returning" by priority, but it is switched off.
    await b.program(
        "old_friends",
        "老友回馈",
        segment={"customer_type": "returning"},
        inviter="points",
        invitee="points",
        channels=["link"],
        priority=1,
        active=False,
    )

    # A: new (first order 10 days before T), grade A, active.
    await b.customer(
        "A", name="张三丰", phone="13812345678", grade="A", orders=(local(2024, 6, 20),)
    )
    # B: returning, grade C, active (last order 29 days before T).
    await b.customer(
        "B",
        name="李四",
        phone="13900001111",
        grade="C",
        orders=(local(2024, 1, 10), local(2024, 6, 1)),
    )
    # C: returning, grade B, dormant (last order in March).
    await b.customer(
        "C",
        name="王五",
        phone="13700002222",
        grade="B",
        orders=(local(2023, 10, 1), local(2024, 3, 1)),
    )
    # D: no orders, no grade: new, low value, dormant; never takes part.
    await b.customer("D", name="赵六", phone="13600003333")
    for n in range(1, 8):
        await b.customer(f"E{n}", name=f"钱{n}号", phone=f"1350000000{n}")

    await b.code("A", "newbie", local(2024, 6, 20))
    await b.code("B", "everyone", local(2024, 5, 1))
    await b.code("C", "vip", local(2024, 4, 1))
    await b.clicks("A", [date(2024, 6, 21), date(2024, 6, 22), date(2024, 6, 30), date(2024, 7, 1)])
    await b.clicks("B", [date(2024, 5, 9), date(2024, 6, 20)])

    await b.invite(
        "A", "E1", status="converted", channel="wecom_group", created_at=local(2024, 6, 21)
    )
    await b.invite(
        "A", "E2", status="rewarded", channel="wecom_group", created_at=local(2024, 6, 22)
    )
    await b.invite("A", "E3", status="joined", channel="wecom_group", created_at=local(2024, 6, 23))
    await b.invite(
        "A",
        "E4",
        status="rejected",
        reason="self_referral",
        channel="wecom_group",
        created_at=local(2024, 6, 24),
    )
    # After the end of T in Shanghai (16:10 UTC on the 30th): not counted.
    await b.invite(
        "A",
        "D",
        status="rejected",
        reason="existing_customer",
        channel="wecom_group",
        created_at=local(2024, 7, 1, 0, 10),
    )
    await b.invite(
        "B",
        "E5",
        status="rejected",
        reason="existing_customer",
        channel="link",
        created_at=local(2024, 5, 10),
    )
    await b.invite(
        "B",
        "E6",
        status="rejected",
        reason="existing_customer",
        channel="link",
        created_at=local(2024, 6, 20),
    )
    # Late on T itself in Shanghai: counted.
    await b.invite(
        "B",
        "E7",
        status="converted",
        review="pending",
        channel="link",
        created_at=local(2024, 6, 30, 23, 30),
    )
    # A bare click by an anonymous visitor: not an invitation.
    await b.invite("B", None, status="clicked", channel="link", created_at=local(2024, 6, 25))
    return b.ids


async def seed_main_population(url: str) -> Ids:
    """`build_main_population` in the database at `url`, committed (for CLI tests)."""
    db = Database.from_url(url)
    try:
        async with db.uow() as uow:
            ids = await build_main_population(uow.session)
            await uow.commit()
        return ids
    finally:
        await db.dispose()
