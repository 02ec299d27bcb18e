"""A small shop for the export tests, dated relative to today (the day `fission export` and
`/export` describe): six customers whose stages, grades and follow-ups are known by hand,
classified twice by the real lifecycle run (35 days ago and today) so they have a history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lifecycle_world import TZ, World
from sqlalchemy import update

from models.activity import ActivityEvent
from models.clock import today
from models.customer import Customer
from models.db import Database
from models.staff import FollowUp, Staff, StaffIdentity

# (external id, name, phone); C05 has no phone.
PEOPLE = (
    ("C01", "张三丰", "13812345678"),
    ("C02", "李四", "13900001111"),
    ("C03", "王五", "13700002222"),
    ("C04", "赵六", "13600003333"),
    ("C05", "钱七", None),
    ("C06", "孙八", "13500000006"),
)
# Seed 002's grading table, and 客户编号 to act on a row.
GRADE_HEADERS = [
    "客户名称",
    "联系方式",
    "购买频率",
    "单次消费金额",
    "客户生命周期价值",
    "等级",
    "备注",
    "客户编号",
]
FULL_NAMES = tuple(name for _, name, _ in PEOPLE)
FULL_PHONES = tuple(phone for _, _, phone in PEOPLE if phone)


@dataclass(frozen=True)
class Shop:
    world: World
    today: date

    def at(self, days_ago: int, hour: int = 12) -> datetime:
        day = self.today - timedelta(days=days_ago)
        return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


async def build_shop(db: Database) -> Shop:
    """- C01 mature: an order every 30 days for a year (¥200 each);
    - C02 growing: first order 20 days ago, two repeats in the last 10 days; used the product
      on two more days; owned by 赵敏, with two follow-ups (the latest promises a date);
    - C03 declining: one order 70 days ago; owned by 赵敏, followed up 2 days ago;
    - C04 new: one order 5 days ago; C05 prospect: nothing; C06 churned: last order 100 days
      ago. Staff: 赵敏 (agent, console id agent-1), 钱经理 (manager, manager-1)."""
    shop = Shop(World(db), today(TZ))
    world, at = shop.world, shop.at
    for key, _, _ in PEOPLE:
        await world.customer(key)
    orders = [world.order("C01", 0, 20_000, at=at(2 + 30 * n)) for n in range(12)]
    orders += [
        world.order("C02", 0, 10_000, at=at(20)),
        world.order("C02", 0, 15_000, at=at(10)),
        world.order("C02", 0, 15_000, at=at(3)),
        world.order("C03", 0, 8_000, at=at(70)),
        world.order("C04", 0, 3_000, at=at(5)),
        world.order("C06", 0, 6_000, at=at(120)),
        world.order("C06", 0, 6_000, at=at(100)),
    ]
    c02 = world.ids["C02"]
    events = [
        ActivityEvent(customer_id=c02, kind="feature_use", occurred_at=at(1, 9), detail="报表"),
        ActivityEvent(customer_id=c02, kind="feature_use", occurred_at=at(1, 15), detail="导出"),
        ActivityEvent(customer_id=c02, kind="view", occurred_at=at(4)),
        ActivityEvent(customer_id=c02, kind="view", occurred_at=at(40)),  # outside 30 days
    ]
    await world.add(*orders, *events)
    await world.run(as_of=shop.today - timedelta(days=35))
    await world.run(as_of=shop.today)

    async with db.uow() as uow:
        s = uow.session
        for key, name, phone in PEOPLE:
            await s.execute(
                update(Customer).where(Customer.external_id == key).values(name=name, phone=phone)
            )
        agent = Staff(name="赵敏", role="agent")
        manager = Staff(name="钱经理", role="manager")
        s.add_all([agent, manager])
        await s.flush()
        s.add_all(
            [
                StaffIdentity(staff_id=agent.id, platform="console", user_id="agent-1"),
                StaffIdentity(staff_id=manager.id, platform="console", user_id="manager-1"),
            ]
        )
        await s.execute(
            update(Customer)
            .where(Customer.id.in_([c02, world.ids["C03"]]))
            .values(owner_staff_id=agent.id)
        )
        s.add_all(
            [
                FollowUp(customer_id=c02, staff_id=agent.id, note="电话回访", created_at=at(3)),
                FollowUp(
                    customer_id=c02,
                    staff_id=agent.id,
                    note="=发了 报价单\n等回复",
                    created_at=at(1),
                    next_due_on=shop.today + timedelta(days=5),
                ),
                FollowUp(
                    customer_id=world.ids["C03"],
                    staff_id=manager.id,
                    note="询问停用原因",
                    created_at=at(2),
                ),
            ]
        )
        await uow.commit()
    return shop
