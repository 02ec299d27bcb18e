"""Helpers for the web tests (API, landing page): the real app on the test database with a
settable clock, and a few rows the referral endpoints need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.web.app import create_app
from config import load_settings
from models.customer import Customer
from models.db import Database
from models.referral.codes import get_or_create_code
from models.referral.tables import ReferralProgram

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE_URL = "https://fission.example.com"
# Wednesday 1 May 2024, 10:00 in Shanghai.
NOW = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)

Client = TestClient[web.Request, web.Application]


class Clock:
    """The app's clock; tests move it (`clock.now = …`) to cross days or hold periods."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def web_client(
    db: Database, state_dir: Path, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Client]:
    values: dict[str, Any] = {
        "database_url": str(db.engine.url),
        "api_token": TOKEN,
        "public_base_url": BASE_URL,
        "state_dir": state_dir,
    }
    values.update(settings)
    container = bootstrap(load_settings(**values), db=db, clock=clock or Clock())
    async with TestClient(TestServer(create_app(container))) as client:
        yield client


async def add_customer(
    db: Database,
    external_id: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    created_at: datetime = NOW - timedelta(days=60),
) -> int:
    """A customer of long standing (an account made minutes before its invitee's would be a
    fraud signal, `account_chain`, and hold the conversion for review)."""
    async with db.uow() as uow:
        customer = Customer(
            external_id=external_id, name=name, phone=phone, source="api", created_at=created_at
        )
        uow.session.add(customer)
        await uow.commit()
        return customer.id


async def default_program(db: Database) -> ReferralProgram:
    """The program migration 0002 seeds, so the product works before anyone configures it."""
    async with db.uow() as uow:
        program = (
            await uow.session.execute(
                select(ReferralProgram).where(ReferralProgram.key == "default")
            )
        ).scalar_one()
        return program


async def code_for(db: Database, customer_id: int, now: datetime = NOW) -> str:
    async with db.uow() as uow:
        code = await get_or_create_code(uow.session, customer_id=customer_id, now=now)
        assert code is not None, "no live program for this customer"
        await uow.commit()
        return code.code


async def inviter_with_code(
    db: Database, external_id: str = "C-INVITER", name: str = "张三丰"
) -> tuple[int, str]:
    customer_id = await add_customer(db, external_id, name=name, phone="13812345678")
    return customer_id, await code_for(db, customer_id)
