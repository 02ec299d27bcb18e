"""Helpers for the import tests: a CSV file written into the test's folder, and the orders and
customers stored, keyed by their numbers in the files (order_no, external_id)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from models import Customer, Order
from models.db import Database


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
