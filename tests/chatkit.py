"""Helpers for the chat command tests: a handler context on the test database with a fixed
clock, a way to say something to the bot, and a small hand-made population of customers."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select

from config import load_settings
from handlers.dispatch import dispatch_message
from handlers.events import (
    CardReply,
    ChatMessage,
    FileReply,
    HandlerContext,
    ImageReply,
    Reply,
    TextReply,
)
from models.activity import Order
from models.customer import Customer, CustomerIdentity
from models.db import Database
from models.staff import FollowUp, Staff, StaffIdentity
from models.stages import CustomerGrade, LifecycleRun, StageAssignment

# Monday 3 June 2024, 10:00 in Shanghai.
NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
TODAY = date(2024, 6, 3)
_events = count(1)


_STATE_DIRS: list[Path] = []


def _state_dir() -> Path:
    """One temporary state directory per test process, removed when the process ends."""
    if not _STATE_DIRS:
        path = Path(tempfile.mkdtemp(prefix="fission-test-"))
        atexit.register(shutil.rmtree, path, True)
        _STATE_DIRS.append(path)
    return _STATE_DIRS[0]


def make_ctx(db: Database, **settings: Any) -> HandlerContext:
    """A context with the fixed clock; posters are cached in a temporary directory, never in
    the working tree."""
    settings.setdefault("state_dir", _state_dir())
    return HandlerContext(
        db=db,
        settings=load_settings(database_url=str(db.engine.url), **settings),
        now=lambda: NOW,
    )


def message(
    text: str,
    *,
    user: str = "u-1",
    platform: str = "console",
    app_id: str = "",
    group: bool = False,
    to_me: bool | None = None,
    union_id: str | None = None,
    name: str | None = None,
) -> ChatMessage:
    return ChatMessage(
        platform=platform,
        app_id=app_id,
        event_id=f"ev-{next(_events)}",
        user_id=user,
        conversation_id="g-1" if group else user,
        is_group=group,
        text=text,
        is_to_me=(not group) if to_me is None else to_me,
        received_at=NOW,
        union_id=union_id,
        display_name=name,
    )


async def say(ctx: HandlerContext, text: str, **kwargs: Any) -> list[Reply]:
    return await dispatch_message(ctx, message(text, **kwargs))


def as_text(replies: list[Reply]) -> str:
    parts = []
    for reply in replies:
        if isinstance(reply, TextReply):
            parts.append(reply.text)
        elif isinstance(reply, CardReply):
            parts.append(reply.as_text())
        elif isinstance(reply, ImageReply):
            parts.append(f"[image {reply.caption}]")
        elif isinstance(reply, FileReply):
            parts.append(f"[file {reply.filename}] {reply.caption}")
    return "\n".join(parts)


@dataclass(frozen=True)
class People:
    """Ids of the hand-made population."""

    zhang: int  # 张三, growing, grade A, 3 orders
    zhangwei: int  # 张伟, declining, one old order
    li: int  # 李四, declining, bigger spender
    wang: int  # 王五, prospect, no orders
    agent: int  # staff 赵敏 (agent), console id "agent-1"
    manager: int  # staff 钱经理 (manager), console id "manager-1"
    admin: int  # staff 孙管理 (admin), console id "admin-1"


async def seed_people(db: Database) -> People:
    """Customers, orders, stages, grades and staff, each value chosen so the tests can compute
    the expected replies by hand."""
    async with db.uow() as uow:
        s = uow.session
        agent = Staff(name="赵敏", role="agent")
        manager = Staff(name="钱经理", role="manager")
        admin = Staff(name="孙管理", role="admin")
        s.add_all([agent, manager, admin])
        await s.flush()
        for staff, uid in ((agent, "agent-1"), (manager, "manager-1"), (admin, "admin-1")):
            s.add(StaffIdentity(staff_id=staff.id, platform="console", user_id=uid))

        def customer(ext: str, name: str, phone: str | None) -> Customer:
            return Customer(external_id=ext, name=name, phone=phone, region="华东", industry="零售")

        zhang = customer("C001", "张三", "13812348888")
        zhangwei = customer("C002", "张伟", "13900001111")
        li = customer("C003", "李四", "13700002222")
        wang = customer("C004", "王五", None)
        zhang.owner_staff_id = agent.id
        s.add_all([zhang, zhangwei, li, wang])
        await s.flush()
        s.add(
            CustomerIdentity(
                customer_id=zhang.id, platform="console", kind="console_id", value="cust-zhang"
            )
        )
        orders = [
            (zhang, 10_000, TODAY - timedelta(days=40)),
            (zhang, 12_000, TODAY - timedelta(days=10)),
            (zhang, 15_050, TODAY - timedelta(days=2)),
            (zhangwei, 5_000, TODAY - timedelta(days=75)),
            (li, 80_000, TODAY - timedelta(days=70)),
            (li, 20_000, TODAY - timedelta(days=65)),
        ]
        for n, (who, fen, day) in enumerate(orders, 1):
            paid_at = datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)
            s.add(Order(order_no=f"O{n:03d}", customer_id=who.id, amount_fen=fen, paid_at=paid_at))
        stages = [
            (zhang, "growing", "growing.repeat_orders", {"repeat_orders_30d": 2}),
            (zhangwei, "declining", "declining.inactive", {"days_since_last": 75}),
            (li, "declining", "declining.inactive", {"days_since_last": 65}),
            (wang, "prospect", "prospect.unqualified", {}),
        ]
        for who, stage, rule, metrics in stages:
            s.add(
                StageAssignment(
                    customer_id=who.id,
                    stage=stage,
                    since=TODAY - timedelta(days=5),
                    rule=rule,
                    metrics=metrics,
                )
            )
        s.add(LifecycleRun(as_of=TODAY, counts={}, grades={}, transitions=0, finished_at=NOW))
        s.add(
            CustomerGrade(
                customer_id=zhang.id,
                grade="A",
                orders_365d=3,
                aov_fen=12_350,
                ltv_fen=37_050,
            )
        )
        s.add(
            FollowUp(
                customer_id=zhang.id,
                staff_id=agent.id,
                note="电话回访，客户想了解高级功能",
                created_at=NOW - timedelta(days=3),
                next_due_on=TODAY + timedelta(days=4),
            )
        )
        await uow.commit()
        return People(zhang.id, zhangwei.id, li.id, wang.id, agent.id, manager.id, admin.id)


async def follow_ups(db: Database, customer_id: int) -> list[FollowUp]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == customer_id).order_by(FollowUp.id)
        )
        return list(rows.all())
