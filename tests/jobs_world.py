"""Shared bits of the scheduler tests: a fixed clock, settings, one customer with an order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from config import Settings, load_settings
from models import Customer, JobRun, LifecycleRun, Order
from models.db import Database

TZ = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def settings_for(db: Database) -> Settings:
    url = db.engine.url.render_as_string(hide_password=False)
    return load_settings(database_url=url, timezone="Asia/Shanghai")


async def customer_with_order(db: Database, paid_at: datetime) -> None:
    async with db.uow() as uow:
        customer = Customer(external_id="C1", name="张三")
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            Order(order_no="O1", customer_id=customer.id, amount_fen=9900, paid_at=paid_at)
        )
        await uow.commit()


async def lifecycle_dates(db: Database) -> list[date]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(LifecycleRun.as_of).order_by(LifecycleRun.id)))


async def job_rows(db: Database) -> list[tuple[str, datetime, str, str | None]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(JobRun.job, JobRun.scheduled_for, JobRun.status, JobRun.error).order_by(
                JobRun.job, JobRun.scheduled_for
            )
        )
        return [(r.job, r.scheduled_for, r.status, r.error) for r in rows]
