"""Helpers for the import tests: a CSV file written into the test's folder, the orders and
customers stored (keyed by their numbers in the files: order_no, external_id), and
`fission import …` run as a person runs it, on a database given by its URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli import main
from models import Customer, Order
from models.db import Database

T = TypeVar("T")


def write_csv(tmp_path: Path, name: str, content: str) -> Path:
    """`content` written (UTF-8) to `tmp_path / name`."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


async def stored_orders(db: Database) -> dict[str, Order]:
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(Order))).scalars().all()
    return {row.order_no: row for row in rows}


async def stored_customers(db: Database) -> dict[str, Customer]:
    async with db.uow() as uow:
        rows = (await uow.session.execute(select(Customer))).scalars().all()
    return {row.external_id: row for row in rows}


def invoke_import(db_url: str, *args: str, locale: str = "zh-CN") -> Result:
    """`fission import ARGS…` through click's runner, stdout and stderr apart."""
    # None unsets: the zone is the default Asia/Shanghai whatever the caller's shell says.
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale, "FISSION_TIMEZONE": None}
    return CliRunner().invoke(main, ["import", *args], env=env)


def on_database(db_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work(db)` run to completion from a synchronous test (CLI tests cannot be async)."""

    async def run() -> T:
        db = Database.from_url(db_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def count_rows(db_url: str, model: Any) -> int:
    async def count(db: Database) -> int:
        async with db.uow() as uow:
            result = await uow.session.execute(select(func.count()).select_from(model))
            return int(result.scalar_one())

    return on_database(db_url, count)
