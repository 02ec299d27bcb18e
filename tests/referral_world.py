"""Hand-built referral scenes for tests/test_referral_*.py, test_rewards_*.py, test_coupons*.py.

Customers, orders and programs go straight into the tables; every service under test is called
exactly as production code calls it. Times are Asia/Shanghai local times around June 2024.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Coupon,
    CouponTemplate,
    Customer,
    CustomerIdentity,
    Invitation,
    Order,
    ReferralProgram,
    Reward,
    RewardLedgerEntry,
)
from models.referral import get_or_create_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONG_AGO = datetime(2023, 1, 1, 9, 0, tzinfo=SHANGHAI)


def local(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# A program with one reward of each side and no fraud signals unless a test asks for them.
QUIET_FRAUD: dict[str, Any] = {
    "max_invitees_per_visitor": 0,
    "min_refunded_orders": 0,
    "account_chain_minutes": 0,
    "burst_joins": 0,
}


class World:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._orders = 0

    async def customer(
        self,
        external_id: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        created_at: datetime = LONG_AGO,
        union_id: str | None = None,
        union_platform: str = "wechat",
    ) -> int:
        customer = Customer(external_id=external_id, name=name, phone=phone, created_at=created_at)
        self.session.add(customer)
        await self.session.flush()
        if union_id is not None:
            self.session.add(
                CustomerIdentity(
                    customer_id=customer.id, platform=union_platform, kind="unionid", value=union_id
                )
            )
            await self.session.flush()
        return customer.id

    async def customers(self, *external_ids: str) -> list[int]:
        return [await self.customer(external_id) for external_id in external_ids]

    async def order(
        self,
        customer_id: int,
        paid_at: datetime,
        amount_fen: int = 19900,
        *,
        status: str = "paid",
        order_no: str | None = None,
    ) -> Order:
        self._orders += 1
        order = Order(
            order_no=order_no or f"O{customer_id}-{self._orders}",
            customer_id=customer_id,
            amount_fen=amount_fen,
            paid_at=paid_at,
            status=status,
            refunded_at=paid_at + timedelta(days=1) if status == "refunded" else None,
        )
        self.session.add(order)
        await self.session.flush()
        return order

    async def refund(self, order: Order, at: datetime) -> Order:
        order.status = "refunded"
        order.refunded_at = at
        await self.session.flush()
        return order

    async def template(
        self, key: str, value_fen: int | None = 1000, *, min_spend_fen: int = 0, **extra: Any
    ) -> CouponTemplate:
        template = CouponTemplate(
            key=key,
            name=extra.pop("name", f"券 {key}"),
            value_fen=value_fen,
            min_spend_fen=min_spend_fen,
            validity_days=extra.pop("validity_days", 30),
            **extra,
        )
        self.session.add(template)
        await self.session.flush()
        return template

    async def program(self, key: str = "p", **overrides: Any) -> ReferralProgram:
        values: dict[str, Any] = {
            "name": f"活动 {key}",
            "title": f"活动 {key}",
            "segment": {},
            "channels": ["link", "api"],
            "inviter_reward": {"kind": "points", "points": 100},
            "invitee_reward": {"kind": "cash", "amount_fen": 500},
            "milestones": {"tiers": []},
            "fraud_rules": dict(QUIET_FRAUD),
            "attribution_window_days": 30,
            "hold_days": 7,
            "priority": 10,
            "timezone": "Asia/Shanghai",
        }
        values.update(overrides)
        program = ReferralProgram(key=key, **values)
        self.session.add(program)
        await self.session.flush()
        return program

    async def default_program(self) -> ReferralProgram:
        stmt = select(ReferralProgram).where(ReferralProgram.key == "default")
        return (await self.session.execute(stmt)).scalar_one()

    async def code(self, customer_id: int, program: ReferralProgram, now: datetime) -> str:
        code = await get_or_create_code(
            self.session, customer_id=customer_id, now=now, program_id=program.id
        )
        assert code is not None
        return code.code

    async def invitations(self, **where: Any) -> list[Invitation]:
        stmt = (
            select(Invitation)
            .filter_by(**where)
            .order_by(Invitation.id)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def rewards(self, **where: Any) -> list[Reward]:
        stmt = (
            select(Reward)
            .filter_by(**where)
            .order_by(Reward.id)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def coupons(self, **where: Any) -> list[Coupon]:
        stmt = (
            select(Coupon)
            .filter_by(**where)
            .order_by(Coupon.id)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def ledger(self, **where: Any) -> list[RewardLedgerEntry]:
        stmt = select(RewardLedgerEntry).filter_by(**where).order_by(RewardLedgerEntry.id)
        return list((await self.session.execute(stmt)).scalars())

    async def count(self, model: Any, **where: Any) -> int:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return int((await self.session.execute(stmt)).scalar_one())
