"""The schema migrates on both backends and keeps times, money and keys honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, StatementError

from models import Base, Customer, Order
from models.db import Database
from models.migrate import current_revision, head_revision

SHANGHAI = timezone(timedelta(hours=8))


async def test_fresh_database_is_at_head(db: Database) -> None:
    assert await current_revision(db) == head_revision()


async def test_times_come_back_aware_and_equal(db: Database) -> None:
    paid = datetime(2024, 3, 1, 8, 30, tzinfo=SHANGHAI)
    async with db.uow() as uow:
        customer = Customer(external_id="C1", name="张三")
        uow.session.add(customer)
        await uow.session.flush()
        uow.session.add(
            Order(order_no="O1", customer_id=customer.id, amount_fen=12345, paid_at=paid)
        )
        await uow.commit()
    async with db.uow() as uow:
        order = (await uow.session.execute(select(Order))).scalar_one()
    assert order.paid_at == paid
    assert order.paid_at.tzinfo is not None
    assert order.paid_at.astimezone(UTC).hour == 0
    assert order.amount_fen == 12345


async def test_naive_times_are_refused(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="C1", created_at=datetime(2024, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.session.flush()


async def test_external_id_is_unique(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add_all([Customer(external_id="C1"), Customer(external_id="C1")])
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_uncommitted_work_is_rolled_back(db: Database) -> None:
    async with db.uow() as uow:
        uow.session.add(Customer(external_id="C1"))
        await uow.session.flush()
    async with db.uow() as uow:
        assert (await uow.session.execute(select(Customer))).first() is None


async def test_the_migrations_build_exactly_the_tables_the_models_describe(db: Database) -> None:
    """Every model change comes with its migration (and the other way round): what Alembic's
    autogenerate would still write for a database at head is nothing."""

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
